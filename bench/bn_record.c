/*
 * bn_record: corpus requests as Kafka records. See bn_record.h.
 */
#include "bn_record.h"

#include "hp_alloc.h"
#include "hp_jsonptr.h"
#include "hp_sig.h"
#include "hp_time.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */

#define MAX_HEADERS 64

/* One request's headers as C strings, for hp_sig_verify and the extractors. */
typedef struct headers {
    char *name[MAX_HEADERS];
    char *value[MAX_HEADERS];
    size_t n;
} headers;

static void headers_read(const bn_request *req, headers *hs)
{
    size_t pos = 0;
    bn_header h;
    hs->n = 0;
    while (hs->n < MAX_HEADERS && bn_request_next_header(req, &pos, &h)) {
        hs->name[hs->n] = hp_xstrndup(h.name, h.name_len);
        hs->value[hs->n] = hp_xstrndup(h.value, h.value_len);
        hs->n++;
    }
}

static void headers_free(headers *hs)
{
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->name[i]);
        free(hs->value[i]);
    }
    hs->n = 0;
}

static const char *header_get(void *ctx, const char *name)
{
    const headers *hs = ctx;
    for (size_t i = 0; i < hs->n; i++)
        if (strcasecmp(hs->name[i], name) == 0)
            return hs->value[i];
    return NULL;
}

static bool excluded(const char *name, const hp_sig_outcome *sig)
{
    static const char *const always[] = {"authorization", "proxy-authorization", "cookie"};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (strcasecmp(name, always[i]) == 0)
            return true;
    for (size_t i = 0; sig->headers_used[i]; i++)
        if (strcasecmp(name, sig->headers_used[i]) == 0)
            return true;
    return false;
}

/* hookpipe-http-headers: the request's headers minus credentials and
 * signatures, names in lower case as the gateway records them. */
static char *headers_json(const headers *hs, const hp_sig_outcome *sig)
{
    json_t *o = json_object();
    for (size_t i = 0; i < hs->n; i++) {
        char *name = hp_xstrdup(hs->name[i]);
        for (char *p = name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (!excluded(name, sig) && !json_object_get(o, name))
            json_object_set_new(o, name, json_string(hs->value[i]));
        free(name);
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static char *sha256_hex(const void *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *hex = hp_xmalloc(2 * EVP_MAX_MD_SIZE + 1);
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

/* The text an extractor yields (a string, or an integer's decimal text), or NULL. */
static char *extract(const hp_extractor *ex, json_t *body, const headers *hs, const bn_request *req)
{
    char num[32];
    if (ex->kind == HP_EXTRACT_HEADER) {
        const char *v = header_get((void *)hs, ex->arg);
        return v && *v ? hp_xstrdup(v) : NULL;
    }
    if (ex->kind == HP_EXTRACT_BODY_SHA256)
        return sha256_hex(req->body, req->body_len);
    if (ex->kind != HP_EXTRACT_JSON || !body)
        return NULL;
    json_t *v = hp_jsonptr_get(body, ex->arg);
    if (json_is_string(v) && json_string_length(v) > 0)
        return hp_xstrdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return hp_xstrdup(num);
    }
    return NULL;
}

static int64_t extract_time(const hp_extractor *ex, json_t *body, const headers *hs,
                            const bn_request *req)
{
    int64_t ms = HP_ENVELOPE_NO_TIME;
    json_t *v = ex->kind == HP_EXTRACT_JSON && body ? hp_jsonptr_get(body, ex->arg) : NULL;
    if (json_is_integer(v))
        return hp_time_unix_to_ms(json_integer_value(v));
    char *text = extract(ex, body, hs, req);
    if (text && hp_time_parse_event(text, strlen(text), &ms) != HP_OK)
        ms = HP_ENVELOPE_NO_TIME;
    free(text);
    return ms;
}

/* Fills rec from req and its parsed headers; a message in errstr if it fails. */
static hp_err record_fill(bn_record *rec, const bn_request *req, const headers *hs,
                          const hp_source *src, char *errstr, size_t errstr_size)
{
    hp_sig_outcome sig;
    json_t *body = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, NULL);
    hp_err rc = HP_OK;

    hp_sig_verify(&src->verify, (const unsigned char *)req->body, req->body_len, header_get,
                  (void *)hs, hp_time_now_ms() / 1000, &sig);
    rec->value = req->body;
    rec->len = req->body_len;
    rec->env.event_id = extract(&src->event_id, body, hs, req);
    rec->env.event_type = extract(&src->event_type, body, hs, req);
    rec->env.event_time_ms = extract_time(&src->event_time, body, hs, req);
    rec->key = src->key.kind == HP_EXTRACT_NONE ? NULL : extract(&src->key, body, hs, req);
    if (!rec->key && rec->env.event_id)
        rec->key = hp_xstrdup(rec->env.event_id);
    const char *ct = header_get((void *)hs, "Content-Type");
    rec->env.content_type = ct ? hp_xstrdup(ct) : NULL;
    rec->env.remote_addr = hp_xstrdup("127.0.0.1");
    rec->env.http_headers = headers_json(hs, &sig);
    if (sig.result != HP_SIG_OK) {
        snprintf(errstr, errstr_size, "the signature does not verify for source %s (%s)", src->name,
                 sig.reason);
        rc = HP_ERR_INVALID;
    } else if (!rec->env.event_id) {
        snprintf(errstr, errstr_size, "no event id");
        rc = HP_ERR_INVALID;
    }
    json_decref(body);
    return rc;
}

hp_err bn_records_make(const bn_corpus *corpus, const hp_source *src, const char *gateway,
                       bn_record **out, char *errstr, size_t errstr_size)
{
    bn_record *recs = hp_xcalloc(corpus->n, sizeof *recs);
    headers hs;
    char why[256];
    hp_err rc = HP_OK;

    for (size_t i = 0; i < corpus->n && rc == HP_OK; i++) {
        recs[i].env.version = HP_ENVELOPE_VERSION;
        recs[i].env.source = src->name;
        recs[i].env.gateway = (char *)gateway;
        headers_read(&corpus->reqs[i], &hs);
        rc = record_fill(&recs[i], &corpus->reqs[i], &hs, src, why, sizeof why);
        headers_free(&hs);
        if (rc != HP_OK)
            snprintf(errstr, errstr_size, "request %zu: %s", i + 1, why);
    }
    if (rc != HP_OK) {
        bn_records_free(recs, corpus->n);
        recs = NULL;
    }
    *out = recs;
    return rc;
}

void bn_records_free(bn_record *recs, size_t n)
{
    for (size_t i = 0; recs && i < n; i++) {
        free(recs[i].key);
        free(recs[i].env.event_id);
        free(recs[i].env.event_type);
        free(recs[i].env.content_type);
        free(recs[i].env.remote_addr);
        free(recs[i].env.http_headers);
    }
    free(recs);
}
