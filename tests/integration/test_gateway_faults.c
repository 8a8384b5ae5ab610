/*
 * hookpipe-gateway when things go wrong, against the real broker:
 *
 *  - Kafka stops: a webhook is answered 503 "unavailable" with Retry-After
 *    within ack_timeout_ms (+1 s), never 200, and /readyz turns 503; once
 *    Kafka is back, webhooks are accepted again without restarting the
 *    gateway. Kafka is restarted by the fixture's teardown (in the parent
 *    process, after the test) whatever happened in the test.
 *  - SIGTERM under load: 16 keep-alive clients post for ~3 s, the gateway
 *    gets SIGTERM in the middle, exits 0 within 15 s, and every request it
 *    answered 200 is in Kafka (at least once).
 *
 * ctest runs this file alone (RUN_SERIAL, lock "kafka-stack"): stopping the
 * broker would fail any other test of the stack running meanwhile.
 */
#include "hp_alloc.h"
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STACK HP_SOURCE_DIR "/deploy/local/stack"
#define ACK_TIMEOUT_MS 2000
#define ORDERS                                                                                     \
    "[{\"name\": \"orders\", \"verify\": {\"scheme\": \"hmac-sha256\", "                           \
    "\"header\": \"X-Webhook-Signature\", \"secrets\": [\"fault-secret\"]}, "                      \
    "\"event_id\": {\"json\": \"/id\"}}]"

/* Runs deploy/local/stack cmd; returns its exit code (-1: timed out), printing its output. */
static int stack(const char *cmd, int timeout_ms)
{
    const char *argv[] = {STACK, cmd, NULL};
    it_run_result res;
    ck_assert_int_eq(it_run(argv, timeout_ms, &res), 0);
    int rc = res.exit_code;
    fprintf(stderr, "stack %s: exit %d\n%s%s", cmd, rc, res.out, res.err);
    it_run_result_deinit(&res);
    return rc;
}

/* Fixture teardown, in the runner's process: Kafka runs again after the test, always. */
static void kafka_restart(void)
{
    if (stack("kafka-start", 180000) != 0)
        fprintf(stderr, "WARNING: %s kafka-start failed; the stack needs a restart\n", STACK);
}

/* Posts one event with a new id; the id in id, the answer in resp. */
static void post_event(it_gw *gw, char *id, size_t idsz, it_http_response *resp)
{
    char body[256];
    it_unique(id, idsz, "fault");
    int n = snprintf(body, sizeof body, "{\"id\": \"%s\", \"n\": 1}", id);
    it_post post = {.source = "orders", .body = body, .len = (size_t)n};
    it_gw_post(gw, &post, resp);
}

static void assert_retry_after(const it_http_response *resp)
{
    const char *ra = it_http_response_header(resp, "Retry-After");
    char *end = NULL;
    long secs = ra ? strtol(ra, &end, 10) : -1;
    IT_CHECK(ra && end != ra && *end == '\0' && secs >= 0, "503 without a Retry-After (got %s)",
             ra ? ra : "none");
}

