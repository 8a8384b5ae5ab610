/*
 * wk_migrate against the stack's PostgreSQL: the compiled-in migrations are
 * the files of worker/migrations byte for byte; applying records every
 * version once and is idempotent; the schema check tells an empty, a
 * current and a newer schema apart; two sessions that migrate at once are
 * serialised by the advisory lock; a failing migration leaves nothing behind
 * (no objects, no transaction, no lock); a lost connection is HP_ERR_RETRY.
 * And wk_pgerr classifies real server errors as its table says.
 *
 * Each test works in a scratch schema of its own (it_mig_<pid>_<clock>) set
 * as the search_path of its connections, and drops it at the end; what a
 * failed test leaves behind is dropped after the last test. The advisory
 * lock is database-wide, which only makes concurrent runs wait.
 */
#include "it_env.h"
#include "it_proc.h" /* it_read_file */

#include "hp_time.h"
#include "wk_migrate.h"
#include "wk_pg.h"
#include "wk_pgerr.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* wk_migrate.c's lock key ("hookpipe" in ASCII). */
#define LOCK_KEY "7525356009597530213"
#define WAIT_NS (10LL * 1000000000LL)

/* ---- scratch schemas ---- */

typedef struct scratch {
    char schema[64];
} scratch;

/* The pid of the test runner, which names every schema of this run: each
 * test runs in a child process of its own. */
static long run_pid;

/* Creates a new empty schema. */
static void scratch_create(scratch *sc)
{
    int n = snprintf(sc->schema, sizeof sc->schema, "it_mig_%ld_%lld", run_pid,
                     (long long)hp_time_mono_ns());
    ck_assert(n > 0 && (size_t)n < sizeof sc->schema);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", sc->schema);
    PGconn *pg = it_pg_connect();
    PQclear(it_pg_exec(pg, sql, PGRES_COMMAND_OK));
    PQfinish(pg);
}

/* A connection whose search_path is the scratch schema only. */
static PGconn *scratch_connect(const scratch *sc)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SET search_path TO %s", sc->schema);
    PGconn *pg = it_pg_connect();
    PQclear(it_pg_exec(pg, sql, PGRES_COMMAND_OK));
    return pg;
}

static void scratch_drop(scratch *sc)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", sc->schema);
    PGconn *pg = it_pg_connect();
    /* Without the NOTICE that lists every object dropped. */
    PQclear(it_pg_exec(pg, "SET client_min_messages = warning", PGRES_COMMAND_OK));
    PQclear(it_pg_exec(pg, sql, PGRES_COMMAND_OK));
    PQfinish(pg);
}

/* Drops the schemas of this run that a failed test left behind. Runs in
 * the runner process after all tests, however they ended. */
static void scratch_drop_leftovers(void)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'it\\_mig\\_%ld\\_%%'", run_pid);
    PGconn *pg = PQconnectdb(it_postgres_dsn());
    PGresult *res = PQexec(pg, sql);
    PQclear(PQexec(pg, "SET client_min_messages = warning"));
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); i++) {
        char drop[128];
        snprintf(drop, sizeof drop, "DROP SCHEMA %s CASCADE", PQgetvalue(res, i, 0));
        PQclear(PQexec(pg, drop));
    }
    PQclear(res);
    PQfinish(pg);
}

