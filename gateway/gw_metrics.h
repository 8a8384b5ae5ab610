/*
 * gw_metrics: the gateway's Prometheus metrics (docs/metrics.md).
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include "hp_metrics.h"

/* Source label of requests for a path no source is configured for: a URL
 * must never become a label value (unbounded cardinality). */
#define GW_METRICS_UNKNOWN_SOURCE "(unknown)"

typedef struct gw_metrics {
    hp_counter_family *requests;           /* {source,code} */
    hp_histogram_family *request_duration; /* {source} seconds, first byte to answer */
    hp_histogram_family *ack_duration;     /* seconds, produce to delivery report */
    hp_counter_family *signature_failures; /* {source,reason} */
    hp_gauge_family *inflight;             /* requests waiting for Kafka */
    hp_counter_family *ignored;            /* {source} */
    hp_gauge_family *ready;                /* 1 when /readyz says ready */
    hp_histogram *ack;                     /* the one child of ack_duration */
    hp_gauge *inflight_now;                /* the one child of inflight */
    hp_gauge *ready_now;                   /* the one child of ready */
} gw_metrics;

/* Registers the gateway's families in reg. @thread main */
void gw_metrics_init(gw_metrics *m, hp_metrics *reg);

/* Counts one answered request and its duration. @thread http */
void gw_metrics_request(gw_metrics *m, const char *source, unsigned status, double seconds);

#endif /* GW_METRICS_H */
