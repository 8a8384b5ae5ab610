/*
 * gw_budget: the caps on buffered request bytes. See gw_budget.h.
 *
 * Two atomic counters per reservation, the client's slot and the total,
 * each raised with a compare-and-swap loop that never passes its cap: no
 * lock, and a refusal never leaves a counter raised (the slot is raised
 * first and lowered again when the total has no room). Exact: two requests
 * racing for the last bytes cannot both get them.
 */
#include "gw_budget.h"

#include "gw_clientkey.h"
#include "hp_alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

struct gw_budget {
    size_t total_cap;
    size_t client_cap;
    uint64_t seed;
    atomic_size_t used;
    atomic_size_t slot[GW_BUDGET_SLOTS];
};

gw_budget *gw_budget_new(size_t total, size_t per_client)
{
    gw_budget *b = hp_xcalloc(1, sizeof *b);
    b->total_cap = total;
    b->client_cap = per_client < total ? per_client : total;
    b->seed = gw_clientkey_seed();
    atomic_init(&b->used, 0);
    for (size_t i = 0; i < GW_BUDGET_SLOTS; i++)
        atomic_init(&b->slot[i], 0);
    return b;
}

void gw_budget_free(gw_budget *b)
{
    free(b);
}

void gw_budget_hold_init(const gw_budget *b, gw_budget_hold *hold, const hp_ip *client)
{
    hold->bytes = 0;
    hold->slot = gw_clientkey_slot(client, b->seed, GW_BUDGET_SLOTS);
}

/* Adds n to *v unless that would pass cap. */
static bool add_capped(atomic_size_t *v, size_t n, size_t cap)
{
    size_t cur = atomic_load_explicit(v, memory_order_relaxed);
    do {
        if (n > cap || cur > cap - n)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(v, &cur, cur + n, memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

gw_budget_result gw_budget_grow(gw_budget *b, gw_budget_hold *hold, size_t n)
{
    if (n == 0)
        return GW_BUDGET_OK;
    if (!add_capped(&b->slot[hold->slot], n, b->client_cap))
        return GW_BUDGET_CLIENT_FULL;
    if (!add_capped(&b->used, n, b->total_cap)) {
        atomic_fetch_sub_explicit(&b->slot[hold->slot], n, memory_order_relaxed);
        return GW_BUDGET_FULL;
    }
    hold->bytes += n;
    return GW_BUDGET_OK;
}

void gw_budget_release(gw_budget *b, gw_budget_hold *hold)
{
    size_t n = hold->bytes;
    if (n == 0)
        return;
    hold->bytes = 0;
    atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
    atomic_fetch_sub_explicit(&b->slot[hold->slot], n, memory_order_relaxed);
}

size_t gw_budget_used(const gw_budget *b)
{
    return atomic_load_explicit(&b->used, memory_order_relaxed);
}

size_t gw_budget_client_used(const gw_budget *b, const hp_ip *client)
{
    size_t slot = gw_clientkey_slot(client, b->seed, GW_BUDGET_SLOTS);
    return atomic_load_explicit(&b->slot[slot], memory_order_relaxed);
}
