/*
 * gw_clientkey: which slot of a fixed per-client table an address uses.
 *
 * The gateway keeps two tables indexed by client address, the buffered
 * bytes of each client (gw_budget) and the failed verifications of each
 * (gw_unverified). Both are fixed arrays, so no client can make them grow:
 * an address is hashed to a slot, and addresses that collide share it (and
 * its limit). The hash is keyed with a random seed drawn at start, so a
 * client cannot pick addresses that land on an honest client's slot.
 *
 * An IPv4 address is its own key; an IPv6 address is keyed by its /64, the
 * smallest network a site is given, so one client cannot spread itself
 * over 2^64 addresses of its own.
 */
#ifndef GW_CLIENTKEY_H
#define GW_CLIENTKEY_H

#include "hp_cidr.h" /* hp_ip */

#include <stddef.h>
#include <stdint.h>

/* A random seed for gw_clientkey_slot(), from the system's random source
 * (a clock-derived one if it has none). @thread any */
uint64_t gw_clientkey_seed(void);

/* The slot of ip in a table of nslots (a power of two) keyed with seed.
 * @thread any */
size_t gw_clientkey_slot(const hp_ip *ip, uint64_t seed, size_t nslots);

#endif /* GW_CLIENTKEY_H */
