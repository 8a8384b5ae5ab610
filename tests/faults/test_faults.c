/*
 * The faults suite: hookpipe's promise — every 200 is applied exactly once,
 * whatever breaks — checked under the failures a deployment meets.
 *
 * Signed webhooks flow without pause from four sender threads through two
 * gateways into three workers (a topic, DLQ topic, group and schema of this
 * test's own, from it_wk), while the suite, one after the other:
 *
 *   1. kills the Kafka broker with SIGKILL and starts it again;
 *   2. freezes it with SIGSTOP for 10 s, then SIGCONT;
 *   3. kills a worker with SIGKILL every 4 s, four times, starting a new one
 *      each time;
 *   4. restarts PostgreSQL;
 *   5. sends SIGTERM to a gateway (it drains) and starts a new one, which
 *      the senders move to;
 *   6. produces poison records (no envelope; a body that is not JSON).
 *
 * One request in twenty repeats an earlier accepted event byte for byte, as
 * a provider's retry would. After the traffic stops and the workers caught
 * up (the group's committed offsets at the end offsets), it prints the
 * counts and asserts the invariants:
 *
 *   - every event answered 200 is in hookpipe_events (nothing accepted is
 *     lost);
 *   - every stored event had its effect exactly once (sum of the entities'
 *     events_applied = events stored; the unique constraint keeps the rest);
 *   - the DLQ holds exactly the injected poison, nothing else.
 *
 * Answers other than 200 (503 while Kafka is down, refused connections
 * during the gateway swap) are allowed; their events may or may not be
 * stored, as the HTTP API says. Loopback only, every wait bounded, the
 * whole suite under 10 minutes. ctest runs it alone (RUN_SERIAL): it stops
 * the services every other test needs. The fixture's teardown starts Kafka
 * and PostgreSQL again (and resumes a frozen broker) however the test ends.
 */
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h"
#include "it_wk.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STACK HP_SOURCE_DIR "/deploy/local/stack"
#define KAFKA_PID_FILE HP_SOURCE_DIR "/.local/kafka/kafka.pid"
#define SENDERS 4
#define SENDER_RATE 40   /* requests per second per sender */
#define SENDER_MAX 12000 /* requests per sender, at most */
#define RETRY_EVERY 20   /* every 20th request repeats an accepted one */
#define WORKERS 3
#define POISON_BARE 3     /* records without envelope headers */
#define POISON_NOT_JSON 3 /* entity records whose body is not JSON */
#define SETTLE_MS 240000  /* for the workers to catch up after the traffic */
#define ENTITIES 200

/* The gateway's view of the worker configuration's "entity" source (it_wk). */
#define SOURCES                                                                                    \
    "[{\"name\": \"entity\", \"verify\": {\"scheme\": \"hmac-sha256\", \"header\": "               \
    "\"X-Signature\", \"secrets\": [\"it-wk-secret\"]}, \"event_id\": {\"json\": \"/id\"}, "       \
    "\"event_type\": {\"json\": \"/type\"}, \"key\": {\"json\": \"/entity\"}, \"event_time\": "    \
    "{\"json\": \"/ts\"}, \"handler\": \"entity\"}]"

/* What one request got: its event id and the answer (0: none). */
typedef struct outcome {
    char id[32];
    int status;
} outcome;

typedef struct sender {
    pthread_t thread;
    int index;
    outcome *out;
    int n;
} sender;

static struct {
    pthread_mutex_t mu;
    it_gw *targets[2]; /* where senders 0, 2 and 1, 3 post; guarded by mu */
    atomic_bool stop;
} traffic = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the stack ---- */

static int stack(const char *cmd, int timeout_ms)
{
    const char *argv[] = {STACK, cmd, NULL};
    it_run_result res;
    ck_assert_int_eq(it_run(argv, timeout_ms, &res), 0);
    int rc = res.exit_code;
    fprintf(stderr, "faults: stack %s: exit %d\n%s", cmd, rc, rc ? res.err : "");
    it_run_result_deinit(&res);
    return rc;
}

static pid_t kafka_pid(void)
{
    char *text = it_read_file(KAFKA_PID_FILE, 64, false, NULL);
    pid_t pid = text ? (pid_t)atol(text) : 0;
    free(text);
    return pid;
}