/* The single value sql returns, as a long. */
static long query_long(PGconn *pg, const char *sql)
{
    PGresult *res = it_pg_exec(pg, sql, PGRES_TUPLES_OK);
    ck_assert_int_eq(PQntuples(res), 1);
    long v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

/* Applies the migrations and insists that it works. */
static int apply_ok(PGconn *pg)
{
    char err[512] = "";
    int applied = -1;
    hp_err rc = wk_migrate_apply(pg, &applied, err, sizeof err);
    ck_assert_msg(rc == HP_OK, "wk_migrate_apply: %s: %s", hp_err_name(rc), err);
    return applied;
}

/* This session's holds on the migration lock (the key's two halves, as
 * pg_locks shows a bigint key). Other processes may migrate meanwhile: the
 * lock is database-wide, so only a session's own holds tell anything. */
#define LOCK_ROWS                                                                                  \
    "FROM pg_locks WHERE locktype = 'advisory' AND classid = 1752133483"                           \
    " AND objid = 1885958245 AND objsubid = 1"

static long lock_holds(PGconn *pg)
{
    return query_long(pg, "SELECT count(*) " LOCK_ROWS " AND granted AND pid = pg_backend_pid()");
}

/* ---- the embedded set ---- */

START_TEST(test_embedded_set)
{
    size_t n = 0;
    const wk_migration *m = wk_migrations(&n);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(wk_migrate_latest(), (int)n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(m[i].version, (int)i + 1);
        char prefix[8];
        snprintf(prefix, sizeof prefix, "%04d_", m[i].version);
        ck_assert_msg(strncmp(m[i].name, prefix, 5) == 0, "%s", m[i].name);

        /* Byte for byte the file of the source tree. */
        char path[1024];
        snprintf(path, sizeof path, "%s/worker/migrations/%s", HP_SOURCE_DIR, m[i].name);
        size_t len = 0;
        char *text = it_read_file(path, 16u << 20, false, &len);
        ck_assert_msg(text != NULL, "%s: cannot read", path);
        ck_assert_uint_eq(strlen(m[i].sql), len);
        ck_assert_msg(memcmp(m[i].sql, text, len) == 0, "%s differs from its file", m[i].name);
        free(text);
    }
}
END_TEST

/* ---- apply and check ---- */

START_TEST(test_apply_records_every_version_once)
{
    scratch sc;
    scratch_create(&sc);
    PGconn *pg = scratch_connect(&sc);
    size_t n = 0;
    const wk_migration *m = wk_migrations(&n);

    ck_assert_int_eq(apply_ok(pg), (int)n);
    PGresult *res = it_pg_exec(
        pg, "SELECT version, name, applied_at <= now() FROM hookpipe_schema_migrations ORDER BY 1",
        PGRES_TUPLES_OK);
    ck_assert_int_eq(PQntuples(res), (int)n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(strtol(PQgetvalue(res, (int)i, 0), NULL, 10), m[i].version);
        ck_assert_str_eq(PQgetvalue(res, (int)i, 1), m[i].name);
        ck_assert_str_eq(PQgetvalue(res, (int)i, 2), "t");
    }
    PQclear(res);

    /* The table went to the search_path, that is the scratch schema. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_tables WHERE schemaname = '%s'"
             " AND tablename = 'hookpipe_schema_migrations'",
             sc.schema);
    ck_assert_int_eq(query_long(pg, sql), 1);

    /* Up to date: nothing to do, nothing recorded twice. */
    ck_assert_int_eq(apply_ok(pg), 0);
    ck_assert_int_eq(query_long(pg, "SELECT count(*) FROM hookpipe_schema_migrations"), (long)n);
    ck_assert_int_eq(PQtransactionStatus(pg), PQTRANS_IDLE);
    ck_assert_int_eq(lock_holds(pg), 0);

    PQfinish(pg);
    scratch_drop(&sc);
}
END_TEST

START_TEST(test_check_current)
{
    scratch sc;
    scratch_create(&sc);
    PGconn *pg = scratch_connect(&sc);
    (void)apply_ok(pg);

    char err[512] = "";
    hp_err rc = wk_migrate_check(pg, err, sizeof err);
    ck_assert_msg(rc == HP_OK, "wk_migrate_check: %s: %s", hp_err_name(rc), err);

    PQfinish(pg);
    scratch_drop(&sc);
}
END_TEST

START_TEST(test_check_empty_schema)
{
    scratch sc;
    scratch_create(&sc);
    PGconn *pg = scratch_connect(&sc);

    char err[512] = "";
    ck_assert_int_eq(wk_migrate_check(pg, err, sizeof err), HP_ERR_FATAL);
    char want[256];
    snprintf(want, sizeof want,
             "the database schema is at version 0, this worker needs %d: "
             "run `hookpipe-worker -c FILE migrate`",
             wk_migrate_latest());
    ck_assert_str_eq(err, want);
    /* Asking created nothing. */
    ck_assert_int_eq(query_long(pg,
                                "SELECT count(*) FROM pg_class WHERE relnamespace = "
                                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"),
                     0);

    /* An empty table is version 0 too. */
    PQclear(it_pg_exec(pg,
                       "CREATE TABLE hookpipe_schema_migrations (version int PRIMARY KEY,"
                       " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                       PGRES_COMMAND_OK));
    ck_assert_int_eq(wk_migrate_check(pg, err, sizeof err), HP_ERR_FATAL);
    ck_assert_str_eq(err, want);

    PQfinish(pg);
    scratch_drop(&sc);
}
END_TEST

START_TEST(test_check_newer_schema)
{
    scratch sc;
    scratch_create(&sc);
    PGconn *pg = scratch_connect(&sc);
    (void)apply_ok(pg);
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO hookpipe_schema_migrations (version, name) VALUES (%d, 'future.sql')",
             wk_migrate_latest() + 1);
    PQclear(it_pg_exec(pg, sql, PGRES_COMMAND_OK));

    char err[512] = "";
    ck_assert_int_eq(wk_migrate_check(pg, err, sizeof err), HP_ERR_FATAL);
    ck_assert_msg(strstr(err, "this worker is older than the database schema") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "run a newer hookpipe-worker") != NULL, "%s", err);

    /* Nor does an older worker migrate a newer schema. */
    int applied = -1;
    err[0] = '\0';
    ck_assert_int_eq(wk_migrate_apply(pg, &applied, err, sizeof err), HP_ERR_FATAL);
    ck_assert_int_eq(applied, 0);
    ck_assert_msg(strstr(err, "newer than this worker's") != NULL, "%s", err);
    ck_assert_int_eq(lock_holds(pg), 0);

    PQfinish(pg);
    scratch_drop(&sc);
}
END_TEST

START_TEST(test_check_missing_version)
{
    scratch sc;
    scratch_create(&sc);
    PGconn *pg = scratch_connect(&sc);
    (void)apply_ok(pg);
    PQclear(it_pg_exec(pg, "DELETE FROM hookpipe_schema_migrations WHERE version = 1",
                       PGRES_COMMAND_OK));

    char err[512] = "";
    ck_assert_int_eq(wk_migrate_check(pg, err, sizeof err), HP_ERR_FATAL);
    ck_assert_msg(strstr(err, "run `hookpipe-worker -c FILE migrate`") != NULL, "%s", err);
    if (wk_migrate_latest() > 1)
        ck_assert_msg(strstr(err, "lacks 1 earlier migration") != NULL, "%s", err);

    PQfinish(pg);
    scratch_drop(&sc);
}
END_TEST

/* ---- failures ---- */

START_TEST(test_failed_migration_leaves_nothing)
{
    scratch sc;
    scratch_create(&sc);
    PGconn *pg = scratch_connect(&sc);
    /* A bookkeeping table that refuses every version: migration 0001 runs,
     * then recording it fails, inside the same transaction. */
    PQclear(it_pg_exec(pg,
                       "CREATE TABLE hookpipe_schema_migrations (version int PRIMARY KEY"
                       " CHECK (version < 0), name text NOT NULL,"
                       " applied_at timestamptz NOT NULL DEFAULT now())",
                       PGRES_COMMAND_OK));

    size_t n = 0;
    const wk_migration *m = wk_migrations(&n);
    char err[512] = "";
    int applied = -1;
    ck_assert_int_eq(wk_migrate_apply(pg, &applied, err, sizeof err), HP_ERR_FATAL);
    ck_assert_int_eq(applied, 0);
    char prefix[160];
    snprintf(prefix, sizeof prefix, "migration %s: ", m[0].name);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "%s", err);
    ck_assert_msg(strstr(err, "violates check constraint") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "(SQLSTATE 23514)") != NULL, "%s", err);
    ck_assert_msg(strchr(err, '\n') == NULL, "%s", err);

    /* Rolled back: the scratch schema holds the bookkeeping table alone, the
     * session is out of the transaction and the lock is free. */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_tables WHERE schemaname = '%s'", sc.schema);
    ck_assert_int_eq(query_long(pg, sql), 1);
    ck_assert_int_eq(PQtransactionStatus(pg), PQTRANS_IDLE);
    ck_assert_int_eq(lock_holds(pg), 0);

    PQfinish(pg);
    scratch_drop(&sc);
}
END_TEST

