/*
 * bn_record: the Kafka record the gateway would make of a corpus request,
 * for hp-kafka-baseline.
 *
 * The baseline must produce the same records as the gateway: the body as
 * value, the same key, and the envelope headers (hp_envelope) with the same
 * fields. This module derives them from a corpus request with the source's
 * configuration the way the gateway does (its signature is verified with
 * hp_sig_verify, which also names the headers left out of
 * hookpipe-http-headers; ids, type, key and time come from the source's
 * extractors). It is a faithful stand-in, not the gateway's code: the
 * baseline measures Kafka, not our parsing.
 */
#ifndef BN_RECORD_H
#define BN_RECORD_H

#include "bn_corpus.h"
#include "hp_config.h"
#include "hp_envelope.h"
#include "hp_err.h"

#include <stddef.h>

typedef struct bn_record {
    const char *value; /* the body, borrowed from the corpus */
    size_t len;
    char *key; /* owned */
    /* Owned strings, except source and gateway (borrowed from the caller's
     * arguments); received_at_ms is set by the producer for each send. */
    hp_envelope env;
} bn_record;

/*
 * Makes the records of every request of corpus for source src; gateway is the
 * instance id written into hookpipe-gateway. On HP_OK *out holds corpus->n
 * records and the caller frees them with bn_records_free(); on
 * HP_ERR_INVALID errstr names the request that fails (a bad signature, no
 * event id, a body that is not JSON). @thread any
 */
hp_err bn_records_make(const bn_corpus *corpus, const hp_source *src, const char *gateway,
                       bn_record **out, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/* Frees n records made by bn_records_make. @thread owner */
void bn_records_free(bn_record *recs, size_t n);

#endif /* BN_RECORD_H */
