/*
 * wk_pg: the worker's one PostgreSQL session and the statement it runs.
 *
 * A batch is one statement, hence one transaction and one round trip:
 * `SELECT idx, inserted FROM hookpipe_ingest_batch($1::jsonb)` (prepared).
 * Deduplication, the raw store and the handlers' state changes happen inside
 * it (worker/migrations/), so an event's effects are committed together with
 * its hookpipe_events row, or not at all.
 */
#ifndef WK_PG_H
#define WK_PG_H

#include "hp_err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct wk_pg {
    const char *dsn; /* borrowed from the configuration */
    PGconn *conn;    /* NULL until connected */
} wk_pg;

/* @thread worker */
void wk_pg_init(wk_pg *pg, const char *dsn);
void wk_pg_deinit(wk_pg *pg);

/*
 * Connects if not connected (or if the connection broke), checks the schema
 * version and prepares the statement. HP_ERR_RETRY while PostgreSQL is not
 * reachable, HP_ERR_FATAL if the schema is not the worker's. @thread worker
 */
hp_err wk_pg_ensure(wk_pg *pg, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Applies one batch document of n elements; inserted[i] tells whether
 * element i was new. On failure, classified by wk_pgerr (HP_ERR_INVALID: the
 * data of some element is at fault), with PostgreSQL's message in errstr;
 * a broken connection is dropped so the next wk_pg_ensure reconnects.
 * @thread worker
 */
hp_err wk_pg_ingest(wk_pg *pg, const char *json, size_t len, bool *inserted, size_t n, char *errstr,
                    size_t errstr_size) HP_WARN_UNUSED;

/*
 * Routes the server's notices on conn (NOTICE, INFO, WARNING… that libpq
 * would print to stderr as they are) to hp_log: WARNING at warn, the rest
 * at info, component "postgres", with severity, sqlstate, detail and hint.
 * @thread the connection's
 */
void wk_pg_log_notices(PGconn *conn);

/* Whether the session answers SELECT 1 now (for readiness). @thread worker */
bool wk_pg_alive(wk_pg *pg);

#endif /* WK_PG_H */
