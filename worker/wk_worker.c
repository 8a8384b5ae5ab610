/*
 * wk_worker: the worker's one loop — consume a batch, apply it in one
 * transaction, park poison in the DLQ, store the offsets. See wk_worker.h.
 *
 * A batch is done when every record in it is: applied or a duplicate (the
 * database said so in a committed transaction) or parked in the DLQ (the
 * broker acknowledged the copy). Only then are its offsets stored, so a crash
 * at any point means the records come again, and deduplication makes that
 * harmless.
 *
 * Failures. A poison record (the database blames its data, or it is not an
 * envelope) must not hold up its neighbours: the batch is re-applied one
 * record at a time and the guilty one is parked. A transient failure
 * (PostgreSQL down or restarting, a deadlock, the DLQ not acknowledging)
 * must not park anything: the assigned partitions are paused so the group
 * keeps the worker, and the batch is retried with capped exponential backoff
 * and jitter until it goes through (or worker.max_attempts says otherwise).
 */
#include "wk_worker.h"

#include "hp_admin.h"
#include "hp_alloc.h"
#include "hp_buf.h"
#include "hp_log.h"
#include "hp_time.h"
#include "wk_consumer.h"
#include "wk_dlq.h"
#include "wk_metrics.h"
#include "wk_pg.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A guard on the batch document, not an allocation: past it, records go one by one. */
#define BATCH_JSON_CAP (256u * 1024 * 1024)
#define IDLE_POLL_MS 100
#define PG_PROBE_INTERVAL_NS (5LL * 1000000000LL)

struct wk_worker {
    const hp_config *cfg;
    hp_metrics *reg;
    wk_metrics metrics;
    wk_consumer *consumer;
    wk_dlq *dlq;
    wk_pg pg;
    hp_admin *admin;
    atomic_bool pg_ok;
    const volatile sig_atomic_t *stop;

    wk_record *recs; /* the batch: batch_max records */
    size_t nrecs;
    rd_kafka_message_t **pending; /* arrived while retrying: the next batch's first */
    size_t npending, cap_pending;
    size_t *idx_map; /* batch document element → record */
    bool *inserted;  /* per batch document element */
    hp_buf json;
    char errstr[1024];
};

static bool ready(void *opaque, char *reason, size_t reason_size)
{
    wk_worker *w = opaque;
    if (!atomic_load(&w->pg_ok)) {
        snprintf(reason, reason_size, "postgres: not reachable");
        return false;
    }
    if (!wk_consumer_up(w->consumer)) {
        snprintf(reason, reason_size, "kafka: no broker answers");
        return false;
    }
    return true;
}

static const char *source_label(const wk_record *rec)
{
    return rec->src ? rec->src->name : WK_METRICS_UNCONFIGURED_SOURCE;
}

/* ---- collecting a batch ---- */

static rd_kafka_message_t *next_message(wk_worker *w, int timeout_ms)
{
    if (w->npending) {
        rd_kafka_message_t *msg = w->pending[0];
        memmove(w->pending, w->pending + 1, --w->npending * sizeof *w->pending);
        return msg;
    }
    return wk_consumer_poll(w->consumer, timeout_ms);
}

/* Fills the batch: up to batch_max records, waiting at most batch_wait_ms
 * after the first. Returns the number of records (0 after an idle poll). */
static size_t collect(wk_worker *w)
{
    int64_t deadline = 0;
    while (w->nrecs < (size_t)w->cfg->worker.batch_max && !*w->stop) {
        int timeout = IDLE_POLL_MS;
        if (w->nrecs) {
            int64_t left = (deadline - hp_time_mono_ns()) / 1000000;
            timeout = left > 0 ? (int)left : 0;
        }
        rd_kafka_message_t *msg = next_message(w, timeout);
        if (!msg) {
            if (!w->nrecs || hp_time_mono_ns() >= deadline)
                break;
            continue;
        }
        wk_record_init(&w->recs[w->nrecs++], msg, w->cfg);
        if (w->nrecs == 1)
            deadline = hp_time_mono_ns() + (int64_t)w->cfg->worker.batch_wait_ms * 1000000;
    }
    return w->nrecs;
}

/* ---- applying a batch ---- */

static hp_err park(wk_worker *w, wk_record *rec, const char *error_class, const char *error,
                   int attempts)
{
    hp_err rc = wk_dlq_park(w->dlq, rec->msg, error_class, error, attempts);
    if (rc != HP_OK)
        return HP_ERR_RETRY;
    rec->state = WK_REC_DLQ;
    wk_metrics_event(&w->metrics, source_label(rec), "dlq");
    return HP_OK;
}

