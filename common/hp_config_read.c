/*
 * hp_config_read: the typed JSON readers every configuration field goes
 * through, with the JSON path that makes their messages precise, and the
 * resolution of "env:NAME" and "file:/path" values (hp_config_int.h).
 *
 * Every string value of the file passes hp_cfg_string_value(), so every
 * string may come from the environment or from a file, as DESIGN.md promises.
 * The resolved text is never quoted in a message: it may be a secret.
 */
#include "hp_config_int.h"

#include "hp_alloc.h"

#include <errno.h>
#include <fcntl.h> /* open */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h> /* getenv */
#include <string.h>
#include <unistd.h> /* read, close */

size_t hp_cfg_enter(hp_cfg_reader *rd, const char *key)
{
    size_t mark = rd->pathlen;
    size_t room = sizeof rd->path - mark;
    int n = snprintf(rd->path + mark, room, "%s%s", mark ? "." : "", key);

    /* A path cut short still names where the problem starts. */
    if (n < 0 || (size_t)n >= room)
        rd->pathlen = sizeof rd->path - 1;
    else
        rd->pathlen = mark + (size_t)n;
    return mark;
}

size_t hp_cfg_enter_index(hp_cfg_reader *rd, size_t index)
{
    size_t mark = rd->pathlen;
    size_t room = sizeof rd->path - mark;
    int n = snprintf(rd->path + mark, room, "[%zu]", index);

    if (n < 0 || (size_t)n >= room)
        rd->pathlen = sizeof rd->path - 1;
    else
        rd->pathlen = mark + (size_t)n;
    return mark;
}

void hp_cfg_leave(hp_cfg_reader *rd, size_t mark)
{
    rd->pathlen = mark;
    rd->path[mark] = '\0';
}

static hp_err vfail(hp_cfg_reader *rd, const char *fmt, va_list ap) HP_PRINTF(2, 0);

static hp_err vfail(hp_cfg_reader *rd, const char *fmt, va_list ap)
{
    char what[512];
    int n;

    if (rd->errstr_size == 0)
        return HP_ERR_INVALID;
    n = vsnprintf(what, sizeof what, fmt, ap);
    if (n < 0)
        what[0] = '\0';
    /* A message cut short by a small errstr is still the best we can say. */
    if (rd->name && rd->pathlen)
        n = snprintf(rd->errstr, rd->errstr_size, "%s: %s: %s", rd->name, rd->path, what);
    else
        n = snprintf(rd->errstr, rd->errstr_size, "%s: %s", rd->name ? rd->name : rd->path, what);
    if (n < 0)
        rd->errstr[0] = '\0';
    return HP_ERR_INVALID;
}

hp_err hp_cfg_fail(hp_cfg_reader *rd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hp_err rc = vfail(rd, fmt, ap);
    va_end(ap);
    return rc;
}

hp_err hp_cfg_fail_key(hp_cfg_reader *rd, const char *key, const char *fmt, ...)
{
    va_list ap;
    size_t mark = hp_cfg_enter(rd, key);
    va_start(ap, fmt);
    hp_err rc = vfail(rd, fmt, ap);
    va_end(ap);
    hp_cfg_leave(rd, mark);
    return rc;
}

const char *hp_cfg_quote(const char *s, char *buf)
{
    size_t max = HP_CFG_QUOTE_SIZE - 6; /* quotes, "...", NUL */
    size_t o = 0;

    buf[o++] = '"';
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (i == max) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

hp_err hp_cfg_check_keys(hp_cfg_reader *rd, json_t *obj, const char *const known[])
{
    const char *key;
    json_t *v;

    json_object_foreach (obj, key, v) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (!known[i])
            return hp_cfg_fail_key(rd, key, "unknown key");
    }
    return HP_OK;
}

hp_err hp_cfg_read_object(hp_cfg_reader *rd, const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v)
        return HP_OK;
    if (!json_is_object(v))
        return hp_cfg_fail_key(rd, key, "must be an object");
    *out = v;
    return HP_OK;
}

hp_err hp_cfg_read_array(hp_cfg_reader *rd, const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v)
        return HP_OK;
    if (!json_is_array(v))
        return hp_cfg_fail_key(rd, key, "must be an array");
    *out = v;
    return HP_OK;
}

