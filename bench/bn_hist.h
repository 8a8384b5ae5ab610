/*
 * bn_hist: a latency histogram for the benchmark tools (hp-load,
 * hp-kafka-baseline).
 *
 * HDR-style log-linear buckets: values below 128 ns are exact, above that
 * every power of two is split into 128 equal buckets, so a reported
 * percentile is at most 0.8 % above the true value, whatever the count.
 * Memory is fixed (about 35 KiB), recording is O(1) and two histograms merge
 * by adding their counts, so each load thread keeps its own and the main
 * thread merges them at the end. Percentiles report the upper bound of
 * their bucket (never optimistic); max and mean are exact.
 */
#ifndef BN_HIST_H
#define BN_HIST_H

#include <jansson.h>
#include <stdint.h>

#define BN_HIST_SUB_BITS 7  /* 128 sub-buckets per power of two */
#define BN_HIST_MAX_BITS 40 /* values up to 2^40 ns (18 min); larger ones clamp */
#define BN_HIST_BUCKETS ((BN_HIST_MAX_BITS - BN_HIST_SUB_BITS + 1) << BN_HIST_SUB_BITS)

typedef struct bn_hist {
    uint64_t counts[BN_HIST_BUCKETS];
    uint64_t n;     /* values recorded */
    int64_t max_ns; /* exact */
    double sum_ns;  /* for the mean */
} bn_hist;

/* Empties caller storage h. @thread owner */
void bn_hist_init(bn_hist *h);

/* Records one value in nanoseconds (negative ones count as 0). @thread owner */
void bn_hist_record(bn_hist *h, int64_t ns);

/* Adds src's values to dst. @thread owner of dst, src not being written */
void bn_hist_merge(bn_hist *dst, const bn_hist *src);

/* The value at percentile p (0–100] in ns: the upper bound of the bucket
 * holding it, capped at the exact max. 0 when h is empty. @thread any */
int64_t bn_hist_percentile(const bn_hist *h, double p);

/*
 * A new JSON object {"count", "mean", "p50", "p90", "p99", "p99.9", "max"}
 * with the times in milliseconds (null when empty). The caller owns the
 * reference. @thread any
 */
json_t *bn_hist_json(const bn_hist *h);

#endif /* BN_HIST_H */
