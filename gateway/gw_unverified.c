/*
 * gw_unverified: failed verifications per client address. See
 * gw_unverified.h.
 *
 * Each bucket is one atomic integer, the "theoretical arrival time" of the
 * generic cell rate algorithm (GCRA, as ATM networks and many rate
 * limiters use): with an interval T = 1/per_second between tokens and room
 * for burst of them, a take at now is allowed when max(tat, now) + T - now
 * <= burst * T, and moves tat to max(tat, now) + T. That is a token bucket
 * holding burst tokens and gaining per_second, in one word per address, so
 * a compare-and-swap makes it exact without a lock. A bucket nobody used
 * (tat 0, far in the past) is full.
 */
#include "gw_unverified.h"

#include "gw_clientkey.h"
#include "hp_alloc.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

/* The longest time a bucket holds (burst * T): far beyond any real limit,
 * and far from overflowing int64 nanoseconds. */
#define SPAN_MAX_NS 1e17

struct gw_unverified {
    int64_t interval_ns; /* T */
    int64_t span_ns;     /* burst * T */
    uint64_t seed;
    _Atomic int64_t tat[GW_UNVERIFIED_SLOTS];
};

gw_unverified *gw_unverified_new(const hp_rate_limit *limit)
{
    if (!limit || !(limit->per_second > 0))
        return NULL;
    gw_unverified *u = hp_xcalloc(1, sizeof *u);
    double burst = limit->burst >= 1 ? limit->burst : ceil(limit->per_second);
    double t = 1e9 / limit->per_second;
    u->interval_ns = (int64_t)fmin(fmax(t, 1.0), SPAN_MAX_NS);
    u->span_ns = (int64_t)fmin(burst * (double)u->interval_ns, SPAN_MAX_NS);
    u->seed = gw_clientkey_seed();
    for (size_t i = 0; i < GW_UNVERIFIED_SLOTS; i++)
        atomic_init(&u->tat[i], 0);
    return u;
}

void gw_unverified_free(gw_unverified *u)
{
    free(u);
}

/* How far past the bucket's room a take at now would go: <= 0 allows. */
static int64_t excess(const gw_unverified *u, int64_t tat, int64_t now_ns)
{
    int64_t from = tat > now_ns ? tat : now_ns;
    return from + u->interval_ns - now_ns - u->span_ns;
}

static int retry_after(int64_t excess_ns)
{
    double s = ceil((double)excess_ns / 1e9);
    if (!(s >= 1.0))
        return 1;
    return s < (double)INT_MAX ? (int)s : INT_MAX;
}

bool gw_unverified_take(gw_unverified *u, const hp_ip *client, int64_t now_ns, int *retry_after_s)
{
    if (!u)
        return true;
    _Atomic int64_t *slot = &u->tat[gw_clientkey_slot(client, u->seed, GW_UNVERIFIED_SLOTS)];
    int64_t tat = atomic_load_explicit(slot, memory_order_relaxed);
    for (;;) {
        int64_t over = excess(u, tat, now_ns);
        if (over > 0) {
            if (retry_after_s)
                *retry_after_s = retry_after(over);
            return false;
        }
        int64_t next = (tat > now_ns ? tat : now_ns) + u->interval_ns;
        if (atomic_compare_exchange_weak_explicit(slot, &tat, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
}
