/*
 * ctl_request: a webhook request as its provider would send it. See ctl_request.h.
 */
#include "ctl_request.h"

#include "hp_alloc.h"
#include "hp_sig.h"
#include "hp_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */

#define USER_AGENT "hookpipectl/" HP_VERSION

static void add(ctl_request *req, const char *name, const char *value)
{
    if (ctl_request_header(req, name) || req->nheaders == CTL_REQUEST_MAX_HEADERS)
        return;
    req->names[req->nheaders] = hp_xstrdup(name);
    req->values[req->nheaders++] = hp_xstrdup(value);
}

const char *ctl_request_header(const ctl_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->names[i], name) == 0)
            return req->values[i];
    return NULL;
}

/* Content-Type, User-Agent and the provider's own headers. */
static void add_provider_headers(ctl_request *req, const hp_source *src, const ctl_sample_ids *ids,
                                 int64_t now_s)
{
    char iso[HP_TIME_RFC3339_SIZE];
    switch (src->verify.scheme) {
    case HP_VERIFY_LIVEKIT:
        add(req, "Content-Type", "application/webhook+json");
        add(req, "User-Agent", USER_AGENT);
        break;
    case HP_VERIFY_STRIPE:
        add(req, "Content-Type", "application/json; charset=utf-8");
        add(req, "User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)");
        break;
    case HP_VERIFY_GITHUB:
        add(req, "Content-Type", "application/json");
        add(req, "User-Agent", "GitHub-Hookshot/hookpipectl");
        add(req, "X-GitHub-Event", req->event_type);
        add(req, "X-GitHub-Delivery", req->event_id);
        add(req, "X-GitHub-Hook-ID", "123456789");
        break;
    case HP_VERIFY_SLACK:
        add(req, "Content-Type", "application/json");
        add(req, "User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)");
        break;
    case HP_VERIFY_SHOPIFY:
        hp_time_format_rfc3339(now_s * 1000, iso, sizeof iso);
        add(req, "Content-Type", "application/json");
        add(req, "User-Agent", "Shopify-Captain-Hook");
        add(req, "X-Shopify-Topic", req->event_type);
        add(req, "X-Shopify-Webhook-Id", req->event_id);
        add(req, "X-Shopify-Event-Id", ids->uuid);
        add(req, "X-Shopify-Shop-Domain", "hookpipectl-sample.myshopify.com");
        add(req, "X-Shopify-API-Version", "2024-07");
        add(req, "X-Shopify-Triggered-At", iso);
        break;
    default:
        add(req, "Content-Type", "application/json");
        add(req, "User-Agent", USER_AGENT);
        break;
    }
}

/* A value for each header the source extracts that the request lacks. */
static void add_extracted_headers(ctl_request *req, const hp_source *src, int64_t now_s)
{
    char now[24];
    snprintf(now, sizeof now, "%" PRId64, now_s);
    const struct {
        const hp_extractor *ex;
        const char *value;
    } fields[] = {{&src->event_id, req->event_id},
                  {&src->event_type, req->event_type},
                  {&src->key, "hookpipectl-sample"},
                  {&src->event_time, now},
                  {&src->entity_type, "sample"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].ex->kind == HP_EXTRACT_HEADER)
            add(req, fields[i].ex->arg, fields[i].value);
}

static hp_err sign(ctl_request *req, const hp_source *src, int64_t now_s, char *errstr,
                   size_t errstr_size)
{
    hp_sig_headers sig;
    /* Standard Webhooks: the message id is the event id ("msg_…"). */
    const char *msg_id = src->verify.scheme == HP_VERIFY_STANDARD_WEBHOOKS ? req->event_id : NULL;
    hp_err rc = hp_sig_sign(&src->verify, req->body, req->len, now_s, msg_id, &sig);
    if (rc == HP_ERR_INVALID) {
        snprintf(errstr, errstr_size,
                 "source %s: cannot sign (scheme %s): no secret or key to "
                 "sign with, or a bad time",
                 src->name, hp_verify_scheme_name(src->verify.scheme));
        return rc;
    }
    if (rc != HP_OK) {
        snprintf(errstr, errstr_size, "source %s: signing failed", src->name);
        return rc;
    }
    for (size_t i = 0; i < sig.n; i++)
        add(req, sig.h[i].name, sig.h[i].value);
    hp_sig_headers_deinit(&sig);
    return HP_OK;
}

hp_err ctl_request_build(ctl_request *req, const hp_source *src, const unsigned char *body,
                         size_t len, const char *sample, int64_t now_s, const ctl_sample_ids *ids,
                         char *errstr, size_t errstr_size)
{
    hp_err rc = HP_OK;
    memset(req, 0, sizeof *req);
    if (body) {
        req->body = hp_xmalloc(len + 1);
        memcpy(req->body, body, len);
        req->body[len] = '\0';
        req->len = len;
        req->event_type = hp_xstrdup(ctl_sample_events(src->verify.scheme)[0]);
        char id[64];
        snprintf(id, sizeof id, "%s%s",
                 src->verify.scheme == HP_VERIFY_STANDARD_WEBHOOKS ? "msg_" : "",
                 src->verify.scheme == HP_VERIFY_STANDARD_WEBHOOKS ? ids->id : ids->uuid);
        req->event_id = hp_xstrdup(id);
    } else {
        ctl_sample s;
        rc = ctl_sample_build(src, sample, now_s, ids, &s, errstr, errstr_size);
        if (rc != HP_OK)
            return rc;
        req->sample = true;
        req->body = (unsigned char *)s.body;
        req->len = s.len;
        req->event_type = s.event;
        req->event_id = s.event_id;
    }
    add_provider_headers(req, src, ids, now_s);
    rc = sign(req, src, now_s, errstr, errstr_size);
    if (rc == HP_OK)
        add_extracted_headers(req, src, now_s);
    if (rc != HP_OK)
        ctl_request_deinit(req);
    return rc;
}

void ctl_request_deinit(ctl_request *req)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        free(req->names[i]);
        hp_free_secret(req->values[i]);
    }
    free(req->body);
    free(req->event_type);
    free(req->event_id);
    memset(req, 0, sizeof *req);
}