START_TEST(test_lost_connection_is_retry)
{
    scratch sc;
    scratch_create(&sc);
    PGconn *pg = scratch_connect(&sc);
    PGconn *admin = it_pg_connect();

    char sql[256];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", PQbackendPID(pg));
    PGresult *res = it_pg_exec(admin, sql, PGRES_TUPLES_OK);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    /* Wait until the backend is gone, so the next command certainly fails. */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %d",
             PQbackendPID(pg));
    int64_t deadline = hp_time_mono_ns() + WAIT_NS;
    while (query_long(admin, sql) != 0 && hp_time_mono_ns() < deadline)
        usleep(20 * 1000);
    ck_assert_int_eq(query_long(admin, sql), 0);

    char err[512] = "";
    int applied = -1;
    ck_assert_int_eq(wk_migrate_apply(pg, &applied, err, sizeof err), HP_ERR_RETRY);
    ck_assert_int_eq(applied, 0);
    ck_assert_msg(strncmp(err, "taking the migration lock: ", 27) == 0, "%s", err);
    ck_assert_msg(strchr(err, '\n') == NULL, "%s", err);
    ck_assert_int_eq(PQstatus(pg), CONNECTION_BAD);

    err[0] = '\0';
    ck_assert_int_eq(wk_migrate_check(pg, err, sizeof err), HP_ERR_RETRY);
    ck_assert_msg(err[0] != '\0', "no message");

    PQfinish(admin);
    PQfinish(pg);
    scratch_drop(&sc);
}
END_TEST

