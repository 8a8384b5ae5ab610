/*
 * hookpipe-worker when things go wrong, against the stack's real Kafka and
 * PostgreSQL (it_wk: a topic pair, group and schema of each test's own):
 *
 *  - SIGKILL: three workers share a group and 10,000 events of 1,000
 *    entities over 12 partitions; one is killed with SIGKILL mid-run and
 *    started again. Every event is applied exactly once (10,000 rows,
 *    events_applied summing to 10,000, 10 per entity), nothing is parked.
 *    The same with two workers of two lanes each (worker.lanes): killing a
 *    process takes two group members down at once.
 *  - PostgreSQL restart: PostgreSQL stops while events flow and starts
 *    again a few seconds later. The same worker process carries on by
 *    itself: every event applied exactly once, nothing in the DLQ, /readyz
 *    503 during the outage, hookpipe_worker_retries_total > 0.
 *
 * ctest runs this file alone (RUN_SERIAL, lock "kafka-stack"): stopping
 * PostgreSQL would fail any other test of the stack meanwhile. PostgreSQL is
 * started again by the fixture's teardown, in the runner's process, whatever
 * happened in the test (Check _exit()s a failed test).
 */
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h" /* it_sleep_ms */
#include "it_wk.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STACK HP_SOURCE_DIR "/deploy/local/stack"
#define TERM_MS 10000
#define DRAIN_MS 180000
#define EVENTS "hookpipe_worker_events_total"

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

/* Fixture teardown, in the runner's process: PostgreSQL runs again after the test, always. */
static void postgres_restart(void)
{
    if (stack("postgres-start", 120000) != 0)
        fprintf(stderr, "WARNING: %s postgres-start failed; the stack needs a restart\n", STACK);
    it_wk_cleanup();
}

/* Produces events [from, to) of the entity source: evt_NNNNN of cus_(i % entities). */
static void produce_range(it_wk_env *env, int from, int to, int entities, int64_t at)
{
    for (int i = from; i < to; i++) {
        char id[32], entity[32];
        snprintf(id, sizeof id, "evt_%05d", i);
        snprintf(entity, sizeof entity, "cus_%04d", i % entities);
        it_wk_produce_entity(env, id, entity, i, at + i, NULL);
    }
    it_wk_flush(env);
}

/* Every event applied exactly once, nothing parked. */
static void assert_exactly_once(it_wk_env *env, int events, int entities)
{
    IT_WK_ASSERT_SQL(env, "SELECT count(*) = %d FROM hookpipe_events", events);
    IT_WK_ASSERT_SQL(env,
                     "SELECT count(*) = %d AND sum(events_applied) = %d "
                     "AND bool_and(events_applied = %d) FROM hookpipe_entities",
                     entities, events, events / entities);
    IT_WK_CHECK(it_wk_dlq_count(env) == 0, "%ld records in the DLQ", it_wk_dlq_count(env));
}

/* ---- SIGKILL one of three ---- */

#define KILL_EVENTS 10000
#define KILL_ENTITIES 1000
#define KILL_CHUNK 500

/* nprocs workers of lanes lanes each; worker 1 is SIGKILLed after 2,500
 * events are produced and started again after 4,500. */
static void sigkill_one_of(int nprocs, int lanes)
{
    /* A short session, so the group notices the dead members within seconds. */
    it_wk_options opt = {.batch_max = 100,
                         .lanes = lanes,
                         .kafka_properties =
                             "{\"session.timeout.ms\": 6000, \"heartbeat.interval.ms\": 1000}"};
    it_wk_env env;
    it_wk wk[3];
    ck_assert_int_le(nprocs, 3);
    it_wk_env_open(&env, &opt);
    for (int i = 0; i < nprocs; i++)
        it_wk_start(&wk[i], &env);
    int64_t at = hp_time_now_ms() - 3600000;
    int64_t t0 = hp_time_mono_ns();
    for (int from = 0; from < KILL_EVENTS; from += KILL_CHUNK) {
        produce_range(&env, from, from + KILL_CHUNK, KILL_ENTITIES, at);
        if (from == 4 * KILL_CHUNK) {
            it_wk_await(&env, "t", IT_WK_WAIT_MS, "SELECT count(*) >= 1000 FROM hookpipe_events");
            long long applied = it_wk_int(&env, "SELECT count(*) FROM hookpipe_events");
            int rc = it_wk_stop(&wk[1], SIGKILL, 5000);
            fprintf(stderr, "SIGKILL worker 1 after %lld ms: %lld of %d produced applied (%d)\n",
                    (long long)((hp_time_mono_ns() - t0) / 1000000), applied, from + KILL_CHUNK,
                    rc);
            IT_WK_CHECK(rc == 128 + SIGKILL, "worker 1 did not die of SIGKILL (%d)", rc);
            it_wk_free(&wk[1]);
        }
        if (from == 8 * KILL_CHUNK) {
            it_wk_start(&wk[1], &env);
            fprintf(stderr, "worker 1 restarted after %lld ms\n",
                    (long long)((hp_time_mono_ns() - t0) / 1000000));
        }
        it_sleep_ms(100);
    }
    long waited =
        it_wk_await(&env, "t", DRAIN_MS, "SELECT count(*) = %d FROM hookpipe_events", KILL_EVENTS);
    it_wk_await(&env, "t", IT_WK_WAIT_MS, "SELECT sum(events_applied) = %d FROM hookpipe_entities",
                KILL_EVENTS);
    long long took = (long long)((hp_time_mono_ns() - t0) / 1000000);
    double dups = 0;
    for (int i = 0; i < nprocs; i++)
        dups += it_wk_metric(&wk[i], EVENTS, "result=\"duplicate\"");
    fprintf(stderr,
            "SIGKILL test (%d workers x %d lanes): %d events applied exactly once in %lld ms "
            "(%ld ms after the last was produced); duplicates seen by the live workers: %g\n",
            nprocs, lanes, KILL_EVENTS, took, waited, dups);
    assert_exactly_once(&env, KILL_EVENTS, KILL_ENTITIES);
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    for (int i = 0; i < nprocs; i++) {
        IT_WK_CHECK(it_wk_stop(&wk[i], SIGTERM, TERM_MS) == 0, "exit status after SIGTERM");
        it_wk_free(&wk[i]);
    }
    it_wk_env_close(&env);
}

