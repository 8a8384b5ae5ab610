/*
 * bn_hist: log-linear latency histogram. See bn_hist.h.
 *
 * Bucket index of a value v >= 128: with m the position of its highest set
 * bit, the group is m - 6 and the sub-bucket the next 7 bits below the top
 * one; group 0 holds 0..127 exactly. Group g >= 1, sub-bucket s covers
 * [(128 + s) << (g - 1), (129 + s) << (g - 1)).
 */
#include "bn_hist.h"

#include <math.h>
#include <string.h>

#define SUB (1 << BN_HIST_SUB_BITS)

static size_t bucket_of(uint64_t v)
{
    if (v < SUB)
        return (size_t)v;
    if (v >> BN_HIST_MAX_BITS)
        return BN_HIST_BUCKETS - 1;
    int m = 63 - __builtin_clzll(v);
    int g = m - BN_HIST_SUB_BITS + 1;
    size_t s = (size_t)(v >> (m - BN_HIST_SUB_BITS)) - SUB;
    return ((size_t)g << BN_HIST_SUB_BITS) + s;
}

/* The largest value that falls into bucket i. */
static uint64_t bucket_top(size_t i)
{
    size_t g = i >> BN_HIST_SUB_BITS, s = i & (SUB - 1);
    if (g == 0)
        return s;
    return ((uint64_t)(SUB + s + 1) << (g - 1)) - 1;
}

void bn_hist_init(bn_hist *h)
{
    memset(h, 0, sizeof *h);
}

void bn_hist_record(bn_hist *h, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    h->counts[bucket_of((uint64_t)ns)]++;
    h->n++;
    h->sum_ns += (double)ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void bn_hist_merge(bn_hist *dst, const bn_hist *src)
{
    for (size_t i = 0; i < BN_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->n += src->n;
    dst->sum_ns += src->sum_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
}

int64_t bn_hist_percentile(const bn_hist *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < BN_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t top = bucket_top(i);
            return top < (uint64_t)h->max_ns ? (int64_t)top : h->max_ns;
        }
    }
    return h->max_ns;
}

/* Milliseconds rounded to the microsecond, as JSON. */
static json_t *ms(double ns)
{
    return json_real(round(ns / 1e3) / 1e3);
}

json_t *bn_hist_json(const bn_hist *h)
{
    static const struct {
        const char *name;
        double p;
    } points[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}};
    json_t *o = json_object();

    json_object_set_new(o, "count", json_integer((json_int_t)h->n));
    json_object_set_new(o, "mean", h->n ? ms(h->sum_ns / (double)h->n) : json_null());
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
        json_object_set_new(o, points[i].name,
                            h->n ? ms((double)bn_hist_percentile(h, points[i].p)) : json_null());
    json_object_set_new(o, "max", h->n ? ms((double)h->max_ns) : json_null());
    return o;
}
