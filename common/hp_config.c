/*
 * hp_config: loading the configuration file, its top-level sections
 * (gateway, kafka, postgres, worker, log) and the HOOKPIPE_* environment
 * overrides. A sources[] entry is read by hp_config_source.c, the typed
 * readers and env:/file: resolution live in hp_config_read.c.
 *
 * A load fills in every default first, then lets the file and then the
 * environment replace them, and throws everything away at the first problem:
 * a caller sees a complete configuration or none.
 */
#include "hp_config.h"

#include "hp_alloc.h"
#include "hp_config_int.h"

#include <arpa/inet.h> /* inet_pton, to check a bracketed IPv6 listen host */
#include <errno.h>
#include <fcntl.h> /* open, to check that TLS files are readable */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* close, sysconf */

/* Largest configuration file accepted. */
#define HP_CONFIG_FILE_MAX (4 * 1024 * 1024)

/* ---- small checks shared by the sections ---- */

/* Whether s is 1..max bytes of visible ASCII (no space, no control). */
static bool is_visible_ascii(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (n == max || (unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
            return false;
    }
    return n > 0;
}

static hp_err check_listen(hp_cfg_reader *rd, const char *key, const char *value)
{
    char host[256];
    char q[HP_CFG_QUOTE_SIZE];
    int port;

    if (hp_config_parse_hostport(value, host, sizeof host, &port) != HP_OK)
        return hp_cfg_fail_key(rd, key,
                               "%s is not host:port, [ipv6]:port or :port with a port "
                               "between 0 and 65535",
                               hp_cfg_quote(value, q));
    return HP_OK;
}

static hp_err check_nonempty(hp_cfg_reader *rd, const char *key, const char *value)
{
    if (value && *value == '\0')
        return hp_cfg_fail_key(rd, key, "must not be empty");
    return HP_OK;
}

/* A Kafka topic name: [A-Za-z0-9._-]{1,249}, as Kafka itself requires. */
static hp_err check_topic(hp_cfg_reader *rd, const char *key, const char *value)
{
    size_t n = strlen(value);
    bool ok = n >= 1 && n <= 249 &&
              strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789._-") == n;
    if (!ok)
        return hp_cfg_fail_key(rd, key, "must be 1 to 249 of the characters [A-Za-z0-9._-]");
    return HP_OK;
}

static hp_err check_readable(hp_cfg_reader *rd, const char *key, const char *path)
{
    char q[HP_CFG_QUOTE_SIZE];
    char why[128];
    int fd;

    if (*path == '\0')
        return hp_cfg_fail_key(rd, key, "must not be empty");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hp_cfg_fail_key(rd, key, "cannot read %s: %s", hp_cfg_quote(path, q),
                               hp_cfg_strerror(errno, why, sizeof why));
    close(fd);
    return HP_OK;
}

static hp_err parse_log_level(hp_cfg_reader *rd, const char *key, const char *value,
                              hp_log_level *level)
{
    char q[HP_CFG_QUOTE_SIZE];

    if (hp_log_level_parse(value, level) == HP_OK)
        return HP_OK;
    return hp_cfg_fail_key(rd, key, "unknown level %s (known: debug, info, warn, error)",
                           hp_cfg_quote(value, q));
}

/* ---- sections ---- */

static hp_err read_tls(hp_cfg_reader *rd, const json_t *gateway, hp_tls_config *tls)
{
    static const char *const keys[] = {"cert_file", "key_file", NULL};
    json_t *obj;
    hp_err rc = hp_cfg_read_object(rd, gateway, "tls", &obj);

    if (rc != HP_OK || !obj)
        return rc;
    size_t mark = hp_cfg_enter(rd, "tls");
    if ((rc = hp_cfg_check_keys(rd, obj, keys)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "cert_file", &tls->cert_file)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "key_file", &tls->key_file)) != HP_OK)
        goto out;
    if (tls->cert_file && !tls->key_file) {
        rc = hp_cfg_fail_key(rd, "key_file", "required with cert_file");
        goto out;
    }
    if (tls->key_file && !tls->cert_file) {
        rc = hp_cfg_fail_key(rd, "cert_file", "required with key_file");
        goto out;
    }
    if (tls->cert_file && (rc = check_readable(rd, "cert_file", tls->cert_file)) == HP_OK)
        rc = check_readable(rd, "key_file", tls->key_file);
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

/* The largest max_buffered_bytes: 1 TiB. */
#define MAX_BUFFERED ((size_t)1 << 40)

