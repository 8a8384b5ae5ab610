/*
 * ctl_request: a webhook request as a source's provider would send it.
 *
 * The body (the user's bytes, or a built-in sample) and the headers the
 * provider sends with it: Content-Type, User-Agent, the provider's own
 * headers (X-GitHub-Event, X-Shopify-Topic, …), the signature headers of
 * hp_sig_sign(), and a value for every header the source extracts
 * (event_id: {"header": …}) that is not among those yet. hookpipectl sign
 * prints it, hookpipectl send posts it.
 */
#ifndef CTL_REQUEST_H
#define CTL_REQUEST_H

#include "ctl_sample.h"
#include "hp_config.h"
#include "hp_err.h"

#include <stddef.h>
#include <stdint.h>

/* Most headers of one request. */
#define CTL_REQUEST_MAX_HEADERS 16

typedef struct ctl_request {
    unsigned char *body; /* len bytes plus a NUL; owned */
    size_t len;
    bool sample;      /* the body is a built-in sample */
    char *event_type; /* the sample's, or the scheme's first sample's for a given body */
    char *event_id;   /* the sample's; for a given body, a fresh one for id headers */
    char *names[CTL_REQUEST_MAX_HEADERS];
    char *values[CTL_REQUEST_MAX_HEADERS]; /* may hold a credential (bearer): zeroed when freed */
    size_t nheaders;
} ctl_request;

/*
 * Builds the request of src: with body (len bytes, copied) when body is not
 * NULL, else the built-in sample called sample (NULL: the scheme's first),
 * signed as of now_s with ids for the fresh values. HP_OK: the caller frees
 * with ctl_request_deinit(). HP_ERR_INVALID with a message in errstr (no
 * such sample, the source has no secret to sign with); HP_ERR_FATAL when
 * signing fails. @thread any
 */
hp_err ctl_request_build(ctl_request *req, const hp_source *src, const unsigned char *body,
                         size_t len, const char *sample, int64_t now_s, const ctl_sample_ids *ids,
                         char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/* The value of header name (case-insensitive), or NULL. @thread any */
const char *ctl_request_header(const ctl_request *req, const char *name);

void ctl_request_deinit(ctl_request *req);

#endif /* CTL_REQUEST_H */
