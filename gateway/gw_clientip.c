/*
 * gw_clientip: the client of a request, past trusted proxies. See
 * gw_clientip.h.
 *
 * X-Forwarded-For is a list each proxy appends the address it received
 * from to, so only its right end is trustworthy: entries are believed from
 * the right for as long as the address that supplied them is one of our
 * proxies. Anything left of the first untrusted entry may have been written
 * by the client itself. Entries are strict — a plain IPv4 or IPv6 address,
 * trimmed of spaces and tabs; no ports, brackets or zone ids — and the walk
 * stops at the first one that is not, keeping the last good address.
 */
#include "gw_clientip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

/* Longest entry worth parsing: an IPv6 text with an embedded IPv4 is 45. */
#define ENTRY_MAX 63

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Parses the entry of xff that ends just before end (the entries are
 * separated by commas) into *ip and sets *start to the entry's first byte.
 * False if the entry is not an address.
 */
static bool parse_entry(const char *xff, const char *end, const char **start, hp_ip *ip)
{
    const char *b = end;
    while (b > xff && b[-1] != ',')
        b--;
    *start = b;
    while (b < end && is_blank(*b))
        b++;
    while (end > b && is_blank(end[-1]))
        end--;

    char entry[ENTRY_MAX + 1];
    size_t n = (size_t)(end - b);
    if (n == 0 || n > ENTRY_MAX)
        return false;
    memcpy(entry, b, n);
    entry[n] = '\0';
    return hp_ip_parse(ip, entry) == HP_OK;
}

/* Walks xff from the right as described at the top of this file, updating
 * *client with each address believed. */
static void walk(const char *xff, const hp_cidr *trusted, size_t ntrusted, hp_ip *client)
{
    const char *end = xff + strlen(xff);
    for (;;) {
        const char *start;
        hp_ip ip;
        if (!parse_entry(xff, end, &start, &ip))
            return;
        *client = ip;
        if (!hp_cidr_list_contains(trusted, ntrusted, &ip) || start == xff)
            return;
        end = start - 1; /* the comma before this entry */
    }
}

/* Writes ip as text: IPv4 (v4-mapped included) dotted, else RFC 5952. */
static void format_ip(const hp_ip *ip, char *text, size_t textsz)
{
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const char *res;
    if (!text || textsz == 0)
        return;
    if (memcmp(ip->addr, v4_mapped, sizeof v4_mapped) == 0)
        res = inet_ntop(AF_INET, ip->addr + 12, text, (socklen_t)textsz);
    else
        res = inet_ntop(AF_INET6, ip->addr, text, (socklen_t)textsz);
    if (!res)
        text[0] = '\0';
}

hp_err gw_clientip_resolve(const struct sockaddr *peer, const char *xff, const hp_cidr *trusted,
                           size_t ntrusted, hp_ip *client, char *text, size_t textsz)
{
    hp_ip ip;
    if (!peer || hp_ip_from_sockaddr(&ip, peer) != HP_OK)
        return HP_ERR_INVALID;
    if (xff && *xff && hp_cidr_list_contains(trusted, ntrusted, &ip))
        walk(xff, trusted, ntrusted, &ip);
    *client = ip;
    format_ip(&ip, text, textsz);
    return HP_OK;
}
