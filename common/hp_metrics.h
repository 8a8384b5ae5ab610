/*
 * hp_metrics: a Prometheus registry (counters, gauges, histograms) rendered in
 * the text exposition format 0.0.4.
 *
 * A family (name, help, label names) is registered once at startup; it owns
 * one child per tuple of label values. Look a child up once (hp_counter_get)
 * and keep the handle: updating it is a single atomic operation, never a lock.
 * Handles stay valid until hp_metrics_free().
 *
 * Label values must come from bounded sets (configured source names, status
 * codes, partitions), never from request input: children are never freed
 * before the registry, so every distinct tuple costs memory for good.
 *
 * A malformed name, label name or bucket list is a programming error and
 * aborts with a message.
 */
#ifndef HP_METRICS_H
#define HP_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Most label names a family may have. */
#define HP_METRICS_MAX_LABELS 4

/* Most bytes hp_metrics_render() produces. */
#define HP_METRICS_RENDER_MAX (64u * 1024 * 1024)

typedef struct hp_metrics hp_metrics;
typedef struct hp_counter_family hp_counter_family;
typedef struct hp_gauge_family hp_gauge_family;
typedef struct hp_histogram_family hp_histogram_family;
typedef struct hp_counter hp_counter;
typedef struct hp_gauge hp_gauge;
typedef struct hp_histogram hp_histogram;

/* Request latency buckets in seconds: 0.5 ms … 10 s (HP_METRICS_LATENCY_NBOUNDS values). */
#define HP_METRICS_LATENCY_NBOUNDS 14
extern const double HP_METRICS_LATENCY_BUCKETS[HP_METRICS_LATENCY_NBOUNDS];

/* Creates an empty registry; free it with hp_metrics_free(). @thread any */
hp_metrics *hp_metrics_new(void);

/*
 * Frees the registry with every family and child in it; all handles become
 * invalid. Call only once no thread uses it any more (the admin server is
 * stopped). NULL is fine. @thread owner
 */
void hp_metrics_free(hp_metrics *reg);

/*
 * Registers a counter family and returns it (owned by reg). name must match
 * [a-zA-Z_:][a-zA-Z0-9_:]* and be new in reg; label_names (nlabels of them,
 * at most HP_METRICS_MAX_LABELS, NULL when 0) must match [a-zA-Z_][a-zA-Z0-9_]*
 * and not start with "__". All strings are copied. Aborts on a bad argument.
 * @thread any (normally startup)
 */
hp_counter_family *hp_metrics_counter(hp_metrics *reg, const char *name, const char *help,
                                      size_t nlabels, const char *const *label_names);

/* Registers a gauge family; the rules of hp_metrics_counter() apply. @thread any */
hp_gauge_family *hp_metrics_gauge(hp_metrics *reg, const char *name, const char *help,
                                  size_t nlabels, const char *const *label_names);

/*
 * Registers a histogram family; the rules of hp_metrics_counter() apply, and
 * no label may be called "le". bounds are the upper bounds of the buckets
 * (nbounds of them, finite and strictly increasing; copied); the "+Inf"
 * bucket is implicit. @thread any
 */
hp_histogram_family *hp_metrics_histogram(hp_metrics *reg, const char *name, const char *help,
                                          size_t nlabels, const char *const *label_names,
                                          const double *bounds, size_t nbounds);

/*
 * Returns the child of fam for label_values (one per label name, in the
 * family's order, non-NULL; the array may be NULL for a family without
 * labels), creating it at 0 on first use. Always the same pointer for the
 * same values; owned by the registry. Lock-free when the child exists; a new
 * child takes the family's lock once. @thread any
 */
hp_counter *hp_counter_get(hp_counter_family *fam, const char *const *label_values);

/* Adds n to the counter. Lock-free. @thread any */
void hp_counter_add(hp_counter *ctr, uint64_t n);

/* Adds 1 to the counter. Lock-free. @thread any */
void hp_counter_inc(hp_counter *ctr);

/* Current value, for tests and for deriving other values. @thread any */
uint64_t hp_counter_value(const hp_counter *ctr);

/*
 * Returns the gauge child for label_values, as hp_counter_get() does. A
 * child hidden by hp_gauge_remove() is shown again, starting from 0.
 * @thread any
 */
hp_gauge *hp_gauge_get(hp_gauge_family *fam, const char *const *label_values);

/* Sets the gauge. Lock-free. @thread any */
void hp_gauge_set(hp_gauge *gauge, double v);

/* Adds d (negative to subtract) to the gauge. Lock-free. @thread any */
void hp_gauge_add(hp_gauge *gauge, double d);

/* Current value. @thread any */
double hp_gauge_value(const hp_gauge *gauge);

/*
 * Stops rendering the child for label_values (for example the consumer lag of
 * a partition this worker no longer owns) and resets it to 0. The memory is
 * kept, so handles stay valid: updates through an old handle are not
 * rendered until hp_gauge_get() is called for the same values again. Nothing
 * happens if the child does not exist. @thread any
 */
void hp_gauge_remove(hp_gauge_family *fam, const char *const *label_values);

/* Returns the histogram child for label_values, as hp_counter_get() does. @thread any */
hp_histogram *hp_histogram_get(hp_histogram_family *fam, const char *const *label_values);

/* Records one observation v. Lock-free. @thread any */
void hp_histogram_observe(hp_histogram *hist, double v);

/*
 * Renders every family in registration order, children in creation order, in
 * the Prometheus text format 0.0.4. A family without children renders its
 * HELP and TYPE lines only. Returns a NUL-terminated string the caller frees
 * with free(), its length in *len; NULL if it would exceed
 * HP_METRICS_RENDER_MAX. Concurrent updates may or may not be included.
 * @thread any
 */
char *hp_metrics_render(hp_metrics *reg, size_t *len);

#endif /* HP_METRICS_H */
