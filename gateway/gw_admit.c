/*
 * gw_admit: admission of webhook requests — signature precheck, buffer
 * budget, rate limits. See gw_admit.h for the order of the checks.
 *
 * The budget reserves what the body will take before a byte of it is read:
 * the declared Content-Length, or for a chunked body a first step of
 * CHUNKED_STEP bytes at the headers and more in steps as it arrives. The
 * steps keep the atomic operations few (a 1 MiB chunked body takes 16) and
 * a chunked upload is refused at its start, when it still can be answered,
 * if not even its first step fits.
 */
#include "gw_admit.h"

#include "gw_int.h"
#include "hp_time.h"

#include <stdlib.h>
#include <string.h>

/* Reservation step of a body of unknown length. */
#define CHUNKED_STEP (64 * 1024)
/* Seconds a client should wait after a 503 for a full buffer budget. */
#define RETRY_AFTER_FULL_S 1

static const char *const reason_names[GW_ADMIT_NREASONS] = {"buffer_full", "client_buffer_full",
                                                            "unverified_rate_limited"};

void gw_admit_init(gw_admit *a, const hp_gateway_config *g, hp_metrics *reg)
{
    static const char *const reason[] = {"reason"};
    memset(a, 0, sizeof *a);
    a->budget = gw_budget_new(g->max_buffered_bytes, g->max_buffered_bytes_per_client);
    a->unverified = gw_unverified_new(&g->unverified_rate_limit);
    a->buffered = hp_gauge_get(
        hp_metrics_gauge(reg, "hookpipe_gateway_buffered_bytes",
                         "Request body bytes reserved in the buffer budget now.", 0, NULL),
        NULL);
    hp_counter_family *fam = hp_metrics_counter(
        reg, "hookpipe_gateway_admission_refusals_total",
        "Requests refused by admission (buffer budget, unverified rate limit), by reason.", 1,
        reason);
    for (int i = 0; i < GW_ADMIT_NREASONS; i++)
        a->refused[i] = hp_counter_get(fam, &reason_names[i]);
}

void gw_admit_deinit(gw_admit *a)
{
    gw_budget_free(a->budget);
    gw_unverified_free(a->unverified);
    memset(a, 0, sizeof *a);
}

void gw_admit_tick(gw_admit *a)
{
    hp_gauge_set(a->buffered, (double)gw_budget_used(a->budget));
}

/* The body length the request declares: its Content-Length, else 0 and
 * *chunked if it has a Transfer-Encoding. (gw_http checked the header's form
 * and that it is within max_body_bytes.) */
static size_t declared_length(const gw_request *req, bool *chunked)
{
    const char *cl =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    *chunked = false;
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        return *end == '\0' ? (size_t)n : 0;
    }
    *chunked = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                           MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
    return 0;
}

/* Reserves n bytes for req; false with a 503 answer when there is no room. */
static bool reserve(gw_request *req, size_t n)
{
    gw_admit *a = &req->gw->admit;
    gw_budget_result r = gw_budget_grow(a->budget, &req->hold, n);
    if (r == GW_BUDGET_OK)
        return true;
    bool client = r == GW_BUDGET_CLIENT_FULL;
    hp_counter_inc(a->refused[client ? GW_ADMIT_CLIENT_BUFFER_FULL : GW_ADMIT_BUFFER_FULL]);
    if (client)
        gw_answer_error(&req->answer, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", NULL,
                        "the gateway holds as many request bytes from %s as it may "
                        "(max_buffered_bytes_per_client); retry later",
                        req->client_text);
    else
        gw_answer_error(&req->answer, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", NULL,
                        "the gateway holds as many request bytes as it may (max_buffered_bytes); "
                        "retry later");
    req->answer.retry_after_s = RETRY_AFTER_FULL_S;
    return false;
}

bool gw_admit_headers(gw_request *req)
{
    const hp_source *src = req->source->conf;
    hp_sig_outcome sig;
    bool chunked;

    hp_sig_precheck(&src->verify, gw_headers_get, &req->headers, &sig);
    if (sig.result != HP_SIG_OK) {
        gw_admit_refuse_signature(req, &sig);
        return true;
    }
    gw_budget_hold_init(req->gw->admit.budget, &req->hold, &req->client);
    size_t n = declared_length(req, &chunked);
    if (chunked) {
        size_t max = req->gw->cfg->gateway.max_body_bytes;
        n = max < CHUNKED_STEP ? max : CHUNKED_STEP;
    }
    return !reserve(req, n);
}

bool gw_admit_body(gw_request *req, size_t n)
{
    size_t need = req->body.len + n;
    size_t max = req->gw->cfg->gateway.max_body_bytes;
    if (need <= req->hold.bytes || need > max)
        return true; /* reserved already, or a 413 for hp_buf's cap to give */
    size_t more = need - req->hold.bytes;
    if (more < CHUNKED_STEP)
        more = CHUNKED_STEP;
    if (more > max - req->hold.bytes)
        more = max - req->hold.bytes;
    if (reserve(req, more))
        return true;
    gw_metrics_request(&req->gw->metrics, req->source->conf->name, MHD_HTTP_SERVICE_UNAVAILABLE,
                       (double)(hp_time_mono_ns() - req->start_ns) / 1e9);
    return false;
}

void gw_admit_release(gw_request *req)
{
    if (req->hold.bytes)
        gw_budget_release(req->gw->admit.budget, &req->hold);
}

void gw_admit_refuse_signature(gw_request *req, const hp_sig_outcome *out)
{
    gw_admit *a = &req->gw->admit;
    const char *name = req->source->conf->name;
    const char *const labels[] = {name, out->reason};
    int retry_after;
    hp_counter_inc(hp_counter_get(req->gw->metrics.signature_failures, labels));

    if (!gw_unverified_take(a->unverified, &req->client, hp_time_mono_ns(), &retry_after)) {
        hp_counter_inc(a->refused[GW_ADMIT_UNVERIFIED_LIMIT]);
        gw_answer_error(&req->answer, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited", NULL,
                        "too many requests from %s failed verification; limited to %g per second",
                        req->client_text, req->gw->cfg->gateway.unverified_rate_limit.per_second);
        req->answer.retry_after_s = retry_after;
        return;
    }
    /* The reason is a fixed word ("mismatch", "expired"); it never tells
     * which secret or byte was wrong. */
    switch (out->result) {
    case HP_SIG_MISSING:
        gw_answer_error(&req->answer, MHD_HTTP_UNAUTHORIZED, "missing_signature", NULL,
                        "the request carries no signature for source %s (%s)", name, out->reason);
        break;
    case HP_SIG_STALE:
        gw_answer_error(&req->answer, MHD_HTTP_UNAUTHORIZED, "timestamp_out_of_tolerance", NULL,
                        "the signed timestamp is outside the allowed window (%s)", out->reason);
        break;
    default:
        gw_answer_error(&req->answer, MHD_HTTP_UNAUTHORIZED, "invalid_signature", NULL,
                        "the signature is not valid for source %s (%s)", name, out->reason);
        break;
    }
}

bool gw_admit_verified(gw_request *req)
{
    const hp_source *src = req->source->conf;
    int retry_after;
    if (gw_ratelimit_take(req->source->limit, hp_time_mono_ns(), &retry_after))
        return true;
    gw_answer_error(&req->answer, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited", NULL,
                    "source %s is limited to %g requests per second", src->name,
                    src->rate_limit.per_second);
    req->answer.retry_after_s = retry_after;
    return false;
}