START_TEST(test_kafka_down_then_back)
{
    it_gw gw;
    char extra[64], id[64], err[512];
    snprintf(extra, sizeof extra, "\"ack_timeout_ms\": %d", ACK_TIMEOUT_MS);
    it_gw_start(&gw, extra, ORDERS);
    it_http_response resp;
    post_event(&gw, id, sizeof id, &resp);
    it_assert_accepted(&resp, id);
    it_http_response_deinit(&resp);

    ck_assert_int_eq(stack("kafka-stop", 60000), 0);
    int64_t t0 = hp_time_mono_ns();
    post_event(&gw, id, sizeof id, &resp);
    int64_t took_ms = (hp_time_mono_ns() - t0) / 1000000;
    it_assert_error(&resp, 503, "unavailable", NULL);
    assert_retry_after(&resp);
    it_http_response_deinit(&resp);
    fprintf(stderr, "Kafka down: answered 503 after %lld ms\n", (long long)took_ms);
    IT_CHECK(took_ms <= ACK_TIMEOUT_MS + 1000, "503 came after %lld ms, want <= %d",
             (long long)took_ms, ACK_TIMEOUT_MS + 1000);
    int rc = it_proc_wait_http(&gw.proc, "127.0.0.1", gw.admin_port, "/readyz", 503, 30000, err,
                               sizeof err);
    IT_CHECK(rc == 0, "/readyz with Kafka down: %s", err);

    ck_assert_int_eq(stack("kafka-start", 180000), 0);
    /* Accepted again within 60 s, without a restart of the gateway. */
    int status = 0;
    int64_t deadline = hp_time_mono_ns() + 60LL * 1000000000;
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    while (status != 200 && hp_time_mono_ns() < deadline) {
        post_event(&gw, id, sizeof id, &resp);
        status = resp.status;
        IT_CHECK(status == 200 || status == 503, "want 200 or 503 while recovering, got %d: %s",
                 status, resp.body);
        if (status == 200)
            it_assert_accepted(&resp, id);
        else
            it_sleep_ms(500);
        it_http_response_deinit(&resp);
    }
    IT_CHECK(status == 200, "no 200 within 60 s after Kafka came back");
    fprintf(stderr, "Kafka back: accepted again after %lld ms\n",
            (long long)((hp_time_mono_ns() - (deadline - 60LL * 1000000000)) / 1000000));
    it_kafka_record rec;
    it_find_record(&snap, id, &rec);
    it_kafka_record_deinit(&rec);
    it_kafka_snapshot_deinit(&snap);
    rc = it_proc_wait_http(&gw.proc, "127.0.0.1", gw.admin_port, "/readyz", 200, 30000, err,
                           sizeof err);
    IT_CHECK(rc == 0, "/readyz after Kafka came back: %s", err);
    IT_CHECK(it_gw_stop(&gw, 15000) == 0, "the gateway did not exit 0 on SIGTERM");
    it_gw_free(&gw);
}
END_TEST

/* ---- SIGTERM under load ---- */

#define LOAD_THREADS 16
#define LOAD_MAX_PER_THREAD 200000
#define LOAD_CONN_ERROR 0

typedef struct loader {
    it_gw *gw;
    int index;
    short *status; /* per request n: the HTTP status, or LOAD_CONN_ERROR */
    int n;
    pthread_t thread;
} loader;

static atomic_int load_stop;

static void load_id(char *out, size_t outsz, int thread, int n)
{
    snprintf(out, outsz, "load-%ld-%d-%d", (long)getpid(), thread, n);
}

/* One client: posts in a keep-alive loop, reconnecting after errors, until told to stop. */
static void *load_run(void *arg)
{
    loader *ld = arg;
    it_http_conn conn = {.fd = -1};
    char id[64], body[256], err[512];
    while (!atomic_load(&load_stop) && ld->n < LOAD_MAX_PER_THREAD) {
        if (conn.fd < 0 && it_http_connect(&conn, "127.0.0.1", ld->gw->port, 10000) < 0) {
            ld->status[ld->n++] = LOAD_CONN_ERROR;
            it_sleep_ms(50);
            continue;
        }
        load_id(id, sizeof id, ld->index, ld->n);
        int len = snprintf(body, sizeof body, "{\"id\": \"%s\"}", id);
        it_post post = {.source = "orders", .body = body, .len = (size_t)len};
        it_http_response resp;
        if (it_gw_send(ld->gw, &conn, &post, &resp, err, sizeof err) < 0) {
            ld->status[ld->n++] = LOAD_CONN_ERROR;
            it_http_close(&conn);
            continue;
        }
        ld->status[ld->n++] = (short)resp.status;
        it_http_response_deinit(&resp);
    }
    it_http_close(&conn);
    return NULL;
}

typedef struct id_set {
    char **ids;
    size_t n, cap;
    const char *prefix;
} id_set;

