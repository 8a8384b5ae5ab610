/*
 * Fuzzes who the gateway thinks sent a request: hp_cidr_parse (a source's
 * allow_ips and the gateway's trusted_proxies), hp_ip_parse, and
 * gw_clientip_resolve walking a fuzzed X-Forwarded-For past trusted proxies.
 *
 * Input: line 1 the peer address (one that does not parse is 10.0.0.1, a
 * trusted proxy; IPv4 text makes an AF_INET peer, IPv6 text, v4-mapped
 * included, an AF_INET6 one); line 2 the X-Forwarded-For value; every
 * further line a CIDR range, parsed, and trusted (beside 10.0.0.0/8 and
 * 2001:db8::/32) when it parses.
 *
 * Beyond "no crash", it asserts: a parsed range has no host bits set,
 * contains its own network, and its text parses back to the same range; a
 * rejected one comes with a message; the resolved client is the peer when
 * the peer is not trusted, else the peer or an address written in the
 * header; and the client's text parses back to the client.
 */
#include "fuzz_util.h"
#include "gw_clientip.h"
#include "hp_cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRUSTED 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cidr(const hp_cidr *c)
{
    char text[HP_CIDR_FORMAT_SIZE];
    char err[256] = "";
    hp_cidr back;
    hp_ip net;

    FZ_CHECK(c->bits <= 128, "bits %u", c->bits);
    for (unsigned b = c->bits; b < 128; b++)
        FZ_CHECK(!(c->net[b / 8] & (0x80 >> (b % 8))), "host bit %u set", b);
    memcpy(net.addr, c->net, 16);
    FZ_CHECK(hp_cidr_contains(c, &net), "range does not contain its network");
    hp_cidr_format(c, text, sizeof text);
    FZ_CHECK(hp_cidr_parse(&back, text, err, sizeof err) == HP_OK, "%s does not parse: %s", text,
             err);
    FZ_CHECK(back.bits == c->bits && memcmp(back.net, c->net, 16) == 0, "%s parses differently",
             text);
}

/* Whether ip is one of the comma-separated entries of xff. */
static bool in_xff(const char *xff, const hp_ip *ip)
{
    char entry[128];
    const char *p = xff;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        hp_ip e;
        if (n < sizeof entry) {
            memcpy(entry, p, n);
            entry[n] = '\0';
            if (hp_ip_parse(&e, entry) == HP_OK && memcmp(e.addr, ip->addr, 16) == 0)
                return true;
        }
        if (!comma)
            return false;
        p = comma + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    char *lines[2 + 16] = {NULL};
    size_t nlines = 0;
    hp_cidr trusted[MAX_TRUSTED];
    size_t ntrusted = 0;
    char err[256];

    for (char *p = text; p && nlines < sizeof lines / sizeof lines[0];) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lines[nlines++] = p;
        p = nl ? nl + 1 : NULL;
    }
    FZ_CHECK(hp_cidr_parse(&trusted[ntrusted++], "10.0.0.0/8", err, sizeof err) == HP_OK, "%s",
             err);
    FZ_CHECK(hp_cidr_parse(&trusted[ntrusted++], "2001:db8::/32", err, sizeof err) == HP_OK, "%s",
             err);
    for (size_t i = 2; i < nlines; i++) {
        hp_cidr c;
        err[0] = '\0';
        if (hp_cidr_parse(&c, lines[i], err, sizeof err) == HP_OK) {
            check_cidr(&c);
            if (ntrusted < MAX_TRUSTED)
                trusted[ntrusted++] = c;
        } else {
            FZ_CHECK(err[0] != '\0', "rejected without a message");
        }
    }

    struct sockaddr_storage ss;
    hp_ip peer_ip;
    memset(&ss, 0, sizeof ss);
    const char *peer_text = nlines > 0 ? lines[0] : "";
    if (hp_ip_parse(&peer_ip, peer_text) != HP_OK) {
        peer_text = "10.0.0.1";
        FZ_CHECK(hp_ip_parse(&peer_ip, peer_text) == HP_OK, "10.0.0.1");
    }
    if (strchr(peer_text, ':')) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, peer_ip.addr, 16);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, peer_ip.addr + 12, 4);
    }

    const char *xff = nlines > 1 ? lines[1] : NULL;
    hp_ip client;
    char client_text[GW_CLIENTIP_TEXT_SIZE];
    FZ_CHECK(gw_clientip_resolve((const struct sockaddr *)&ss, xff, trusted, ntrusted, &client,
                                 client_text, sizeof client_text) == HP_OK,
             "resolve failed");
    bool is_peer = memcmp(client.addr, peer_ip.addr, 16) == 0;
    if (!hp_cidr_list_contains(trusted, ntrusted, &peer_ip))
        FZ_CHECK(is_peer, "an untrusted peer's header was believed");
    else
        FZ_CHECK(is_peer || (xff && in_xff(xff, &client)), "client %s is neither peer nor in XFF",
                 client_text);
    hp_ip back;
    FZ_CHECK(hp_ip_parse(&back, client_text) == HP_OK && memcmp(back.addr, client.addr, 16) == 0,
             "client text %s does not parse back", client_text);
    free(text);
    return 0;
}