/* Fixture teardown, in the runner: the stack runs again, whatever happened. */
static void stack_restore(void)
{
    pid_t pid = kafka_pid();
    if (pid > 0)
        kill(pid, SIGCONT);
    if (stack("kafka-start", 180000) != 0 || stack("postgres-start", 120000) != 0)
        fprintf(stderr, "WARNING: the stack did not come back; run %s start\n", STACK);
    it_wk_cleanup();
}

/* ---- traffic ---- */

static void body_of(char *out, size_t outsz, const char *id, int n)
{
    snprintf(out, outsz,
             "{\"id\":\"%s\",\"type\":\"customer.updated\",\"entity\":\"cus_%04d\",\"ts\":%lld,"
             "\"data\":{\"n\":%d}}",
             id, n % ENTITIES, 1700000000000LL + n, n);
}

static void *send_loop(void *arg)
{
    sender *s = arg;
    it_http_conn conn = {.fd = -1};
    it_gw *connected = NULL;
    int64_t start = hp_time_now_ms();

    for (int i = 0; i < SENDER_MAX && !atomic_load(&traffic.stop); i++) {
        /* Paced: request i is due at start + i / rate. */
        int64_t due = start + (int64_t)i * 1000 / SENDER_RATE;
        int64_t now = hp_time_now_ms();
        if (due > now)
            it_sleep_ms((int)(due - now));

        pthread_mutex_lock(&traffic.mu);
        it_gw *gw = traffic.targets[s->index % 2];
        pthread_mutex_unlock(&traffic.mu);
        if (gw != connected || conn.fd < 0) {
            it_http_close(&conn);
            connected = gw;
            if (it_http_connect(&conn, "127.0.0.1", gw->port, IT_GW_HTTP_TIMEOUT_MS) != 0) {
                /* Refused: the gateway is being swapped. It counts as no answer. */
                snprintf(s->out[s->n].id, sizeof s->out[s->n].id, "f%d-%d", s->index, i);
                s->out[s->n++].status = 0;
                it_sleep_ms(100);
                continue;
            }
        }

        /* A provider's retry repeats an accepted event byte for byte. */
        int n = i;
        if (i % RETRY_EVERY == RETRY_EVERY - 1) {
            for (int k = s->n - 1; k >= 0; k--) {
                if (s->out[k].status == 200) {
                    n = atoi(strchr(s->out[k].id, '-') + 1);
                    break;
                }
            }
        }
        outcome *o = &s->out[s->n++];
        snprintf(o->id, sizeof o->id, "f%d-%d", s->index, n);
        char body[256];
        body_of(body, sizeof body, o->id, n);
        it_post post = {.source = "entity", .body = body, .len = strlen(body)};
        it_http_response resp = {0};
        char err[512];
        if (it_gw_send(gw, &conn, &post, &resp, err, sizeof err) == 0) {
            o->status = resp.status;
            it_http_response_deinit(&resp);
        } else {
            o->status = 0;
            it_http_close(&conn);
        }
    }
    it_http_close(&conn);
    return NULL;
}

static void traffic_retarget(int slot, it_gw *gw)
{
    pthread_mutex_lock(&traffic.mu);
    traffic.targets[slot] = gw;
    pthread_mutex_unlock(&traffic.mu);
}

/* ---- the faults ---- */

static void say(const char *what)
{
    static int64_t t0;
    if (!t0)
        t0 = hp_time_now_ms();
    fprintf(stderr, "faults: +%5.1f s %s\n", (double)(hp_time_now_ms() - t0) / 1000.0, what);
}

static void kafka_kill_and_restart(void)
{
    pid_t pid = kafka_pid();
    ck_assert_msg(pid > 0, "no Kafka pid in %s", KAFKA_PID_FILE);
    say("Kafka: SIGKILL");
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    it_sleep_ms(3000);
    say("Kafka: starting");
    ck_assert_msg(stack("kafka-start", 180000) == 0, "Kafka did not start again");
    say("Kafka: up");
}