/* Physical memory in bytes, or 0 when the system does not say. */
static size_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0;
}

/*
 * Fills in the buffered-bytes caps left at 0: in all, 1/16 of the machine's
 * memory, between 64 MiB and 1 GiB; per client address, 1/8 of that. Each is
 * at least one largest body, so a single honest request always fits.
 */
static void size_buffers(hp_gateway_config *gw)
{
    if (gw->max_buffered_bytes == 0) {
        size_t m = physical_memory() / 16;
        gw->max_buffered_bytes = m < ((size_t)64 << 20)  ? (size_t)64 << 20
                                 : m > ((size_t)1 << 30) ? (size_t)1 << 30
                                                         : m;
    }
    if (gw->max_buffered_bytes_per_client == 0)
        gw->max_buffered_bytes_per_client = gw->max_buffered_bytes / 8;
    if (gw->max_buffered_bytes < gw->max_body_bytes)
        gw->max_buffered_bytes = gw->max_body_bytes;
    if (gw->max_buffered_bytes_per_client < gw->max_body_bytes)
        gw->max_buffered_bytes_per_client = gw->max_body_bytes;
    if (gw->max_buffered_bytes_per_client > gw->max_buffered_bytes)
        gw->max_buffered_bytes_per_client = gw->max_buffered_bytes;
}

static hp_err read_gateway(hp_cfg_reader *rd, const json_t *root, hp_gateway_config *gw)
{
    static const char *const keys[] = {"listen",
                                       "admin_listen",
                                       "threads",
                                       "max_body_bytes",
                                       "ack_timeout_ms",
                                       "max_inflight",
                                       "trusted_proxies",
                                       "tls",
                                       "connection_timeout_s",
                                       "max_connections",
                                       "max_connections_per_ip",
                                       "instance_id",
                                       "header_timeout_s",
                                       "body_timeout_s",
                                       "body_min_bytes_per_s",
                                       "max_buffered_bytes",
                                       "max_buffered_bytes_per_client",
                                       "unverified_rate_limit",
                                       "refusal_log_interval_s",
                                       NULL};
    json_t *obj;
    int max_body = (int)gw->max_body_bytes;
    hp_err rc = hp_cfg_read_object(rd, root, "gateway", &obj);

    if (rc != HP_OK || !obj)
        return rc;
    size_t mark = hp_cfg_enter(rd, "gateway");
    if ((rc = hp_cfg_check_keys(rd, obj, keys)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "listen", &gw->listen)) != HP_OK ||
        (rc = check_listen(rd, "listen", gw->listen)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "admin_listen", &gw->admin_listen)) != HP_OK ||
        (rc = check_listen(rd, "admin_listen", gw->admin_listen)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "threads", 0, 256, &gw->threads)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "max_body_bytes", 1, 104857600, &max_body)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "ack_timeout_ms", 100, 120000, &gw->ack_timeout_ms)) !=
            HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "max_inflight", 1, 1000000, &gw->max_inflight)) != HP_OK ||
        (rc = hp_cfg_read_cidrs(rd, obj, "trusted_proxies", &gw->trusted_proxies,
                                &gw->ntrusted_proxies)) != HP_OK ||
        (rc = read_tls(rd, obj, &gw->tls)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "connection_timeout_s", 1, 3600,
                              &gw->connection_timeout_s)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "max_connections", 1, 1000000, &gw->max_connections)) !=
            HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "max_connections_per_ip", 0, 1000000,
                              &gw->max_connections_per_ip)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "instance_id", &gw->instance_id)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "header_timeout_s", 1, 3600, &gw->header_timeout_s)) !=
            HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "body_timeout_s", 1, 3600, &gw->body_timeout_s)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "body_min_bytes_per_s", 1, 1073741824,
                              &gw->body_min_bytes_per_s)) != HP_OK ||
        (rc = hp_cfg_read_size(rd, obj, "max_buffered_bytes", 0, MAX_BUFFERED,
                               &gw->max_buffered_bytes)) != HP_OK ||
        (rc = hp_cfg_read_size(rd, obj, "max_buffered_bytes_per_client", 0, MAX_BUFFERED,
                               &gw->max_buffered_bytes_per_client)) != HP_OK ||
        (rc = hp_cfg_read_rate_limit(rd, obj, "unverified_rate_limit",
                                     &gw->unverified_rate_limit)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "refusal_log_interval_s", 1, 3600,
                              &gw->refusal_log_interval_s)) != HP_OK)
        goto out;
    gw->max_body_bytes = (size_t)max_body;
    /* The instance id goes into a Kafka header and log lines: keep it plain. */
    if (gw->instance_id && !is_visible_ascii(gw->instance_id, 255))
        rc = hp_cfg_fail_key(rd, "instance_id",
                             "must be 1 to 255 visible ASCII characters (no spaces)");
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

