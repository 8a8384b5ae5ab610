/*
 * hookpipectl against the real stack, as an operator runs it:
 *  - send: a built-in sample for every verify scheme, posted to a running
 *    gateway, is accepted (200) and lands in Kafka under the sample's id;
 *  - lag: what `hookpipectl lag` says equals the group's offsets and, while
 *    a worker runs (kept from committing: its PostgreSQL is unreachable),
 *    the worker's own hookpipe_worker_consumer_lag, partition by partition;
 *  - replay --to-earliest: refused while the worker runs; once it is
 *    stopped the offsets move to the start, and a worker started again
 *    re-reads everything as duplicates: no effect is applied twice;
 *  - dlq: a poison record is listed with its error headers; once the cause
 *    is removed (the source's handler changed to store) `dlq requeue --all`
 *    gets it applied once, and a second requeue requeues nothing.
 * Workers run in a topic, group and schema of their own (it_wk).
 */
#include "hp_alloc.h"
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h"
#include "it_kafka_admin.h"
#include "it_wk.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_BIN HP_BIN_DIR "/hookpipectl"
#define CTL_TIMEOUT_MS 120000
#define EVENTS "hookpipe_worker_events_total"
#define LAG "hookpipe_worker_consumer_lag"
/* The worker's statistics.interval.ms, which refreshes its lag gauge. */
#define STATS_INTERVAL_MS 5000

/* Runs hookpipectl -c config with the words (NULL-terminated) after it. */
static void ctl(it_run_result *res, const char *config, ...)
{
    const char *argv[32];
    size_t n = 0;
    va_list ap;
    argv[n++] = CTL_BIN;
    argv[n++] = "-c";
    argv[n++] = config;
    va_start(ap, config);
    for (const char *w = va_arg(ap, const char *); w && n < 31; w = va_arg(ap, const char *))
        argv[n++] = w;
    va_end(ap);
    argv[n] = NULL;
    ck_assert_msg(access(CTL_BIN, X_OK) == 0, "%s: %s (build the hookpipectl target)", CTL_BIN,
                  strerror(errno));
    memset(res, 0, sizeof *res);
    ck_assert_msg(it_run(argv, CTL_TIMEOUT_MS, res) == 0, "cannot run %s", CTL_BIN);
}

/* The JSON that hookpipectl printed; fails the test unless it exited 0 with an object. */
static json_t *ctl_json(const it_run_result *res, const char *what)
{
    IT_WK_CHECK(res->exit_code == 0, "%s: exit %d\nstdout: %s\nstderr: %s", what, res->exit_code,
                res->out, res->err);
    json_error_t jerr;
    json_t *root = json_loads(res->out, 0, &jerr);
    IT_WK_CHECK(json_is_object(root), "%s: not a JSON object (%s): %s", what, jerr.text, res->out);
    return root;
}

/* ---- send ---- */

