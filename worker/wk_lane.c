/*
 * wk_lane: a lane's one loop — consume a batch, apply it in one
 * transaction, park poison in the DLQ, store the offsets. See wk_lane.h.
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
 * must not park anything: the lane's partitions are paused so the group
 * keeps it, and the batch is retried with capped exponential backoff and
 * jitter until it goes through (or worker.max_attempts says otherwise).
 */
#include "wk_lane.h"

#include "hp_alloc.h"
#include "hp_buf.h"
#include "hp_log.h"
#include "hp_time.h"
#include "wk_consumer.h"
#include "wk_dlq.h"
#include "wk_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A guard on the batch document, not an allocation: past it, records go one by one. */
#define BATCH_JSON_CAP (256u * 1024 * 1024)
#define IDLE_POLL_MS 100
#define PG_PROBE_INTERVAL_NS (5LL * 1000000000LL)

struct wk_lane {
    int index;
    const hp_config *cfg;
    wk_metrics *metrics;
    wk_consumer *consumer;
    wk_dlq *dlq;
    wk_pg pg;
    atomic_bool pg_ok;
    const atomic_bool *stop;

    wk_record *recs; /* the batch: batch_max records */
    size_t nrecs;
    rd_kafka_message_t **pending; /* arrived while retrying: the next batch's first */
    size_t npending, cap_pending;
    size_t *idx_map; /* batch document element → record */
    bool *inserted;  /* per batch document element */
    hp_buf json;
    char errstr[1024];
};

static bool stopping(const wk_lane *lane)
{
    return atomic_load(lane->stop);
}

static const char *source_label(const wk_record *rec)
{
    return rec->src ? rec->src->name : WK_METRICS_UNCONFIGURED_SOURCE;
}

/* ---- collecting a batch ---- */

static rd_kafka_message_t *next_message(wk_lane *lane, int timeout_ms)
{
    if (lane->npending) {
        rd_kafka_message_t *msg = lane->pending[0];
        memmove(lane->pending, lane->pending + 1, --lane->npending * sizeof *lane->pending);
        return msg;
    }
    return wk_consumer_poll(lane->consumer, timeout_ms);
}

/* Fills the batch: up to batch_max records, waiting at most batch_wait_ms
 * after the first. Returns the number of records (0 after an idle poll). */
static size_t collect(wk_lane *lane)
{
    int64_t deadline = 0;
    while (lane->nrecs < (size_t)lane->cfg->worker.batch_max && !stopping(lane)) {
        int timeout = IDLE_POLL_MS;
        if (lane->nrecs) {
            int64_t left = (deadline - hp_time_mono_ns()) / 1000000;
            timeout = left > 0 ? (int)left : 0;
        }
        rd_kafka_message_t *msg = next_message(lane, timeout);
        if (!msg) {
            if (!lane->nrecs || hp_time_mono_ns() >= deadline)
                break;
            continue;
        }
        wk_record_init(&lane->recs[lane->nrecs++], msg, lane->cfg);
        if (lane->nrecs == 1)
            deadline = hp_time_mono_ns() + (int64_t)lane->cfg->worker.batch_wait_ms * 1000000;
    }
    return lane->nrecs;
}

/* ---- applying a batch ---- */

static hp_err park(wk_lane *lane, wk_record *rec, const char *error_class, const char *error,
                   int attempts)
{
    hp_err rc = wk_dlq_park(lane->dlq, rec->msg, error_class, error, attempts);
    if (rc != HP_OK)
        return HP_ERR_RETRY;
    rec->state = WK_REC_DLQ;
    wk_metrics_event(lane->metrics, source_label(rec), "dlq");
    return HP_OK;
}

/* Applies the PENDING records recs[from..to) as one batch document. */
static hp_err ingest(wk_lane *lane, size_t from, size_t to)
{
    size_t count;
    hp_buf_reset(&lane->json);
    hp_err rc =
        wk_record_batch_json(lane->recs + from, to - from, &lane->json, lane->idx_map, &count);
    if (rc != HP_OK) {
        snprintf(lane->errstr, sizeof lane->errstr, "the batch document exceeds %u bytes",
                 BATCH_JSON_CAP);
        return HP_ERR_INVALID;
    }
    if (count == 0)
        return HP_OK;
    rc = wk_pg_ingest(&lane->pg, lane->json.data, lane->json.len, lane->inserted, count,
                      lane->errstr, sizeof lane->errstr);
    if (rc != HP_OK)
        return rc;
    for (size_t k = 0; k < count; k++) {
        wk_record *rec = &lane->recs[from + lane->idx_map[k]];
        rec->state = lane->inserted[k] ? WK_REC_APPLIED : WK_REC_DUPLICATE;
        wk_metrics_event(lane->metrics, source_label(rec),
                         lane->inserted[k] ? "applied" : "duplicate");
    }
    return HP_OK;
}

