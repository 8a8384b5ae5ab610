/*
 * gw_headers: the request headers of one webhook, as the gateway sees them.
 *
 * The HTTP layer collects every header of a request into a gw_headers (the
 * strings are borrowed from libmicrohttpd and live as long as the request).
 * The verifiers and extractors look headers up through gw_headers_get, and
 * the Kafka record records them as a JSON object (hookpipe-http-headers),
 * minus credentials and the signature headers that were verified.
 */
#ifndef GW_HEADERS_H
#define GW_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_header {
    const char *name;  /* as received */
    const char *value; /* as received */
} gw_header;

typedef struct gw_headers {
    gw_header *items; /* borrowed strings; the array is the owner's */
    size_t n;
} gw_headers;

/*
 * The value of the first header called name (case-insensitive), or NULL.
 * headers is a gw_headers *; the signature matches hp_sig_header_fn so the
 * verifiers can call it. @thread the request's
 */
const char *gw_headers_get(void *headers, const char *name);

/*
 * The values of every header called name (case-insensitive), in the order
 * received, joined with ", " (RFC 9110 §5.3), or NULL if there is none. This
 * is how X-Forwarded-For must be read: a proxy may add a header line of its
 * own instead of appending to the one the client sent, and the first line
 * alone would then be the client's forgery. The caller frees the result.
 * @thread any
 */
char *gw_headers_join(const gw_headers *hs, const char *name);

/*
 * The headers as the text of a JSON object, names lower-cased, values as
 * received (invalid UTF-8 bytes escaped so the text is valid JSON), several
 * headers of one name joined with ", " (RFC 9110 §5.3). Left out: every name
 * in exclude (a NULL-terminated list, case-insensitive; may be NULL) and
 * always Authorization, Proxy-Authorization and Cookie. The caller frees the
 * result. @thread any
 */
char *gw_headers_json(const gw_headers *hs, const char *const *exclude);

#endif /* GW_HEADERS_H */
