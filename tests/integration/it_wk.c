/*
 * it_wk: hookpipe-worker under test — its env, its processes, the records
 * it is fed and the database it writes. See it_wk.h; it_wk_observe.c reads
 * back its metrics, the group's offsets and the DLQ.
 */
#include "it_wk.h"

#include "hp_alloc.h"
#include "hp_envelope.h"
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h" /* it_sleep_ms */
#include "it_kafka_admin.h"

#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define LOG_TAIL_BYTES 5000
#define POLL_MS 200
#define MIGRATE_TIMEOUT_MS 60000
#define FLUSH_TIMEOUT_MS 30000
/* The request headers the gateway would have recorded. */
#define HTTP_HEADERS "{\"content-type\":\"application/json\",\"user-agent\":\"hookpipe-it-wk/1.0\"}"

static pid_t runner_pid;
static it_wk_env *current;
/* Delivery reports run inside the test's own rd_kafka_poll/flush calls. */
static long delivery_failures;
static char delivery_error[256];

void it_wk_runner_init(void)
{
    runner_pid = getpid();
}

static long runner(void)
{
    return (long)(runner_pid ? runner_pid : getpid());
}

__attribute__((format(printf, 3, 0))) static void vtext(char *out, size_t outsz, const char *fmt,
                                                        va_list ap)
{
    int n = vsnprintf(out, outsz, fmt, ap);
    ck_assert_msg(n >= 0 && (size_t)n < outsz, "it_wk: text too long: %.80s", fmt);
}

__attribute__((format(printf, 3, 4))) static void text_of(char *out, size_t outsz, const char *fmt,
                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtext(out, outsz, fmt, ap);
    va_end(ap);
}

/* ---- the env ---- */

static void drop_schemas(const char *like)
{
    char sql[512];
    PGconn *pg = PQconnectdb(it_postgres_dsn());
    text_of(sql, sizeof sql,
            "SELECT string_agg(format('DROP SCHEMA %%I CASCADE', nspname), '; ') "
            "FROM pg_namespace WHERE nspname LIKE '%s'",
            like);
    PQclear(PQexec(pg, "SET client_min_messages = warning")); /* no NOTICE per dropped object */
    PGresult *res = PQstatus(pg) == CONNECTION_OK ? PQexec(pg, sql) : NULL;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0)) {
        PGresult *drop = PQexec(pg, PQgetvalue(res, 0, 0));
        if (PQresultStatus(drop) != PGRES_COMMAND_OK)
            fprintf(stderr, "it_wk: %s", PQerrorMessage(pg));
        PQclear(drop);
    } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "it_wk: dropping schemas %s: %s", like, PQerrorMessage(pg));
    }
    PQclear(res);
    PQfinish(pg);
}

