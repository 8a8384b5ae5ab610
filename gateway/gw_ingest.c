/*
 * gw_ingest: what the gateway does with a complete webhook request —
 * verify its signature, extract its id, type, key and time, drop event
 * types nobody subscribed to, and produce the rest to Kafka as an envelope
 * (hp_envelope) whose delivery report decides the answer.
 *
 * A request only ever gets 200 "accepted" from gw_ingest_delivered(), that
 * is, after the broker acknowledged its record with acks=all.
 */
#include "gw_int.h"

#include "gw_extract.h"
#include "hp_alloc.h"
#include "hp_envelope.h"
#include "hp_sig.h"
#include "hp_time.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Seconds a client should wait after a 503. */
#define RETRY_AFTER_UNAVAILABLE_S 5
#define RETRY_AFTER_BUSY_S 1
/* How often the reaper looks for requests past their deadline. */
#define REAPER_INTERVAL_US 20000

static void answer_unavailable(gw_request *req, int retry_after_s, const char *why)
{
    gw_answer_error(&req->answer, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", NULL, "%s", why);
    req->answer.retry_after_s = retry_after_s;
}

/* Takes an in-flight slot; false (and the answer) when full or draining. The
 * slot is taken before draining is read: the drain sets draining first and
 * then waits for inflight to reach 0, so either it sees this request or this
 * request sees the drain. */
static bool take_slot(gw_request *req)
{
    gw_gateway *gw = req->gw;
    int n = atomic_fetch_add(&gw->inflight, 1) + 1;
    if (atomic_load(&gw->draining)) {
        atomic_fetch_sub(&gw->inflight, 1);
        answer_unavailable(req, RETRY_AFTER_BUSY_S, "the gateway is shutting down");
        return false;
    }
    if (n > gw->cfg->gateway.max_inflight) {
        atomic_fetch_sub(&gw->inflight, 1);
        answer_unavailable(req, RETRY_AFTER_BUSY_S, "too many requests wait for Kafka");
        return false;
    }
    hp_gauge_set(gw->metrics.inflight_now, n);
    req->holds_slot = true;
    return true;
}

void gw_ingest_release(gw_request *req)
{
    if (!req->holds_slot)
        return;
    req->holds_slot = false;
    int n = atomic_fetch_sub(&req->gw->inflight, 1) - 1;
    hp_gauge_set(req->gw->metrics.inflight_now, n);
}

static rd_kafka_headers_t *envelope_headers(gw_request *req, const gw_extracted *ex,
                                            const gw_headers *hs, const hp_sig_outcome *sig)
{
    hp_envelope env = {
        .version = HP_ENVELOPE_VERSION,
        .source = req->source->conf->name,
        .event_id = ex->event_id,
        .event_type = ex->event_type,
        .event_time_ms = ex->event_time_ms,
        .received_at_ms = hp_time_now_ms(),
        .content_type = (char *)gw_headers_get((void *)hs, MHD_HTTP_HEADER_CONTENT_TYPE),
        .gateway = req->gw->instance_id,
        .remote_addr = req->client_text,
        .http_headers = gw_headers_json(hs, sig->headers_used),
    };
    rd_kafka_headers_t *hdrs = hp_envelope_headers_new(&env);
    free(env.http_headers);
    return hdrs;
}

/* Hands the decided answer to the connection: the handler is called again
 * once MHD has resumed it, and queues the answer. The caller's last touch. */
static void resume(gw_request *req)
{
    atomic_store(&req->state, GW_REQ_RESUMED);
    MHD_resume_connection(req->conn);
}

/*
 * Suspends the connection and produces. The record's delivery report (or
 * the reaper, at the deadline) resumes it; if Kafka refuses the record at
 * once, nothing was enqueued and it is resumed here with a 503.
 */
static void produce(gw_request *req, const gw_extracted *ex, rd_kafka_headers_t *hdrs)
{
    gw_gateway *gw = req->gw;

    atomic_store(&req->state, GW_REQ_WAITING);
    MHD_suspend_connection(req->conn);
    atomic_fetch_add(&req->refs, 1); /* the delivery report's */
    req->produced_ns = hp_time_mono_ns();
    gw_waitlist_add(&gw->waiting, &req->wait,
                    req->produced_ns + (int64_t)gw->cfg->gateway.ack_timeout_ms * 1000000);
    rd_kafka_resp_err_t err =
        gw_producer_send(gw->producer, req->body.data, req->body.len, ex->key, hdrs, req);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return;

    rd_kafka_headers_destroy(hdrs);
    atomic_fetch_sub(&req->refs, 1); /* no report will come */
    if (!gw_waitlist_remove(&gw->waiting, &req->wait))
        return; /* the reaper answered it already */
    answer_unavailable(req, RETRY_AFTER_UNAVAILABLE_S,
                       err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? "the Kafka producer queue is full"
                                                            : "Kafka is not available");
    resume(req);
}

bool gw_ingest(gw_request *req)
{
    const hp_source *src = req->source->conf;
    const unsigned char *body = (const unsigned char *)(req->body.data ? req->body.data : "");
    hp_sig_outcome sig;
    gw_extracted ex = {0};
    const char *field = NULL;
    bool waiting = false;

    hp_sig_verify(&src->verify, body, req->body.len, gw_headers_get, &req->headers,
                  hp_time_now_ms() / 1000, &sig);
    if (sig.result != HP_SIG_OK) {
        gw_admit_refuse_signature(req, &sig);
        goto out;
    }
    if (!gw_admit_verified(req))
        goto out;
    if (gw_extract(src, body, req->body.len, &req->headers, &ex, &field, req->answer.message,
                   sizeof req->answer.message) != HP_OK) {
        char message[sizeof req->answer.message];
        memcpy(message, req->answer.message, sizeof message);
        gw_answer_error(&req->answer, MHD_HTTP_BAD_REQUEST, "invalid_payload", field, "%s",
                        message);
        goto out;
    }
    req->event_id = hp_xstrdup(ex.event_id);
    if (!hp_source_accepts_event(src, ex.event_type)) {
        hp_counter_inc(hp_counter_get(req->gw->metrics.ignored, (const char *const *)&src->name));
        memset(&req->answer, 0, sizeof req->answer);
        req->answer.status = MHD_HTTP_OK;
        goto out;
    }
    if (!take_slot(req))
        goto out;
    produce(req, &ex, envelope_headers(req, &ex, &req->headers, &sig));
    waiting = true;
out:
    gw_extracted_deinit(&ex);
    return waiting;
}

void gw_ingest_delivered(void *opaque, rd_kafka_resp_err_t err, void *cb_opaque)
{
    (void)cb_opaque;
    gw_request *req = opaque;
    gw_gateway *gw = req->gw;

    hp_histogram_observe(gw->metrics.ack, (double)(hp_time_mono_ns() - req->produced_ns) / 1e9);
    /* Off the list, the answer is ours to give; else the reaper gave a 503. */
    if (gw_waitlist_remove(&gw->waiting, &req->wait)) {
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            memset(&req->answer, 0, sizeof req->answer);
            req->answer.status = MHD_HTTP_OK;
            req->answer.event_id = req->event_id;
        } else {
            answer_unavailable(req, RETRY_AFTER_UNAVAILABLE_S, "");
            snprintf(req->answer.message, sizeof req->answer.message,
                     "Kafka did not acknowledge the event: %s", rd_kafka_err2str(err));
        }
        resume(req);
    }
    gw_request_unref(req);
}

void *gw_ingest_reaper(void *arg)
{
    gw_gateway *gw = arg;
    while (!atomic_load(&gw->stopping)) {
        gw_wait_node *node;
        while ((node = gw_waitlist_pop_expired(&gw->waiting, hp_time_mono_ns())) != NULL) {
            gw_request *req = (gw_request *)((char *)node - offsetof(gw_request, wait));
            answer_unavailable(req, RETRY_AFTER_UNAVAILABLE_S,
                               "Kafka did not acknowledge the event within ack_timeout_ms");
            resume(req);
        }
        usleep(REAPER_INTERVAL_US);
    }
    return NULL;
}
