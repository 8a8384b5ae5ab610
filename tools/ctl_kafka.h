/*
 * ctl_kafka: the Kafka questions hookpipectl asks — a topic's partitions
 * and their watermarks, a group's members and committed offsets — and the
 * one change it makes to a group (its committed offsets), all bounded by
 * CTL_KAFKA_TIMEOUT_MS. Clients are made with hp_kafka_conf_new(), so the
 * brokers and kafka.properties (security settings) are the daemons'.
 */
#ifndef CTL_KAFKA_H
#define CTL_KAFKA_H

#include "hp_config.h"
#include "hp_err.h"

#include <librdkafka/rdkafka.h>
#include <signal.h> /* sig_atomic_t */
#include <stddef.h>
#include <stdint.h>

/* Longest any one request to Kafka may take. */
#define CTL_KAFKA_TIMEOUT_MS 15000

/* The group hookpipectl's readers name (librdkafka wants one); nothing is ever committed in it. */
#define CTL_KAFKA_READER_GROUP "hookpipectl-reader"

/*
 * A consumer handle for cfg's cluster in group (NULL: CTL_KAFKA_READER_GROUP)
 * that never joins the group and never commits on its own (no subscription,
 * no auto-commit): for metadata, watermarks, the Admin API, reading
 * assigned partitions and explicit commits. NULL with a message in errstr.
 * The caller frees with ctl_kafka_destroy(). @thread main
 */
rd_kafka_t *ctl_kafka_consumer(const hp_config *cfg, const char *group, char *errstr,
                               size_t errstr_size);

void ctl_kafka_destroy(rd_kafka_t *rk);

/*
 * The offsets of the first records at or after ts_ms in partitions 0..n-1
 * into out[] (a partition without such a record gets its end offset, hi[p]).
 */
hp_err ctl_kafka_offsets_for_time(rd_kafka_t *rk, const char *topic, int n, int64_t ts_ms,
                                  const int64_t *hi, int64_t *out, char *errstr,
                                  size_t errstr_size) HP_WARN_UNUSED;

/* A topic's partitions as a group stands on them. */
typedef struct ctl_kafka_offsets {
    int n;              /* partitions 0..n-1 */
    int64_t *lo, *hi;   /* earliest and end offsets */
    int64_t *committed; /* the group's committed offsets (-1: none) */
} ctl_kafka_offsets;

/*
 * Fills *out: topic's partition count (HP_ERR_INVALID if the topic does not
 * exist), their watermarks, and group's committed offsets (Admin API,
 * ListConsumerGroupOffsets). The caller frees *out with
 * ctl_kafka_offsets_deinit() whatever is returned.
 */
hp_err ctl_kafka_group_offsets(rd_kafka_t *rk, const char *group, const char *topic,
                               ctl_kafka_offsets *out, char *errstr,
                               size_t errstr_size) HP_WARN_UNUSED;
void ctl_kafka_offsets_deinit(ctl_kafka_offsets *o);

/*
 * The group's active members (DescribeConsumerGroups): their count into
 * *members and, in who, a list like "hookpipe-worker (rdkafka-…@/10.0.0.7)".
 * A group that does not exist has none.
 */
hp_err ctl_kafka_group_members(rd_kafka_t *rk, const char *group, size_t *members, char *who,
                               size_t whosz, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Sets the group's committed offsets (AlterConsumerGroupOffsets) of the
 * partitions p with offsets[p] >= 0; the others are left as they are. Kafka
 * refuses while the group has active members.
 */
hp_err ctl_kafka_alter_committed(rd_kafka_t *rk, const char *group, const char *topic, int n,
                                 const int64_t *offsets, char *errstr,
                                 size_t errstr_size) HP_WARN_UNUSED;

/* Called by ctl_kafka_read() for each record; msg is valid during the call. */
typedef void ctl_kafka_record_fn(const rd_kafka_message_t *msg, void *opaque);

/*
 * Reads the records of partitions 0..n-1 of topic from offset from[p] up to
 * (not including) to[p], calling fn for each, in offset order within a
 * partition. rk must be a ctl_kafka_consumer(); its assignment is replaced.
 * next (may be NULL) gets, per partition, the offset after the last record
 * handed to fn (from[p] if none). HP_ERR_RETRY with a message if the records
 * did not all come within timeout_ms, or *stop (may be NULL) became true
 * (a signal); records deleted by retention are skipped, not waited for.
 */
hp_err ctl_kafka_read(rd_kafka_t *rk, const char *topic, int n, const int64_t *from,
                      const int64_t *to, int timeout_ms, const volatile sig_atomic_t *stop,
                      ctl_kafka_record_fn *fn, void *opaque, int64_t *next, char *errstr,
                      size_t errstr_size) HP_WARN_UNUSED;

#endif /* CTL_KAFKA_H */
