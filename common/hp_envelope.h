/*
 * hp_envelope: the Kafka record envelope, version 1.
 *
 * The gateway writes each webhook as one record: the value is the request body
 * byte for byte, the key the extracted key, and these headers carry what the
 * worker and operators need to know about the request. The worker decodes
 * them; hookpipectl prints them. Header names are the contract of
 * docs/kafka-record.md: change them only with a new version.
 */
#ifndef HP_ENVELOPE_H
#define HP_ENVELOPE_H

#include "hp_err.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#define HP_ENVELOPE_VERSION 1

#define HP_HDR_VERSION "hookpipe-version"
#define HP_HDR_SOURCE "hookpipe-source"
#define HP_HDR_EVENT_ID "hookpipe-event-id"
#define HP_HDR_EVENT_TYPE "hookpipe-event-type"
#define HP_HDR_EVENT_TIME "hookpipe-event-time"
#define HP_HDR_RECEIVED_AT "hookpipe-received-at"
#define HP_HDR_CONTENT_TYPE "hookpipe-content-type"
#define HP_HDR_GATEWAY "hookpipe-gateway"
#define HP_HDR_REMOTE_ADDR "hookpipe-remote-addr"
#define HP_HDR_HTTP_HEADERS "hookpipe-http-headers"

/* Added to a record when the worker parks it in the dead-letter topic. */
#define HP_HDR_ERROR_CLASS "hookpipe-error-class"
#define HP_HDR_ERROR "hookpipe-error"
#define HP_HDR_ORIGIN "hookpipe-origin"
#define HP_HDR_ATTEMPTS "hookpipe-attempts"
#define HP_HDR_FAILED_AT "hookpipe-failed-at"
#define HP_HDR_REQUEUED_FROM "hookpipe-requeued-from"

/* event_time_ms of an event whose time was not extracted. */
#define HP_ENVELOPE_NO_TIME INT64_MIN

/*
 * The longest event id, event type and key an envelope may carry, in bytes.
 * The worker indexes them (hookpipe_events' primary key, hookpipe_entities'),
 * and a btree entry over about 2,700 bytes cannot be written: the gateway
 * refuses longer values (400 naming the field) and the worker parks a record
 * that carries one anyway (it came around the gateway). A source name is at
 * most 64 bytes (hp_config).
 */
#define HP_ENVELOPE_EVENT_ID_MAX 512
#define HP_ENVELOPE_EVENT_TYPE_MAX 256
#define HP_ENVELOPE_KEY_MAX 1024

typedef struct hp_envelope {
    int version;            /* HP_ENVELOPE_VERSION */
    char *source;           /* required */
    char *event_id;         /* required */
    char *event_type;       /* NULL if not extracted */
    int64_t event_time_ms;  /* HP_ENVELOPE_NO_TIME if not extracted */
    int64_t received_at_ms; /* when the gateway had the whole request */
    char *content_type;     /* the request's Content-Type, NULL if none */
    char *gateway;          /* instance id of the gateway */
    char *remote_addr;      /* the client's address (after trusted proxies) */
    char *http_headers;     /* JSON object text of the recorded request headers */
} hp_envelope;

/*
 * Builds the record headers of env. Strings are copied; NULL fields are left
 * out. The caller owns the result and passes it to rd_kafka_producev with
 * RD_KAFKA_V_HEADERS (which takes it over on success) or destroys it with
 * rd_kafka_headers_destroy(). @thread any
 */
rd_kafka_headers_t *hp_envelope_headers_new(const hp_envelope *env);

/*
 * Decodes the envelope headers of a record into env, copying every value.
 * HP_ERR_INVALID with a message in errstr when a required header is missing
 * or malformed or the version is not 1 (the record is poison). On success
 * the caller frees with hp_envelope_deinit(); on failure env holds nothing.
 * @thread any
 */
hp_err hp_envelope_decode(const rd_kafka_headers_t *hdrs, hp_envelope *env, char *errstr,
                          size_t errstr_size) HP_WARN_UNUSED;

/* Frees what env owns and zeroes it. @thread owner */
void hp_envelope_deinit(hp_envelope *env);

/*
 * The value of the last header called name as a NUL-terminated copy, or NULL
 * if absent or holding a NUL byte. The caller frees it. @thread any
 */
char *hp_envelope_header_dup(const rd_kafka_headers_t *hdrs, const char *name);

#endif /* HP_ENVELOPE_H */
