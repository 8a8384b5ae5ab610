/*
 * wk_dlq: parking poison records in the dead-letter topic.
 *
 * A parked record keeps its key, value and headers and gains the error
 * headers of docs/kafka-record.md. wk_dlq_park waits for the broker's
 * acknowledgement (acks=all, idempotent): only then may the worker move the
 * record's offset past it.
 */
#ifndef WK_DLQ_H
#define WK_DLQ_H

#include "hp_config.h"
#include "hp_err.h"

#include <librdkafka/rdkafka.h>

typedef struct wk_dlq wk_dlq;

/* The error classes of hookpipe-error-class. */
#define WK_DLQ_POISON "poison"
#define WK_DLQ_EXHAUSTED "exhausted"

/* Creates the DLQ producer for cfg (borrowed). @thread worker */
hp_err wk_dlq_new(wk_dlq **out, const hp_config *cfg, char *errstr,
                  size_t errstr_size) HP_WARN_UNUSED;

/*
 * Produces msg to kafka.dlq_topic with the error headers and waits for the
 * acknowledgement (at most 30 s). HP_ERR_RETRY if it was not acknowledged.
 * @thread worker
 */
hp_err wk_dlq_park(wk_dlq *dlq, const rd_kafka_message_t *msg, const char *error_class,
                   const char *error, int attempts) HP_WARN_UNUSED;

/* Flushes and frees. NULL is fine. @thread worker */
void wk_dlq_free(wk_dlq *dlq);

#endif /* WK_DLQ_H */
