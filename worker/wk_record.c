/*
 * wk_record: decoding records and building the batch document. See wk_record.h.
 *
 * The body travels to PostgreSQL as JSON text inside the batch document when
 * it parses as JSON (stored as jsonb), else as base64 (stored as bytea): the
 * database gets the bytes the provider sent either way. Parsing here also
 * means a body with a NUL escape, which jsonb cannot hold, is stored as
 * bytes rather than failing the batch.
 */
#include "wk_record.h"

#include "hp_alloc.h"
#include "hp_codec.h"
#include "hp_jsonptr.h"
#include "hp_time.h"
#include "hp_utf8.h"

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

/* The entity type of an entity-handled record: the source's extractor, else its name. */
static json_t *entity_type(const wk_record *rec, json_t *body, json_t *headers)
{
    const hp_extractor *ex = rec->src ? &rec->src->entity_type : NULL;
    json_t *v = NULL;
    if (ex && ex->kind == HP_EXTRACT_CONST)
        return json_string(ex->arg);
    if (ex && ex->kind == HP_EXTRACT_JSON)
        v = hp_jsonptr_get(body, ex->arg);
    if (ex && ex->kind == HP_EXTRACT_HEADER && json_is_object(headers)) {
        char lower[256];
        size_t i;
        for (i = 0; ex->arg[i] && i < sizeof lower - 1; i++)
            lower[i] =
                (char)(ex->arg[i] >= 'A' && ex->arg[i] <= 'Z' ? ex->arg[i] + 32 : ex->arg[i]);
        lower[i] = '\0';
        v = json_object_get(headers, lower);
    }
    if (json_is_string(v) && json_string_length(v) > 0)
        return json_incref(v);
    return json_string(rec->env.source);
}

static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *element(const wk_record *rec)
{
    const rd_kafka_message_t *m = rec->msg;
    const hp_envelope *env = &rec->env;
    json_t *o = json_object();
    json_t *body = m->len ? json_loadb(m->payload, m->len, JSON_DECODE_ANY, NULL) : NULL;
    json_t *headers = env->http_headers ? json_loads(env->http_headers, 0, NULL) : NULL;

    json_object_set_new(o, "source", str_or_null(env->source));
    json_object_set_new(o, "event_id", str_or_null(env->event_id));
    json_object_set_new(o, "event_type", str_or_null(env->event_type));
    json_object_set_new(
        o, "event_time_ms",
        env->event_time_ms == HP_ENVELOPE_NO_TIME ? json_null() : json_integer(env->event_time_ms));
    int64_t received = env->received_at_ms;
    if (received == HP_ENVELOPE_NO_TIME) {
        rd_kafka_timestamp_type_t tstype;
        received = rd_kafka_message_timestamp(m, &tstype);
        if (received < 0)
            received = hp_time_now_ms();
    }
    json_object_set_new(o, "received_at_ms", json_integer(received));
    json_object_set_new(o, "content_type", str_or_null(env->content_type));
    json_object_set_new(o, "headers", json_is_object(headers) ? json_incref(headers) : json_null());
    if (body) {
        json_object_set_new(o, "body", json_stringn(m->payload, m->len));
    } else {
        char *b64 = hp_xmalloc(hp_base64_encoded_len(m->len, HP_BASE64_STD) + 1);
        size_t n = hp_base64_encode(m->payload, m->len, HP_BASE64_STD, b64);
        json_object_set_new(o, "body_b64", json_stringn(b64, n));
        free(b64);
    }
    json_object_set_new(o, "topic", json_string(rd_kafka_topic_name(m->rkt)));
    json_object_set_new(o, "partition", json_integer(m->partition));
    json_object_set_new(o, "offset", json_integer(m->offset));
    json_object_set_new(o, "envelope_version", json_integer(env->version));
    json_object_set_new(o, "handler", json_string(wk_record_handler(rec)));
    json_object_set_new(o, "key",
                        m->key ? json_stringn(m->key, m->key_len) : str_or_null(env->event_id));
    json_object_set_new(o, "entity_type", entity_type(rec, body, headers));
    json_decref(body);
    json_decref(headers);
    return o;
}

hp_err wk_record_batch_json(const wk_record *recs, size_t n, hp_buf *out, size_t *idx_map,
                            size_t *count)
{
    json_t *arr = json_array();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].state != WK_REC_PENDING || recs[i].poison[0])
            continue;
        json_array_append_new(arr, element(&recs[i]));
        idx_map[k++] = i;
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    hp_err rc = text ? hp_buf_append_str(out, text) : HP_ERR_INVALID;
    free(text);
    *count = k;
    return rc;
}