/* Writes a JSON real so that it reads back as the same double. */
static void format_real(double d, char *buf, size_t bufsz)
{
    (void)snprintf(buf, bufsz, "%.15g", d);
    if (strtod(buf, NULL) != d)
        (void)snprintf(buf, bufsz, "%.17g", d);
}

/* A property value at the current path: a string (resolved), or the text of
 * a number or boolean, as librdkafka takes every property as a string. */
static hp_err read_property_value(hp_cfg_reader *rd, const json_t *v, char **out)
{
    char buf[64];

    if (json_is_string(v))
        return hp_cfg_string_value(rd, v, out);
    if (json_is_boolean(v))
        (void)snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_integer(v))
        (void)snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        format_real(json_real_value(v), buf, sizeof buf);
    else
        return hp_cfg_fail(rd, "must be a string, a number or a boolean");
    *out = hp_xstrdup(buf);
    return HP_OK;
}

static hp_err read_properties(hp_cfg_reader *rd, const json_t *kafka, hp_kafka_config *kc)
{
    json_t *obj;
    const char *name;
    json_t *v;
    hp_err rc = hp_cfg_read_object(rd, kafka, "properties", &obj);

    if (rc != HP_OK || !obj)
        return rc;
    size_t mark = hp_cfg_enter(rd, "properties");
    kc->properties = hp_xcalloc(json_object_size(obj), sizeof *kc->properties);
    json_object_foreach (obj, name, v) {
        hp_config_kv *kv = &kc->properties[kc->nproperties];
        size_t elem = hp_cfg_enter(rd, name);
        rc = read_property_value(rd, v, &kv->value);
        hp_cfg_leave(rd, elem);
        if (rc != HP_OK)
            goto out;
        kv->name = hp_xstrdup(name);
        kc->nproperties++;
    }
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

static hp_err read_kafka(hp_cfg_reader *rd, const json_t *root, hp_kafka_config *kc)
{
    static const char *const keys[] = {"brokers", "topic", "dlq_topic", "properties", NULL};
    json_t *obj;
    hp_err rc = hp_cfg_read_object(rd, root, "kafka", &obj);

    if (rc != HP_OK || !obj)
        return rc;
    size_t mark = hp_cfg_enter(rd, "kafka");
    if ((rc = hp_cfg_check_keys(rd, obj, keys)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "brokers", &kc->brokers)) != HP_OK ||
        (rc = check_nonempty(rd, "brokers", kc->brokers)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "topic", &kc->topic)) != HP_OK ||
        (rc = check_topic(rd, "topic", kc->topic)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "dlq_topic", &kc->dlq_topic)) != HP_OK ||
        (rc = check_topic(rd, "dlq_topic", kc->dlq_topic)) != HP_OK ||
        (rc = read_properties(rd, obj, kc)) != HP_OK)
        goto out;
    if (strcmp(kc->topic, kc->dlq_topic) == 0)
        rc = hp_cfg_fail_key(rd, "dlq_topic", "must differ from topic");
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

static hp_err read_postgres(hp_cfg_reader *rd, const json_t *root, hp_postgres_config *pg)
{
    static const char *const keys[] = {"dsn", "statement_timeout_ms", "connect_timeout_s", NULL};
    json_t *obj;
    hp_err rc = hp_cfg_read_object(rd, root, "postgres", &obj);

    if (rc != HP_OK || !obj)
        return rc;
    size_t mark = hp_cfg_enter(rd, "postgres");
    if ((rc = hp_cfg_check_keys(rd, obj, keys)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "dsn", &pg->dsn)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "statement_timeout_ms", 100, 3600000,
                              &pg->statement_timeout_ms)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "connect_timeout_s", 1, 300, &pg->connect_timeout_s)) !=
            HP_OK)
        goto out;
    rc = check_nonempty(rd, "dsn", pg->dsn);
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

