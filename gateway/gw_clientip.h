/*
 * gw_clientip: who sent a request — the peer address, or, when the peer is
 * a trusted proxy, the address X-Forwarded-For names.
 */
#ifndef GW_CLIENTIP_H
#define GW_CLIENTIP_H

#include "hp_cidr.h"

#include <stddef.h>

/* Size of a buffer that holds the text of any address. */
#define GW_CLIENTIP_TEXT_SIZE 64

/*
 * Resolves the client of a request. If peer is not in trusted (or ntrusted
 * is 0, or xff is NULL or empty), the client is the peer. Otherwise the
 * comma-separated entries of xff are walked from the right, skipping those
 * that are themselves trusted proxies; the first untrusted entry is the
 * client. If every entry is trusted the leftmost is the client; if an entry
 * is not an IP address the walk stops and the last good address (or the
 * peer) is the client — a forged or garbled header never yields an address
 * the proxies didn't add. *client gets the address, text its canonical text
 * ("203.0.113.7", "2001:db8::1"; IPv4 never in ::ffff: form).
 * HP_ERR_INVALID only if peer is not AF_INET/AF_INET6. @thread any
 */
hp_err gw_clientip_resolve(const struct sockaddr *peer, const char *xff, const hp_cidr *trusted,
                           size_t ntrusted, hp_ip *client, char *text,
                           size_t textsz) HP_WARN_UNUSED;

#endif /* GW_CLIENTIP_H */
