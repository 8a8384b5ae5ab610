/*
 * gw_producer: the gateway's Kafka producer and the thread that serves it.
 *
 * Records are produced asynchronously; their delivery reports arrive on the
 * producer's own poll thread, which hands each one to the caller's callback
 * (the HTTP layer resumes the suspended request there). The producer is
 * idempotent with acks=all whatever kafka.properties says, and its
 * message.timeout.ms is set below the gateway's ack_timeout_ms, so every
 * record gets its report — delivered, failed or timed out — before the HTTP
 * answer is due.
 *
 * A fatal producer error (librdkafka 2.0.2 can raise a spurious idempotence
 * one after a broker restart) fails what is queued, and the poll thread
 * replaces the producer with a new one; requests meanwhile get 503.
 */
#ifndef GW_PRODUCER_H
#define GW_PRODUCER_H

#include "hp_config.h"
#include "hp_err.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct gw_producer gw_producer;

/*
 * Called once per produced record with its opaque and the outcome
 * (RD_KAFKA_RESP_ERR_NO_ERROR = acknowledged by every in-sync replica).
 * @thread kafka-poll
 */
typedef void gw_delivery_fn(void *opaque, rd_kafka_resp_err_t err, void *cb_opaque);

/*
 * Builds the librdkafka configuration of cfg (kafka.brokers, .properties,
 * the gateway's settings) without starting anything; a property librdkafka
 * rejects is an HP_ERR_INVALID naming it ("kafka.properties.linger.ms: …").
 * Used by --check-config. @thread any
 */
hp_err gw_producer_check_config(const hp_config *cfg, char *errstr,
                                size_t errstr_size) HP_WARN_UNUSED;

/*
 * Creates the producer and starts its poll thread. cfg is borrowed and must
 * outlive the producer. @thread main
 */
hp_err gw_producer_new(gw_producer **out, const hp_config *cfg, gw_delivery_fn *on_delivery,
                       void *cb_opaque, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Enqueues one record: value (copied), key (copied; NULL for none) and
 * headers (taken over on success; the caller keeps them on failure). opaque
 * comes back in exactly one delivery callback if and only if this returns
 * RD_KAFKA_RESP_ERR_NO_ERROR; any other result (queue full, fatal state)
 * means nothing was enqueued. @thread any
 */
rd_kafka_resp_err_t gw_producer_send(gw_producer *p, const void *value, size_t len, const char *key,
                                     rd_kafka_headers_t *headers, void *opaque);

/* Whether the broker answered the last metadata probe (every 2 s) for the
 * topic; the reason if not. @thread any */
bool gw_producer_ready(gw_producer *p, char *reason, size_t reason_size);

/*
 * Fault injection for tests: raises a fatal error on the current producer as
 * if the broker had (rd_kafka_test_fatal_error), so the replacement path runs.
 * @thread any
 */
void gw_producer_test_fatal(gw_producer *p);

/* The librdkafka handle in use now, for tests that drive librdkafka's mock
 * cluster (rd_kafka_handle_mock_cluster). Borrowed; replaced after a fatal
 * error. @thread any */
rd_kafka_t *gw_producer_handle(gw_producer *p);

/*
 * Waits up to timeout_ms for every queued record's delivery report, stops the
 * poll thread and frees the producer. Records still queued then are purged
 * (their callbacks report RD_KAFKA_RESP_ERR__PURGE_QUEUE). NULL is fine.
 * @thread main
 */
void gw_producer_close(gw_producer *p, int timeout_ms);

#endif /* GW_PRODUCER_H */