hp_err hp_cfg_read_string(hp_cfg_reader *rd, const json_t *obj, const char *key, char **out)
{
    json_t *v = json_object_get(obj, key);
    char *s = NULL;
    hp_err rc;

    if (!v)
        return HP_OK;
    size_t mark = hp_cfg_enter(rd, key);
    rc = hp_cfg_string_value(rd, v, &s);
    hp_cfg_leave(rd, mark);
    if (rc != HP_OK)
        return rc;
    hp_cfg_free_string(out);
    *out = s;
    return HP_OK;
}

hp_err hp_cfg_read_int(hp_cfg_reader *rd, const json_t *obj, const char *key, int min, int max,
                       int *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v)
        return HP_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return hp_cfg_fail_key(rd, key, "must be an integer between %d and %d", min, max);
    *out = (int)json_integer_value(v);
    return HP_OK;
}

hp_err hp_cfg_read_size(hp_cfg_reader *rd, const json_t *obj, const char *key, size_t min,
                        size_t max, size_t *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v)
        return HP_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) < min ||
        (unsigned long long)json_integer_value(v) > max)
        return hp_cfg_fail_key(rd, key, "must be an integer between %zu and %zu", min, max);
    *out = (size_t)json_integer_value(v);
    return HP_OK;
}

hp_err hp_cfg_read_bool(hp_cfg_reader *rd, const json_t *obj, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v)
        return HP_OK;
    if (!json_is_boolean(v))
        return hp_cfg_fail_key(rd, key, "must be true or false");
    *out = json_is_true(v);
    return HP_OK;
}

/* Parses one CIDR element of an array, at the reader's current path. */
static hp_err read_cidr(hp_cfg_reader *rd, const json_t *v, hp_cidr *cidr)
{
    char why[128];
    char *s = NULL;
    hp_err rc = hp_cfg_string_value(rd, v, &s);

    if (rc != HP_OK)
        goto out;
    if (hp_cidr_parse(cidr, s, why, sizeof why) != HP_OK)
        rc = hp_cfg_fail(rd, "%s", why);
out:
    hp_cfg_free_string(&s);
    return rc;
}

hp_err hp_cfg_read_cidrs(hp_cfg_reader *rd, const json_t *obj, const char *key, hp_cidr **out,
                         size_t *n)
{
    json_t *arr;
    hp_cidr *cidrs = NULL;
    size_t count = 0;
    hp_err rc = hp_cfg_read_array(rd, obj, key, &arr);

    if (rc != HP_OK || !arr)
        return rc;
    size_t mark = hp_cfg_enter(rd, key);
    cidrs = hp_xcalloc(json_array_size(arr), sizeof *cidrs);
    for (; count < json_array_size(arr); count++) {
        size_t elem = hp_cfg_enter_index(rd, count);
        rc = read_cidr(rd, json_array_get(arr, count), &cidrs[count]);
        hp_cfg_leave(rd, elem);
        if (rc != HP_OK)
            goto out;
    }
    free(*out);
    *out = cidrs;
    *n = count;
    cidrs = NULL;
out:
    free(cidrs);
    hp_cfg_leave(rd, mark);
    return rc;
}

hp_err hp_cfg_string_value(hp_cfg_reader *rd, const json_t *v, char **out)
{
    /* No NUL inside: jansson rejects "\u0000" without JSON_ALLOW_NUL. */
    if (!json_is_string(v))
        return hp_cfg_fail(rd, "must be a string");
    return hp_cfg_resolve(rd, json_string_value(v), out);
}

static bool is_env_name(const char *s)
{
    if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        return false;
    for (; *s; s++) {
        if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    }
    return true;
}

static hp_err resolve_env(hp_cfg_reader *rd, const char *name, char **out)
{
    const char *value;

    if (!is_env_name(name))
        return hp_cfg_fail(rd, "\"env:\" must be followed by an environment variable name");
    value = getenv(name);
    if (!value)
        return hp_cfg_fail(rd, "environment variable %s is not set", name);
    *out = hp_xstrdup(value);
    return HP_OK;
}

