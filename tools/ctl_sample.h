/*
 * ctl_sample: the built-in sample events of hookpipectl send and sign.
 *
 * Every verify scheme has a few samples shaped like its provider's real
 * payloads (LiveKit's webhook events, a Stripe event object, a GitHub
 * issues delivery, a Slack Events API callback, a Shopify order, a Standard
 * Webhooks message, a generic event). A sample is built for one configured
 * source: it gets a fresh event id each time (so the worker does not take
 * it for a duplicate) and the current time, and then every JSON pointer the
 * source extracts (event_id, event_type, key, event_time, entity_type) that
 * does not resolve in it is created, so the gateway accepts the sample
 * whatever pointers the configuration uses. Entity ids (the LiveKit room,
 * the Stripe payment intent) are fixed, so successive samples update one
 * entity, as a provider's events do.
 */
#ifndef CTL_SAMPLE_H
#define CTL_SAMPLE_H

#include "hp_config.h"
#include "hp_err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The sample event names of scheme, NULL-terminated; the first is the default. @thread any */
const char *const *ctl_sample_events(hp_verify_scheme scheme);

/* Fresh values for one sample: an id, a UUID, a number; random unless set by a test. */
typedef struct ctl_sample_ids {
    char id[25];   /* 24 base62 characters */
    char uuid[37]; /* RFC 4122 version 4 text */
    long long n;   /* 1..999999999999 */
} ctl_sample_ids;

/* Fills ids from the system's random generator. HP_ERR_FATAL if it fails. @thread any */
hp_err ctl_sample_ids_random(ctl_sample_ids *ids) HP_WARN_UNUSED;

/* A built sample. All strings owned; free with ctl_sample_deinit(). */
typedef struct ctl_sample {
    char *body; /* JSON text, compact */
    size_t len;
    char *event;    /* the sample's event type ("room_started", "issues") */
    char *event_id; /* the fresh event id ("EV_…", "evt_…", a UUID for github) */
} ctl_sample;

/*
 * Builds sample event (NULL: the scheme's first) for src at time now_s
 * with ids. HP_ERR_INVALID with a message in errstr when the scheme has no
 * such sample (the message lists those it has) or a pointer of the source
 * cannot be created in it (it runs through an array or a value). @thread any
 */
hp_err ctl_sample_build(const hp_source *src, const char *event, int64_t now_s,
                        const ctl_sample_ids *ids, ctl_sample *out, char *errstr,
                        size_t errstr_size) HP_WARN_UNUSED;

void ctl_sample_deinit(ctl_sample *s);

/*
 * Sets value at the RFC 6901 pointer in root unless the pointer already
 * resolves, creating objects on the way. Takes the reference of value
 * either way. HP_ERR_INVALID if the path runs through an array or a
 * non-object. @thread any
 */
hp_err ctl_sample_ensure(json_t *root, const char *pointer, json_t *value) HP_WARN_UNUSED;

#endif /* CTL_SAMPLE_H */