static hp_err read_worker(hp_cfg_reader *rd, const json_t *root, hp_worker_config *wk)
{
    static const char *const keys[] = {
        "group_id",     "batch_max", "batch_wait_ms", "retry_initial_ms", "retry_max_ms",
        "max_attempts", "lanes",     "admin_listen",  "stall_timeout_s",  NULL};
    json_t *obj;
    hp_err rc = hp_cfg_read_object(rd, root, "worker", &obj);

    if (rc != HP_OK || !obj)
        return rc;
    size_t mark = hp_cfg_enter(rd, "worker");
    if ((rc = hp_cfg_check_keys(rd, obj, keys)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "group_id", &wk->group_id)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "batch_max", 1, 10000, &wk->batch_max)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "batch_wait_ms", 0, 10000, &wk->batch_wait_ms)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "retry_initial_ms", 1, 600000, &wk->retry_initial_ms)) !=
            HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "retry_max_ms", 1, 3600000, &wk->retry_max_ms)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "max_attempts", 0, 1000000, &wk->max_attempts)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "lanes", 1, 64, &wk->lanes)) != HP_OK ||
        (rc = hp_cfg_read_int(rd, obj, "stall_timeout_s", 10, 86400, &wk->stall_timeout_s)) !=
            HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "admin_listen", &wk->admin_listen)) != HP_OK ||
        (rc = check_listen(rd, "admin_listen", wk->admin_listen)) != HP_OK)
        goto out;
    if (!is_visible_ascii(wk->group_id, 255))
        rc = hp_cfg_fail_key(rd, "group_id",
                             "must be 1 to 255 visible ASCII characters (no spaces)");
    else if (wk->retry_max_ms < wk->retry_initial_ms)
        rc = hp_cfg_fail_key(rd, "retry_max_ms", "must not be less than retry_initial_ms (%d)",
                             wk->retry_initial_ms);
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

static hp_err read_log(hp_cfg_reader *rd, const json_t *root, hp_log_config *log)
{
    static const char *const keys[] = {"level", NULL};
    json_t *obj;
    char *level = NULL;
    hp_err rc = hp_cfg_read_object(rd, root, "log", &obj);

    if (rc != HP_OK || !obj)
        return rc;
    size_t mark = hp_cfg_enter(rd, "log");
    if ((rc = hp_cfg_check_keys(rd, obj, keys)) != HP_OK ||
        (rc = hp_cfg_read_string(rd, obj, "level", &level)) != HP_OK)
        goto out;
    if (level)
        rc = parse_log_level(rd, "level", level, &log->level);
out:
    hp_cfg_free_string(&level);
    hp_cfg_leave(rd, mark);
    return rc;
}

/* ---- environment overrides ---- */

/* Replaces *field with the resolved value of environment variable var, if it
 * is set and not empty (an empty variable is how compose files leave one
 * unset). Messages name the variable in place of file and path. */
static hp_err override(hp_cfg_reader *rd, const char *var, char **field, bool *applied)
{
    const char *value = getenv(var);
    char *s = NULL;

    *applied = false;
    if (!value || *value == '\0')
        return HP_OK;
    size_t mark = hp_cfg_enter(rd, var);
    hp_err rc = hp_cfg_resolve(rd, value, &s);
    hp_cfg_leave(rd, mark);
    if (rc != HP_OK)
        return rc;
    hp_cfg_free_string(field);
    *field = s;
    *applied = true;
    return HP_OK;
}

static hp_err apply_overrides(hp_cfg_reader *rd, hp_config *cfg)
{
    const char *name = rd->name;
    char *level = NULL;
    bool set;
    hp_err rc;

    rd->name = NULL;
    if ((rc = override(rd, "HOOKPIPE_KAFKA_BROKERS", &cfg->kafka.brokers, &set)) != HP_OK ||
        (rc = override(rd, "HOOKPIPE_POSTGRES_DSN", &cfg->postgres.dsn, &set)) != HP_OK ||
        (rc = override(rd, "HOOKPIPE_LISTEN", &cfg->gateway.listen, &set)) != HP_OK ||
        (set && (rc = check_listen(rd, "HOOKPIPE_LISTEN", cfg->gateway.listen)) != HP_OK) ||
        (rc = override(rd, "HOOKPIPE_ADMIN_LISTEN", &cfg->gateway.admin_listen, &set)) != HP_OK ||
        (set &&
         (rc = check_listen(rd, "HOOKPIPE_ADMIN_LISTEN", cfg->gateway.admin_listen)) != HP_OK) ||
        (rc = override(rd, "HOOKPIPE_LOG_LEVEL", &level, &set)) != HP_OK ||
        (set && (rc = parse_log_level(rd, "HOOKPIPE_LOG_LEVEL", level, &cfg->log.level)) != HP_OK))
        goto out;
out:
    hp_cfg_free_string(&level);
    rd->name = name;
    return rc;
}

