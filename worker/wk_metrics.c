/*
 * wk_metrics: the worker's Prometheus metrics. See wk_metrics.h.
 */
#include "wk_metrics.h"

/* End-to-end latency spans the queue's lag too: seconds to hours. */
static const double end_to_end_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                           2.5,   5,    10,    30,   60,  300,  900, 3600};

void wk_metrics_init(wk_metrics *m, hp_metrics *reg)
{
    static const char *const source_result[] = {"source", "result"};
    static const char *const topic_partition[] = {"topic", "partition"};
    static const char *const reason[] = {"reason"};

    m->events = hp_metrics_counter(reg, "hookpipe_worker_events_total",
                                   "Events handled, by source and result (applied, duplicate, "
                                   "dlq).",
                                   2, source_result);
    m->batch = hp_metrics_histogram(reg, "hookpipe_worker_batch_duration_seconds",
                                    "Time to apply one batch, retries included.", 0, NULL,
                                    HP_METRICS_LATENCY_BUCKETS, HP_METRICS_LATENCY_NBOUNDS);
    m->end_to_end = hp_metrics_histogram(
        reg, "hookpipe_worker_end_to_end_seconds",
        "From the gateway receiving an event to the worker committing it.", 0, NULL,
        end_to_end_bounds, sizeof end_to_end_bounds / sizeof end_to_end_bounds[0]);
    m->lag =
        hp_metrics_gauge(reg, "hookpipe_worker_consumer_lag",
                         "Records of an assigned partition not yet consumed.", 2, topic_partition);
    m->retries =
        hp_metrics_counter(reg, "hookpipe_worker_retries_total",
                           "Batches retried after a transient failure, by reason.", 1, reason);
    m->batch_seconds = hp_histogram_get(m->batch, NULL);
    m->end_to_end_seconds = hp_histogram_get(m->end_to_end, NULL);
}

void wk_metrics_event(wk_metrics *m, const char *source, const char *result)
{
    const char *const labels[] = {source, result};
    hp_counter_inc(hp_counter_get(m->events, labels));
}

void wk_metrics_retry(wk_metrics *m, const char *reason)
{
    hp_counter_inc(hp_counter_get(m->retries, &reason));
}
