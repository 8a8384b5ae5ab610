/*
 * gw_int: the gateway's internal state, shared by gw_gateway.c (life
 * cycle), gw_http.c (libmicrohttpd callbacks) and gw_ingest.c (what to do
 * with a complete request).
 */
#ifndef GW_INT_H
#define GW_INT_H

#include "gw_admit.h"
#include "gw_clientip.h"
#include "gw_gateway.h"
#include "gw_headers.h"
#include "gw_metrics.h"
#include "gw_producer.h"
#include "gw_ratelimit.h"
#include "gw_reply.h"
#include "gw_waitlist.h"
#include "hp_admin.h"
#include "hp_buf.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_INSTANCE_ID_SIZE 300

/* A configured source and what the gateway keeps for it at run time. */
typedef struct gw_source {
    const hp_source *conf;
    gw_ratelimit *limit; /* NULL: not limited */
} gw_source;

struct gw_gateway {
    const hp_config *cfg;
    hp_metrics *reg;
    gw_metrics metrics;
    gw_source *sources;
    size_t nsources;
    gw_producer *producer;
    struct MHD_Daemon *daemon;
    hp_admin *admin;
    int port;
    char instance_id[GW_INSTANCE_ID_SIZE];

    gw_waitlist waiting;  /* requests waiting for Kafka, by deadline */
    pthread_t reaper;     /* answers 503 to those past ack_timeout_ms */
    atomic_bool stopping; /* the reaper's signal to end */
    atomic_int inflight;  /* requests produced and not yet answered */
    atomic_bool draining; /* SIGTERM seen: /readyz says 503, answers close connections */
    gw_admit admit;       /* buffer budget, unverified limit (gw_admit.c) */
};

/* Where a request stands; see gw_http.c for the transitions. */
enum gw_request_state {
    GW_REQ_READING,  /* headers seen, body arriving */
    GW_REQ_WAITING,  /* suspended, its record produced */
    GW_REQ_RESUMED,  /* the delivery report came: answer it */
    GW_REQ_ANSWERED, /* a response is queued */
};

/* Headers a request may carry at most before the rest are not looked at. */
#define GW_MAX_HEADERS 128

/*
 * One request, from its headers to its answer. Reference-counted: the
 * connection holds one reference until MHD completes the request, a record
 * in flight another until its delivery report came — which may be after the
 * request was answered 503 by the reaper and even completed.
 */
typedef struct gw_request {
    gw_gateway *gw;
    struct MHD_Connection *conn;
    atomic_int refs;
    gw_wait_node wait;       /* on gw->waiting while its record is in flight */
    const gw_source *source; /* NULL: unknown source */
    gw_header header_items[GW_MAX_HEADERS];
    gw_headers headers; /* strings borrowed from MHD for the request's life */
    int64_t start_ns;
    hp_buf body;
    gw_budget_hold hold; /* the body's reservation in gw->admit's budget */
    bool body_too_large;
    hp_ip client;
    char client_text[GW_CLIENTIP_TEXT_SIZE];

    _Atomic int state;   /* enum gw_request_state */
    gw_answer answer;    /* what to answer once RESUMED */
    char *event_id;      /* owned; the answer's event_id points here */
    bool holds_slot;     /* counted in gw->inflight until answered */
    int64_t produced_ns; /* when the record was handed to the producer */
    rd_kafka_resp_err_t delivery_err;
} gw_request;

/*
 * Decides what to do with a complete request: fills req->answer with the
 * answer to give now and returns false, or produces the record and returns
 * true (the request is then waiting: its answer comes from the delivery
 * report). Called with the connection already suspended. @thread http
 */
bool gw_ingest(gw_request *req);

/* Drops one reference; the last frees the request. @thread any */
void gw_request_unref(gw_request *req);

/* Answers 503 to the requests whose record is not acknowledged within
 * ack_timeout_ms. @thread reaper */
void *gw_ingest_reaper(void *arg);

/* Gives back the request's in-flight slot, if it holds one. Called when its
 * answer is queued, so a drain that saw inflight reach 0 knows every
 * produced request has its answer. @thread http */
void gw_ingest_release(gw_request *req);

/* The delivery report of a request's record. @thread kafka-poll */
void gw_ingest_delivered(void *opaque, rd_kafka_resp_err_t err, void *cb_opaque);

/* libmicrohttpd callbacks (gw_http.c). */
enum MHD_Result gw_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **req_cls);
void gw_http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe);

#endif /* GW_INT_H */