static void kafka_freeze(int ms)
{
    pid_t pid = kafka_pid();
    ck_assert_msg(pid > 0, "no Kafka pid in %s", KAFKA_PID_FILE);
    say("Kafka: SIGSTOP");
    ck_assert_int_eq(kill(pid, SIGSTOP), 0);
    it_sleep_ms(ms);
    ck_assert_int_eq(kill(pid, SIGCONT), 0);
    say("Kafka: SIGCONT");
}

static void workers_kill(it_wk *wk, int rounds, it_wk_env *env)
{
    for (int r = 0; r < rounds; r++) {
        it_wk *victim = &wk[r % WORKERS];
        say("worker: SIGKILL");
        int rc = it_wk_stop(victim, SIGKILL, 5000);
        ck_assert_msg(rc == 128 + SIGKILL, "the worker did not die of SIGKILL (%d)", rc);
        it_wk_free(victim);
        it_wk_start(victim, env);
        it_sleep_ms(4000);
    }
}

static void postgres_restart(it_wk_env *env)
{
    say("PostgreSQL: stopping");
    ck_assert_msg(stack("postgres-stop", 60000) == 0, "postgres-stop failed");
    it_sleep_ms(3000);
    ck_assert_msg(stack("postgres-start", 120000) == 0, "postgres-start failed");
    PQreset(env->pg); /* the test's own session went down with the server */
    IT_WK_CHECK(PQstatus(env->pg) == CONNECTION_OK, "reconnect: %s", PQerrorMessage(env->pg));
    say("PostgreSQL: up");
}

static void inject_poison(it_wk_env *env)
{
    say("poison: producing");
    for (int i = 0; i < POISON_BARE; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"poison\":%d}", i);
        it_wk_event ev = {.key = "poison", .body = body}; /* no source: no envelope */
        it_wk_produce(env, &ev, NULL);
    }
    for (int i = 0; i < POISON_NOT_JSON; i++) {
        char id[32];
        snprintf(id, sizeof id, "poison-%d", i);
        it_wk_event ev = {.source = "entity",
                          .event_id = id,
                          .event_type = "customer.updated",
                          .key = "poison",
                          .body = "this is not JSON"};
        it_wk_produce(env, &ev, NULL);
    }
    it_wk_flush(env);
}

/* ---- the verdict ---- */

typedef struct tally {
    long sent, ok, unavailable, other, unanswered;
} tally;

/* The distinct ids answered 200, as a PostgreSQL array literal. */
static char *accepted_ids(const sender *senders, tally *t)
{
    size_t cap = 64, len = 0;
    char *arr = malloc(cap);
    arr[len++] = '{';
    for (int s = 0; s < SENDERS; s++) {
        for (int i = 0; i < senders[s].n; i++) {
            const outcome *o = &senders[s].out[i];
            t->sent++;
            if (o->status == 200)
                t->ok++;
            else if (o->status == 503)
                t->unavailable++;
            else if (o->status == 0)
                t->unanswered++;
            else
                t->other++;
            if (o->status != 200)
                continue;
            size_t need = strlen(o->id) + 2;
            if (len + need + 2 > cap) {
                cap = 2 * (len + need + 2);
                arr = realloc(arr, cap);
            }
            len += (size_t)sprintf(arr + len, "%s%s", len > 1 ? "," : "", o->id);
        }
    }
    arr[len++] = '}';
    arr[len] = '\0';
    return arr;
}

