/*
 * gw_ratelimit: a token bucket per source. See gw_ratelimit.h.
 *
 * The bucket holds up to burst tokens and gains per_second of them each
 * second; a request takes one. Tokens are a double so that slow rates
 * (0.5 per second) and fine time steps both work, and whole-token counts
 * stay exact. Time comes from the caller (hp_time_mono_ns() in the gateway,
 * a made-up clock in the tests); the first take sets the bucket's clock.
 *
 * One mutex per bucket: the section it guards is a few arithmetic
 * operations, only requests of a rate-limited source take it, and a lock is
 * easy to see correct where a compare-and-swap loop on a double is not.
 */
#include "gw_ratelimit.h"

#include "hp_alloc.h"
#include "hp_log.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

struct gw_ratelimit {
    pthread_mutex_t lock;
    double per_second; /* > 0 */
    double burst;      /* ≥ 1 */
    double tokens;     /* 0..burst */
    int64_t last_ns;   /* when tokens was last brought up to date */
    bool started;      /* false until the first take sets last_ns */
};

gw_ratelimit *gw_ratelimit_new(const hp_rate_limit *limit)
{
    if (!limit || !(limit->per_second > 0))
        return NULL;
    gw_ratelimit *rl = hp_xcalloc(1, sizeof *rl);
    if (pthread_mutex_init(&rl->lock, NULL) != 0) {
        hp_log(HP_LOG_ERROR, "gateway", "pthread_mutex_init failed");
        abort();
    }
    rl->per_second = limit->per_second;
    /* The configuration always sets burst; ceil(per_second) is its default. */
    rl->burst = limit->burst >= 1 ? limit->burst : ceil(limit->per_second);
    rl->tokens = rl->burst;
    return rl;
}

void gw_ratelimit_free(gw_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* Adds the tokens earned since last_ns. A now_ns older than last_ns (a
 * thread that read the clock before another one took the lock) earns none
 * and does not move the clock back. Called with the lock held. */
static void refill(gw_ratelimit *rl, int64_t now_ns)
{
    if (!rl->started) {
        rl->started = true;
        rl->last_ns = now_ns;
        return;
    }
    if (now_ns <= rl->last_ns)
        return;
    double earned = (double)(now_ns - rl->last_ns) * rl->per_second / 1e9;
    rl->tokens = fmin(rl->burst, rl->tokens + earned);
    rl->last_ns = now_ns;
}

/* Whole seconds until the bucket holds one token: at least 1. */
static int retry_after(const gw_ratelimit *rl)
{
    double s = ceil((1.0 - rl->tokens) / rl->per_second);
    if (!(s >= 1.0))
        return 1;
    return s < (double)INT_MAX ? (int)s : INT_MAX;
}

bool gw_ratelimit_take(gw_ratelimit *rl, int64_t now_ns, int *retry_after_s)
{
    bool ok;
    if (!rl)
        return true;
    pthread_mutex_lock(&rl->lock);
    refill(rl, now_ns);
    ok = rl->tokens >= 1.0;
    if (ok)
        rl->tokens -= 1.0;
    else if (retry_after_s)
        *retry_after_s = retry_after(rl);
    pthread_mutex_unlock(&rl->lock);
    return ok;
}
