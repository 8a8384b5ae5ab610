/*
 * Unit tests for gw_clientip: the peer when it is not a trusted proxy, the
 * X-Forwarded-For walk from the right past trusted proxies, a garbled entry
 * stopping the walk, IPv6 and v4-mapped peers, and the text form.
 */
#include "gw_clientip.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

static hp_cidr trusted[2];
static struct sockaddr_storage peer;

static void setup(void)
{
    char err[128];
    ck_assert(hp_cidr_parse(&trusted[0], "10.0.0.0/8", err, sizeof err) == HP_OK);
    ck_assert(hp_cidr_parse(&trusted[1], "2001:db8:ffff::/48", err, sizeof err) == HP_OK);
}

/* The peer address, IPv4 or IPv6 text. */
static const struct sockaddr *peer_of(const char *addr)
{
    memset(&peer, 0, sizeof peer);
    struct sockaddr_in *sin = (struct sockaddr_in *)&peer;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&peer;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(40000);
    } else {
        ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(40000);
    }
    return (const struct sockaddr *)&peer;
}

/* The client's text for a request from peer_addr with xff, all proxies trusted. */
static const char *client_of(const char *peer_addr, const char *xff)
{
    static char text[GW_CLIENTIP_TEXT_SIZE];
    hp_ip client, expect;
    hp_err rc =
        gw_clientip_resolve(peer_of(peer_addr), xff, trusted, 2, &client, text, sizeof text);
    ck_assert_int_eq(rc, HP_OK);
    /* The address and its text agree. */
    ck_assert(hp_ip_parse(&expect, text) == HP_OK);
    ck_assert(memcmp(expect.addr, client.addr, 16) == 0);
    return text;
}

START_TEST(test_untrusted_peer_ignores_xff)
{
    ck_assert_str_eq(client_of("203.0.113.7", "198.51.100.1"), "203.0.113.7");
    ck_assert_str_eq(client_of("203.0.113.7", NULL), "203.0.113.7");
}
END_TEST

START_TEST(test_no_trusted_proxies)
{
    hp_ip client;
    char text[GW_CLIENTIP_TEXT_SIZE];
    ck_assert_int_eq(gw_clientip_resolve(peer_of("10.0.0.1"), "198.51.100.1", NULL, 0, &client,
                                         text, sizeof text),
                     HP_OK);
    ck_assert_str_eq(text, "10.0.0.1");
}
END_TEST

START_TEST(test_trusted_chain)
{
    /* The proxy at 10.0.0.2 got it from 10.0.0.3, which got it from the client. */
    ck_assert_str_eq(client_of("10.0.0.2", "198.51.100.1, 10.0.0.3"), "198.51.100.1");
    ck_assert_str_eq(client_of("10.0.0.2", "198.51.100.1"), "198.51.100.1");
    /* Whatever the client wrote before itself is not believed. */
    ck_assert_str_eq(client_of("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.3"), "198.51.100.1");
    /* Spaces and tabs around entries, and no spaces at all. */
    ck_assert_str_eq(client_of("10.0.0.2", " 198.51.100.1 ,\t10.0.0.3\t"), "198.51.100.1");
    ck_assert_str_eq(client_of("10.0.0.2", "198.51.100.1,10.0.0.3"), "198.51.100.1");
}
END_TEST

START_TEST(test_all_trusted)
{
    ck_assert_str_eq(client_of("10.0.0.2", "10.9.9.9, 10.0.0.3"), "10.9.9.9");
    ck_assert_str_eq(client_of("10.0.0.2", "10.0.0.3"), "10.0.0.3");
}
END_TEST

