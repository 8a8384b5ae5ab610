/*
 * gw_admit: what a webhook request must pass besides its route — before its
 * body is read, while the body arrives, and once its signature is checked.
 *
 *   headers   the source's signature headers, prechecked (hp_sig_precheck):
 *             missing or malformed is a 401 now, the body never read; then
 *             the body's bytes are reserved in the buffer budget
 *             (gw_budget): over max_buffered_bytes, or the client's
 *             max_buffered_bytes_per_client, it is a 503 + Retry-After now.
 *   body      a body of no declared length (chunked) reserves as it comes;
 *             when the budget has no more room the connection is closed.
 *   verified  the source's rate limit spends a token only now, so that
 *             forgeries cannot spend the provider's tokens (429).
 *   refused   every failed verification, early or late, spends a token of
 *             the client address's unverified limit (gw_unverified); with
 *             none left the answer is 429 instead of 401.
 *
 * The reservation is given back when the request is freed (gw_request_unref),
 * whatever way it ended: answered early, 503 from the reaper, client gone.
 */
#ifndef GW_ADMIT_H
#define GW_ADMIT_H

#include "gw_budget.h"
#include "gw_unverified.h"
#include "hp_config.h"
#include "hp_metrics.h"
#include "hp_sig.h"

#include <stdbool.h>
#include <stddef.h>

/* Why admission refused a request: the reason label of
 * hookpipe_gateway_admission_refusals_total. */
typedef enum {
    GW_ADMIT_BUFFER_FULL,        /* "buffer_full": max_buffered_bytes */
    GW_ADMIT_CLIENT_BUFFER_FULL, /* "client_buffer_full": max_buffered_bytes_per_client */
    GW_ADMIT_UNVERIFIED_LIMIT,   /* "unverified_rate_limited": the address's failures */
    GW_ADMIT_NREASONS
} gw_admit_reason;

/* The gateway's admission state (gw_gateway.admit). */
typedef struct gw_admit {
    gw_budget *budget;
    gw_unverified *unverified; /* NULL: unverified_rate_limit off */
    hp_gauge *buffered;        /* hookpipe_gateway_buffered_bytes */
    hp_counter *refused[GW_ADMIT_NREASONS];
} gw_admit;

typedef struct gw_request gw_request;

/* Sets up a for the gateway configuration g, its metrics in reg.
 * gw_admit_deinit() frees it. @thread main */
void gw_admit_init(gw_admit *a, const hp_gateway_config *g, hp_metrics *reg);
void gw_admit_deinit(gw_admit *a);

/* Brings the buffered-bytes gauge up to date. @thread main (once a second) */
void gw_admit_tick(gw_admit *a);

/*
 * The admission checks that need only the headers, for a request whose
 * source, method, address and size passed: fills req->answer and returns
 * true to answer now (401 missing or malformed signature, 429 after too
 * many failures from the address, 503 when the budget has no room for the
 * body). @thread http
 */
bool gw_admit_headers(gw_request *req);

/*
 * Reserves room for n more body bytes of req. False when the budget has
 * none: req->answer is a 503, counted; the caller closes the connection
 * (MHD allows no answer mid-body). @thread http
 */
bool gw_admit_body(gw_request *req, size_t n);

/* Gives back req's reservation; harmless when it has none, or twice.
 * @thread any (the request's last reference) */
void gw_admit_release(gw_request *req);

/*
 * Fills req->answer for a verification that failed (out) and counts it in
 * signature_failures: 401 as out says, or 429 when the client's address has
 * spent its unverified_rate_limit. @thread http
 */
void gw_admit_refuse_signature(gw_request *req, const hp_sig_outcome *out);

/* The source's rate limit, for a verified request: true to go on, false
 * with req->answer a 429. @thread http */
bool gw_admit_verified(gw_request *req);

#endif /* GW_ADMIT_H */