/* ---- two sessions at once ---- */

typedef struct migrator {
    const scratch *sc;
    PGconn *pg;
    pthread_t thread;
    hp_err rc;
    int applied;
    char err[512];
} migrator;

static void *migrate_thread(void *arg)
{
    migrator *mg = arg;
    mg->rc = wk_migrate_apply(mg->pg, &mg->applied, mg->err, sizeof mg->err);
    return NULL;
}

START_TEST(test_concurrent_apply_is_serialised)
{
    scratch sc;
    scratch_create(&sc);
    migrator mg[2];
    memset(mg, 0, sizeof mg);
    for (int i = 0; i < 2; i++) {
        mg[i].sc = &sc;
        mg[i].pg = scratch_connect(&sc);
    }

    /* Hold the lock so that both sessions wait for it, then let them race. */
    PGconn *holder = it_pg_connect();
    PQclear(it_pg_exec(holder, "SELECT pg_advisory_lock(" LOCK_KEY ")", PGRES_TUPLES_OK));
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&mg[i].thread, NULL, migrate_thread, &mg[i]), 0);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) " LOCK_ROWS " AND NOT granted AND pid IN (%d, %d)",
             PQbackendPID(mg[0].pg), PQbackendPID(mg[1].pg));
    int64_t deadline = hp_time_mono_ns() + WAIT_NS;
    while (query_long(holder, sql) < 2 && hp_time_mono_ns() < deadline)
        usleep(10 * 1000);
    ck_assert_int_eq(query_long(holder, sql), 2);
    PQclear(it_pg_exec(holder, "SELECT pg_advisory_unlock(" LOCK_KEY ")", PGRES_TUPLES_OK));

    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(mg[i].thread, NULL), 0);
    size_t n = 0;
    (void)wk_migrations(&n);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(mg[i].rc == HP_OK, "session %d: %s: %s", i, hp_err_name(mg[i].rc), mg[i].err);
    /* One did the work, the other found it done. */
    ck_assert_int_eq(mg[0].applied + mg[1].applied, (int)n);
    ck_assert(mg[0].applied == 0 || mg[1].applied == 0);
    ck_assert_int_eq(
        query_long(mg[0].pg, "SELECT count(DISTINCT version) FROM hookpipe_schema_migrations"),
        (long)n);
    ck_assert_int_eq(query_long(mg[0].pg, "SELECT count(*) FROM hookpipe_schema_migrations"),
                     (long)n);
    char err[512] = "";
    hp_err rc = wk_migrate_check(mg[1].pg, err, sizeof err);
    ck_assert_msg(rc == HP_OK, "wk_migrate_check: %s", err);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(lock_holds(mg[i].pg), 0);

    PQfinish(holder);
    for (int i = 0; i < 2; i++)
        PQfinish(mg[i].pg);
    scratch_drop(&sc);
}
END_TEST

/* ---- wk_pgerr on real errors ---- */

