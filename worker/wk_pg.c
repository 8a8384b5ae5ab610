/*
 * wk_pg: the worker's PostgreSQL session. See wk_pg.h.
 */
#include "wk_pg.h"

#include "hp_log.h"
#include "wk_migrate.h"
#include "wk_pgerr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INGEST_STMT "hookpipe_ingest"
#define INGEST_SQL "SELECT idx, inserted FROM hookpipe_ingest_batch($1::jsonb)"

void wk_pg_init(wk_pg *pg, const char *dsn)
{
    pg->dsn = dsn;
    pg->conn = NULL;
}

static void drop(wk_pg *pg)
{
    if (pg->conn)
        PQfinish(pg->conn);
    pg->conn = NULL;
}

void wk_pg_deinit(wk_pg *pg)
{
    drop(pg);
}

/* Copies PostgreSQL's message without its trailing newline. */
static void set_message(char *errstr, size_t errstr_size, const char *prefix, const char *msg)
{
    snprintf(errstr, errstr_size, "%s%s", prefix, msg ? msg : "");
    size_t n = strlen(errstr);
    while (n && (errstr[n - 1] == '\n' || errstr[n - 1] == ' '))
        errstr[--n] = '\0';
}

/* libpq's notice receiver: the server's NOTICE, WARNING, INFO … as log lines. */
static void on_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char msg[1024];
    if (!primary) {
        /* Not from the server: libpq's own text, ending with a newline. */
        set_message(msg, sizeof msg, "", PQresultErrorMessage(res));
        primary = msg;
    }
    bool warning = severity && strcmp(severity, "WARNING") == 0;
    hp_log(warning ? HP_LOG_WARN : HP_LOG_INFO, "postgres", primary,
           HP_LOG_STR("severity", severity ? severity : "NOTICE"),
           HP_LOG_STR("sqlstate", PQresultErrorField(res, PG_DIAG_SQLSTATE)),
           HP_LOG_STR("detail", PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)),
           HP_LOG_STR("hint", PQresultErrorField(res, PG_DIAG_MESSAGE_HINT)));
}

void wk_pg_log_notices(PGconn *conn)
{
    if (conn)
        PQsetNoticeReceiver(conn, on_notice, NULL);
}

hp_err wk_pg_ensure(wk_pg *pg, char *errstr, size_t errstr_size)
{
    hp_err rc;
    if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK)
        return HP_OK;
    drop(pg);
    pg->conn = PQconnectdb(pg->dsn);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password. */
        set_message(errstr, errstr_size, "postgres: ", PQerrorMessage(pg->conn));
        drop(pg);
        return HP_ERR_RETRY;
    }
    wk_pg_log_notices(pg->conn);
    rc = wk_migrate_check(pg->conn, errstr, errstr_size);
    if (rc != HP_OK) {
        drop(pg);
        return rc;
    }
    PGresult *res = PQprepare(pg->conn, INGEST_STMT, INGEST_SQL, 1, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = wk_pgerr_classify(pg->conn, res);
        set_message(errstr, errstr_size, "postgres: prepare: ", PQresultErrorMessage(res));
        PQclear(res);
        drop(pg);
        return rc == HP_ERR_RETRY ? HP_ERR_RETRY : HP_ERR_FATAL;
    }
    PQclear(res);
    hp_log(HP_LOG_INFO, "worker", "connected to PostgreSQL");
    return HP_OK;
}

hp_err wk_pg_ingest(wk_pg *pg, const char *json, size_t len, bool *inserted, size_t n, char *errstr,
                    size_t errstr_size)
{
    const char *params[] = {json};
    const int lengths[] = {(int)len};
    PGresult *res = PQexecPrepared(pg->conn, INGEST_STMT, 1, params, lengths, NULL, 0);
    hp_err rc = HP_OK;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = wk_pgerr_classify(pg->conn, res);
        set_message(errstr, errstr_size, "",
                    res ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn));
        if (PQstatus(pg->conn) != CONNECTION_OK)
            drop(pg);
        goto out;
    }
    if ((size_t)PQntuples(res) != n) {
        snprintf(errstr, errstr_size, "hookpipe_ingest_batch returned %d rows for %zu events",
                 PQntuples(res), n);
        rc = HP_ERR_FATAL;
        goto out;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        long idx = strtol(PQgetvalue(res, r, 0), NULL, 10);
        if (idx < 0 || (size_t)idx >= n) {
            snprintf(errstr, errstr_size, "hookpipe_ingest_batch returned index %ld", idx);
            rc = HP_ERR_FATAL;
            goto out;
        }
        inserted[idx] = PQgetvalue(res, r, 1)[0] == 't';
    }
out:
    PQclear(res);
    return rc;
}

bool wk_pg_alive(wk_pg *pg)
{
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK)
        return false;
    PGresult *res = PQexec(pg->conn, "SELECT 1");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok;
}