static const char send_sources[] =
    "[{\"name\": \"livekit\", \"verify\": {\"scheme\": \"livekit\", \"keys\": {\"APIit\": "
    "\"it-livekit-secret\"}}, \"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": "
    "\"/event\"}, \"key\": {\"json\": \"/room/sid\"}, \"event_time\": {\"json\": \"/createdAt\"}},"
    "{\"name\": \"stripe\", \"verify\": {\"scheme\": \"stripe\", \"secrets\": [\"whsec_it\"]}, "
    "\"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"}, \"key\": {\"json\": "
    "\"/data/object/id\"}, \"event_time\": {\"json\": \"/created\"}},"
    "{\"name\": \"github\", \"verify\": {\"scheme\": \"github\", \"secrets\": [\"it-gh\"]}, "
    "\"event_id\": {\"header\": \"X-GitHub-Delivery\"}, \"event_type\": {\"header\": "
    "\"X-GitHub-Event\"}},"
    "{\"name\": \"slack\", \"verify\": {\"scheme\": \"slack\", \"secrets\": [\"it-slack\"]}, "
    "\"event_id\": {\"json\": \"/event_id\"}, \"event_type\": {\"json\": \"/event/type\"}},"
    "{\"name\": \"shopify\", \"verify\": {\"scheme\": \"shopify\", \"secrets\": [\"it-shop\"]}, "
    "\"event_id\": {\"header\": \"X-Shopify-Webhook-Id\"}, \"event_type\": {\"header\": "
    "\"X-Shopify-Topic\"}},"
    "{\"name\": \"svix\", \"verify\": {\"scheme\": \"standard-webhooks\", \"secrets\": "
    "[\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]}, \"event_id\": {\"header\": \"webhook-id\"}, "
    "\"event_type\": {\"json\": \"/type\"}},"
    "{\"name\": \"orders\", \"verify\": {\"scheme\": \"hmac-sha256\", \"header\": "
    "\"X-Webhook-Signature\", \"secrets\": [\"it-orders\"]}, \"event_id\": {\"json\": \"/id\"}, "
    "\"key\": {\"json\": \"/order_id\"}},"
    "{\"name\": \"legacy\", \"verify\": {\"scheme\": \"hmac-sha1\", \"header\": \"X-Sig\", "
    "\"encoding\": \"base64\", \"secrets\": [\"it-legacy\"]}, \"event_id\": {\"json\": "
    "\"/meta/id\"}, \"event_type\": {\"json\": \"/meta/type\"}},"
    "{\"name\": \"basic\", \"verify\": {\"scheme\": \"basic\", \"secrets\": [\"u:p\"]}, "
    "\"event_id\": {\"json\": \"/id\"}},"
    "{\"name\": \"bearer\", \"verify\": {\"scheme\": \"bearer\", \"secrets\": [\"it-token\"]}},"
    "{\"name\": \"open\", \"verify\": {\"scheme\": \"none\"}, \"insecure\": true, \"event_id\": "
    "{\"json\": \"/id\"}}]";

START_TEST(test_send_every_scheme)
{
    it_gw gw;
    it_kafka_snapshot snap;
    char url[64];
    it_gw_start(&gw, "", send_sources);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", gw.port);
    it_snapshot(&snap);
    for (size_t i = 0; i < gw.cfg.nsources; i++) {
        const char *name = gw.cfg.sources[i].name;
        it_run_result res;
        ctl(&res, gw.config_path, "send", "--source", name, "--url", url, "--json", NULL);
        IT_CHECK(res.exit_code == 0, "send --source %s: exit %d\n%s%s", name, res.exit_code,
                 res.out, res.err);
        json_t *root = json_loads(res.out, 0, NULL);
        IT_CHECK(root && json_integer_value(json_object_get(root, "status")) == 200,
                 "send --source %s: %s", name, res.out);
        json_t *answer = json_object_get(root, "response");
        const char *status = json_string_value(json_object_get(answer, "status"));
        const char *accepted = json_string_value(json_object_get(answer, "event_id"));
        IT_CHECK(status && strcmp(status, "accepted") == 0 && accepted,
                 "send --source %s: the gateway said %s", name, res.out);
        /* The sample's id is the event id, except where the source hashes the body. */
        const char *sent = json_string_value(json_object_get(root, "event_id"));
        if (gw.cfg.sources[i].event_id.kind != HP_EXTRACT_BODY_SHA256)
            IT_CHECK(sent && strcmp(sent, accepted) == 0, "send --source %s: sent %s, accepted %s",
                     name, sent, accepted);
        it_kafka_record rec;
        it_find_record(&snap, accepted, &rec);
        IT_CHECK(strcmp(it_record_header(&rec, "hookpipe-source"), name) == 0, "record source %s",
                 it_record_header(&rec, "hookpipe-source"));
        it_kafka_record_deinit(&rec);
        json_decref(root);
        it_run_result_deinit(&res);
    }

    /* Mistakes are named: an unknown source (2), a gateway that is not there (1). */
    it_run_result res;
    ctl(&res, gw.config_path, "send", "--source", "nope", "--url", url, NULL);
    IT_CHECK(res.exit_code == 2 && strstr(res.err, "--source nope"), "unknown source: %d %s",
             res.exit_code, res.err);
    it_run_result_deinit(&res);
    ctl(&res, gw.config_path, "send", "--source", "orders", "--url", "http://127.0.0.1:1", NULL);
    IT_CHECK(res.exit_code == 1 && strstr(res.err, "127.0.0.1:1"), "no gateway: %d %s",
             res.exit_code, res.err);
    it_run_result_deinit(&res);
    it_kafka_snapshot_deinit(&snap);
    it_gw_stop(&gw, 10000);
    it_gw_free(&gw);
}
END_TEST

