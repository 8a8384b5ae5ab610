/*
 * wk_worker: one hookpipe-worker process — worker.lanes consumer-group
 * members (wk_lane.h), each on a thread of its own, behind one admin listener
 * (/healthz, /readyz, /metrics) and one metrics registry.
 */
#ifndef WK_WORKER_H
#define WK_WORKER_H

#include "hp_config.h"
#include "hp_err.h"

#include <stdatomic.h>

typedef struct wk_worker wk_worker;

/*
 * Creates the lanes (consumers, DLQ producers) and the admin listener for
 * cfg. cfg and stop are borrowed: every lane's loop ends once *stop is set.
 * @thread main
 */
hp_err wk_worker_new(wk_worker **out, const hp_config *cfg, atomic_bool *stop, char *errstr,
                     size_t errstr_size) HP_WARN_UNUSED;

/*
 * Runs every lane until *stop, then waits for them. HP_ERR_FATAL at start,
 * before any lane runs, if the database schema is not this worker's; if a
 * lane's thread cannot start, sets *stop so the others end too. @thread main
 */
hp_err wk_worker_run(wk_worker *w) HP_WARN_UNUSED;

/* Commits every lane's stored offsets, leaves the group, frees everything. @thread main */
void wk_worker_free(wk_worker *w);

#endif /* WK_WORKER_H */
