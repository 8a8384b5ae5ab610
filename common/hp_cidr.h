/*
 * hp_cidr: IP address ranges ("10.0.0.0/8", "2001:db8::/32") and matching
 * client addresses against them, for a source's allow_ips and the gateway's
 * trusted_proxies.
 *
 * Every address is held in its 16-byte IPv6 form, an IPv4 address as the
 * v4-mapped ::ffff:a.b.c.d and an IPv4 prefix /n as /(96 + n). One bitwise
 * prefix comparison then covers all cases: a client that reaches a dual-stack
 * socket as ::ffff:10.1.2.3 matches 10.0.0.0/8, and ::/0 matches every
 * address, IPv4 included.
 */
#ifndef HP_CIDR_H
#define HP_CIDR_H

#include "hp_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h> /* struct sockaddr */

/* An address, in its IPv6 form (IPv4 v4-mapped). */
typedef struct hp_ip {
    unsigned char addr[16];
} hp_ip;

/* An address range: the addresses whose first bits bits equal those of net. */
typedef struct hp_cidr {
    unsigned char net[16]; /* host bits are zero */
    unsigned bits;         /* prefix length over the 16-byte form, 0..128 */
} hp_cidr;

/* Size of a buffer that holds any text hp_cidr_format writes. */
#define HP_CIDR_FORMAT_SIZE 64

/*
 * Parses "10.0.0.0/8", "::1/128", or a bare address (= /32 or /128). The
 * address must be a plain dotted quad or an RFC 4291 IPv6 text (no zone id,
 * no spaces), the prefix a decimal 0..32 or 0..128, and the bits after the
 * prefix zero ("10.1.0.0/8" is rejected, as it is most likely a typo).
 * Returns HP_ERR_INVALID with a message in errstr (which may quote s: an
 * address is not a secret). @thread any
 */
hp_err hp_cidr_parse(hp_cidr *cidr, const char *s, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/* Writes cidr as text ("10.0.0.0/8", "2001:db8::/32") into buf; returns buf. @thread any */
const char *hp_cidr_format(const hp_cidr *cidr, char *buf, size_t bufsz);

/* Parses a bare IPv4 or IPv6 address (an X-Forwarded-For entry, say). @thread any */
hp_err hp_ip_parse(hp_ip *ip, const char *s) HP_WARN_UNUSED;

/* Takes the address of an AF_INET or AF_INET6 socket address; HP_ERR_INVALID
 * for any other family. @thread any */
hp_err hp_ip_from_sockaddr(hp_ip *ip, const struct sockaddr *sa) HP_WARN_UNUSED;

/* Whether ip lies in cidr. @thread any */
bool hp_cidr_contains(const hp_cidr *cidr, const hp_ip *ip);

/* Whether ip lies in any of the n ranges (false for n == 0). @thread any */
bool hp_cidr_list_contains(const hp_cidr *cidrs, size_t n, const hp_ip *ip);

/* Whether the address of sa lies in cidr; false for a family other than
 * AF_INET and AF_INET6. @thread any */
bool hp_cidr_match(const hp_cidr *cidr, const struct sockaddr *sa);

#endif /* HP_CIDR_H */
