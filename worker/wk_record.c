/*
 * wk_record: decoding records and building the batch document. See wk_record.h.
 *
 * The batch document is written by hand, not built as a tree: a body that
 * jsonb takes as it is (wk_json_spliceable) is spliced into it byte for
 * byte as "body_json", so neither the worker nor PostgreSQL parses it twice;
 * any other body (not JSON, a "\u0000" escape jsonb cannot hold, a number
 * beyond numeric's range) goes as base64 and is stored as bytes. The
 * database gets the bytes the provider sent either way.
 */
#include "wk_record.h"

#include "hp_alloc.h"
#include "hp_codec.h"
#include "hp_jsonptr.h"
#include "hp_time.h"
#include "hp_utf8.h"
#include "wk_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wk_record_init(wk_record *rec, rd_kafka_message_t *msg, const hp_config *cfg)
{
    rd_kafka_headers_t *hdrs = NULL;
    memset(rec, 0, sizeof *rec);
    rec->msg = msg;
    rec->state = WK_REC_PENDING;
    rd_kafka_message_headers(msg, &hdrs);
    if (hp_envelope_decode(hdrs, &rec->env, rec->poison, sizeof rec->poison) != HP_OK)
        return;
    if (msg->key && (!hp_utf8_valid(msg->key, msg->key_len) || memchr(msg->key, 0, msg->key_len))) {
        snprintf(rec->poison, sizeof rec->poison, "the record key is not UTF-8 text");
        return;
    }
    rec->src = hp_config_find_source(cfg, rec->env.source);
}

void wk_record_deinit(wk_record *rec)
{
    if (rec->msg)
        rd_kafka_message_destroy(rec->msg);
    hp_envelope_deinit(&rec->env);
    rec->msg = NULL;
}

const char *wk_record_handler(const wk_record *rec)
{
    return rec->src ? hp_handler_name(rec->src->handler) : "store";
}

/* The entity type of an entity-handled record: the source's extractor, else
 * its name. Only this needs the body and the headers parsed (jansson; big
 * integers as reals so that a body jsonb takes parses here too). */
