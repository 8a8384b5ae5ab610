/*
 * wk_metrics: the worker's Prometheus metrics (docs/metrics.md).
 */
#ifndef WK_METRICS_H
#define WK_METRICS_H

#include "hp_metrics.h"

/* Source label of records whose source this worker's configuration does not name. */
#define WK_METRICS_UNCONFIGURED_SOURCE "(unconfigured)"

typedef struct wk_metrics {
    hp_counter_family *events;        /* {source,result}: applied, duplicate, dlq */
    hp_histogram_family *batch;       /* seconds per batch, retries included */
    hp_histogram_family *end_to_end;  /* received-at to commit, seconds */
    hp_gauge_family *lag;             /* {topic,partition} */
    hp_counter_family *retries;       /* {reason}: transient, fatal */
    hp_histogram *batch_seconds;      /* the one child of batch */
    hp_histogram *end_to_end_seconds; /* the one child of end_to_end */
} wk_metrics;

/* Registers the worker's families in reg. @thread main */
void wk_metrics_init(wk_metrics *m, hp_metrics *reg);

/* Counts one event of source with result. @thread worker */
void wk_metrics_event(wk_metrics *m, const char *source, const char *result);

/* Counts one retry for reason. @thread worker */
void wk_metrics_retry(wk_metrics *m, const char *reason);

#endif /* WK_METRICS_H */