/* Runs sql, which must fail, and classifies the failure. */
static hp_err classify(PGconn *pg, const char *sql, const char *want_state)
{
    PGresult *res = PQexec(pg, sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    ck_assert_msg(state && strcmp(state, want_state) == 0, "%s: SQLSTATE %s, want %s", sql,
                  state ? state : "(none)", want_state);
    hp_err rc = wk_pgerr_classify(pg, res);
    PQclear(res);
    return rc;
}

START_TEST(test_pgerr_real_errors)
{
    scratch sc;
    scratch_create(&sc);
    PGconn *pg = scratch_connect(&sc);
    PGconn *other = scratch_connect(&sc);

    ck_assert_int_eq(classify(pg, "SELECT 1/0", "22012"), HP_ERR_INVALID);
    ck_assert_int_eq(classify(pg, "SELECT 'x'::int", "22P02"), HP_ERR_INVALID);
    ck_assert_int_eq(classify(pg, "SELECT * FROM no_such_table", "42P01"), HP_ERR_FATAL);
    ck_assert_int_eq(classify(pg, "SELEC 1", "42601"), HP_ERR_FATAL);
    PQclear(
        it_pg_exec(pg, "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)", PGRES_COMMAND_OK));
    ck_assert_int_eq(classify(pg, "INSERT INTO t VALUES (1, NULL)", "23502"), HP_ERR_INVALID);

    /* A lock that is not granted in time: transient. */
    PQclear(it_pg_exec(other, "BEGIN", PGRES_COMMAND_OK));
    PQclear(it_pg_exec(other, "LOCK TABLE t", PGRES_COMMAND_OK));
    PQclear(it_pg_exec(pg, "SET lock_timeout = '50ms'", PGRES_COMMAND_OK));
    PQclear(it_pg_exec(pg, "BEGIN", PGRES_COMMAND_OK));
    ck_assert_int_eq(classify(pg, "LOCK TABLE t", "55P03"), HP_ERR_RETRY);
    PQclear(it_pg_exec(pg, "ROLLBACK", PGRES_COMMAND_OK));
    PQclear(it_pg_exec(other, "ROLLBACK", PGRES_COMMAND_OK));

    /* A terminated session: the server says 57P01, or libpq says nothing;
     * retry either way. */
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", PQbackendPID(pg));
    PQclear(it_pg_exec(other, sql, PGRES_TUPLES_OK));
    PGresult *res = NULL;
    int64_t deadline = hp_time_mono_ns() + WAIT_NS;
    do {
        PQclear(res);
        res = PQexec(pg, "SELECT 1");
    } while (PQresultStatus(res) == PGRES_TUPLES_OK && hp_time_mono_ns() < deadline);
    ck_assert_int_ne(PQresultStatus(res), PGRES_TUPLES_OK);
    ck_assert_int_eq(wk_pgerr_classify(pg, res), HP_ERR_RETRY);
    PQclear(res);

    PQfinish(other);
    PQfinish(pg);
    scratch_drop(&sc);
}
END_TEST

/* ---- the server's notices ---- */

/* NOTICE and WARNING of a session with wk_pg_log_notices() are log lines,
 * not libpq's raw text on stderr. */
START_TEST(test_notices_are_logged)
{
    char path[] = "/tmp/it-wk-notices-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    PGconn *pg = it_pg_connect();
    wk_pg_log_notices(pg);
    int saved = dup(2);
    fflush(stderr);
    dup2(fd, 2);
    PGresult *res =
        PQexec(pg, "DO $$BEGIN RAISE NOTICE 'a notice from the test'; "
                   "RAISE WARNING 'a warning from the test' USING DETAIL = 'its detail'; "
                   "END$$");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(pg);
    char *log = it_read_file(path, 1u << 20, false, NULL);
    unlink(path);
    ck_assert_msg(log != NULL, "%s: cannot read", path);
    ck_assert_msg(strstr(log, "\"level\":\"info\",\"component\":\"postgres\","
                              "\"msg\":\"a notice from the test\"") != NULL,
                  "no notice line in: %s", log);
    ck_assert_msg(strstr(log,
                         "\"level\":\"warn\",\"component\":\"postgres\","
                         "\"msg\":\"a warning from the test\",\"severity\":\"WARNING\"") != NULL,
                  "no warning line in: %s", log);
    ck_assert_msg(strstr(log, "\"detail\":\"its detail\"") != NULL, "no detail in: %s", log);
    ck_assert_msg(strstr(log, "NOTICE:  ") == NULL, "libpq's raw text in: %s", log);
    free(log);
}
END_TEST

static Suite *migrate_suite(void)
{
    Suite *s = suite_create("worker_migrate");
    TCase *tc = tcase_create("real PostgreSQL");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, NULL, scratch_drop_leftovers);
    tcase_add_test(tc, test_embedded_set);
    tcase_add_test(tc, test_apply_records_every_version_once);
    tcase_add_test(tc, test_check_current);
    tcase_add_test(tc, test_check_empty_schema);
    tcase_add_test(tc, test_check_newer_schema);
    tcase_add_test(tc, test_check_missing_version);
    tcase_add_test(tc, test_failed_migration_leaves_nothing);
    tcase_add_test(tc, test_lost_connection_is_retry);
    tcase_add_test(tc, test_concurrent_apply_is_serialised);
    tcase_add_test(tc, test_pgerr_real_errors);
    tcase_add_test(tc, test_notices_are_logged);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    run_pid = (long)getpid();
    SRunner *sr = srunner_create(migrate_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
