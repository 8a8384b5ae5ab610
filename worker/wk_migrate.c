/*
 * wk_migrate: applies the migrations compiled into the worker. See
 * wk_migrate.h; the table itself is generated (wk_migrate_int.h).
 *
 * Several processes may migrate at once (a migrate job beside workers that
 * were told to migrate, two replicas of a job). Each first takes a
 * session-level advisory lock, and only then creates the bookkeeping table,
 * reads which versions it records and applies the rest; whoever comes second
 * waits, then finds nothing left to do. The lock comes before CREATE TABLE IF
 * NOT EXISTS because that statement is not safe against itself: two sessions
 * running it at once can fail on the unique index of pg_type.
 *
 * Each migration runs in a transaction of its own together with the row that
 * records it: a version is applied and recorded, or neither. So a migration
 * file holds no transaction control (BEGIN, COMMIT: checked as far as it can
 * be) and nothing that cannot run inside a transaction block (CREATE INDEX
 * CONCURRENTLY, VACUUM). Its statements run in one PQexec, and unqualified
 * names land in the session's search_path (the tests rely on that).
 *
 * The lock is released with pg_advisory_unlock on every path where the
 * connection still works. Where it broke, the server has ended the session,
 * and a session's advisory locks end with it.
 */
#include "wk_migrate.h"

#include "hp_log.h"
#include "hp_time.h"
#include "wk_migrate_int.h"
#include "wk_pgerr.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The advisory lock's key: "hookpipe" in ASCII, 0x686f6f6b70697065. A fixed
 * number rather than hashtext(), whose values PostgreSQL does not promise to
 * keep across versions. */
#define LOCK_KEY "7525356009597530213"

#define CREATE_SQL                                                                                 \
    "CREATE TABLE IF NOT EXISTS hookpipe_schema_migrations ("                                      \
    " version int PRIMARY KEY,"                                                                    \
    " name text NOT NULL,"                                                                         \
    " applied_at timestamptz NOT NULL DEFAULT now())"

#define MIGRATE_HINT "run `hookpipe-worker -c FILE migrate`"

const wk_migration *wk_migrations(size_t *n)
{
    *n = wk_migration_count;
    return wk_migration_table;
}

int wk_migrate_latest(void)
{
    return wk_migration_table[wk_migration_count - 1].version;
}

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...) HP_PRINTF(3, 4);

/* A message cut to errstr_size is still the best we can do: no check needed. */
static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (!errstr || errstr_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(errstr, errstr_size, fmt, ap) < 0)
        errstr[0] = '\0';
    va_end(ap);
}

/* Copies msg into out on one line: each run of white space (libpq's messages
 * hold newlines and tabs) becomes one space, none at either end. */
static void one_line(char *out, size_t outsz, const char *msg)
{
    size_t n = 0;
    bool space = false;
    for (const char *p = msg; *p && n + 1 < outsz; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < outsz)
            out[n++] = ' ';
        space = false;
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* The line of sql that holds character pos (1-based, as PostgreSQL counts:
 * characters, not bytes, in UTF-8), or 0 if pos is past the end. */
static int line_of(const char *sql, long pos)
{
    int line = 1;
    long chars = 0;
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue;
        if (++chars == pos)
            return line;
        if (*p == '\n')
            line++;
    }
    return 0;
}

/*
 * Describes the failure of a command as "<what>: <message> (SQLSTATE xxxxx)"
 * in errstr and classifies it: HP_ERR_RETRY when wk_pgerr says transient,
 * else HP_ERR_FATAL (a data error in a migration is the deployment's fault,
 * not a record's). res may be NULL; sql, if not NULL, is the text that ran,
 * for a "line N: " in front of the message.
 */
static hp_err fail(PGconn *pg, const PGresult *res, const char *sql, const char *what, char *errstr,
                   size_t errstr_size)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *position = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
    char msg[512];
    one_line(msg, sizeof msg, primary ? primary : PQerrorMessage(pg));
    if (msg[0] == '\0')
        snprintf(msg, sizeof msg, "%s", res ? PQresStatus(PQresultStatus(res)) : "no result");

    char where[32] = "";
    if (sql && position) {
        int line = line_of(sql, strtol(position, NULL, 10));
        if (line > 0)
            snprintf(where, sizeof where, "line %d: ", line);
    }
    if (state)
        set_err(errstr, errstr_size, "%s: %s%s (SQLSTATE %s)", what, where, msg, state);
    else
        set_err(errstr, errstr_size, "%s: %s%s", what, where, msg);
    return wk_pgerr_classify(pg, res) == HP_ERR_RETRY ? HP_ERR_RETRY : HP_ERR_FATAL;
}

/* Runs sql, which returns want. On success *out (if not NULL) gets the
 * result, which the caller clears; on failure errstr says what failed. */
