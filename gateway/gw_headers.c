/*
 * gw_headers: lookups in a request's headers and their JSON record. See
 * gw_headers.h.
 *
 * The lists are short (libmicrohttpd keeps a request's headers within its
 * per-connection memory, a few hundred at most), so lookups and duplicate
 * detection are plain linear scans. gw_headers_json sizes its output from
 * the input before writing a byte (no character escapes to more than six),
 * so building it has no error path.
 */
#include "gw_headers.h"

#include "hp_alloc.h"
#include "hp_utf8.h"

#include <stdint.h>
#include <string.h>
#include <strings.h> /* strcasecmp */

/* Never recorded: credentials of the client or of a proxy. */
static const char *const always_excluded[] = {"authorization", "proxy-authorization", "cookie",
                                              NULL};

/* The output of gw_headers_json, allocated large enough up front. */
struct out {
    char *buf;
    size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static const char *value_of(const gw_header *h)
{
    return h->value ? h->value : "";
}

/* Writes the ASCII character c, escaped as JSON requires. */
static void put_ascii(struct out *o, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
    switch (c) {
    case '"':
        put(o, "\\\"", 2);
        return;
    case '\\':
        put(o, "\\\\", 2);
        return;
    case '\n':
        put(o, "\\n", 2);
        return;
    case '\r':
        put(o, "\\r", 2);
        return;
    case '\t':
        put(o, "\\t", 2);
        return;
    default:
        break;
    }
    if (c < 0x20 || c == 0x7f)
        put(o, esc, sizeof esc);
    else
        put(o, (const char *)&c, 1);
}

/* Writes the bytes of s as the inside of a JSON string: invalid UTF-8 bytes
 * become U+FFFD, one for each; lower lower-cases ASCII letters. */
static void put_escaped(struct out *o, const char *s, bool lower)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        size_t len = hp_utf8_char_len(p, n);
        if (len == 0) {
            put(o, "\\ufffd", 6);
            len = 1;
        } else if (len > 1) {
            put(o, (const char *)p, len);
        } else {
            unsigned char c = p[0];
            put_ascii(o, lower && c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c);
        }
        p += len;
        n -= len;
    }
}

static bool in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++) {
        if (strcasecmp(name, list[i]) == 0)
            return true;
    }
    return false;
}

/* Moves past the next character of a name at *p (*n bytes left) and writes
 * what put_escaped(…, true) makes of it, unescaped, to out: an ASCII letter
 * lower-cased, an invalid byte U+FFFD. Returns its length. */
static size_t key_char(const unsigned char **p, size_t *n, unsigned char out[4])
{
    size_t len = hp_utf8_char_len(*p, *n);
    if (len == 0) {
        memcpy(out, "\xef\xbf\xbd", 3);
        *p += 1;
        *n -= 1;
        return 3;
    }
    memcpy(out, *p, len);
    if (len == 1 && out[0] >= 'A' && out[0] <= 'Z')
        out[0] = (unsigned char)(out[0] - 'A' + 'a');
    *p += len;
    *n -= len;
    return len;
}

/* Whether names a and b are recorded under the same member name. Not only
 * when they differ in case: bytes that are not UTF-8 all become U+FFFD, and
 * two members of one name would make the record an object with duplicate
 * names, where a reader keeps only one of the values. */
static bool same_key(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    size_t n = strlen(a), m = strlen(b);
    while (n > 0 && m > 0) {
        unsigned char ca[4], cb[4];
        size_t la = key_char(&p, &n, ca);
        size_t lb = key_char(&q, &m, cb);
        if (la != lb || memcmp(ca, cb, la) != 0)
            return false;
    }
    return n == 0 && m == 0;
}

/* Whether header i is recorded under a name written before it. */
static bool seen_before(const gw_headers *hs, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (same_key(hs->items[j].name, hs->items[i].name))
            return true;
    }
    return false;
}

/* Writes "name":"v1, v2…" for the first header of its name, at index i. */
static void put_member(struct out *o, const gw_headers *hs, size_t i)
{
    const char *name = hs->items[i].name;
    put(o, "\"", 1);
    put_escaped(o, name, true);
    put(o, "\":\"", 3);
    put_escaped(o, value_of(&hs->items[i]), false);
    for (size_t k = i + 1; k < hs->n; k++) {
        if (same_key(hs->items[k].name, name)) {
            put(o, ", ", 2);
            put_escaped(o, value_of(&hs->items[k]), false);
        }
    }
    put(o, "\"", 1);
}

const char *gw_headers_get(void *headers, const char *name)
{
    const gw_headers *hs = headers;
    for (size_t i = 0; hs && i < hs->n; i++) {
        if (strcasecmp(hs->items[i].name, name) == 0)
            return value_of(&hs->items[i]);
    }
    return NULL;
}

char *gw_headers_join(const gw_headers *hs, const char *name)
{
    size_t total = 0;
    bool found = false;
    for (size_t i = 0; hs && i < hs->n; i++) {
        if (strcasecmp(hs->items[i].name, name) == 0) {
            total += strlen(value_of(&hs->items[i])) + 2;
            found = true;
        }
    }
    if (!found)
        return NULL;
    struct out o = {hp_xmalloc(total + 1), 0};
    found = false;
    for (size_t i = 0; i < hs->n; i++) {
        if (strcasecmp(hs->items[i].name, name) != 0)
            continue;
        if (found)
            put(&o, ", ", 2);
        found = true;
        const char *v = value_of(&hs->items[i]);
        put(&o, v, strlen(v));
    }
    o.buf[o.len] = '\0';
    return o.buf;
}

char *gw_headers_json(const gw_headers *hs, const char *const *exclude)
{
    /* "{}", the terminator, and per header at most: a comma or ", ", four
     * quotes and a colon, and six bytes for every byte of name and value. */
    size_t size = 3;
    for (size_t i = 0; hs && i < hs->n; i++)
        size += 8 + 6 * (strlen(hs->items[i].name) + strlen(value_of(&hs->items[i])));

    struct out o = {hp_xmalloc(size), 0};
    bool first = true;
    put(&o, "{", 1);
    for (size_t i = 0; hs && i < hs->n; i++) {
        const char *name = hs->items[i].name;
        if (in_list(name, always_excluded) || in_list(name, exclude) || seen_before(hs, i))
            continue;
        if (!first)
            put(&o, ",", 1);
        first = false;
        put_member(&o, hs, i);
    }
    put(&o, "}", 1);
    o.buf[o.len] = '\0';
    return o.buf;
}