/* Applies the PENDING records recs[from..to) as one batch document. */
static hp_err ingest(wk_worker *w, size_t from, size_t to)
{
    size_t count;
    hp_buf_reset(&w->json);
    hp_err rc = wk_record_batch_json(w->recs + from, to - from, &w->json, w->idx_map, &count);
    if (rc != HP_OK) {
        snprintf(w->errstr, sizeof w->errstr, "the batch document exceeds %u bytes",
                 BATCH_JSON_CAP);
        return HP_ERR_INVALID;
    }
    if (count == 0)
        return HP_OK;
    rc = wk_pg_ingest(&w->pg, w->json.data, w->json.len, w->inserted, count, w->errstr,
                      sizeof w->errstr);
    if (rc != HP_OK)
        return rc;
    for (size_t k = 0; k < count; k++) {
        wk_record *rec = &w->recs[from + w->idx_map[k]];
        rec->state = w->inserted[k] ? WK_REC_APPLIED : WK_REC_DUPLICATE;
        wk_metrics_event(&w->metrics, source_label(rec), w->inserted[k] ? "applied" : "duplicate");
    }
    return HP_OK;
}

/* The database blamed the data of some record: apply them one at a time,
 * each in its own transaction, and park the guilty. */
static hp_err isolate(wk_worker *w, int attempts)
{
    for (size_t i = 0; i < w->nrecs; i++) {
        wk_record *rec = &w->recs[i];
        if (rec->state != WK_REC_PENDING)
            continue;
        hp_err rc = ingest(w, i, i + 1);
        if (rc == HP_ERR_INVALID)
            rc = park(w, rec, WK_DLQ_POISON, w->errstr, attempts);
        if (rc != HP_OK)
            return rc;
    }
    return HP_OK;
}

/* One attempt at the whole batch; HP_OK when every record is done. */
static hp_err apply_once(wk_worker *w, int attempts)
{
    hp_err rc = wk_pg_ensure(&w->pg, w->errstr, sizeof w->errstr);
    atomic_store(&w->pg_ok, rc == HP_OK);
    if (rc != HP_OK)
        return rc;
    for (size_t i = 0; i < w->nrecs; i++) {
        wk_record *rec = &w->recs[i];
        if (rec->state == WK_REC_PENDING && rec->poison[0]) {
            rc = park(w, rec, WK_DLQ_POISON, rec->poison, attempts);
            if (rc != HP_OK)
                return rc;
        }
    }
    rc = ingest(w, 0, w->nrecs);
    if (rc == HP_ERR_INVALID)
        rc = isolate(w, attempts);
    if (rc == HP_ERR_RETRY)
        atomic_store(&w->pg_ok, wk_pg_alive(&w->pg));
    return rc;
}

/* Capped exponential backoff with "equal jitter": half fixed, half random. */
static int backoff_ms(const hp_worker_config *wc, int attempts)
{
    double d = wc->retry_initial_ms;
    for (int i = 1; i < attempts && d < wc->retry_max_ms; i++)
        d *= 2;
    if (d > wc->retry_max_ms)
        d = wc->retry_max_ms;
    return (int)(d / 2 + (d / 2) * ((double)rand() / RAND_MAX));
}

/* Sleeps ms while serving the group (records that still arrive wait in pending). */
static void wait_serving(wk_worker *w, int ms)
{
    int64_t deadline = hp_time_mono_ns() + (int64_t)ms * 1000000;
    while (!*w->stop && hp_time_mono_ns() < deadline) {
        rd_kafka_message_t *msg = wk_consumer_poll(w->consumer, IDLE_POLL_MS);
        if (!msg)
            continue;
        if (w->npending == w->cap_pending) {
            w->cap_pending = w->cap_pending ? w->cap_pending * 2 : 64;
            w->pending = hp_xrealloc(w->pending, w->cap_pending * sizeof *w->pending);
        }
        w->pending[w->npending++] = msg;
    }
}

/* Parks what is still pending after worker.max_attempts transient failures. */
static hp_err park_exhausted(wk_worker *w, int attempts)
{
    for (size_t i = 0; i < w->nrecs; i++)
        if (w->recs[i].state == WK_REC_PENDING &&
            park(w, &w->recs[i], WK_DLQ_EXHAUSTED, w->errstr, attempts) != HP_OK)
            return HP_ERR_RETRY;
    return HP_OK;
}

static void finish_batch(wk_worker *w, bool done, int64_t t0)
{
    if (done) {
        wk_consumer_store(w->consumer, w->recs, w->nrecs);
        int64_t now = hp_time_now_ms();
        for (size_t i = 0; i < w->nrecs; i++)
            if (w->recs[i].state == WK_REC_APPLIED)
                hp_histogram_observe(w->metrics.end_to_end_seconds,
                                     (double)(now - w->recs[i].env.received_at_ms) / 1000.0);
        hp_histogram_observe(w->metrics.batch_seconds, (double)(hp_time_mono_ns() - t0) / 1e9);
    }
    for (size_t i = 0; i < w->nrecs; i++)
        wk_record_deinit(&w->recs[i]);
    w->nrecs = 0;
}

