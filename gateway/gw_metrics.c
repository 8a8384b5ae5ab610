/*
 * gw_metrics: the gateway's Prometheus metrics. See gw_metrics.h.
 */
#include "gw_metrics.h"

#include <stdio.h>

void gw_metrics_init(gw_metrics *m, hp_metrics *reg)
{
    static const char *const source_code[] = {"source", "code"};
    static const char *const source[] = {"source"};
    static const char *const source_reason[] = {"source", "reason"};

    m->requests =
        hp_metrics_counter(reg, "hookpipe_gateway_requests_total",
                           "Webhook requests answered, by source and HTTP status.", 2, source_code);
    m->request_duration = hp_metrics_histogram(
        reg, "hookpipe_gateway_request_duration_seconds",
        "Time from a request's headers to its answer, Kafka acknowledgement included.", 1, source,
        HP_METRICS_LATENCY_BUCKETS, HP_METRICS_LATENCY_NBOUNDS);
    m->ack_duration =
        hp_metrics_histogram(reg, "hookpipe_gateway_kafka_ack_duration_seconds",
                             "Time from producing a record to its delivery report.", 0, NULL,
                             HP_METRICS_LATENCY_BUCKETS, HP_METRICS_LATENCY_NBOUNDS);
    m->signature_failures = hp_metrics_counter(
        reg, "hookpipe_gateway_signature_failures_total",
        "Requests refused by signature verification, by source and reason.", 2, source_reason);
    m->inflight = hp_metrics_gauge(reg, "hookpipe_gateway_inflight_requests",
                                   "Requests waiting for Kafka's acknowledgement.", 0, NULL);
    m->ignored =
        hp_metrics_counter(reg, "hookpipe_gateway_ignored_total",
                           "Events answered 200 but not stored: type not subscribed.", 1, source);
    m->ready =
        hp_metrics_gauge(reg, "hookpipe_gateway_ready",
                         "1 when the gateway is ready (Kafka answers, not draining).", 0, NULL);
    m->ack = hp_histogram_get(m->ack_duration, NULL);
    m->inflight_now = hp_gauge_get(m->inflight, NULL);
    m->ready_now = hp_gauge_get(m->ready, NULL);
}

void gw_metrics_request(gw_metrics *m, const char *source, unsigned status, double seconds)
{
    char code[8];
    snprintf(code, sizeof code, "%u", status);
    const char *const labels[] = {source, code};
    hp_counter_inc(hp_counter_get(m->requests, labels));
    hp_histogram_observe(hp_histogram_get(m->request_duration, &source), seconds);
}