void it_wk_cleanup(void)
{
    char text[128], err[512];
    char **names = NULL;
    text_of(text, sizeof text, "it-wk-%ld-", runner());
    long n = it_kafka_list_topics(text, &names, err, sizeof err);
    if (n < 0 ||
        (n > 0 && it_kafka_delete_topics((const char *const *)names, (size_t)n, err, sizeof err)))
        fprintf(stderr, "it_wk_cleanup: %s\n", err);
    for (long i = 0; i < n; i++)
        free(names[i]);
    free(names);
    text_of(text, sizeof text, "it\\_wk\\_%ld\\_%%", runner());
    drop_schemas(text);
    glob_t g;
    text_of(text, sizeof text, "/tmp/hookpipe-it-wk-%ld-*", runner());
    if (glob(text, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            it_tempdir_remove(g.gl_pathv[i]);
        globfree(&g);
    }
}

static json_t *source(const char *name, const char *handler, json_t *verify, const char *type,
                      const char *key, const char *time)
{
    json_t *src = json_pack("{s:s, s:o, s:{s:s}, s:s}", "name", name, "verify", verify, "event_id",
                            "json", "/id", "handler", handler);
    if (type)
        json_object_set_new(src, "event_type", json_pack("{s:s}", "json", type));
    if (key)
        json_object_set_new(src, "key", json_pack("{s:s}", "json", key));
    if (time)
        json_object_set_new(src, "event_time", json_pack("{s:s}", "json", time));
    return src;
}

/* The test's configuration, as the worker and its migrate command read it. */
static void write_config(const it_wk_env *env, const char *path, int admin_port)
{
    char admin[64];
    text_of(admin, sizeof admin, "127.0.0.1:%d", admin_port);
    json_error_t jerr;
    json_t *props =
        json_loads(env->opt.kafka_properties ? env->opt.kafka_properties : "{}", 0, &jerr);
    ck_assert_msg(json_is_object(props), "kafka_properties: %s", jerr.text);
    json_t *hmac = json_pack("{s:s, s:s, s:[s]}", "scheme", "hmac-sha256", "header", "X-Signature",
                             "secrets", "it-wk-secret");
    json_t *lk = json_pack("{s:s, s:s, s:[s]}", "scheme", "livekit", "api_key", "APIitwk",
                           "secrets", "it-wk-livekit-secret");
    json_t *sources =
        json_pack("[o, o, o]", source("entity", "entity", hmac, "/type", "/entity", "/ts"),
                  source("livekit", "livekit", lk, "/event", "/room/sid", "/createdAt"),
                  source("store", "store", json_deep_copy(hmac), NULL, NULL, NULL));
    json_t *cfg = json_pack(
        "{s:{s:s, s:s, s:s, s:o}, s:{s:s}, s:{s:s, s:i, s:i, s:i, s:i, s:i, s:s}, s:{s:s}, s:o}",
        "kafka", "brokers", it_kafka_brokers(), "topic", env->name, "dlq_topic", env->dlq_topic,
        "properties", props, "postgres", "dsn", env->dsn, "worker", "group_id", env->group,
        "batch_max", env->opt.batch_max, "batch_wait_ms", 20, "retry_initial_ms", 100,
        "retry_max_ms", 2000, "lanes", env->opt.lanes, "admin_listen", admin, "log", "level",
        "info", "sources", sources);
    ck_assert_msg(cfg != NULL, "it_wk: cannot build the configuration");
    char *text = json_dumps(cfg, JSON_INDENT(2));
    json_decref(cfg);
    ck_assert_msg(it_write_file(path, text, strlen(text)) == 0, "%s: %s", path, strerror(errno));
    free(text);
}

static void spawn(it_proc *p, const char *config, const char *log, bool migrate)
{
    const char *argv[] = {IT_WK_BIN, "-c", config, migrate ? "migrate" : NULL, NULL};
    /* The file says it all: no override from the test's environment. */
    const char *unset[] = {"HOOKPIPE_KAFKA_BROKERS", "HOOKPIPE_POSTGRES_DSN", "HOOKPIPE_LISTEN",
                           "HOOKPIPE_ADMIN_LISTEN", NULL};
    char err[512];
    ck_assert_msg(access(IT_WK_BIN, X_OK) == 0, "%s: %s (build the hookpipe-worker target)",
                  IT_WK_BIN, strerror(errno));
    IT_WK_CHECK(it_proc_spawn(p, argv, unset, NULL, log, err, sizeof err) == 0, "spawn %s: %s",
                IT_WK_BIN, err);
}

static void migrate(it_wk_env *env)
{
    char config[300], log[300];
    text_of(config, sizeof config, "%s/migrate.json", env->dir);
    text_of(log, sizeof log, "%s/migrate.log", env->dir);
    write_config(env, config, 0);
    it_proc p;
    spawn(&p, config, log, true);
    int rc = it_proc_stop(&p, 0, MIGRATE_TIMEOUT_MS); /* signal 0: only waits */
    it_proc_kill(&p);
    IT_WK_CHECK(rc == 0, "hookpipe-worker migrate exited %d (-1: still running after %d ms)", rc,
                MIGRATE_TIMEOUT_MS);
}

/* The stack's DSN with the schema as the search_path of every session. */
static void schema_dsn(char *out, size_t outsz, const char *base, const char *schema)
{
    if (strncmp(base, "postgresql://", 13) == 0 || strncmp(base, "postgres://", 11) == 0)
        text_of(out, outsz, "%s%coptions=-csearch_path%%3D%s", base, strchr(base, '?') ? '&' : '?',
                schema);
    else
        text_of(out, outsz, "%s options='-csearch_path=%s'", base, schema);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    it_wk_delivery *dr = msg->_private;
    if (msg->err) {
        delivery_failures++;
        snprintf(delivery_error, sizeof delivery_error, "%s", rd_kafka_err2str(msg->err));
    }
    if (dr)
        *dr = (it_wk_delivery){
            .done = true, .err = msg->err, .partition = msg->partition, .offset = msg->offset};
}

void it_wk_env_open(it_wk_env *env, const it_wk_options *opt)
{
    char err[512], sql[256];
    memset(env, 0, sizeof *env);
    if (opt)
        env->opt = *opt;
    if (env->opt.batch_max <= 0)
        env->opt.batch_max = 100;
    if (env->opt.lanes <= 0)
        env->opt.lanes = 1;
    long long clock = (long long)hp_time_mono_ns();
    text_of(env->name, sizeof env->name, "it-wk-%ld-%lld", runner(), clock);
    text_of(env->dlq_topic, sizeof env->dlq_topic, "%s-dlq", env->name);
    text_of(env->group, sizeof env->group, "%s-group", env->name);
    text_of(env->schema, sizeof env->schema, "it_wk_%ld_%lld", runner(), clock);
    schema_dsn(env->dsn, sizeof env->dsn, it_postgres_dsn(), env->schema);
    text_of(sql, sizeof sql, "hookpipe-it-wk-%ld", runner());
    ck_assert_msg(it_tempdir(env->dir, sizeof env->dir, sql) == 0, "mkdtemp: %s", strerror(errno));
    current = env;

    ck_assert_msg(it_kafka_create_topic(env->name, IT_WK_PARTITIONS, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_msg(it_kafka_create_topic(env->dlq_topic, 1, err, sizeof err) == 0, "%s", err);
    PGconn *admin = it_pg_connect();
    text_of(sql, sizeof sql, "CREATE SCHEMA %s", env->schema);
    PQclear(it_pg_exec(admin, sql, PGRES_COMMAND_OK));
    PQfinish(admin);
    env->pg = PQconnectdb(env->dsn);
    ck_assert_msg(PQstatus(env->pg) == CONNECTION_OK, "%s: %s", env->dsn, PQerrorMessage(env->pg));
    delivery_failures = 0;
    env->producer = it_producer_new(on_delivery);
    migrate(env);
}

void it_wk_env_close(it_wk_env *env)
{
    char err[512], like[128];
    for (int i = 0; i < IT_WK_MAX_WORKERS; i++)
        if (env->workers[i])
            it_wk_free(env->workers[i]);
    if (env->producer) {
        rd_kafka_flush(env->producer, 5000);
        rd_kafka_destroy(env->producer);
    }
    PQfinish(env->pg);
    const char *topics[] = {env->name, env->dlq_topic};
    ck_assert_msg(it_kafka_delete_topics(topics, 2, err, sizeof err) == 0, "%s", err);
    /* A member killed with SIGKILL stays until its session times out: then
     * the group cannot be deleted yet, and it expires on its own. */
    if (it_kafka_delete_group(env->group, err, sizeof err) < 0)
        fprintf(stderr, "it_wk: %s (left to expire)\n", err);
    size_t k = 0; /* the schema's name as a LIKE pattern: '_' matches itself only */
    for (const char *c = env->schema; *c && k + 2 < sizeof like; c++) {
        if (*c == '_')
            like[k++] = '\\';
        like[k++] = *c;
    }
    like[k] = '\0';
    drop_schemas(like);
    it_tempdir_remove(env->dir);
    if (current == env)
        current = NULL;
    memset(env, 0, sizeof *env);
}

void it_wk_dump_logs(const it_wk_env *env)
{
    char pattern[300];
    glob_t g;
    if (!env)
        env = current;
    if (!env || !env->dir[0])
        return;
    text_of(pattern, sizeof pattern, "%s/*.log", env->dir);
    if (glob(pattern, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++)
        it_print_file_tail(g.gl_pathv[i], LOG_TAIL_BYTES, "hookpipe-worker log");
    globfree(&g);
}

/* ---- workers ---- */

void it_wk_start(it_wk *wk, it_wk_env *env)
{
    char err[512];
    int slot = 0;
    while (slot < IT_WK_MAX_WORKERS && env->workers[slot])
        slot++;
    ck_assert_msg(slot < IT_WK_MAX_WORKERS, "more than %d workers", IT_WK_MAX_WORKERS);
    memset(wk, 0, sizeof *wk);
    wk->env = env;
    int k = env->nstarted++;
    text_of(wk->config_path, sizeof wk->config_path, "%s/worker-%d.json", env->dir, k);
    text_of(wk->log_path, sizeof wk->log_path, "%s/worker-%d.log", env->dir, k);
    wk->admin_port = it_free_port();
    ck_assert_msg(wk->admin_port > 0, "no free port");
    write_config(env, wk->config_path, wk->admin_port);
    spawn(&wk->proc, wk->config_path, wk->log_path, false);
    env->workers[slot] = wk;
    int rc = it_proc_wait_http(&wk->proc, "127.0.0.1", wk->admin_port, "/readyz", 200,
                               IT_WK_READY_TIMEOUT_MS, err, sizeof err);
    IT_WK_CHECK(rc == 0, "worker-%d not ready: %s", k, err);
}

int it_wk_stop(it_wk *wk, int sig, int timeout_ms)
{
    return it_proc_stop(&wk->proc, sig, timeout_ms);
}

void it_wk_free(it_wk *wk)
{
    it_proc_kill(&wk->proc);
    for (int i = 0; wk->env && i < IT_WK_MAX_WORKERS; i++)
        if (wk->env->workers[i] == wk)
            wk->env->workers[i] = NULL;
    wk->env = NULL;
}

/* ---- producing ---- */

void it_wk_produce(it_wk_env *env, const it_wk_event *ev, it_wk_delivery *dr)
{
    /* No envelope: no header at all (an empty set is the same on the wire). */
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(0);
    if (ev->source) {
        hp_envelope e = {
            .version = HP_ENVELOPE_VERSION,
            .source = (char *)ev->source,
            .event_id = (char *)ev->event_id,
            .event_type = (char *)ev->event_type,
            .event_time_ms = ev->event_time_ms ? ev->event_time_ms : HP_ENVELOPE_NO_TIME,
            .received_at_ms = hp_time_now_ms(),
            .content_type = (char *)"application/json",
            .gateway = (char *)"it-wk",
            .remote_addr = (char *)"127.0.0.1",
            .http_headers = (char *)HTTP_HEADERS,
        };
        rd_kafka_headers_destroy(hdrs);
        hdrs = hp_envelope_headers_new(&e);
    }
    size_t len = ev->body_len ? ev->body_len : strlen(ev->body);
    size_t klen = ev->key ? strlen(ev->key) : 0;
    if (dr)
        memset(dr, 0, sizeof *dr);
    rd_kafka_resp_err_t err;
    int64_t deadline = hp_time_mono_ns() + (int64_t)FLUSH_TIMEOUT_MS * 1000000;
    while ((err = rd_kafka_producev(
                env->producer, RD_KAFKA_V_TOPIC(env->name), RD_KAFKA_V_KEY(ev->key, klen),
                RD_KAFKA_V_VALUE((void *)ev->body, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(dr), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL &&
           hp_time_mono_ns() < deadline)
        rd_kafka_poll(env->producer, 100);
    if (err)
        rd_kafka_headers_destroy(hdrs);
    ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR, "produce to %s: %s", env->name,
                  rd_kafka_err2str(err));
    rd_kafka_poll(env->producer, 0);
}

void it_wk_produce_entity(it_wk_env *env, const char *id, const char *entity, int n, int64_t at_ms,
                          it_wk_delivery *dr)
{
    char body[512];
    text_of(body, sizeof body,
            "{\"id\":\"%s\",\"type\":\"customer.updated\",\"entity\":\"%s\",\"ts\":%lld,"
            "\"data\":{\"n\":%d}}",
            id, entity, (long long)at_ms, n);
    it_wk_event ev = {.source = "entity",
                      .event_id = id,
                      .event_type = "customer.updated",
                      .event_time_ms = at_ms,
                      .key = entity,
                      .body = body};
    it_wk_produce(env, &ev, dr);
}

void it_wk_flush(it_wk_env *env)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(env->producer, FLUSH_TIMEOUT_MS);
    ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR, "flush: %s (%d records not delivered)",
                  rd_kafka_err2str(err), rd_kafka_outq_len(env->producer));
    ck_assert_msg(delivery_failures == 0, "%ld records were not delivered: %s", delivery_failures,
                  delivery_error);
}

/* ---- the database ---- */

/* The query's value, or NULL with PostgreSQL's message in error (a broken
 * session is reset, so the next try may work). */
static char *try_value(it_wk_env *env, const char *sql, char *error, size_t errsz)
{
    if (PQstatus(env->pg) != CONNECTION_OK)
        PQreset(env->pg);
    PGresult *res = PQexec(env->pg, sql);
    char *v = NULL;
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        v = hp_xstrdup(PQntuples(res) > 0 && PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    else
        snprintf(error, errsz, "%s", PQerrorMessage(env->pg));
    PQclear(res);
    return v;
}

char *it_wk_value(it_wk_env *env, const char *fmt, ...)
{
    char sql[8192], error[512];
    va_list ap;
    va_start(ap, fmt);
    vtext(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *v = try_value(env, sql, error, sizeof error);
    IT_WK_CHECK(v != NULL, "%s: %s", sql, error);
    return v;
}

long long it_wk_int(it_wk_env *env, const char *fmt, ...)
{
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vtext(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *v = it_wk_value(env, "%s", sql), *end;
    long long n = strtoll(v, &end, 10);
    IT_WK_CHECK(end != v && *end == '\0', "%s: \"%s\" is not an integer", sql, v);
    free(v);
    return n;
}

long it_wk_await(it_wk_env *env, const char *want, int timeout_ms, const char *fmt, ...)
{
    char sql[8192], last[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vtext(sql, sizeof sql, fmt, ap);
    va_end(ap);
    int64_t t0 = hp_time_mono_ns(), deadline = t0 + (int64_t)timeout_ms * 1000000;
    for (;;) {
        char *v = try_value(env, sql, last, sizeof last);
        bool ok = v && strcmp(v, want) == 0;
        if (v)
            snprintf(last, sizeof last, "%s", v);
        free(v);
        if (ok)
            return (long)((hp_time_mono_ns() - t0) / 1000000);
        IT_WK_CHECK(hp_time_mono_ns() < deadline, "after %d ms, %s gives \"%s\", want \"%s\"",
                    timeout_ms, sql, last, want);
        it_sleep_ms(POLL_MS);
    }
}