static hp_err resolve_file(hp_cfg_reader *rd, const char *path, char **out)
{
    char *data = NULL;
    size_t len = 0;
    int errnum = 0;
    char qpath[HP_CFG_QUOTE_SIZE];
    char why[128];
    hp_err rc;

    if (*path == '\0')
        return hp_cfg_fail(rd, "\"file:\" must be followed by a path");
    rc = hp_cfg_read_file(path, HP_CFG_VALUE_FILE_MAX, &data, &len, &errnum);
    if (rc == HP_ERR_IO) {
        rc = hp_cfg_fail(rd, "cannot read %s: %s", hp_cfg_quote(path, qpath),
                         hp_cfg_strerror(errnum, why, sizeof why));
        goto out;
    }
    if (rc != HP_OK) {
        rc = hp_cfg_fail(rd, "%s is larger than %d bytes", hp_cfg_quote(path, qpath),
                         HP_CFG_VALUE_FILE_MAX);
        goto out;
    }
    if (strlen(data) != len) {
        rc = hp_cfg_fail(rd, "%s contains a NUL byte", hp_cfg_quote(path, qpath));
        goto out;
    }
    /* Strip one line ending, as editors and `echo` add it: not the value's. */
    if (len > 0 && data[len - 1] == '\n') {
        data[--len] = '\0';
        if (len > 0 && data[len - 1] == '\r')
            data[--len] = '\0';
    }
    *out = data;
    data = NULL;
out:
    if (data) {
        hp_memzero(data, len);
        free(data);
    }
    return rc;
}

hp_err hp_cfg_resolve(hp_cfg_reader *rd, const char *raw, char **out)
{
    if (strncmp(raw, "env:", 4) == 0)
        return resolve_env(rd, raw + 4, out);
    if (strncmp(raw, "file:", 5) == 0)
        return resolve_file(rd, raw + 5, out);
    *out = hp_xstrdup(raw);
    return HP_OK;
}

void hp_cfg_free_string(char **s)
{
    hp_free_secret(*s);
    *s = NULL;
}

hp_err hp_cfg_read_file(const char *path, size_t cap, char **data, size_t *len, int *errnum)
{
    /* read(2) rather than stdio: no library buffer keeps a copy of a secret. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf = NULL;
    size_t n = 0;
    hp_err rc = HP_OK;

    if (fd < 0) {
        *errnum = errno;
        return HP_ERR_IO;
    }
    buf = hp_xmalloc(cap + 2);
    while (n <= cap) {
        ssize_t got = read(fd, buf + n, cap + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            *errnum = errno;
            rc = HP_ERR_IO;
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > cap) {
        rc = HP_ERR_INVALID;
        goto out;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
out:
    if (buf) {
        hp_memzero(buf, n);
        free(buf);
    }
    close(fd);
    return rc;
}

const char *hp_cfg_strerror(int errnum, char *buf, size_t bufsz)
{
    /* The XSI strerror_r: _POSIX_C_SOURCE without _GNU_SOURCE selects it. */
    if (strerror_r(errnum, buf, bufsz) != 0)
        (void)snprintf(buf, bufsz, "error %d", errnum);
    return buf;
}

hp_err hp_cfg_read_rate_limit(hp_cfg_reader *rd, const json_t *obj_in, const char *key,
                              hp_rate_limit *rl)
{
    static const char *const keys[] = {"per_second", "burst", NULL};
    json_t *obj;
    const json_t *ps;
    hp_err rc = hp_cfg_read_object(rd, obj_in, key, &obj);

    if (rc != HP_OK || !obj)
        return rc;
    size_t mark = hp_cfg_enter(rd, key);
    if ((rc = hp_cfg_check_keys(rd, obj, keys)) != HP_OK)
        goto out;
    ps = json_object_get(obj, "per_second");
    if (!ps || !json_is_number(ps) || !(json_number_value(ps) > 0) || json_number_value(ps) > 1e6) {
        rc = hp_cfg_fail_key(rd, "per_second",
                             ps ? "must be a number greater than 0 and at most 1000000"
                                : "required: a number greater than 0 and at most 1000000");
        goto out;
    }
    rl->per_second = json_number_value(ps);
    /* By default a client may spend one second's worth at once. */
    rl->burst = (int)rl->per_second;
    if (rl->burst < rl->per_second)
        rl->burst++;
    rc = hp_cfg_read_int(rd, obj, "burst", 1, 10000000, &rl->burst);
out:
    hp_cfg_leave(rd, mark);
    return rc;
}
