/*
 * wk_consumer: the worker's membership of its Kafka consumer group.
 *
 * At-least-once: librdkafka commits only offsets the worker stored, and the
 * worker stores a record's offset + 1 only once the record is done (its
 * transaction committed, or its DLQ copy acknowledged). Stored offsets are
 * committed every second and synchronously when partitions are revoked and
 * when the worker leaves. Assignment is cooperative-sticky, so a rebalance
 * moves only the partitions that must move.
 */
#ifndef WK_CONSUMER_H
#define WK_CONSUMER_H

#include "hp_config.h"
#include "hp_err.h"
#include "wk_metrics.h"
#include "wk_record.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

typedef struct wk_consumer wk_consumer;

/* Joins cfg's worker.group_id on kafka.topic; lane names the member in the
 * logs. cfg and m are borrowed. @thread worker */
hp_err wk_consumer_new(wk_consumer **out, int lane, const hp_config *cfg, wk_metrics *m,
                       char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/* The next record, or NULL after timeout_ms; errors are logged, not returned.
 * Serves rebalances and statistics too. @thread worker */
rd_kafka_message_t *wk_consumer_poll(wk_consumer *c, int timeout_ms);

/* Pauses or resumes fetching for every assigned partition (while retrying). @thread worker */
void wk_consumer_pause(wk_consumer *c);
void wk_consumer_resume(wk_consumer *c);

/* Stores, per partition, the offset after the last of recs[0..n). Every
 * record must be done. @thread worker */
void wk_consumer_store(wk_consumer *c, const wk_record *recs, size_t n);

/* Whether a broker answered lately: set when the group assigns partitions
 * or a record arrives, then kept by the statistics (every 5 s) and the
 * "all brokers down" error. @thread any */
bool wk_consumer_up(const wk_consumer *c);

/* Commits stored offsets and leaves the group; polling ends here. @thread worker */
void wk_consumer_leave(wk_consumer *c);

/* Leaves the group if wk_consumer_leave was not called, frees. NULL is fine. @thread worker */
void wk_consumer_free(wk_consumer *c);

#endif /* WK_CONSUMER_H */
