/*
 * gw_http: the libmicrohttpd side of a webhook request.
 *
 * MHD calls the access handler several times per request:
 *
 *   1. headers only (*req_cls == NULL): route, method, client address,
 *      Content-Length, signature precheck and buffer budget (gw_admit) are
 *      checked; a refusal is queued at once (MHD then skips "100 Continue"
 *      and discards the body);
 *   2. once per chunk of body: appended to a buffer capped at max_body_bytes;
 *      a chunked body that outgrows it closes the connection (MHD allows no
 *      answer in the middle of a body);
 *   3. body complete (*upload_data_size == 0): gw_ingest() verifies and
 *      extracts, then either answers at once or suspends the connection and
 *      produces the record;
 *   4. after the delivery report resumed the connection: the answer.
 *
 * The state of a request is atomic because step 4's resume comes from the
 * Kafka poll thread. gw_ingest() suspends *before* it produces, so a report
 * can never resume a connection that is not yet suspended (with MHD 0.9.75
 * that would be undefined).
 */
#include "gw_int.h"

#include "hp_alloc.h"
#include "hp_log.h"
#include "hp_time.h"

#include <stdlib.h>
#include <string.h>

#define WEBHOOK_PREFIX "/webhooks/"

static const gw_source *find_source(const gw_gateway *gw, const char *name)
{
    for (size_t i = 0; i < gw->nsources; i++)
        if (strcmp(gw->sources[i].conf->name, name) == 0)
            return &gw->sources[i];
    return NULL;
}

static const char *source_label(const gw_request *req)
{
    return req->source ? req->source->conf->name : GW_METRICS_UNKNOWN_SOURCE;
}

/* Queues req->answer, counts and logs it. */
static enum MHD_Result answer(gw_request *req)
{
    gw_gateway *gw = req->gw;
    const gw_answer *a = &req->answer;
    double secs = (double)(hp_time_mono_ns() - req->start_ns) / 1e9;

    atomic_store(&req->state, GW_REQ_ANSWERED);
    gw_ingest_release(req);
    gw_metrics_request(&gw->metrics, source_label(req), a->status, secs);
    hp_log_level level = a->status >= 500   ? HP_LOG_WARN
                         : a->status >= 300 ? HP_LOG_INFO
                                            : HP_LOG_DEBUG;
    if (hp_log_enabled(level))
        hp_log(level, "http", a->error ? a->message : "accepted",
               HP_LOG_STR("source", source_label(req)),
               HP_LOG_STR("event_id", req->event_id ? req->event_id : ""),
               HP_LOG_STR("remote_addr", req->client_text), HP_LOG_INT("status", a->status),
               HP_LOG_STR("error", a->error ? a->error : ""),
               HP_LOG_DBL("duration_ms", secs * 1000));
    return gw_reply_queue(req->conn, a, atomic_load(&gw->draining));
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    gw_request *req = cls;
    if (req->headers.n == GW_MAX_HEADERS)
        return MHD_NO;
    req->header_items[req->headers.n].name = key;
    req->header_items[req->headers.n].value = value ? value : "";
    req->headers.n++;
    return MHD_YES;
}

/* Resolves the client's address; false if MHD can't say who the peer is. */
static bool resolve_client(gw_request *req)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return false;
    /* Every X-Forwarded-For line: a proxy may add its own line rather than
     * append to the client's, and the first line is then the client's word. */
    char *xff = gw_headers_join(&req->headers, "X-Forwarded-For");
    const hp_gateway_config *g = &req->gw->cfg->gateway;
    bool ok = gw_clientip_resolve(info->client_addr, xff, g->trusted_proxies, g->ntrusted_proxies,
                                  &req->client, req->client_text, sizeof req->client_text) == HP_OK;
    free(xff);
    return ok;
}

/* Declared Content-Length over the cap? (A missing or chunked one is checked as it arrives.) */
static bool declared_too_large(const gw_request *req)
{
    const char *cl =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return false;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    return *end == '\0' && n > req->gw->cfg->gateway.max_body_bytes;
}

