/*
 * hp_envelope: the Kafka record envelope, version 1. See hp_envelope.h.
 */
#include "hp_envelope.h"

#include "hp_alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_str(rd_kafka_headers_t *hdrs, const char *name, const char *value)
{
    if (value)
        rd_kafka_header_add(hdrs, name, -1, value, (ssize_t)strlen(value));
}

static void add_int(rd_kafka_headers_t *hdrs, const char *name, int64_t value)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%" PRId64, value);
    rd_kafka_header_add(hdrs, name, -1, text, n);
}

rd_kafka_headers_t *hp_envelope_headers_new(const hp_envelope *env)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(10);
    add_int(hdrs, HP_HDR_VERSION, env->version);
    add_str(hdrs, HP_HDR_SOURCE, env->source);
    add_str(hdrs, HP_HDR_EVENT_ID, env->event_id);
    add_str(hdrs, HP_HDR_EVENT_TYPE, env->event_type);
    if (env->event_time_ms != HP_ENVELOPE_NO_TIME)
        add_int(hdrs, HP_HDR_EVENT_TIME, env->event_time_ms);
    add_int(hdrs, HP_HDR_RECEIVED_AT, env->received_at_ms);
    add_str(hdrs, HP_HDR_CONTENT_TYPE, env->content_type);
    add_str(hdrs, HP_HDR_GATEWAY, env->gateway);
    add_str(hdrs, HP_HDR_REMOTE_ADDR, env->remote_addr);
    add_str(hdrs, HP_HDR_HTTP_HEADERS, env->http_headers);
    return hdrs;
}

char *hp_envelope_header_dup(const rd_kafka_headers_t *hdrs, const char *name)
{
    const void *val;
    size_t len;
    if (!hdrs || rd_kafka_header_get_last(hdrs, name, &val, &len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    if (!val)
        return hp_xstrdup("");
    if (memchr(val, '\0', len))
        return NULL;
    return hp_xstrndup(val, len);
}

/* A decimal integer, optionally negative, that fills the whole string and
 * fits in 64 bits (strtoll would clamp a larger one without a word). */
static int parse_int64(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return 0;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return 0;
    *out = v;
    return 1;
}

/* Reads an optional integer header into *out; 0 and a message if it is malformed. */
static int read_int(const rd_kafka_headers_t *hdrs, const char *name, int64_t *out, char *errstr,
                    size_t errstr_size)
{
    char *text = hp_envelope_header_dup(hdrs, name);
    int ok = !text || parse_int64(text, out);
    if (!ok)
        snprintf(errstr, errstr_size, "header %s: not a decimal integer", name);
    free(text);
    return ok;
}

hp_err hp_envelope_decode(const rd_kafka_headers_t *hdrs, hp_envelope *env, char *errstr,
                          size_t errstr_size)
{
    hp_err rc = HP_ERR_INVALID;
    int64_t version;

    memset(env, 0, sizeof *env);
    env->event_time_ms = HP_ENVELOPE_NO_TIME;
    env->received_at_ms = HP_ENVELOPE_NO_TIME;
    if (!hdrs) {
        snprintf(errstr, errstr_size, "the record has no headers: not a hookpipe envelope");
        goto out;
    }
    version = -1; /* stays -1 when the header is absent */
    if (!read_int(hdrs, HP_HDR_VERSION, &version, errstr, errstr_size))
        goto out;
    if (version == -1) {
        snprintf(errstr, errstr_size, "header %s: missing: not a hookpipe envelope",
                 HP_HDR_VERSION);
        goto out;
    }
    if (version != HP_ENVELOPE_VERSION) {
        snprintf(errstr, errstr_size, "header %s: envelope version %" PRId64 " is not supported",
                 HP_HDR_VERSION, version);
        goto out;
    }
    env->version = (int)version;
    env->source = hp_envelope_header_dup(hdrs, HP_HDR_SOURCE);
    env->event_id = hp_envelope_header_dup(hdrs, HP_HDR_EVENT_ID);
    if (!env->source || !*env->source || !env->event_id || !*env->event_id) {
        snprintf(errstr, errstr_size, "header %s: missing or empty",
                 !env->source || !*env->source ? HP_HDR_SOURCE : HP_HDR_EVENT_ID);
        goto out;
    }
    if (!read_int(hdrs, HP_HDR_EVENT_TIME, &env->event_time_ms, errstr, errstr_size) ||
        !read_int(hdrs, HP_HDR_RECEIVED_AT, &env->received_at_ms, errstr, errstr_size))
        goto out;
    env->event_type = hp_envelope_header_dup(hdrs, HP_HDR_EVENT_TYPE);
    env->content_type = hp_envelope_header_dup(hdrs, HP_HDR_CONTENT_TYPE);
    env->gateway = hp_envelope_header_dup(hdrs, HP_HDR_GATEWAY);
    env->remote_addr = hp_envelope_header_dup(hdrs, HP_HDR_REMOTE_ADDR);
    env->http_headers = hp_envelope_header_dup(hdrs, HP_HDR_HTTP_HEADERS);
    rc = HP_OK;
out:
    if (rc != HP_OK)
        hp_envelope_deinit(env);
    return rc;
}

void hp_envelope_deinit(hp_envelope *env)
{
    free(env->source);
    free(env->event_id);
    free(env->event_type);
    free(env->content_type);
    free(env->gateway);
    free(env->remote_addr);
    free(env->http_headers);
    memset(env, 0, sizeof *env);
    env->event_time_ms = HP_ENVELOPE_NO_TIME;
}
