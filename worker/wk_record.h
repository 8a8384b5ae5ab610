/*
 * wk_record: one Kafka record in the worker's hands, and the batch document
 * the database applies.
 *
 * A record is decoded once (its envelope headers, its source's handler) and
 * then moves through states until it is done: applied or a duplicate (in
 * PostgreSQL), or parked in the dead-letter topic. Only then may its offset
 * be stored.
 */
#ifndef WK_RECORD_H
#define WK_RECORD_H

#include "hp_buf.h"
#include "hp_config.h"
#include "hp_envelope.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

typedef enum {
    WK_REC_PENDING,   /* to apply */
    WK_REC_APPLIED,   /* newly stored, its handler ran */
    WK_REC_DUPLICATE, /* (source, event_id) was already stored */
    WK_REC_DLQ,       /* parked in the dead-letter topic */
} wk_record_state;

typedef struct wk_record {
    rd_kafka_message_t *msg; /* owned */
    hp_envelope env;         /* valid if poison[0] == '\0' after decoding */
    const hp_source *src;    /* NULL: a source this worker's config does not name */
    wk_record_state state;
    char poison[256]; /* why the record can never be applied, "" if it may be */
} wk_record;

/*
 * Takes msg over and decodes it: a record that is not an envelope, or whose
 * key is not UTF-8, is marked poison with the reason. @thread worker
 */
void wk_record_init(wk_record *rec, rd_kafka_message_t *msg, const hp_config *cfg);

/* Frees the message and the envelope. @thread worker */
void wk_record_deinit(wk_record *rec);

/* The handler the record's source uses ("store" for an unconfigured source). @thread any */
const char *wk_record_handler(const wk_record *rec);

/*
 * Appends to out the JSON array hookpipe_ingest_batch() takes, one element
 * per record of recs[0..n) that is PENDING and not poison, in order; idx_map
 * (n entries) gets, for each element, the index of its record in recs. *count
 * gets the number of elements. HP_ERR_INVALID if out's cap is too small.
 * @thread worker
 */
hp_err wk_record_batch_json(const wk_record *recs, size_t n, hp_buf *out, size_t *idx_map,
                            size_t *count) HP_WARN_UNUSED;

#endif /* WK_RECORD_H */