static char *entity_type(const wk_record *rec)
{
    const hp_extractor *ex = rec->src ? &rec->src->entity_type : NULL;
    const rd_kafka_message_t *m = rec->msg;
    json_t *doc = NULL, *v = NULL;
    char *out = NULL;
    if (ex && ex->kind == HP_EXTRACT_CONST)
        return hp_xstrdup(ex->arg);
    if (ex && ex->kind == HP_EXTRACT_JSON && m->len) {
        doc = json_loadb(m->payload, m->len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
        v = hp_jsonptr_get(doc, ex->arg);
    }
    if (ex && ex->kind == HP_EXTRACT_HEADER && rec->env.http_headers) {
        char lower[256];
        size_t i;
        for (i = 0; ex->arg[i] && i < sizeof lower - 1; i++)
            lower[i] =
                (char)(ex->arg[i] >= 'A' && ex->arg[i] <= 'Z' ? ex->arg[i] + 32 : ex->arg[i]);
        lower[i] = '\0';
        doc = json_loads(rec->env.http_headers, 0, NULL);
        v = json_is_object(doc) ? json_object_get(doc, lower) : NULL;
    }
    if (json_is_string(v) && json_string_length(v) > 0 &&
        !memchr(json_string_value(v), 0, json_string_length(v)))
        out = hp_xstrdup(json_string_value(v));
    json_decref(doc);
    return out ? out : hp_xstrdup(rec->env.source);
}

/* A text field: a JSON string, or null when absent or not storable text. */
static hp_err put_text(hp_buf *out, const char *s)
{
    if (!s || !hp_utf8_valid(s, strlen(s)))
        return hp_buf_append_str(out, "null");
    return wk_json_put_string(out, s, strlen(s));
}

static hp_err put_key(hp_buf *out, const char *name)
{
    return hp_buf_printf(out, ",\"%s\":", name);
}

/* The body: spliced as "body_json" when jsonb takes it as it is, else
 * base64 in "body_b64" (stored as bytes). */
static hp_err put_body(hp_buf *out, const rd_kafka_message_t *m)
{
    hp_err rc;
    if (m->len && wk_json_spliceable(m->payload, m->len, false)) {
        rc = hp_buf_append_str(out, ",\"body_json\":");
        return rc == HP_OK ? hp_buf_append(out, m->payload, m->len) : rc;
    }
    size_t cap = hp_base64_encoded_len(m->len, HP_BASE64_STD);
    char *b64 = hp_xmalloc(cap + 1);
    size_t n = hp_base64_encode(m->payload, m->len, HP_BASE64_STD, b64);
    rc = hp_buf_append_str(out, ",\"body_b64\":\"");
    if (rc == HP_OK)
        rc = hp_buf_append(out, b64, n);
    if (rc == HP_OK)
        rc = hp_buf_append(out, "\"", 1);
    free(b64);
    return rc;
}

/* One element of the batch document (0002_ingest.sql, 0004_fast_ingest.sql). */
static hp_err element(const wk_record *rec, hp_buf *out)
{
    const rd_kafka_message_t *m = rec->msg;
    const hp_envelope *env = &rec->env;
    int64_t received = env->received_at_ms;
    if (received == HP_ENVELOPE_NO_TIME) {
        rd_kafka_timestamp_type_t tstype;
        received = rd_kafka_message_timestamp(m, &tstype);
        if (received < 0)
            received = hp_time_now_ms();
    }
    hp_err rc = hp_buf_append_str(out, "{\"source\":");
    if (rc == HP_OK)
        rc = put_text(out, env->source);
    if (rc == HP_OK && (rc = put_key(out, "event_id")) == HP_OK)
        rc = put_text(out, env->event_id);
    if (rc == HP_OK && (rc = put_key(out, "event_type")) == HP_OK)
        rc = put_text(out, env->event_type);
    if (rc == HP_OK && env->event_time_ms != HP_ENVELOPE_NO_TIME)
        rc = hp_buf_printf(out, ",\"event_time_ms\":%lld", (long long)env->event_time_ms);
    if (rc == HP_OK)
        rc = hp_buf_printf(out, ",\"received_at_ms\":%lld", (long long)received);
    if (rc == HP_OK && (rc = put_key(out, "content_type")) == HP_OK)
        rc = put_text(out, env->content_type);
    if (rc == HP_OK && (rc = put_key(out, "headers")) == HP_OK) {
        const char *h = env->http_headers;
        rc = h && wk_json_spliceable(h, strlen(h), true) ? hp_buf_append_str(out, h)
                                                         : hp_buf_append_str(out, "null");
    }
    if (rc == HP_OK)
        rc = put_body(out, m);
    if (rc == HP_OK && (rc = put_key(out, "topic")) == HP_OK)
        rc = put_text(out, rd_kafka_topic_name(m->rkt));
    if (rc == HP_OK)
        rc = hp_buf_printf(out, ",\"partition\":%d,\"offset\":%lld,\"envelope_version\":%d",
                           (int)m->partition, (long long)m->offset, env->version);
    if (rc == HP_OK && (rc = put_key(out, "handler")) == HP_OK)
        rc = put_text(out, wk_record_handler(rec));
    /* wk_record_init checked that the key is UTF-8 without NUL bytes. */
    if (rc == HP_OK && (rc = put_key(out, "key")) == HP_OK)
        rc = m->key ? wk_json_put_string(out, m->key, m->key_len) : put_text(out, env->event_id);
    if (rc == HP_OK && rec->src && rec->src->handler == HP_HANDLER_ENTITY &&
        (rc = put_key(out, "entity_type")) == HP_OK) {
        char *type = entity_type(rec);
        rc = put_text(out, type);
        free(type);
    }
    if (rc == HP_OK)
        rc = hp_buf_append(out, "}", 1);
    return rc;
}

hp_err wk_record_batch_json(const wk_record *recs, size_t n, hp_buf *out, size_t *idx_map,
                            size_t *count)
{
    size_t k = 0;
    hp_err rc = hp_buf_append(out, "[", 1);
    for (size_t i = 0; i < n && rc == HP_OK; i++) {
        if (recs[i].state != WK_REC_PENDING || recs[i].poison[0])
            continue;
        if (k)
            rc = hp_buf_append(out, ",", 1);
        if (rc == HP_OK)
            rc = element(&recs[i], out);
        idx_map[k++] = i;
    }
    if (rc == HP_OK)
        rc = hp_buf_append(out, "]", 1);
    *count = k;
    return rc;
}
