/*
 * wk_worker: one hookpipe-worker process — a consumer group member that
 * turns webhook records into deduplicated state in PostgreSQL.
 */
#ifndef WK_WORKER_H
#define WK_WORKER_H

#include "hp_config.h"
#include "hp_err.h"

#include <signal.h>

typedef struct wk_worker wk_worker;

/*
 * Creates the consumer, the DLQ producer and the admin listener for cfg
 * (borrowed, like stop: the loop ends once *stop is set). @thread main
 */
hp_err wk_worker_new(wk_worker **out, const hp_config *cfg, const volatile sig_atomic_t *stop,
                     char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Runs the consume → apply → store loop until *stop. A batch in progress
 * when stop is set is finished if it can be, else abandoned uncommitted (its
 * records come again). HP_ERR_FATAL at start if the database schema is not
 * this worker's. @thread main
 */
hp_err wk_worker_run(wk_worker *w) HP_WARN_UNUSED;

/* Commits stored offsets, leaves the group, frees everything. @thread main */
void wk_worker_free(wk_worker *w);

#endif /* WK_WORKER_H */
