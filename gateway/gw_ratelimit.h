/*
 * gw_ratelimit: a token bucket per source (rate_limit.per_second, .burst).
 */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include "hp_config.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gw_ratelimit gw_ratelimit;

/* A bucket for limit, full at start; NULL if limit->per_second is 0 (no limit).
 * Free with gw_ratelimit_free(). @thread any */
gw_ratelimit *gw_ratelimit_new(const hp_rate_limit *limit);
void gw_ratelimit_free(gw_ratelimit *rl);

/*
 * Takes one token at monotonic time now_ns. True if there was one; false if
 * not, with *retry_after_s set to whole seconds (≥ 1) until one will be there
 * (the Retry-After header). A NULL rl always allows. @thread any (thread-safe)
 */
bool gw_ratelimit_take(gw_ratelimit *rl, int64_t now_ns, int *retry_after_s);

#endif /* GW_RATELIMIT_H */
