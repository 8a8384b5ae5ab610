/*
 * gw_budget: how many bytes of request bodies the gateway holds, in all and
 * per client address, and the caps on both (gateway.max_buffered_bytes,
 * .max_buffered_bytes_per_client).
 *
 * A request reserves its body before the bytes arrive: its declared
 * Content-Length when the headers are in, or (chunked) step by step as the
 * bytes come. A reservation that would take the total or the client's
 * share over its cap is refused, and the gateway answers 503 before it
 * reads the body (or closes a chunked one). The reservation is given back,
 * once, when the request's buffer is freed.
 *
 * Per-client shares live in a fixed table of GW_BUDGET_SLOTS counters keyed
 * by gw_clientkey (IPv4 address, IPv6 /64): the memory is fixed (128 KiB), and
 * addresses that collide share one share. With 200 clients at once, two
 * share a slot with a chance of about 1 in 80 per client; then each gets at
 * least what the share leaves, and a refusal is a 503 the provider retries.
 */
#ifndef GW_BUDGET_H
#define GW_BUDGET_H

#include "hp_cidr.h" /* hp_ip */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slots of the per-client table: a power of two. */
#define GW_BUDGET_SLOTS 16384

typedef struct gw_budget gw_budget;

/* What a reservation ran into. */
typedef enum {
    GW_BUDGET_OK,
    GW_BUDGET_FULL,        /* max_buffered_bytes */
    GW_BUDGET_CLIENT_FULL, /* the client's max_buffered_bytes_per_client */
} gw_budget_result;

/* One request's reservation; caller storage, zero-initialised means "none". */
typedef struct gw_budget_hold {
    size_t bytes; /* reserved now */
    size_t slot;  /* the client's slot, set by gw_budget_hold_init() */
} gw_budget_hold;

/* A budget of total bytes in all and per_client per client address (both
 * > 0; per_client <= total). Free with gw_budget_free(). @thread any */
gw_budget *gw_budget_new(size_t total, size_t per_client);

/* Frees b (NULL is fine). Every hold must have been released. @thread owner */
void gw_budget_free(gw_budget *b);

/* Makes hold a reservation of nothing for client. @thread any */
void gw_budget_hold_init(const gw_budget *b, gw_budget_hold *hold, const hp_ip *client);

/*
 * Adds n bytes to hold, if the client's share and the total both have room;
 * else reserves nothing more and says which cap was in the way. Lock-free.
 * @thread any (one thread per hold)
 */
gw_budget_result gw_budget_grow(gw_budget *b, gw_budget_hold *hold, size_t n);

/* Gives back everything hold reserved and leaves it empty: a second call
 * gives back nothing. @thread any (one thread per hold) */
void gw_budget_release(gw_budget *b, gw_budget_hold *hold);

/* Bytes reserved now, in all; and by the slot of client. @thread any */
size_t gw_budget_used(const gw_budget *b);
size_t gw_budget_client_used(const gw_budget *b, const hp_ip *client);

#endif /* GW_BUDGET_H */