/* ---- workers on a configuration of the test's own ---- */

typedef void config_edit_fn(json_t *cfg);

/*
 * Starts a worker of env on base (a worker configuration the harness wrote)
 * changed by edit, with an admin port of its own, and waits until its
 * /metrics answers (not /readyz: the edit may keep PostgreSQL away).
 */
static void start_worker_edited(it_wk *wk, it_wk_env *env, const char *base, config_edit_fn *edit)
{
    json_error_t jerr;
    char admin[64], err[512];
    json_t *cfg = json_load_file(base, 0, &jerr);
    IT_WK_CHECK(cfg != NULL, "%s: %s", base, jerr.text);
    memset(wk, 0, sizeof *wk);
    wk->env = env;
    wk->admin_port = it_free_port();
    int k = env->nstarted++;
    snprintf(wk->config_path, sizeof wk->config_path, "%s/worker-%d.json", env->dir, k);
    snprintf(wk->log_path, sizeof wk->log_path, "%s/worker-%d.log", env->dir, k);
    snprintf(admin, sizeof admin, "127.0.0.1:%d", wk->admin_port);
    json_object_set_new(json_object_get(cfg, "worker"), "admin_listen", json_string(admin));
    edit(cfg);
    IT_WK_CHECK(json_dump_file(cfg, wk->config_path, JSON_INDENT(2)) == 0, "%s: cannot write",
                wk->config_path);
    json_decref(cfg);
    const char *argv[] = {IT_WK_BIN, "-c", wk->config_path, NULL};
    const char *unset[] = {"HOOKPIPE_KAFKA_BROKERS", "HOOKPIPE_POSTGRES_DSN", "HOOKPIPE_LISTEN",
                           "HOOKPIPE_ADMIN_LISTEN", NULL};
    IT_WK_CHECK(it_proc_spawn(&wk->proc, argv, unset, NULL, wk->log_path, err, sizeof err) == 0,
                "spawn: %s", err);
    int slot = 0;
    while (slot < IT_WK_MAX_WORKERS && env->workers[slot])
        slot++;
    IT_WK_CHECK(slot < IT_WK_MAX_WORKERS, "too many workers");
    env->workers[slot] = wk;
    IT_WK_CHECK(it_proc_wait_http(&wk->proc, "127.0.0.1", wk->admin_port, "/metrics", 200,
                                  IT_WK_READY_TIMEOUT_MS, err, sizeof err) == 0,
                "worker-%d: %s", k, err);
}

/* PostgreSQL out of reach (nothing listens on port 1): the worker consumes but never commits. */
static void no_postgres(json_t *cfg)
{
    json_object_set_new(
        json_object_get(cfg, "postgres"), "dsn",
        json_string("postgresql://hookpipe@127.0.0.1:1/hookpipe?connect_timeout=1"));
}

/* The poison's cause removed: the livekit source stores what it gets. */
static void livekit_stores(json_t *cfg)
{
    size_t i;
    json_t *src;
    json_array_foreach (json_object_get(cfg, "sources"), i, src)
        if (strcmp(json_string_value(json_object_get(src, "name")), "livekit") == 0)
            json_object_set_new(src, "handler", json_string("store"));
}

/* The text of wk's /metrics; the caller frees. */
static char *worker_metrics(it_wk *wk)
{
    it_http_request req = {.method = "GET", .path = "/metrics"};
    it_http_response resp;
    char err[512];
    IT_WK_CHECK(it_http_once("127.0.0.1", wk->admin_port, 10000, &req, &resp, err, sizeof err) == 0,
                "GET /metrics: %s", err);
    char *text = hp_xstrdup(resp.body);
    it_http_response_deinit(&resp);
    return text;
}

