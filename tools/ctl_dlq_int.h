/*
 * ctl_dlq_int: what hookpipectl's dlq list (ctl_dlq_list.c) and dlq requeue
 * (ctl_dlq_requeue.c) share: the DLQ topic's partitions and offsets, and the
 * requeue group's committed offsets, which say what was requeued already.
 */
#ifndef CTL_DLQ_INT_H
#define CTL_DLQ_INT_H

#include "ctl.h"
#include "ctl_kafka.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* Longest wait for the DLQ's records. */
#define CTL_DLQ_READ_TIMEOUT_MS 60000

/* The DLQ topic: its partitions and offsets, committed = the requeue group's
 * (what was requeued already). Filled with ctl_kafka_group_offsets(). */
typedef struct ctl_dlq_topic {
    const char *name;
    ctl_kafka_offsets off;
} ctl_dlq_topic;

/* The requeue group: --group, else "hookpipectl-requeue.<dlq topic>" written into buf. */
const char *ctl_dlq_requeue_group(const ctl_ctx *ctx, char *buf, size_t bufsz);

/* A header's value as a new string ("" when absent); the caller frees. */
char *ctl_dlq_header(const rd_kafka_message_t *msg, const char *name);

#endif /* CTL_DLQ_INT_H */