/* ---- loading ---- */

static void set_defaults(hp_config *cfg)
{
    cfg->gateway.listen = hp_xstrdup("0.0.0.0:8080");
    cfg->gateway.admin_listen = hp_xstrdup("127.0.0.1:9090");
    cfg->gateway.max_body_bytes = 1048576;
    cfg->gateway.ack_timeout_ms = 2500;
    cfg->gateway.max_inflight = 10000;
    cfg->gateway.connection_timeout_s = 10;
    cfg->gateway.max_connections = 10000;
    cfg->gateway.max_connections_per_ip = 1024;
    cfg->gateway.header_timeout_s = 10;
    cfg->gateway.body_timeout_s = 10;
    cfg->gateway.body_min_bytes_per_s = 16384;
    cfg->gateway.unverified_rate_limit.per_second = 10;
    cfg->gateway.unverified_rate_limit.burst = 20;
    cfg->gateway.refusal_log_interval_s = 10;
    cfg->postgres.statement_timeout_ms = 10000;
    cfg->postgres.connect_timeout_s = 5;
    cfg->kafka.topic = hp_xstrdup("webhooks.raw");
    cfg->kafka.dlq_topic = hp_xstrdup("webhooks.dlq");
    cfg->worker.group_id = hp_xstrdup("hookpipe-worker");
    cfg->worker.batch_max = 500;
    cfg->worker.batch_wait_ms = 20;
    cfg->worker.retry_initial_ms = 100;
    cfg->worker.retry_max_ms = 30000;
    cfg->worker.lanes = 1;
    cfg->worker.stall_timeout_s = 300;
    cfg->worker.admin_listen = hp_xstrdup("127.0.0.1:9091");
    cfg->log.level = HP_LOG_INFO;
}

/* jansson's message for a syntax error, without the text of a string token
 * it quotes ("near '\"…'"): an inline secret may be that string. */
static void syntax_message(const json_error_t *jerr, char *buf, size_t bufsz)
{
    const char *near = strstr(jerr->text, " near '\"");
    int len = near ? (int)(near - jerr->text) : (int)strlen(jerr->text);

    (void)snprintf(buf, bufsz, "%.*s%s", len, jerr->text, near ? " near a string" : "");
}

/* Zeroes every string value of the document before it is freed: a secret
 * may be written inline in the file. */
static void scrub_strings(json_t *v)
{
    const char *key;
    json_t *member;
    size_t i;

    if (json_is_string(v)) {
        /* The text is jansson's own heap buffer, const only in its API. */
        hp_memzero((char *)json_string_value(v), json_string_length(v));
    } else if (json_is_object(v)) {
        json_object_foreach (v, key, member) {
            scrub_strings(member);
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, member) {
            scrub_strings(member);
        }
    }
}

static hp_err load_buffer(hp_config *cfg, const char *data, size_t len, const char *name,
                          char *errstr, size_t errstr_size)
{
    static const char *const keys[] = {"gateway", "kafka",   "postgres", "worker",
                                       "log",     "sources", NULL};
    hp_cfg_reader rd = {.name = name, .errstr = errstr, .errstr_size = errstr_size};
    json_error_t jerr;
    json_t *root;
    hp_err rc;

    memset(cfg, 0, sizeof *cfg);
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        char what[sizeof jerr.text + 16];
        syntax_message(&jerr, what, sizeof what);
        if (errstr_size > 0)
            (void)snprintf(errstr, errstr_size, "%s:%d:%d: %s", name, jerr.line, jerr.column, what);
        return HP_ERR_INVALID;
    }
    set_defaults(cfg);
    if (!json_is_object(root)) {
        rc = hp_cfg_fail(&rd, "must be a JSON object");
        goto out;
    }
    if ((rc = hp_cfg_check_keys(&rd, root, keys)) != HP_OK ||
        (rc = read_gateway(&rd, root, &cfg->gateway)) != HP_OK ||
        (rc = read_kafka(&rd, root, &cfg->kafka)) != HP_OK ||
        (rc = read_postgres(&rd, root, &cfg->postgres)) != HP_OK ||
        (rc = read_worker(&rd, root, &cfg->worker)) != HP_OK ||
        (rc = read_log(&rd, root, &cfg->log)) != HP_OK ||
        (rc = hp_cfg_read_sources(&rd, root, cfg)) != HP_OK ||
        (rc = apply_overrides(&rd, cfg)) != HP_OK)
        goto out;
    size_buffers(&cfg->gateway);