/* Produces n entity events (ids <prefix>-<i>, entities e-<i % 7>). */
static void produce_entities(it_wk_env *env, const char *prefix, int n)
{
    char id[64], entity[32];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        snprintf(entity, sizeof entity, "e-%d", i % 7);
        it_wk_produce_entity(env, id, entity, i, 1700000000000LL + i, NULL);
    }
    it_wk_flush(env);
}

/* `hookpipectl lag --json` for env's group and topic, checked against the offsets themselves. */
static json_t *lag_json(it_wk_env *env, const char *config, long long *total)
{
    it_run_result res;
    int64_t committed[IT_WK_PARTITIONS], ends[IT_WK_PARTITIONS];
    ctl(&res, config, "lag", "--group", env->group, "--topic", env->name, "--json", NULL);
    json_t *root = ctl_json(&res, "lag");
    it_run_result_deinit(&res);
    it_wk_committed(env, committed);
    it_wk_ends(env, ends);
    json_t *parts = json_object_get(root, "partitions");
    IT_WK_CHECK(json_array_size(parts) == IT_WK_PARTITIONS, "lag: %zu partitions",
                json_array_size(parts));
    long long sum = 0;
    for (int p = 0; p < IT_WK_PARTITIONS; p++) {
        json_t *row = json_array_get(parts, (size_t)p);
        json_t *c = json_object_get(row, "committed");
        long long want_lag = ends[p] - (committed[p] >= 0 ? committed[p] : 0);
        IT_WK_CHECK(
            json_integer_value(json_object_get(row, "end")) == ends[p] &&
                (committed[p] >= 0 ? json_integer_value(c) == committed[p] : json_is_null(c)) &&
                json_integer_value(json_object_get(row, "lag")) == want_lag,
            "lag partition %d: committed %lld, end %lld", p, (long long)committed[p],
            (long long)ends[p]);
        sum += want_lag;
    }
    IT_WK_CHECK(json_integer_value(json_object_get(root, "total_lag")) == sum, "total_lag");
    *total = sum;
    return root;
}

START_TEST(test_lag_matches_worker_metrics)
{
    it_wk_env env;
    it_wk first, stuck, last;
    long long total;
    enum { FIRST = 40, MORE = 60 };
    it_wk_env_open(&env, NULL);

    it_wk_start(&first, &env);
    produce_entities(&env, "lag-a", FIRST);
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    json_decref(lag_json(&env, first.config_path, &total));
    IT_WK_CHECK(total == 0, "caught up, yet lag %lld", total);
    IT_WK_CHECK(it_wk_stop(&first, SIGTERM, 30000) == 0, "worker did not stop cleanly");

    /* Behind by MORE records; a worker that cannot commit reports the same lags. */
    produce_entities(&env, "lag-b", MORE);
    json_t *root = lag_json(&env, first.config_path, &total);
    IT_WK_CHECK(total == MORE, "stopped group: lag %lld, want %d", total, MORE);
    start_worker_edited(&stuck, &env, first.config_path, no_postgres);
    /* The worker learns a partition's end from its fetches; it pauses its partitions
     * at the first failed batch, so some may never be fetched and go unreported.
     * Wait for a lag to show, then one more statistics interval for the rest. */
    int64_t deadline = hp_time_mono_ns() + (int64_t)IT_WK_WAIT_MS * 1000000;
    double seen;
    while ((seen = it_wk_metric(&stuck, LAG, "")) <= 0) {
        IT_WK_CHECK(hp_time_mono_ns() < deadline, "the worker reports no lag");
        it_sleep_ms(500);
    }
    it_sleep_ms(STATS_INTERVAL_MS + 1000);
    json_decref(root);
    root = lag_json(&env, stuck.config_path, &total);
    json_t *parts = json_object_get(root, "partitions");
    char *metrics = worker_metrics(&stuck);
    int compared = 0;
    long long compared_lag = 0;
    for (int p = 0; p < IT_WK_PARTITIONS; p++) {
        char labels[300];
        double metric;
        snprintf(labels, sizeof labels, "topic=\"%s\",partition=\"%d\"", env.name, p);
        if (!it_metric(metrics, LAG, labels, &metric))
            continue;
        json_int_t lag =
            json_integer_value(json_object_get(json_array_get(parts, (size_t)p), "lag"));
        IT_WK_CHECK(metric == (double)lag, "partition %d: hookpipectl lag %lld, worker metric %g",
                    p, (long long)lag, metric);
        compared++;
        compared_lag += lag;
    }
    free(metrics);
    fprintf(stderr, "lag: %d partitions reported by the worker, lag %lld of %lld, all equal\n",
            compared, compared_lag, total);
    IT_WK_CHECK(compared > 0 && compared_lag > 0, "nothing compared");
    json_decref(root);
    it_wk_stop(&stuck, SIGKILL, 10000);
    it_wk_free(&stuck);

    /* A worker that can commit catches up; both say 0. */
    it_wk_start(&last, &env);
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    json_decref(lag_json(&env, last.config_path, &total));
    IT_WK_CHECK(total == 0, "caught up again, yet lag %lld", total);
    it_wk_await_metric(&last, LAG, "", 0, IT_WK_WAIT_MS);
    it_wk_env_close(&env);
}
END_TEST