static hp_err run(PGconn *pg, const char *sql, ExecStatusType want, PGresult **out,
                  const char *what, char *errstr, size_t errstr_size)
{
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != want) {
        hp_err rc = fail(pg, res, NULL, what, errstr, errstr_size);
        PQclear(res);
        return rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return HP_OK;
}

/* Takes the advisory lock, saying so when another session holds it. */
static hp_err lock(PGconn *pg, char *errstr, size_t errstr_size)
{
    const char *what = "taking the migration lock";
    PGresult *res = NULL;
    hp_err rc = run(pg, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", PGRES_TUPLES_OK, &res, what,
                    errstr, errstr_size);
    if (rc != HP_OK)
        return rc;
    bool locked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (locked)
        return HP_OK;
    hp_log(HP_LOG_INFO, "worker", "another session is migrating the schema: waiting for it",
           HP_LOG_STR("database", PQdb(pg)));
    return run(pg, "SELECT pg_advisory_lock(" LOCK_KEY ")", PGRES_TUPLES_OK, NULL, what, errstr,
               errstr_size);
}

/* Releases the lock if the session still lives; keeps the first error. */
static hp_err unlock(PGconn *pg, hp_err rc, char *errstr, size_t errstr_size)
{
    if (PQstatus(pg) != CONNECTION_OK)
        return rc;
    char err[512];
    hp_err urc = run(pg, "SELECT pg_advisory_unlock(" LOCK_KEY ")", PGRES_TUPLES_OK, NULL,
                     "releasing the migration lock", err, sizeof err);
    if (urc == HP_OK || rc != HP_OK)
        return rc;
    set_err(errstr, errstr_size, "%s", err);
    return urc;
}

/* Ends a COPY that a migration started (PQexec stops at it), so that the
 * connection can roll back. */
static void end_copy(PGconn *pg, ExecStatusType status)
{
    if (status == PGRES_COPY_IN || status == PGRES_COPY_BOTH) {
        (void)PQputCopyEnd(pg, "a migration cannot read COPY data");
    } else if (status == PGRES_COPY_OUT) {
        char *buf;
        while (PQgetCopyData(pg, &buf, 0) > 0)
            PQfreemem(buf);
    }
    PGresult *res;
    while ((res = PQgetResult(pg)) != NULL)
        PQclear(res);
}

/* Runs the migration's own SQL inside the open transaction. */
static hp_err run_file(PGconn *pg, const wk_migration *m, const char *what, char *errstr,
                       size_t errstr_size)
{
    hp_err rc = HP_OK;
    PGresult *res = PQexec(pg, m->sql);
    ExecStatusType status = PQresultStatus(res);
    switch (status) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY: /* a file of comments only */
        break;
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
        end_copy(pg, status);
        set_err(errstr, errstr_size, "%s: COPY from or to the client is not possible here", what);
        rc = HP_ERR_FATAL;
        goto out;
    default:
        rc = fail(pg, res, m->sql, what, errstr, errstr_size);
        goto out;
    }
    if (PQtransactionStatus(pg) != PQTRANS_INTRANS) {
        set_err(errstr, errstr_size,
                "%s: the file ends the transaction it runs in (a migration holds no BEGIN, "
                "COMMIT or ROLLBACK)",
                what);
        rc = HP_ERR_FATAL;
    }
out:
    PQclear(res);
    return rc;
}