static void process_batch(wk_worker *w)
{
    const hp_worker_config *wc = &w->cfg->worker;
    int64_t t0 = hp_time_mono_ns();
    int attempts = 0;
    bool paused = false, done = false;

    while (!*w->stop) {
        hp_err rc = apply_once(w, ++attempts);
        if (rc == HP_OK) {
            done = true;
            break;
        }
        const char *reason = rc == HP_ERR_FATAL ? "fatal" : "transient";
        wk_metrics_retry(&w->metrics, reason);
        if (wc->max_attempts && attempts >= wc->max_attempts &&
            park_exhausted(w, attempts) == HP_OK) {
            done = true;
            break;
        }
        int delay = backoff_ms(wc, attempts);
        hp_log(rc == HP_ERR_FATAL ? HP_LOG_ERROR : HP_LOG_WARN, "worker", "batch failed; retrying",
               HP_LOG_STR("class", reason), HP_LOG_STR("error", w->errstr),
               HP_LOG_INT("attempt", attempts), HP_LOG_INT("retry_in_ms", delay),
               HP_LOG_INT("records", (int64_t)w->nrecs));
        if (!paused) {
            wk_consumer_pause(w->consumer);
            paused = true;
        }
        wait_serving(w, delay);
    }
    if (paused)
        wk_consumer_resume(w->consumer);
    finish_batch(w, done, t0);
}

/* ---- life cycle ---- */

hp_err wk_worker_new(wk_worker **out, const hp_config *cfg, const volatile sig_atomic_t *stop,
                     char *errstr, size_t errstr_size)
{
    if (!cfg->postgres.dsn) {
        snprintf(errstr, errstr_size, "postgres.dsn: required (or HOOKPIPE_POSTGRES_DSN)");
        return HP_ERR_INVALID;
    }
    wk_worker *w = hp_xcalloc(1, sizeof *w);
    size_t batch = (size_t)cfg->worker.batch_max;
    w->cfg = cfg;
    w->stop = stop;
    w->reg = hp_metrics_new();
    wk_metrics_init(&w->metrics, w->reg);
    w->recs = hp_xcalloc(batch, sizeof *w->recs);
    w->idx_map = hp_xcalloc(batch, sizeof *w->idx_map);
    w->inserted = hp_xcalloc(batch, sizeof *w->inserted);
    hp_buf_init(&w->json, BATCH_JSON_CAP);
    wk_pg_init(&w->pg, cfg->postgres.dsn);

    hp_err rc = wk_dlq_new(&w->dlq, cfg, errstr, errstr_size);
    if (rc == HP_OK)
        rc = wk_consumer_new(&w->consumer, cfg, &w->metrics, errstr, errstr_size);
    if (rc == HP_OK)
        rc = hp_admin_start(&w->admin, cfg->worker.admin_listen, w->reg, ready, w, errstr,
                            errstr_size);
    if (rc != HP_OK) {
        wk_worker_free(w);
        return rc;
    }
    *out = w;
    return HP_OK;
}

hp_err wk_worker_run(wk_worker *w)
{
    int64_t next_probe = 0;
    /* Refuse a wrong schema at once rather than retry for ever. */
    hp_err rc = wk_pg_ensure(&w->pg, w->errstr, sizeof w->errstr);
    if (rc == HP_ERR_FATAL) {
        hp_log(HP_LOG_ERROR, "worker", w->errstr);
        return rc;
    }
    atomic_store(&w->pg_ok, rc == HP_OK);
    hp_log(HP_LOG_INFO, "worker", "consuming", HP_LOG_STR("topic", w->cfg->kafka.topic),
           HP_LOG_STR("group", w->cfg->worker.group_id),
           HP_LOG_INT("admin_port", hp_admin_port(w->admin)));

    while (!*w->stop) {
        if (collect(w))
            process_batch(w);
        else if (hp_time_mono_ns() >= next_probe) {
            /* Idle: keep /readyz honest about PostgreSQL. */
            atomic_store(&w->pg_ok, wk_pg_ensure(&w->pg, w->errstr, sizeof w->errstr) == HP_OK &&
                                        wk_pg_alive(&w->pg));
            next_probe = hp_time_mono_ns() + PG_PROBE_INTERVAL_NS;
        }
    }
    hp_log(HP_LOG_INFO, "worker", "stopping");
    return HP_OK;
}

void wk_worker_free(wk_worker *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nrecs; i++)
        wk_record_deinit(&w->recs[i]);
    for (size_t i = 0; i < w->npending; i++)
        rd_kafka_message_destroy(w->pending[i]);
    /* Leave the group first: offsets are committed while the DLQ is still there. */
    wk_consumer_close(w->consumer);
    wk_dlq_free(w->dlq);
    hp_admin_stop(w->admin);
    wk_pg_deinit(&w->pg);
    hp_buf_deinit(&w->json);
    free(w->pending);
    free(w->recs);
    free(w->idx_map);
    free(w->inserted);
    hp_metrics_free(w->reg);
    free(w);
}