/* ---- replay ---- */

/* Whether a committed offset is at the end (a partition without records has no commit). */
static bool same_position(int64_t committed, int64_t end)
{
    return committed == end || (end == 0 && committed < 0);
}

START_TEST(test_replay_to_earliest_applies_nothing_twice)
{
    it_wk_env env;
    it_wk first, again;
    it_run_result res;
    enum { N = 50 };
    int64_t ends[IT_WK_PARTITIONS], committed[IT_WK_PARTITIONS];
    it_wk_env_open(&env, NULL);
    it_wk_start(&first, &env);
    produce_entities(&env, "rp", N);
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    it_wk_await_metric(&first, EVENTS, "result=\"applied\"", N, IT_WK_WAIT_MS);

    /* Refused while the worker is a member, and nothing moves. */
    ctl(&res, first.config_path, "replay", "--group", env.group, "--topic", env.name,
        "--to-earliest", NULL);
    IT_WK_CHECK(res.exit_code == 1 && strstr(res.err, "active member") &&
                    strstr(res.err, "stop its workers"),
                "replay with a running worker: exit %d: %s", res.exit_code, res.err);
    it_run_result_deinit(&res);
    it_wk_ends(&env, ends);
    it_wk_committed(&env, committed);
    for (int p = 0; p < IT_WK_PARTITIONS; p++)
        IT_WK_CHECK(same_position(committed[p], ends[p]), "partition %d moved", p);

    IT_WK_CHECK(it_wk_stop(&first, SIGTERM, 30000) == 0, "worker did not stop cleanly");
    /* A dry run changes nothing. */
    ctl(&res, first.config_path, "replay", "--group", env.group, "--topic", env.name,
        "--to-earliest", "--dry-run", NULL);
    IT_WK_CHECK(res.exit_code == 0 && strstr(res.out, "dry run"), "dry run: %s%s", res.out,
                res.err);
    it_run_result_deinit(&res);
    it_wk_committed(&env, committed);
    for (int p = 0; p < IT_WK_PARTITIONS; p++)
        IT_WK_CHECK(same_position(committed[p], ends[p]), "dry run moved partition %d", p);

    ctl(&res, first.config_path, "replay", "--group", env.group, "--topic", env.name,
        "--to-earliest", "--json", NULL);
    json_t *root = ctl_json(&res, "replay --to-earliest");
    it_run_result_deinit(&res);
    IT_WK_CHECK(json_integer_value(json_object_get(root, "records_to_reread")) == N,
                "records_to_reread %lld",
                (long long)json_integer_value(json_object_get(root, "records_to_reread")));
    json_t *parts = json_object_get(root, "partitions");
    it_wk_committed(&env, committed);
    for (int p = 0; p < IT_WK_PARTITIONS; p++) {
        json_t *row = json_array_get(parts, (size_t)p);
        IT_WK_CHECK(json_integer_value(json_object_get(row, "old")) == ends[p] &&
                        json_integer_value(json_object_get(row, "new")) == 0,
                    "partition %d: printed old/new wrong", p);
        IT_WK_CHECK(committed[p] == 0 || (ends[p] == 0 && committed[p] <= 0),
                    "partition %d: committed %lld after the replay", p, (long long)committed[p]);
    }
    json_decref(root);

    /* The worker reads everything again: all duplicates, nothing applied twice. */
    it_wk_start(&again, &env);
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    it_wk_await_metric(&again, EVENTS, "result=\"duplicate\"", N, IT_WK_WAIT_MS);
    IT_WK_CHECK(it_wk_metric(&again, EVENTS, "result=\"applied\"") == 0, "applied again");
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = %d FROM hookpipe_events", N);
    IT_WK_ASSERT_SQL(&env, "SELECT sum(events_applied) = %d FROM hookpipe_entities", N);
    it_wk_env_close(&env);
}
END_TEST

