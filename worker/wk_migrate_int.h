/*
 * wk_migrate_int: the migrations compiled into the worker, as the build
 * generates them. worker/embed_migrations.cmake writes the definitions into
 * wk_migrations_data.c of the build tree; wk_migrate.c reads them.
 */
#ifndef WK_MIGRATE_INT_H
#define WK_MIGRATE_INT_H

#include "wk_migrate.h"

#include <stddef.h>

/* Every migration by version ascending, without gaps: version i is at index
 * i - 1. There is at least one (the build fails otherwise). */
extern const wk_migration wk_migration_table[];

/* How many wk_migration_table holds. */
extern const size_t wk_migration_count;

#endif /* WK_MIGRATE_INT_H */
