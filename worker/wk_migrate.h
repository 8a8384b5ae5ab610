/*
 * wk_migrate: the worker's SQL schema, as numbered migrations.
 *
 * The files worker/migrations/NNNN_name.sql are compiled into the binary
 * (a container needs no extra files). `hookpipe-worker migrate` applies the
 * missing ones in order, each in its own transaction, recording each in
 * hookpipe_schema_migrations; a PostgreSQL advisory lock serialises workers
 * that migrate at the same time. A worker refuses to run on a schema older
 * (or newer) than the one it was built with.
 */
#ifndef WK_MIGRATE_H
#define WK_MIGRATE_H

#include "hp_err.h"

#include <libpq-fe.h>
#include <stddef.h>

/* One migration compiled into the binary. */
typedef struct wk_migration {
    int version;      /* NNNN of the file name */
    const char *name; /* the file name */
    const char *sql;  /* its text: the file's bytes, NUL-terminated */
} wk_migration;

/* The migrations compiled in, by version ascending; *n gets their count. @thread any */
const wk_migration *wk_migrations(size_t *n);

/* The newest version compiled in. @thread any */
int wk_migrate_latest(void);

/*
 * Applies every missing migration on pg, under the advisory lock, and logs
 * each. Each runs in its own transaction together with its row in
 * hookpipe_schema_migrations; the lock is waited for as long as another
 * session holds it, and released before returning. pg is connected and
 * outside a transaction; unqualified names resolve through its search_path.
 * *applied gets how many were applied (0 when up to date). HP_ERR_RETRY
 * for a transient failure (connection lost), HP_ERR_FATAL otherwise (also
 * when the database records a version newer than wk_migrate_latest()), with
 * the migration's name and PostgreSQL's message in errstr, on one line:
 * "migration 0002_ingest.sql: line 12: <message> (SQLSTATE 42P01)" (the
 * line only when PostgreSQL gives a position). @thread main
 */
hp_err wk_migrate_apply(PGconn *pg, int *applied, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Checks that the database's schema is exactly wk_migrate_latest(): if older,
 * HP_ERR_FATAL with "the database schema is at version N, this worker needs
 * M: run `hookpipe-worker -c FILE migrate`"; if newer, HP_ERR_FATAL saying the
 * worker is older than the schema. HP_ERR_RETRY when the check itself failed
 * transiently. @thread main
 */
hp_err wk_migrate_check(PGconn *pg, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

#endif /* WK_MIGRATE_H */