static long long scalar(it_wk_env *env, const char *sql, const char *param)
{
    const char *params[] = {param};
    PGresult *r = PQexecParams(env->pg, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    IT_WK_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(env->pg));
    long long v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

START_TEST(test_faults)
{
    it_wk_env env;
    it_wk wk[WORKERS];
    it_gw gw[3];
    sender senders[SENDERS];

    it_wk_env_open(&env, NULL);
    for (int i = 0; i < WORKERS; i++)
        it_wk_start(&wk[i], &env);
    it_gw_start_for(&gw[0], env.name, "\"ack_timeout_ms\": 5000", SOURCES);
    it_gw_start_for(&gw[1], env.name, "\"ack_timeout_ms\": 5000", SOURCES);
    traffic.targets[0] = &gw[0];
    traffic.targets[1] = &gw[1];

    say("traffic: starting");
    for (int s = 0; s < SENDERS; s++) {
        senders[s] = (sender){.index = s, .out = calloc(SENDER_MAX, sizeof(outcome))};
        ck_assert_int_eq(pthread_create(&senders[s].thread, NULL, send_loop, &senders[s]), 0);
    }
    it_sleep_ms(5000);
    kafka_kill_and_restart();
    it_sleep_ms(8000);
    kafka_freeze(10000);
    it_sleep_ms(8000);
    workers_kill(wk, 4, &env);
    postgres_restart(&env);
    it_sleep_ms(5000);

    say("gateway 0: SIGTERM");
    it_gw_start_for(&gw[2], env.name, "\"ack_timeout_ms\": 5000", SOURCES);
    traffic_retarget(0, &gw[2]);
    int rc = it_gw_stop(&gw[0], 30000);
    IT_CHECK(rc == 0, "the drained gateway exited %d", rc);
    say("gateway 0: drained and gone; gateway 2 serves");
    it_sleep_ms(5000);
    inject_poison(&env);
    it_sleep_ms(5000);

    atomic_store(&traffic.stop, true);
    for (int s = 0; s < SENDERS; s++)
        pthread_join(senders[s].thread, NULL);
    say("traffic: stopped; waiting for the workers to catch up");
    it_wk_await_committed_ends(&env, SETTLE_MS);
    say("workers: caught up");

    /* ---- what happened ---- */
    tally t = {0};
    char *ids = accepted_ids(senders, &t);
    int64_t ends[IT_WK_PARTITIONS];
    it_wk_ends(&env, ends);
    long long records = 0;
    for (int p = 0; p < IT_WK_PARTITIONS; p++)
        records += ends[p];
    long long distinct_ok =
        scalar(&env, "SELECT count(DISTINCT id) FROM unnest($1::text[]) id", ids);
    long long missing =
        scalar(&env,
               "SELECT count(*) FROM (SELECT DISTINCT id FROM unnest($1::text[]) id) a "
               "WHERE NOT EXISTS (SELECT 1 FROM hookpipe_events e "
               "WHERE e.source = 'entity' AND e.event_id = a.id)",
               ids);
    long long stored = scalar(&env, "SELECT count(*) FROM hookpipe_events", NULL);
    long long effects =
        scalar(&env, "SELECT coalesce(sum(events_applied), 0) FROM hookpipe_entities", NULL);
    long dlq = it_wk_dlq_count(&env);
    long long poison = POISON_BARE + POISON_NOT_JSON;

    fprintf(stderr,
            "faults: requests sent %ld: 200 %ld (%lld distinct events), 503 %ld, other %ld, "
            "no answer %ld\n"
            "faults: records in Kafka %lld (poison %lld), events applied %lld, duplicates "
            "suppressed %lld, DLQ records %ld, accepted but missing %lld\n",
            t.sent, t.ok, distinct_ok, t.unavailable, t.other, t.unanswered, records, poison,
            stored, records - poison - stored, dlq, missing);

    IT_WK_CHECK(t.ok > 1000, "only %ld requests were accepted", t.ok);
    IT_WK_CHECK(missing == 0, "%lld events answered 200 are not in hookpipe_events", missing);
    IT_WK_CHECK(effects == stored, "%lld effects for %lld stored events", effects, stored);
    IT_WK_CHECK(t.other == 0, "%ld answers neither 200 nor 503", t.other);
    IT_WK_CHECK(dlq == poison, "%ld DLQ records, %lld poison injected", dlq, poison);
    it_kafka_record *recs = NULL;
    size_t n = it_wk_dlq_records(&env, (size_t)poison, 10000, &recs);
    for (size_t i = 0; i < n; i++)
        IT_WK_CHECK(recs[i].key && strcmp(recs[i].key, "poison") == 0,
                    "DLQ record %zu is not injected poison (key %s)", i,
                    recs[i].key ? recs[i].key : "none");
    for (size_t i = 0; i < n; i++)
        it_kafka_record_deinit(&recs[i]);
    free(recs);

    free(ids);
    for (int s = 0; s < SENDERS; s++)
        free(senders[s].out);
    for (int i = 0; i < 3; i++)
        it_gw_free(&gw[i]);
    it_wk_env_close(&env);
}
END_TEST

int main(void)
{
    it_wk_runner_init();
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_add_unchecked_fixture(tc, NULL, stack_restore);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_faults);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
