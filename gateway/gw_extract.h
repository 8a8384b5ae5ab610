/*
 * gw_extract: the event id, type, key and time of one webhook, taken from
 * its body or headers as its source's configuration says (hp_extractor).
 */
#ifndef GW_EXTRACT_H
#define GW_EXTRACT_H

#include "gw_headers.h"
#include "hp_config.h"
#include "hp_envelope.h" /* HP_ENVELOPE_NO_TIME */

#include <stdint.h>

typedef struct gw_extracted {
    char *event_id;        /* never NULL after success */
    char *event_type;      /* NULL when the source extracts none, or the value is absent */
    char *key;             /* the Kafka key; the event id when none is extracted or it is absent */
    int64_t event_time_ms; /* HP_ENVELOPE_NO_TIME when none is extracted */
} gw_extracted;

/*
 * Extracts from one request. The body is scanned as JSON once, only if some
 * extractor of src reads JSON. HP_ERR_INVALID (answer 400 invalid_payload)
 * with *field set to the failing field's name ("event_id", "event_type",
 * "key", "event_time", or "body" when the body is not JSON) and a message
 * in errstr when: the body must be JSON (an object or array) and is not; the
 * event id is absent or empty; the event id, type or key is longer than
 * HP_ENVELOPE_EVENT_ID_MAX, HP_ENVELOPE_EVENT_TYPE_MAX or HP_ENVELOPE_KEY_MAX
 * bytes (the message says the limit); a value is
 * neither a string nor an integer (integers are taken as their decimal text
 * as written, beyond 64 bits too), holds a NUL, is not UTF-8 (headers), or
 * is too long; an event time is
 * present but is not UNIX seconds, milliseconds (integer, fraction, or their
 * decimal text) or RFC 3339 between 1970 and 9999. An absent or empty type,
 * key or time is not an error (an absent key is the event id). Messages name
 * the pointer or header, never quote the body. *out is overwritten, not
 * freed; on failure it holds nothing, on success the caller frees it with
 * gw_extracted_deinit(). @thread any
 */
hp_err gw_extract(const hp_source *src, const unsigned char *body, size_t len,
                  const gw_headers *headers, gw_extracted *out, const char **field, char *errstr,
                  size_t errstr_size) HP_WARN_UNUSED;

/* Frees what ex holds and leaves it empty (no id, no time); NULL is fine.
 * @thread the owner's */
void gw_extracted_deinit(gw_extracted *ex);

#endif /* GW_EXTRACT_H */
