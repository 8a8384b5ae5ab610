/*
 * gw_unverified: the limit on failed verifications per client address
 * (gateway.unverified_rate_limit). Every 401 a client earns spends one of
 * its address's tokens; when they are gone its next failures are answered
 * 429 instead, and a request whose signature header is missing or malformed
 * is refused before its body is read. Verified requests spend nothing and
 * are never refused by it, so a flood of forgeries neither starves the
 * provider's signed requests nor the other addresses.
 *
 * A fixed table of GW_UNVERIFIED_SLOTS buckets keyed by gw_clientkey (IPv4
 * address, IPv6 /64): addresses that collide share a bucket, which costs an
 * honest address nothing unless it fails verification too.
 */
#ifndef GW_UNVERIFIED_H
#define GW_UNVERIFIED_H

#include "hp_cidr.h"   /* hp_ip */
#include "hp_config.h" /* hp_rate_limit */

#include <stdbool.h>
#include <stdint.h>

/* Buckets of the table: a power of two. */
#define GW_UNVERIFIED_SLOTS 16384

typedef struct gw_unverified gw_unverified;

/* A table for limit, every bucket full; NULL if limit->per_second is 0 (no
 * limit: every call allows). Free with gw_unverified_free(). @thread any */
gw_unverified *gw_unverified_new(const hp_rate_limit *limit);
void gw_unverified_free(gw_unverified *u);

/*
 * Spends one of client's tokens for a failed verification at monotonic
 * time now_ns. True if there was one (answer the 401); false if the bucket
 * is empty (answer 429), with *retry_after_s (>= 1) until it holds one
 * again. Lock-free. @thread any
 */
bool gw_unverified_take(gw_unverified *u, const hp_ip *client, int64_t now_ns, int *retry_after_s);

#endif /* GW_UNVERIFIED_H */