/* The database blamed the data of some record: apply them one at a time,
 * each in its own transaction, and park the guilty. */
static hp_err isolate(wk_lane *lane, int attempts)
{
    for (size_t i = 0; i < lane->nrecs; i++) {
        wk_record *rec = &lane->recs[i];
        if (rec->state != WK_REC_PENDING)
            continue;
        hp_err rc = ingest(lane, i, i + 1);
        if (rc == HP_ERR_INVALID)
            rc = park(lane, rec, WK_DLQ_POISON, lane->errstr, attempts);
        if (rc != HP_OK)
            return rc;
    }
    return HP_OK;
}

/* One attempt at the whole batch; HP_OK when every record is done. */
static hp_err apply_once(wk_lane *lane, int attempts)
{
    hp_err rc = wk_pg_ensure(&lane->pg, lane->errstr, sizeof lane->errstr);
    atomic_store(&lane->pg_ok, rc == HP_OK);
    if (rc != HP_OK)
        return rc;
    for (size_t i = 0; i < lane->nrecs; i++) {
        wk_record *rec = &lane->recs[i];
        if (rec->state == WK_REC_PENDING && rec->poison[0]) {
            rc = park(lane, rec, WK_DLQ_POISON, rec->poison, attempts);
            if (rc != HP_OK)
                return rc;
        }
    }
    rc = ingest(lane, 0, lane->nrecs);
    if (rc == HP_ERR_INVALID)
        rc = isolate(lane, attempts);
    if (rc == HP_ERR_RETRY)
        atomic_store(&lane->pg_ok, wk_pg_alive(&lane->pg));
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
static void wait_serving(wk_lane *lane, int ms)
{
    int64_t deadline = hp_time_mono_ns() + (int64_t)ms * 1000000;
    while (!stopping(lane) && hp_time_mono_ns() < deadline) {
        rd_kafka_message_t *msg = wk_consumer_poll(lane->consumer, IDLE_POLL_MS);
        if (!msg)
            continue;
        if (lane->npending == lane->cap_pending) {
            lane->cap_pending = lane->cap_pending ? lane->cap_pending * 2 : 64;
            lane->pending = hp_xrealloc(lane->pending, lane->cap_pending * sizeof *lane->pending);
        }
        lane->pending[lane->npending++] = msg;
    }
}

/* Parks what is still pending after worker.max_attempts transient failures. */
static hp_err park_exhausted(wk_lane *lane, int attempts)
{
    for (size_t i = 0; i < lane->nrecs; i++)
        if (lane->recs[i].state == WK_REC_PENDING &&
            park(lane, &lane->recs[i], WK_DLQ_EXHAUSTED, lane->errstr, attempts) != HP_OK)
            return HP_ERR_RETRY;
    return HP_OK;
}

static void finish_batch(wk_lane *lane, bool done, int64_t t0)
{
    if (done) {
        wk_consumer_store(lane->consumer, lane->recs, lane->nrecs);
        int64_t now = hp_time_now_ms();
        for (size_t i = 0; i < lane->nrecs; i++)
            if (lane->recs[i].state == WK_REC_APPLIED)
                hp_histogram_observe(lane->metrics->end_to_end_seconds,
                                     (double)(now - lane->recs[i].env.received_at_ms) / 1000.0);
        hp_histogram_observe(lane->metrics->batch_seconds, (double)(hp_time_mono_ns() - t0) / 1e9);
    }
    for (size_t i = 0; i < lane->nrecs; i++)
        wk_record_deinit(&lane->recs[i]);
    lane->nrecs = 0;
}

static void process_batch(wk_lane *lane)
{
    const hp_worker_config *wc = &lane->cfg->worker;
    int64_t t0 = hp_time_mono_ns();
    int attempts = 0;
    bool paused = false, done = false;

    while (!stopping(lane)) {
        hp_err rc = apply_once(lane, ++attempts);
        if (rc == HP_OK) {
            done = true;
            break;
        }
        const char *reason = rc == HP_ERR_FATAL ? "fatal" : "transient";
        wk_metrics_retry(lane->metrics, reason);
        if (wc->max_attempts && attempts >= wc->max_attempts &&
            park_exhausted(lane, attempts) == HP_OK) {
            done = true;
            break;
        }
        int delay = backoff_ms(wc, attempts);
        hp_log(rc == HP_ERR_FATAL ? HP_LOG_ERROR : HP_LOG_WARN, "worker", "batch failed; retrying",
               HP_LOG_STR("class", reason), HP_LOG_STR("error", lane->errstr),
               HP_LOG_INT("lane", lane->index), HP_LOG_INT("attempt", attempts),
               HP_LOG_INT("retry_in_ms", delay), HP_LOG_INT("records", (int64_t)lane->nrecs));
        if (!paused) {
            wk_consumer_pause(lane->consumer);
            paused = true;
        }
        wait_serving(lane, delay);
    }
    if (paused)
        wk_consumer_resume(lane->consumer);
    finish_batch(lane, done, t0);
}

/* ---- life cycle ---- */

hp_err wk_lane_new(wk_lane **out, int index, const hp_config *cfg, wk_metrics *m,
                   const atomic_bool *stop, char *errstr, size_t errstr_size)
{
    wk_lane *lane = hp_xcalloc(1, sizeof *lane);
    size_t batch = (size_t)cfg->worker.batch_max;
    lane->index = index;
    lane->cfg = cfg;
    lane->metrics = m;
    lane->stop = stop;
    lane->recs = hp_xcalloc(batch, sizeof *lane->recs);
    lane->idx_map = hp_xcalloc(batch, sizeof *lane->idx_map);
    lane->inserted = hp_xcalloc(batch, sizeof *lane->inserted);
    hp_buf_init(&lane->json, BATCH_JSON_CAP);
    wk_pg_init(&lane->pg, cfg->postgres.dsn);

    hp_err rc = wk_dlq_new(&lane->dlq, cfg, errstr, errstr_size);
    if (rc == HP_OK)
        rc = wk_consumer_new(&lane->consumer, index, cfg, m, errstr, errstr_size);
    if (rc != HP_OK) {
        wk_lane_free(lane);
        return rc;
    }
    *out = lane;
    return HP_OK;
}

hp_err wk_lane_check_schema(wk_lane *lane, char *errstr, size_t errstr_size)
{
    hp_err rc = wk_pg_ensure(&lane->pg, errstr, errstr_size);
    atomic_store(&lane->pg_ok, rc == HP_OK);
    return rc == HP_ERR_FATAL ? rc : HP_OK;
}

bool wk_lane_ready(wk_lane *lane, char *reason, size_t reason_size)
{
    if (!atomic_load(&lane->pg_ok)) {
        snprintf(reason, reason_size, "postgres: not reachable");
        return false;
    }
    if (!wk_consumer_up(lane->consumer)) {
        snprintf(reason, reason_size, "kafka: no broker answers");
        return false;
    }
    return true;
}

void wk_lane_run(wk_lane *lane)
{
    int64_t next_probe = 0;
    while (!stopping(lane)) {
        if (collect(lane))
            process_batch(lane);
        else if (hp_time_mono_ns() >= next_probe) {
            /* Idle: keep /readyz honest about PostgreSQL. */
            atomic_store(&lane->pg_ok,
                         wk_pg_ensure(&lane->pg, lane->errstr, sizeof lane->errstr) == HP_OK &&
                             wk_pg_alive(&lane->pg));
            next_probe = hp_time_mono_ns() + PG_PROBE_INTERVAL_NS;
        }
    }
    /* Every lane leaves at once, not one after the other in wk_lane_free:
     * a member leaving hands its partitions to members still in the group. */
    wk_consumer_leave(lane->consumer);
}

void wk_lane_free(wk_lane *lane)
{
    if (!lane)
        return;
    for (size_t i = 0; i < lane->nrecs; i++)
        wk_record_deinit(&lane->recs[i]);
    for (size_t i = 0; i < lane->npending; i++)
        rd_kafka_message_destroy(lane->pending[i]);
    wk_consumer_free(lane->consumer);
    wk_dlq_free(lane->dlq);
    wk_pg_deinit(&lane->pg);
    hp_buf_deinit(&lane->json);
    free(lane->pending);
    free(lane->recs);
    free(lane->idx_map);
    free(lane->inserted);
    free(lane);
}