/* Applies m and records it, in one transaction. */
static hp_err apply_one(PGconn *pg, const wk_migration *m, char *errstr, size_t errstr_size)
{
    char what[128];
    snprintf(what, sizeof what, "migration %s", m->name);
    int64_t start_ns = hp_time_mono_ns();

    hp_err rc = run(pg, "BEGIN", PGRES_COMMAND_OK, NULL, what, errstr, errstr_size);
    if (rc != HP_OK)
        goto out;
    rc = run_file(pg, m, what, errstr, errstr_size);
    if (rc != HP_OK)
        goto out;

    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[] = {version, m->name};
    PGresult *res = PQexecParams(
        pg, "INSERT INTO hookpipe_schema_migrations (version, name) VALUES ($1::int, $2)", 2, NULL,
        params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail(pg, res, NULL, what, errstr, errstr_size);
    PQclear(res);
    if (rc != HP_OK)
        goto out;

    rc = run(pg, "COMMIT", PGRES_COMMAND_OK, NULL, what, errstr, errstr_size);
out:
    if (rc != HP_OK) {
        PGTransactionStatusType ts = PQtransactionStatus(pg);
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
            PQclear(PQexec(pg, "ROLLBACK"));
        return rc;
    }
    hp_log(HP_LOG_INFO, "worker", "migration applied", HP_LOG_INT("version", m->version),
           HP_LOG_STR("migration", m->name), HP_LOG_STR("database", PQdb(pg)),
           HP_LOG_DBL("duration_ms", (double)(hp_time_mono_ns() - start_ns) / 1e6));
    return HP_OK;
}

/* Whether hookpipe_schema_migrations exists in the search_path, asked
 * without provoking an error (which the server would log). */
static hp_err table_exists(PGconn *pg, bool *exists, const char *what, char *errstr,
                           size_t errstr_size)
{
    PGresult *res = NULL;
    hp_err rc = run(pg, "SELECT to_regclass('hookpipe_schema_migrations') IS NOT NULL",
                    PGRES_TUPLES_OK, &res, what, errstr, errstr_size);
    if (rc != HP_OK)
        return rc;
    *exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return HP_OK;
}

/* Reads the recorded versions (ascending) into *out; fails when the
 * database is newer than this worker. */
static hp_err read_recorded(PGconn *pg, PGresult **out, char *errstr, size_t errstr_size)
{
    hp_err rc =
        run(pg, "SELECT version FROM hookpipe_schema_migrations ORDER BY version", PGRES_TUPLES_OK,
            out, "reading hookpipe_schema_migrations", errstr, errstr_size);
    if (rc != HP_OK)
        return rc;
    int rows = PQntuples(*out);
    long newest = rows ? strtol(PQgetvalue(*out, rows - 1, 0), NULL, 10) : 0;
    if (newest > wk_migrate_latest()) {
        set_err(errstr, errstr_size,
                "the database schema is at version %ld, newer than this worker's %d: run a newer "
                "hookpipe-worker",
                newest, wk_migrate_latest());
        PQclear(*out);
        *out = NULL;
        return HP_ERR_FATAL;
    }
    return HP_OK;
}

hp_err wk_migrate_apply(PGconn *pg, int *applied, char *errstr, size_t errstr_size)
{
    PGresult *recorded = NULL;
    *applied = 0;

    hp_err rc = lock(pg, errstr, errstr_size);
    if (rc != HP_OK)
        return rc;
    /* Asked first because CREATE TABLE IF NOT EXISTS sends a NOTICE when
     * the table exists, which libpq would print to stderr as it is. */
    bool exists = false;
    rc = table_exists(pg, &exists, "reading hookpipe_schema_migrations", errstr, errstr_size);
    if (rc != HP_OK)
        goto out;
    if (!exists)
        rc = run(pg, CREATE_SQL, PGRES_COMMAND_OK, NULL, "creating hookpipe_schema_migrations",
                 errstr, errstr_size);
    if (rc != HP_OK)
        goto out;
    rc = read_recorded(pg, &recorded, errstr, errstr_size);
    if (rc != HP_OK)
        goto out;

    /* Both lists ascend: walk them side by side. */
    int rows = PQntuples(recorded);
    int row = 0;
    for (size_t i = 0; i < wk_migration_count; i++) {
        const wk_migration *m = &wk_migration_table[i];
        while (row < rows && strtol(PQgetvalue(recorded, row, 0), NULL, 10) < m->version)
            row++;
        if (row < rows && strtol(PQgetvalue(recorded, row, 0), NULL, 10) == m->version)
            continue;
        rc = apply_one(pg, m, errstr, errstr_size);
        if (rc != HP_OK)
            goto out;
        (*applied)++;
    }
out:
    PQclear(recorded);
    return unlock(pg, rc, errstr, errstr_size);
}

hp_err wk_migrate_check(PGconn *pg, char *errstr, size_t errstr_size)
{
    const char *what = "checking the schema version";
    PGresult *res = NULL;
    long version = 0;
    long count = 0;

    /* A missing table is version 0. */
    bool exists = false;
    hp_err rc = table_exists(pg, &exists, what, errstr, errstr_size);
    if (rc != HP_OK)
        return rc;
    if (exists) {
        rc = run(pg, "SELECT coalesce(max(version), 0), count(*) FROM hookpipe_schema_migrations",
                 PGRES_TUPLES_OK, &res, what, errstr, errstr_size);
        if (rc != HP_OK)
            return rc;
        version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        count = strtol(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
    }

    int latest = wk_migrate_latest();
    if (version < latest) {
        set_err(errstr, errstr_size,
                "the database schema is at version %ld, this worker needs %d: " MIGRATE_HINT,
                version, latest);
        return HP_ERR_FATAL;
    }
    if (version > latest) {
        set_err(errstr, errstr_size,
                "this worker is older than the database schema: the schema is at version %ld, "
                "the worker knows up to %d: run a newer hookpipe-worker",
                version, latest);
        return HP_ERR_FATAL;
    }
    if (count < latest) {
        set_err(errstr, errstr_size,
                "the database schema is at version %ld but lacks %ld earlier "
                "migration(s): " MIGRATE_HINT,
                version, (long)latest - count);
        return HP_ERR_FATAL;
    }
    return HP_OK;
}
