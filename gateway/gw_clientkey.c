/*
 * gw_clientkey: an address's slot in a fixed per-client table. See
 * gw_clientkey.h.
 *
 * The hash mixes the address's key (its 16-byte form, or the first 8 bytes
 * of a native IPv6 address) with the seed through the splitmix64
 * finaliser: cheap, and with a seed the client does not know, it cannot
 * aim at a slot.
 */
#include "gw_clientkey.h"

#include "hp_time.h"

#include <string.h>
#include <sys/random.h>
#include <unistd.h>

uint64_t gw_clientkey_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
        return seed;
    return (uint64_t)hp_time_mono_ns() ^ ((uint64_t)getpid() << 32);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

/* Whether ip is an IPv4 address in its v4-mapped form (::ffff:a.b.c.d). */
static bool is_v4(const hp_ip *ip)
{
    static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(ip->addr, prefix, sizeof prefix) == 0;
}

size_t gw_clientkey_slot(const hp_ip *ip, uint64_t seed, size_t nslots)
{
    uint64_t hi, lo = 0;
    memcpy(&hi, ip->addr, 8);
    if (is_v4(ip))
        memcpy(&lo, ip->addr + 8, 8);
    uint64_t h = mix(mix(hi ^ seed) ^ lo);
    return (size_t)(h & (nslots - 1));
}