out:
    scrub_strings(root);
    json_decref(root);
    if (rc != HP_OK)
        hp_config_deinit(cfg);
    return rc;
}

hp_err hp_config_load_string(hp_config *cfg, const char *json, const char *name, char *errstr,
                             size_t errstr_size)
{
    return load_buffer(cfg, json, strlen(json), name, errstr, errstr_size);
}

hp_err hp_config_load(hp_config *cfg, const char *path, char *errstr, size_t errstr_size)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash && slash[1] ? slash + 1 : path;
    char *data = NULL;
    size_t len = 0;
    int errnum = 0;
    char why[128];
    hp_err rc;

    memset(cfg, 0, sizeof *cfg);
    rc = hp_cfg_read_file(path, HP_CONFIG_FILE_MAX, &data, &len, &errnum);
    if (rc == HP_ERR_IO) {
        if (errstr_size > 0)
            (void)snprintf(errstr, errstr_size, "%s: cannot read: %s", name,
                           hp_cfg_strerror(errnum, why, sizeof why));
        goto out;
    }
    if (rc != HP_OK) {
        if (errstr_size > 0)
            (void)snprintf(errstr, errstr_size, "%s: larger than %d bytes", name,
                           HP_CONFIG_FILE_MAX);
        goto out;
    }
    rc = load_buffer(cfg, data, len, name, errstr, errstr_size);
out:
    if (data) {
        /* The file may hold secrets written inline. */
        hp_memzero(data, len);
        free(data);
    }
    return rc;
}

void hp_config_deinit(hp_config *cfg)
{
    hp_gateway_config *gw = &cfg->gateway;

    hp_cfg_free_string(&gw->listen);
    hp_cfg_free_string(&gw->admin_listen);
    free(gw->trusted_proxies);
    hp_cfg_free_string(&gw->tls.cert_file);
    hp_cfg_free_string(&gw->tls.key_file);
    hp_cfg_free_string(&gw->instance_id);
    hp_cfg_free_string(&cfg->kafka.brokers);
    hp_cfg_free_string(&cfg->kafka.topic);
    hp_cfg_free_string(&cfg->kafka.dlq_topic);
    for (size_t i = 0; i < cfg->kafka.nproperties; i++) {
        hp_cfg_free_string(&cfg->kafka.properties[i].name);
        hp_cfg_free_string(&cfg->kafka.properties[i].value);
    }
    free(cfg->kafka.properties);
    hp_cfg_free_string(&cfg->postgres.dsn);
    hp_cfg_free_string(&cfg->worker.group_id);
    hp_cfg_free_string(&cfg->worker.admin_listen);
    for (size_t i = 0; i < cfg->nsources; i++)
        hp_cfg_source_deinit(&cfg->sources[i]);
    free(cfg->sources);
    memset(cfg, 0, sizeof *cfg);
}

const hp_source *hp_config_find_source(const hp_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsources; i++) {
        if (strcmp(cfg->sources[i].name, name) == 0)
            return &cfg->sources[i];
    }
    return NULL;
}

/* Parses a port: 1 to 5 decimal digits, 0..65535 (0: the kernel picks a free port). */
static hp_err parse_port(const char *s, int *port)
{
    int v = 0;
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        if (n == 5 || s[n] < '0' || s[n] > '9')
            return HP_ERR_INVALID;
        v = v * 10 + (s[n] - '0');
    }
    if (n == 0 || v > 65535)
        return HP_ERR_INVALID;
    *port = v;
    return HP_OK;
}

hp_err hp_config_parse_hostport(const char *s, char *host, size_t hostsz, int *port)
{
    const char *h = s;
    const char *colon;
    size_t hlen;

    if (s[0] == '[') {
        char v6[INET6_ADDRSTRLEN];
        unsigned char bin[16];
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return HP_ERR_INVALID;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
        if (hlen >= sizeof v6)
            return HP_ERR_INVALID;
        memcpy(v6, h, hlen);
        v6[hlen] = '\0';
        if (inet_pton(AF_INET6, v6, bin) != 1)
            return HP_ERR_INVALID;
    } else {
        /* A name or a dotted quad; a bare IPv6 address needs brackets. */
        colon = strchr(s, ':');
        if (!colon)
            return HP_ERR_INVALID;
        hlen = (size_t)(colon - s);
        if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != hlen)
            return HP_ERR_INVALID;
    }
    if (parse_port(colon + 1, port) != HP_OK || hlen >= hostsz)
        return HP_ERR_INVALID;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    return HP_OK;
}
