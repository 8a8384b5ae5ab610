/*
 * hp_cidr: parsing and matching of IP address ranges. See hp_cidr.h for the
 * one representation (16 bytes, IPv4 v4-mapped) everything here relies on.
 */
#include "hp_cidr.h"

#include <arpa/inet.h>  /* inet_pton, inet_ntop */
#include <netinet/in.h> /* struct sockaddr_in, sockaddr_in6 */
#include <stdio.h>
#include <string.h>

/* The first 12 bytes of every v4-mapped address, ::ffff:0:0/96. */
static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void map_v4(hp_ip *ip, const void *in_addr4)
{
    memcpy(ip->addr, v4_mapped_prefix, sizeof v4_mapped_prefix);
    memcpy(ip->addr + 12, in_addr4, 4);
}

static bool is_v4_mapped(const unsigned char addr[16])
{
    return memcmp(addr, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0;
}

/* Parses an address text; *is_v4 tells which syntax it was written in. */
static hp_err parse_addr(hp_ip *ip, const char *s, bool *is_v4)
{
    unsigned char raw[16];

    if (inet_pton(AF_INET, s, raw) == 1) {
        map_v4(ip, raw);
        *is_v4 = true;
        return HP_OK;
    }
    if (inet_pton(AF_INET6, s, raw) == 1) {
        memcpy(ip->addr, raw, 16);
        *is_v4 = false;
        return HP_OK;
    }
    return HP_ERR_INVALID;
}

/* Parses a prefix length: 1 to 3 decimal digits, at most max. */
static hp_err parse_prefix(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        if (n == 3 || s[n] < '0' || s[n] > '9')
            return HP_ERR_INVALID;
        v = v * 10 + (unsigned)(s[n] - '0');
    }
    if (n == 0 || v > max)
        return HP_ERR_INVALID;
    *out = v;
    return HP_OK;
}

/* Whether the first bits bits of a and b are equal. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8;
    unsigned rest = bits % 8;

    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return ((a[whole] ^ b[whole]) & mask) == 0;
}

/* Clears the bits after the first bits bits. */
static void clear_host_bits(unsigned char addr[16], unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        if (bits >= 8) {
            bits -= 8;
            continue;
        }
        addr[i] &= (unsigned char)(0xff << (8 - bits));
        bits = 0;
    }
}

static void set_err(char *errstr, size_t errstr_size, const char *what, const char *s)
{
    if (errstr && errstr_size > 0)
        (void)snprintf(errstr, errstr_size, "\"%.64s\" %s", s, what);
}

hp_err hp_cidr_parse(hp_cidr *cidr, const char *s, char *errstr, size_t errstr_size)
{
    char addr[INET6_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    size_t addr_len = slash ? (size_t)(slash - s) : strlen(s);
    hp_ip ip;
    bool is_v4;
    unsigned prefix;

    if (addr_len >= sizeof addr) {
        set_err(errstr, errstr_size, "is not an IP address or CIDR range", s);
        return HP_ERR_INVALID;
    }
    memcpy(addr, s, addr_len);
    addr[addr_len] = '\0';
    if (parse_addr(&ip, addr, &is_v4) != HP_OK) {
        set_err(errstr, errstr_size, "is not an IP address or CIDR range", s);
        return HP_ERR_INVALID;
    }
    prefix = is_v4 ? 32 : 128;
    if (slash && parse_prefix(slash + 1, prefix, &prefix) != HP_OK) {
        set_err(errstr, errstr_size,
                is_v4 ? "has a bad prefix length (0..32)" : "has a bad prefix length (0..128)", s);
        return HP_ERR_INVALID;
    }

    memcpy(cidr->net, ip.addr, 16);
    cidr->bits = is_v4 ? 96 + prefix : prefix;
    clear_host_bits(cidr->net, cidr->bits);
    if (memcmp(cidr->net, ip.addr, 16) != 0) {
        char net[HP_CIDR_FORMAT_SIZE];
        char what[HP_CIDR_FORMAT_SIZE + 64];
        (void)snprintf(what, sizeof what, "has bits set after the prefix (the network is %s)",
                       hp_cidr_format(cidr, net, sizeof net));
        set_err(errstr, errstr_size, what, s);
        return HP_ERR_INVALID;
    }
    return HP_OK;
}

const char *hp_cidr_format(const hp_cidr *cidr, char *buf, size_t bufsz)
{
    char addr[INET6_ADDRSTRLEN] = "?";
    unsigned bits = cidr->bits;

    if (is_v4_mapped(cidr->net) && bits >= 96) {
        (void)inet_ntop(AF_INET, cidr->net + 12, addr, sizeof addr);
        bits -= 96;
    } else {
        (void)inet_ntop(AF_INET6, cidr->net, addr, sizeof addr);
    }
    if (bufsz > 0)
        (void)snprintf(buf, bufsz, "%s/%u", addr, bits);
    return buf;
}

hp_err hp_ip_parse(hp_ip *ip, const char *s)
{
    bool is_v4;
    return parse_addr(ip, s, &is_v4);
}

hp_err hp_ip_from_sockaddr(hp_ip *ip, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        map_v4(ip, &sin->sin_addr);
        return HP_OK;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(ip->addr, &sin6->sin6_addr, 16);
        return HP_OK;
    }
    return HP_ERR_INVALID;
}

bool hp_cidr_contains(const hp_cidr *cidr, const hp_ip *ip)
{
    return prefix_equal(cidr->net, ip->addr, cidr->bits);
}

bool hp_cidr_list_contains(const hp_cidr *cidrs, size_t n, const hp_ip *ip)
{
    for (size_t i = 0; i < n; i++) {
        if (hp_cidr_contains(&cidrs[i], ip))
            return true;
    }
    return false;
}

bool hp_cidr_match(const hp_cidr *cidr, const struct sockaddr *sa)
{
    hp_ip ip;
    return hp_ip_from_sockaddr(&ip, sa) == HP_OK && hp_cidr_contains(cidr, &ip);
}