START_TEST(test_sigkill_one_of_three)
{
    sigkill_one_of(3, 1);
}
END_TEST

START_TEST(test_sigkill_one_of_two_with_lanes)
{
    sigkill_one_of(2, 2);
}
END_TEST

/* ---- PostgreSQL restart ---- */

#define PG_EVENTS 3000
#define PG_ENTITIES 300
#define PG_CHUNK 100
#define PG_OUTAGE_MS 5000

START_TEST(test_postgres_restart)
{
    it_wk_options opt = {.batch_max = 100};
    it_wk_env env;
    it_wk wk;
    char err[512];
    it_wk_env_open(&env, &opt);
    it_wk_start(&wk, &env);
    int64_t at = hp_time_now_ms() - 3600000;
    int64_t down_at = 0;
    for (int from = 0; from < PG_EVENTS; from += PG_CHUNK) {
        if (from == 5 * PG_CHUNK) {
            it_wk_await(&env, "t", IT_WK_WAIT_MS, "SELECT count(*) >= 200 FROM hookpipe_events");
            IT_WK_CHECK(stack("postgres-stop", 60000) == 0, "stack postgres-stop failed");
            down_at = hp_time_mono_ns();
        }
        produce_range(&env, from, from + PG_CHUNK, PG_ENTITIES, at);
        it_sleep_ms(100);
    }
    int rc = it_proc_wait_http(&wk.proc, "127.0.0.1", wk.admin_port, "/readyz", 503, 15000, err,
                               sizeof err);
    IT_WK_CHECK(rc == 0, "/readyz with PostgreSQL down: %s", err);
    int64_t left_ms = PG_OUTAGE_MS - (hp_time_mono_ns() - down_at) / 1000000;
    if (left_ms > 0)
        it_sleep_ms((int)left_ms);
    IT_WK_CHECK(stack("postgres-start", 120000) == 0, "stack postgres-start failed");
    int64_t up_at = hp_time_mono_ns();
    fprintf(stderr, "PostgreSQL was down for %lld ms\n", (long long)((up_at - down_at) / 1000000));

    long waited =
        it_wk_await(&env, "t", DRAIN_MS, "SELECT count(*) = %d FROM hookpipe_events", PG_EVENTS);
    fprintf(stderr, "all %d events applied %ld ms after PostgreSQL was back\n", PG_EVENTS, waited);
    IT_WK_CHECK(it_proc_alive(&wk.proc), "the worker exited (%d) instead of waiting",
                wk.proc.exit_status);
    assert_exactly_once(&env, PG_EVENTS, PG_ENTITIES);
    double retries = it_wk_metric(&wk, "hookpipe_worker_retries_total", "");
    fprintf(stderr, "hookpipe_worker_retries_total: %g\n", retries);
    IT_WK_CHECK(retries > 0, "no retry counted while PostgreSQL was down");
    rc = it_proc_wait_http(&wk.proc, "127.0.0.1", wk.admin_port, "/readyz", 200, 30000, err,
                           sizeof err);
    IT_WK_CHECK(rc == 0, "/readyz after PostgreSQL came back: %s", err);
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    IT_WK_CHECK(it_wk_stop(&wk, SIGTERM, TERM_MS) == 0, "exit status after SIGTERM");
    it_wk_free(&wk);
    it_wk_env_close(&env);
}
END_TEST

int main(void)
{
    it_wk_runner_init();
    Suite *s = suite_create("worker_faults");
    TCase *kill = tcase_create("sigkill");
    tcase_set_timeout(kill, 480);
    tcase_add_unchecked_fixture(kill, NULL, it_wk_cleanup);
    tcase_add_test(kill, test_sigkill_one_of_three);
    tcase_add_test(kill, test_sigkill_one_of_two_with_lanes);
    suite_add_tcase(s, kill);
    TCase *pg = tcase_create("postgres restart");
    tcase_set_timeout(pg, 480);
    tcase_add_unchecked_fixture(pg, NULL, postgres_restart);
    tcase_add_test(pg, test_postgres_restart);
    suite_add_tcase(s, pg);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