/*
 * The checks that need only the request line and headers. Fills req->answer
 * and returns true to answer now.
 */
static bool check_headers(gw_request *req, const char *url, const char *method)
{
    gw_answer *a = &req->answer;
    const hp_gateway_config *g = &req->gw->cfg->gateway;

    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_header, req);
    if (strncmp(url, WEBHOOK_PREFIX, strlen(WEBHOOK_PREFIX)) == 0)
        req->source = find_source(req->gw, url + strlen(WEBHOOK_PREFIX));
    if (!resolve_client(req)) {
        gw_answer_error(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", NULL,
                        "cannot determine the client address");
        return true;
    }
    if (!req->source) {
        /* The URL is not echoed: it is the client's input. */
        gw_answer_error(a, MHD_HTTP_NOT_FOUND, "unknown_source", NULL,
                        "no source is configured at this path");
        return true;
    }
    const hp_source *src = req->source->conf;
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
        gw_answer_error(a, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
                        "webhooks are delivered with POST");
        return true;
    }
    if (src->nallow_ips && !hp_cidr_list_contains(src->allow_ips, src->nallow_ips, &req->client)) {
        gw_answer_error(a, MHD_HTTP_FORBIDDEN, "forbidden_ip", NULL,
                        "%s may not deliver to source %s", req->client_text, src->name);
        return true;
    }
    if (declared_too_large(req)) {
        gw_answer_error(a, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", NULL,
                        "the body exceeds %zu bytes", g->max_body_bytes);
        return true;
    }
    /* Signature precheck, buffer budget (the source's rate limit is spent
     * only once verified: gw_admit_verified). */
    return gw_admit_headers(req);
}

static gw_request *request_new(gw_gateway *gw, struct MHD_Connection *conn)
{
    gw_request *req = hp_xcalloc(1, sizeof *req);
    req->gw = gw;
    req->conn = conn;
    req->start_ns = hp_time_mono_ns();
    req->headers.items = req->header_items;
    atomic_init(&req->refs, 1);
    hp_buf_init(&req->body, gw->cfg->gateway.max_body_bytes);
    atomic_init(&req->state, GW_REQ_READING);
    return req;
}

enum MHD_Result gw_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **req_cls)
{
    (void)version;
    gw_request *req = *req_cls;

    if (!req) {
        req = request_new(cls, conn);
        *req_cls = req;
        if (check_headers(req, url, method))
            return answer(req);
        return MHD_YES;
    }

    switch (atomic_load(&req->state)) {
    case GW_REQ_READING:
        if (*upload_data_size) {
            if (!gw_admit_body(req, *upload_data_size))
                return MHD_NO; /* no room in the buffer budget: closed */
            if (hp_buf_append(&req->body, upload_data, *upload_data_size) != HP_OK) {
                /* Too late for a 413: MHD allows no answer mid-body. */
                req->body_too_large = true;
                gw_answer_error(&req->answer, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", NULL,
                                "the body exceeds %zu bytes", req->gw->cfg->gateway.max_body_bytes);
                gw_metrics_request(&req->gw->metrics, source_label(req), MHD_HTTP_CONTENT_TOO_LARGE,
                                   0);
                return MHD_NO;
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        if (gw_ingest(req))
            return MHD_YES;
        return answer(req);
    case GW_REQ_RESUMED:
        return answer(req);
    default:
        /* A refusal was queued before the body: MHD discards what still comes. */
        *upload_data_size = 0;
        return MHD_YES;
    }
}

void gw_http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    gw_request *req = *req_cls;
    if (!req)
        return;
    *req_cls = NULL;
    gw_request_unref(req);
}

void gw_request_unref(gw_request *req)
{
    if (atomic_fetch_sub(&req->refs, 1) != 1)
        return;
    gw_admit_release(req);
    hp_buf_deinit(&req->body);
    free(req->event_id);
    free(req);
}
