/*
 * ctl_dlq_int: what hookpipectl's dlq list (ctl_dlq_list.c) and dlq requeue
 * (ctl_dlq_requeue.c) share: the DLQ topic's partitions and offsets, and the
 * requeue group's committed offsets, which say what was requeued already.
 */
#ifndef CTL_DLQ_INT_H
#define CTL_DLQ_INT_H

#include "ctl.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* Longest wait for the DLQ's records. */
#define CTL_DLQ_READ_TIMEOUT_MS 60000

/* The DLQ topic's shape: partitions and their offsets. */
typedef struct ctl_dlq_topic {
    const char *name;
    int n;
    int64_t *lo, *hi;
    int64_t *requeued; /* the requeue group's committed offsets (-1: none) */
} ctl_dlq_topic;

/* The requeue group: --group, else "hookpipectl-requeue.<dlq topic>" written into buf. */
const char *ctl_dlq_requeue_group(const ctl_ctx *ctx, char *buf, size_t bufsz);

/* Fills t (whose name is set) from Kafka: partitions, watermarks, group's offsets. */
hp_err ctl_dlq_describe(rd_kafka_t *rk, const char *group, ctl_dlq_topic *t, char *errstr,
                        size_t errstr_size) HP_WARN_UNUSED;

void ctl_dlq_topic_deinit(ctl_dlq_topic *t);

/* A header's value as a new string ("" when absent); the caller frees. */
char *ctl_dlq_header(const rd_kafka_message_t *msg, const char *name);

#endif /* CTL_DLQ_INT_H */