static void collect_id(const rd_kafka_message_t *msg, void *opaque)
{
    id_set *set = opaque;
    char id[128];
    if (!it_kafka_event_id(msg, id, sizeof id) || strncmp(id, set->prefix, strlen(set->prefix)))
        return;
    if (set->n == set->cap) {
        set->cap = set->cap ? 2 * set->cap : 1024;
        set->ids = hp_xrealloc(set->ids, set->cap * sizeof *set->ids);
    }
    set->ids[set->n++] = hp_xstrdup(id);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every id answered 200 must be in set; returns how many are not. */
static long count_missing(const loader *lds, id_set *set)
{
    qsort(set->ids, set->n, sizeof *set->ids, cmp_str);
    long missing = 0;
    char id[64];
    for (int t = 0; t < LOAD_THREADS; t++)
        for (int i = 0; i < lds[t].n; i++) {
            if (lds[t].status[i] != 200)
                continue;
            load_id(id, sizeof id, t, i);
            char *key = id;
            if (!bsearch(&key, set->ids, set->n, sizeof *set->ids, cmp_str) && missing++ < 10)
                fprintf(stderr, "answered 200 but not in Kafka: %s\n", id);
        }
    return missing;
}

START_TEST(test_sigterm_under_load)
{
    it_gw gw;
    it_gw_start(&gw, "", ORDERS);
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    loader lds[LOAD_THREADS];
    atomic_store(&load_stop, 0);
    for (int t = 0; t < LOAD_THREADS; t++) {
        lds[t] = (loader){.gw = &gw, .index = t};
        lds[t].status = hp_xcalloc(LOAD_MAX_PER_THREAD, sizeof *lds[t].status);
        ck_assert_int_eq(pthread_create(&lds[t].thread, NULL, load_run, &lds[t]), 0);
    }
    it_sleep_ms(3000);
    int64_t t0 = hp_time_mono_ns();
    int rc = it_gw_stop(&gw, 15000);
    long long stop_ms = (long long)((hp_time_mono_ns() - t0) / 1000000);
    it_sleep_ms(200); /* let the clients see the closed listener */
    atomic_store(&load_stop, 1);
    for (int t = 0; t < LOAD_THREADS; t++)
        pthread_join(lds[t].thread, NULL);

    long sent = 0, ok = 0, unavailable = 0, conn_errors = 0, other = 0;
    for (int t = 0; t < LOAD_THREADS; t++)
        for (int i = 0; i < lds[t].n; i++) {
            short st = lds[t].status[i];
            sent++;
            ok += st == 200;
            unavailable += st == 503;
            conn_errors += st == LOAD_CONN_ERROR;
            other += st != 200 && st != 503 && st != LOAD_CONN_ERROR;
        }
    fprintf(stderr,
            "SIGTERM under load: sent %ld, 200 %ld, 503 %ld, connection errors %ld, other %ld; "
            "exit %d after %lld ms\n",
            sent, ok, unavailable, conn_errors, other, rc, stop_ms);
    IT_CHECK(rc == 0, "exit status %d after SIGTERM (-1: still running after 15 s)", rc);
    IT_CHECK(ok > 0, "no request was accepted before SIGTERM");
    IT_CHECK(other == 0, "%ld answers were neither 200 nor 503", other);

    char prefix[32];
    snprintf(prefix, sizeof prefix, "load-%ld-", (long)getpid());
    id_set set = {.prefix = prefix};
    char err[512];
    long nread = it_kafka_scan(&snap, 60000, collect_id, &set, err, sizeof err);
    IT_CHECK(nread >= 0, "reading webhooks.raw: %s", err);
    long missing = count_missing(lds, &set);
    fprintf(stderr, "in Kafka: %zu records of this test; answered 200 but missing: %ld\n", set.n,
            missing);
    IT_CHECK(missing == 0, "%ld requests answered 200 are not in Kafka", missing);
    for (size_t i = 0; i < set.n; i++)
        free(set.ids[i]);
    free(set.ids);
    for (int t = 0; t < LOAD_THREADS; t++)
        free(lds[t].status);
    it_kafka_snapshot_deinit(&snap);
    it_gw_free(&gw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gateway_faults");
    TCase *down = tcase_create("kafka down");
    tcase_set_timeout(down, 360);
    tcase_add_unchecked_fixture(down, NULL, kafka_restart);
    tcase_add_test(down, test_kafka_down_then_back);
    suite_add_tcase(s, down);
    TCase *term = tcase_create("sigterm");
    tcase_set_timeout(term, 180);
    tcase_add_test(term, test_sigterm_under_load);
    suite_add_tcase(s, term);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
