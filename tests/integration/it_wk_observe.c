/*
 * it_wk_observe: what a test reads back from hookpipe-worker under test —
 * its /metrics, the group's committed offsets against the topic's end, and
 * the records it parked in the DLQ topic. See it_wk.h.
 */
#include "it_wk.h"

#include "hp_alloc.h"
#include "hp_time.h"
#include "it_gw.h" /* it_metric, it_sleep_ms */
#include "it_http.h"

#include <stdio.h>

#define POLL_MS 200
#define HTTP_TIMEOUT_MS 10000

double it_wk_metric(it_wk *wk, const char *name, const char *labels)
{
    it_http_request req = {.method = "GET", .path = "/metrics"};
    it_http_response resp;
    char err[512];
    int rc =
        it_http_once("127.0.0.1", wk->admin_port, HTTP_TIMEOUT_MS, &req, &resp, err, sizeof err);
    IT_WK_CHECK(rc == 0, "GET /metrics on port %d: %s", wk->admin_port, err);
    IT_WK_CHECK(resp.status == 200, "GET /metrics: status %d", resp.status);
    double v;
    if (!it_metric(resp.body, name, labels, &v))
        v = 0;
    it_http_response_deinit(&resp);
    return v;
}

void it_wk_await_metric(it_wk *wk, const char *name, const char *labels, double want,
                        int timeout_ms)
{
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    double v;
    while ((v = it_wk_metric(wk, name, labels)) != want) {
        IT_WK_CHECK(hp_time_mono_ns() < deadline, "after %d ms, %s{%s} is %g, want %g", timeout_ms,
                    name, labels, v, want);
        it_sleep_ms(POLL_MS);
    }
}

void it_wk_committed(it_wk_env *env, int64_t offsets[IT_WK_PARTITIONS])
{
    char err[512];
    int rc = it_kafka_committed(env->group, env->name, IT_WK_PARTITIONS, offsets, err, sizeof err);
    IT_WK_CHECK(rc == 0, "%s", err);
}

static long long ends_of(const char *topic, int n, int64_t *offsets)
{
    char err[512];
    it_kafka_snapshot snap;
    IT_WK_CHECK(it_kafka_snapshot_take(&snap, topic, err, sizeof err) == 0, "%s", err);
    IT_WK_CHECK(snap.npartitions == n, "%s has %d partitions, want %d", topic, snap.npartitions, n);
    long long sum = 0;
    for (int p = 0; p < n; p++) {
        sum += snap.offsets[p];
        if (offsets)
            offsets[p] = snap.offsets[p];
    }
    it_kafka_snapshot_deinit(&snap);
    return sum;
}

void it_wk_ends(it_wk_env *env, int64_t offsets[IT_WK_PARTITIONS])
{
    ends_of(env->name, IT_WK_PARTITIONS, offsets);
}

void it_wk_await_committed_ends(it_wk_env *env, int timeout_ms)
{
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    int64_t committed[IT_WK_PARTITIONS], ends[IT_WK_PARTITIONS];
    for (;;) {
        it_wk_ends(env, ends);
        it_wk_committed(env, committed);
        int p = 0;
        /* A partition without records needs no commit. */
        while (p < IT_WK_PARTITIONS &&
               (committed[p] == ends[p] || (ends[p] == 0 && committed[p] < 0)))
            p++;
        if (p == IT_WK_PARTITIONS)
            return;
        IT_WK_CHECK(hp_time_mono_ns() < deadline,
                    "after %d ms, partition %d: committed %lld, end %lld", timeout_ms, p,
                    (long long)committed[p], (long long)ends[p]);
        it_sleep_ms(POLL_MS);
    }
}

long it_wk_dlq_count(it_wk_env *env)
{
    return (long)ends_of(env->dlq_topic, 1, NULL); /* a new topic: it starts at 0 */
}

typedef struct copies {
    it_kafka_record *recs;
    size_t n, cap;
} copies;

static void copy_one(const rd_kafka_message_t *msg, void *opaque)
{
    copies *c = opaque;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->recs = hp_xrealloc(c->recs, c->cap * sizeof *c->recs);
    }
    it_kafka_record_copy(msg, &c->recs[c->n++]);
}

size_t it_wk_dlq_records(it_wk_env *env, size_t want, int timeout_ms, it_kafka_record **recs)
{
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    long n;
    while ((n = it_wk_dlq_count(env)) < (long)want) {
        IT_WK_CHECK(hp_time_mono_ns() < deadline, "after %d ms, %s holds %ld records, want %zu",
                    timeout_ms, env->dlq_topic, n, want);
        it_sleep_ms(POLL_MS);
    }
    char err[512];
    it_kafka_snapshot snap;
    IT_WK_CHECK(it_kafka_snapshot_take(&snap, env->dlq_topic, err, sizeof err) == 0, "%s", err);
    memset(snap.offsets, 0, (size_t)snap.npartitions * sizeof *snap.offsets);
    copies c = {0};
    long got = it_kafka_scan(&snap, timeout_ms, copy_one, &c, err, sizeof err);
    it_kafka_snapshot_deinit(&snap);
    IT_WK_CHECK(got >= 0, "reading %s: %s", env->dlq_topic, err);
    *recs = c.recs;
    return c.n;
}
