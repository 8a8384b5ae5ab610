/*
 * wk_lane: one consumer-group member inside a worker process — its own
 * Kafka consumer, PostgreSQL session, DLQ producer and batch loop.
 *
 * A lane is what a whole worker process used to be: the partitions the group
 * assigns to it are consumed in order, applied one transaction per batch and
 * their offsets stored after that commit. Lanes share nothing but the
 * configuration, the metrics and the stop flag, so running N of them in one
 * process (worker.lanes) is, to Kafka and PostgreSQL, the same as running N
 * processes — the guarantees are per lane — while it lets one process use N
 * PostgreSQL backends, that is N cores of the database.
 */
#ifndef WK_LANE_H
#define WK_LANE_H

#include "hp_config.h"
#include "hp_err.h"
#include "wk_metrics.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct wk_lane wk_lane;

/*
 * Creates lane number index (0-based, for the logs): its consumer joins the
 * group, its DLQ producer starts. cfg, m and stop are borrowed; the lane's
 * loop ends once *stop is set. @thread any
 */
hp_err wk_lane_new(wk_lane **out, int index, const hp_config *cfg, wk_metrics *m,
                   const atomic_bool *stop, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Connects to PostgreSQL once: HP_ERR_FATAL (with the reason in errstr) if
 * the schema is not this worker's, so a wrong schema is refused at the start
 * instead of retried for ever. PostgreSQL being unreachable is not an error
 * here: the loop keeps trying. @thread the lane's
 */
hp_err wk_lane_check_schema(wk_lane *lane, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Runs the consume → apply → store loop until *stop. A batch in progress
 * when stop is set is finished if it can be, else abandoned uncommitted (its
 * records come again). Then commits the stored offsets and leaves the group.
 * @thread the lane's
 */
void wk_lane_run(wk_lane *lane);

/* Whether PostgreSQL and a Kafka broker answered lately; if not, why. @thread any */
bool wk_lane_ready(wk_lane *lane, char *reason, size_t reason_size);

/* Frees (leaving the group first if wk_lane_run did not). NULL is fine.
 * @thread any, once wk_lane_run returned or was never called */
void wk_lane_free(wk_lane *lane);

#endif /* WK_LANE_H */