START_TEST(test_garbage_stops_walk)
{
    /* The last good address is the client. */
    ck_assert_str_eq(client_of("10.0.0.2", "198.51.100.1, garbage, 10.0.0.3"), "10.0.0.3");
    ck_assert_str_eq(client_of("10.0.0.2", "198.51.100.1, 10.0.0.3:8080"), "10.0.0.2");
    ck_assert_str_eq(client_of("10.0.0.2", "[2001:db8::1]"), "10.0.0.2");
    ck_assert_str_eq(client_of("10.0.0.2", "198.51.100.1, "), "10.0.0.2");
    ck_assert_str_eq(client_of("10.0.0.2", "198.51.100.1,,10.0.0.3"), "10.0.0.3");
    ck_assert_str_eq(client_of("10.0.0.2", ",10.0.0.3"), "10.0.0.3");
    ck_assert_str_eq(client_of("10.0.0.2", "fe80::1%eth0"), "10.0.0.2");
    ck_assert_str_eq(client_of("10.0.0.2", "unknown"), "10.0.0.2");
    char longest[200];
    memset(longest, '1', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    ck_assert_str_eq(client_of("10.0.0.2", longest), "10.0.0.2");
}
END_TEST

START_TEST(test_empty_xff)
{
    ck_assert_str_eq(client_of("10.0.0.2", ""), "10.0.0.2");
    ck_assert_str_eq(client_of("10.0.0.2", NULL), "10.0.0.2");
    ck_assert_str_eq(client_of("10.0.0.2", "   "), "10.0.0.2");
}
END_TEST

START_TEST(test_ipv6)
{
    ck_assert_str_eq(client_of("2001:db8::7", "198.51.100.1"), "2001:db8::7");
    ck_assert_str_eq(client_of("2001:db8:ffff::1", "2001:DB8:0:0::42, 2001:db8:ffff::2"),
                     "2001:db8::42");
    ck_assert_str_eq(client_of("2001:db8:ffff::1", "198.51.100.1"), "198.51.100.1");
    ck_assert_str_eq(client_of("10.0.0.2", "2001:db8::42"), "2001:db8::42");
}
END_TEST

START_TEST(test_v4_mapped)
{
    /* A dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d. */
    ck_assert_str_eq(client_of("::ffff:10.0.0.1", "198.51.100.1"), "198.51.100.1");
    ck_assert_str_eq(client_of("::ffff:10.0.0.1", NULL), "10.0.0.1");
    ck_assert_str_eq(client_of("::ffff:203.0.113.9", "198.51.100.1"), "203.0.113.9");
    ck_assert_str_eq(client_of("10.0.0.2", "::ffff:198.51.100.1"), "198.51.100.1");
}
END_TEST

START_TEST(test_bad_family_and_text)
{
    hp_ip client;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    char text[GW_CLIENTIP_TEXT_SIZE];
    ck_assert_int_eq(gw_clientip_resolve((const struct sockaddr *)&ss, NULL, trusted, 2, &client,
                                         text, sizeof text),
                     HP_ERR_INVALID);
    ck_assert_int_eq(gw_clientip_resolve(NULL, NULL, trusted, 2, &client, text, sizeof text),
                     HP_ERR_INVALID);
    /* Text is optional. */
    ck_assert_int_eq(
        gw_clientip_resolve(peer_of("10.0.0.2"), "198.51.100.1", trusted, 2, &client, NULL, 0),
        HP_OK);
    hp_ip expect;
    ck_assert(hp_ip_parse(&expect, "198.51.100.1") == HP_OK);
    ck_assert(memcmp(expect.addr, client.addr, 16) == 0);
}
END_TEST

static Suite *clientip_suite(void)
{
    Suite *s = suite_create("gw_clientip");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_untrusted_peer_ignores_xff);
    tcase_add_test(tc, test_no_trusted_proxies);
    tcase_add_test(tc, test_trusted_chain);
    tcase_add_test(tc, test_all_trusted);
    tcase_add_test(tc, test_garbage_stops_walk);
    tcase_add_test(tc, test_empty_xff);
    tcase_add_test(tc, test_ipv6);
    tcase_add_test(tc, test_v4_mapped);
    tcase_add_test(tc, test_bad_family_and_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(clientip_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