/* ---- the DLQ ---- */

START_TEST(test_dlq_requeue_applies_once)
{
    it_wk_env env;
    it_wk first, fixed;
    it_run_result res;
    it_wk_delivery dr;
    char requeue_group[300], err[512];
    it_wk_env_open(&env, NULL);
    snprintf(requeue_group, sizeof requeue_group, "hookpipectl-requeue.%s", env.dlq_topic);
    it_wk_start(&first, &env);

    /* A JSON array is poison for the livekit handler. */
    it_wk_event poison = {.source = "livekit",
                          .event_id = "LK_poison",
                          .event_type = "room_started",
                          .key = "RM_poison",
                          .body = "[\"not\",\"an\",\"event\"]"};
    it_wk_produce(&env, &poison, &dr);
    it_wk_flush(&env);
    it_wk_await_metric(&first, EVENTS, "result=\"dlq\"", 1, IT_WK_WAIT_MS);
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);

    ctl(&res, first.config_path, "dlq", "list", "--json", NULL);
    json_t *root = ctl_json(&res, "dlq list");
    it_run_result_deinit(&res);
    json_t *rec = json_array_get(json_object_get(root, "records"), 0);
    json_t *hdrs = json_object_get(rec, "headers");
    char origin[300];
    snprintf(origin, sizeof origin, "%s/%d/%lld", env.name, (int)dr.partition,
             (long long)dr.offset);
    IT_WK_CHECK(
        json_integer_value(json_object_get(root, "total")) == 1 &&
            strcmp(json_string_value(json_object_get(hdrs, "hookpipe-error-class")), "poison") ==
                0 &&
            strcmp(json_string_value(json_object_get(hdrs, "hookpipe-origin")), origin) == 0 &&
            strcmp(json_string_value(json_object_get(hdrs, "hookpipe-event-id")), "LK_poison") ==
                0 &&
            json_string_value(json_object_get(hdrs, "hookpipe-error")) &&
            json_is_false(json_object_get(rec, "requeued")),
        "dlq list: %s", res.out ? res.out : "");
    json_decref(root);
    ctl(&res, first.config_path, "dlq", "list", NULL);
    IT_WK_CHECK(res.exit_code == 0 && strstr(res.out, "LK_poison") && strstr(res.out, "poison"),
                "dlq list (table): %s%s", res.out, res.err);
    it_run_result_deinit(&res);

    /* The cause removed: a worker whose livekit source only stores. */
    IT_WK_CHECK(it_wk_stop(&first, SIGTERM, 30000) == 0, "worker did not stop cleanly");
    start_worker_edited(&fixed, &env, first.config_path, livekit_stores);

    ctl(&res, first.config_path, "dlq", "requeue", "--all", "--dry-run", NULL);
    IT_WK_CHECK(res.exit_code == 0 && strstr(res.out, "would requeue 1 record"), "dry run: %s%s",
                res.out, res.err);
    it_run_result_deinit(&res);
    it_sleep_ms(IT_GW_SETTLE_MS);
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 0 FROM hookpipe_events WHERE event_id = 'LK_poison'");

    it_kafka_snapshot snap;
    IT_WK_CHECK(it_kafka_snapshot_take(&snap, env.name, err, sizeof err) == 0, "%s", err);
    ctl(&res, first.config_path, "dlq", "requeue", "--all", "--json", NULL);
    root = ctl_json(&res, "dlq requeue --all");
    it_run_result_deinit(&res);
    IT_WK_CHECK(json_integer_value(json_object_get(root, "count")) == 1, "requeued %lld",
                (long long)json_integer_value(json_object_get(root, "count")));
    json_decref(root);
    it_wk_await(&env, "1", IT_WK_WAIT_MS,
                "SELECT count(*) FROM hookpipe_events WHERE source = 'livekit' "
                "AND event_id = 'LK_poison'");
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    /* The copy kept the DLQ's headers and says where it came from. */
    it_kafka_record copy;
    IT_WK_CHECK(it_kafka_find(&snap, "LK_poison", IT_WK_WAIT_MS, &copy, err, sizeof err) == 1,
                "the requeued record is not in %s: %s", env.name, err);
    char from[300];
    snprintf(from, sizeof from, "%s/0/0", env.dlq_topic);
    const it_kafka_header *h = it_kafka_record_header(&copy, "hookpipe-requeued-from");
    IT_WK_CHECK(h && strcmp(h->value, from) == 0, "hookpipe-requeued-from %s, want %s",
                h ? h->value : "(none)", from);
    h = it_kafka_record_header(&copy, "hookpipe-error-class");
    IT_WK_CHECK(h && strcmp(h->value, "poison") == 0, "the DLQ headers were not kept");
    IT_WK_CHECK(copy.key && strcmp(copy.key, "RM_poison") == 0, "key %s", copy.key);
    it_kafka_record_deinit(&copy);
    it_kafka_snapshot_deinit(&snap);

    /* Twice: nothing new is requeued, the effect stays single. */
    int64_t before[IT_WK_PARTITIONS], after[IT_WK_PARTITIONS];
    it_wk_ends(&env, before);
    ctl(&res, first.config_path, "dlq", "requeue", "--all", NULL);
    IT_WK_CHECK(res.exit_code == 0 && strstr(res.out, "nothing to requeue"), "second requeue: %s%s",
                res.out, res.err);
    it_run_result_deinit(&res);
    it_wk_ends(&env, after);
    for (int p = 0; p < IT_WK_PARTITIONS; p++)
        IT_WK_CHECK(before[p] == after[p], "partition %d grew on the second requeue", p);
    ctl(&res, first.config_path, "dlq", "list", "--json", NULL);
    root = ctl_json(&res, "dlq list after requeue");
    it_run_result_deinit(&res);
    IT_WK_CHECK(json_is_true(json_object_get(json_array_get(json_object_get(root, "records"), 0),
                                             "requeued")),
                "dlq list does not show the record as requeued");
    json_decref(root);
    it_sleep_ms(IT_GW_SETTLE_MS);
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 1 FROM hookpipe_events WHERE event_id = 'LK_poison'");

    /* --offset requeues that record even though it was requeued before; dedup keeps it single. */
    ctl(&res, first.config_path, "dlq", "requeue", "--offset", "0:0", NULL);
    IT_WK_CHECK(res.exit_code == 0 && strstr(res.out, "requeued 1 record"), "--offset: %s%s",
                res.out, res.err);
    it_run_result_deinit(&res);
    it_wk_await_metric(&fixed, EVENTS, "result=\"duplicate\"", 1, IT_WK_WAIT_MS);
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 1 FROM hookpipe_events WHERE event_id = 'LK_poison'");
    ctl(&res, first.config_path, "dlq", "requeue", "--offset", "0:7", NULL);
    IT_WK_CHECK(res.exit_code == 2 && strstr(res.err, "holds offsets 0..0"), "--offset 0:7: %s",
                res.err);
    it_run_result_deinit(&res);

    it_wk_env_close(&env);
    if (it_kafka_delete_group(requeue_group, err, sizeof err) < 0)
        fprintf(stderr, "test_ctl: %s\n", err);
}
END_TEST

int main(void)
{
    it_wk_runner_init();
    Suite *s = suite_create("ctl");
    TCase *tc = tcase_create("ctl");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, NULL, it_wk_cleanup);
    tcase_add_test(tc, test_send_every_scheme);
    tcase_add_test(tc, test_lag_matches_worker_metrics);
    tcase_add_test(tc, test_replay_to_earliest_applies_nothing_twice);
    tcase_add_test(tc, test_dlq_requeue_applies_once);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
