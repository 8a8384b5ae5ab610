/*
 * Unit tests for hp_cidr: parsing of ranges and addresses, matching (IPv4,
 * IPv6, v4-mapped), and the rejection of anything else.
 */
#include "hp_cidr.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

static hp_cidr cidr_of(const char *s)
{
    hp_cidr cidr;
    char err[256] = "";
    ck_assert_msg(hp_cidr_parse(&cidr, s, err, sizeof err) == HP_OK, "%s: %s", s, err);
    return cidr;
}

static bool contains(const char *range, const char *addr)
{
    hp_cidr cidr = cidr_of(range);
    hp_ip ip;
    ck_assert_msg(hp_ip_parse(&ip, addr) == HP_OK, "%s", addr);
    return hp_cidr_contains(&cidr, &ip);
}

START_TEST(test_v4_match)
{
    ck_assert(contains("10.0.0.0/8", "10.0.0.0"));
    ck_assert(contains("10.0.0.0/8", "10.255.255.255"));
    ck_assert(!contains("10.0.0.0/8", "11.0.0.0"));
    ck_assert(!contains("10.0.0.0/8", "9.255.255.255"));
    ck_assert(contains("203.0.113.0/24", "203.0.113.77"));
    ck_assert(!contains("203.0.113.0/24", "203.0.114.1"));
    ck_assert(contains("192.168.1.128/25", "192.168.1.200"));
    ck_assert(!contains("192.168.1.128/25", "192.168.1.127"));
}
END_TEST

START_TEST(test_v6_match)
{
    ck_assert(contains("2001:db8::/32", "2001:db8:1234::1"));
    ck_assert(!contains("2001:db8::/32", "2001:db9::1"));
    ck_assert(contains("fe80::/10", "febf::1"));
    ck_assert(!contains("fe80::/10", "fec0::1"));
    ck_assert(!contains("2001:db8::/32", "10.0.0.1"));
}
END_TEST

START_TEST(test_zero_prefix)
{
    ck_assert(contains("0.0.0.0/0", "1.2.3.4"));
    ck_assert(contains("0.0.0.0/0", "255.255.255.255"));
    ck_assert(!contains("0.0.0.0/0", "2001:db8::1"));
    ck_assert(contains("::/0", "2001:db8::1"));
    /* IPv4 is compared in its v4-mapped form, which ::/0 contains. */
    ck_assert(contains("::/0", "1.2.3.4"));
}
END_TEST

START_TEST(test_full_prefix_and_bare)
{
    ck_assert(contains("10.1.2.3/32", "10.1.2.3"));
    ck_assert(!contains("10.1.2.3/32", "10.1.2.4"));
    ck_assert(contains("10.1.2.3", "10.1.2.3"));
    ck_assert(!contains("10.1.2.3", "10.1.2.2"));
    ck_assert(contains("::1/128", "::1"));
    ck_assert(!contains("::1/128", "::2"));
    ck_assert(contains("::1", "::1"));
    ck_assert(!contains("::1", "::"));
    ck_assert_uint_eq(cidr_of("10.1.2.3").bits, 128);
    ck_assert_uint_eq(cidr_of("::1").bits, 128);
    ck_assert_uint_eq(cidr_of("10.0.0.0/8").bits, 104);
}
END_TEST

START_TEST(test_v4_mapped)
{
    ck_assert(contains("10.0.0.0/8", "::ffff:10.1.2.3"));
    ck_assert(!contains("10.0.0.0/8", "::ffff:11.1.2.3"));
    ck_assert(contains("::ffff:10.0.0.0/104", "10.200.0.1"));
    ck_assert(contains("::ffff:0:0/96", "8.8.8.8"));
}
END_TEST

START_TEST(test_sockaddr)
{
    hp_cidr v4 = cidr_of("10.0.0.0/8");
    hp_cidr v6 = cidr_of("2001:db8::/32");
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    struct sockaddr sa_unix = {.sa_family = AF_UNIX};

    ck_assert_int_eq(inet_pton(AF_INET, "10.9.8.7", &sin.sin_addr), 1);
    ck_assert(hp_cidr_match(&v4, (struct sockaddr *)&sin));
    ck_assert(!hp_cidr_match(&v6, (struct sockaddr *)&sin));

    ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr), 1);
    ck_assert(hp_cidr_match(&v4, (struct sockaddr *)&sin6));
    ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr), 1);
    ck_assert(hp_cidr_match(&v6, (struct sockaddr *)&sin6));
    ck_assert(!hp_cidr_match(&v4, (struct sockaddr *)&sin6));

    ck_assert(!hp_cidr_match(&v4, &sa_unix));
    hp_ip ip;
    ck_assert_int_eq(hp_ip_from_sockaddr(&ip, &sa_unix), HP_ERR_INVALID);
}
END_TEST

START_TEST(test_list)
{
    hp_cidr list[2] = {cidr_of("10.0.0.0/8"), cidr_of("2001:db8::/32")};
    hp_ip ip;

    ck_assert_int_eq(hp_ip_parse(&ip, "2001:db8::9"), HP_OK);
    ck_assert(hp_cidr_list_contains(list, 2, &ip));
    ck_assert(!hp_cidr_list_contains(list, 1, &ip));
    ck_assert(!hp_cidr_list_contains(list, 0, &ip));
    ck_assert_int_eq(hp_ip_parse(&ip, "192.0.2.1"), HP_OK);
    ck_assert(!hp_cidr_list_contains(list, 2, &ip));
}
END_TEST

START_TEST(test_format)
{
    char buf[HP_CIDR_FORMAT_SIZE];
    hp_cidr cidr = cidr_of("10.0.0.0/8");
    ck_assert_str_eq(hp_cidr_format(&cidr, buf, sizeof buf), "10.0.0.0/8");
    cidr = cidr_of("2001:db8::/32");
    ck_assert_str_eq(hp_cidr_format(&cidr, buf, sizeof buf), "2001:db8::/32");
    cidr = cidr_of("::1");
    ck_assert_str_eq(hp_cidr_format(&cidr, buf, sizeof buf), "::1/128");
}
END_TEST

static const char *const garbage[] = {
    "",
    "/8",
    "10.0.0.0/",
    "10.0.0.0/33",
    "10.0.0.0/-1",
    "10.0.0.0/+8",
    "10.0.0.0/8/8",
    "10.0.0.0/1000",
    "10.0.0.0/ 8",
    " 10.0.0.0/8",
    "10.0.0.0/8 ",
    "10.0.0",
    "10.0.0.256",
    "10.0.0.0.0",
    "010.0.0.1",
    "1.2.3.4x",
    "::1/129",
    "fe80::1%eth0",
    "2001:db8:::1",
    "example.com",
    "10.1.0.0/8",
    "2001:db8::1/32",
    "0123456789012345678901234567890123456789012345678901234567890123456789",
};

START_TEST(test_garbage_rejected)
{
    const char *s = garbage[_i];
    hp_cidr cidr;
    char err[256] = "";

    ck_assert_msg(hp_cidr_parse(&cidr, s, err, sizeof err) == HP_ERR_INVALID, "accepted \"%s\"", s);
    ck_assert_msg(err[0] == '"', "no message for \"%s\"", s);
}
END_TEST

START_TEST(test_messages)
{
    hp_cidr cidr;
    char err[256];

    ck_assert_int_eq(hp_cidr_parse(&cidr, "10.1.0.0/8", err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "\"10.1.0.0/8\" has bits set after the prefix (the network is "
                          "10.0.0.0/8)");
    ck_assert_int_eq(hp_cidr_parse(&cidr, "10.0.0.0/33", err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "\"10.0.0.0/33\" has a bad prefix length (0..32)");
    ck_assert_int_eq(hp_cidr_parse(&cidr, "::/200", err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "\"::/200\" has a bad prefix length (0..128)");
    ck_assert_int_eq(hp_cidr_parse(&cidr, "nope", err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "\"nope\" is not an IP address or CIDR range");
    ck_assert_int_eq(hp_cidr_parse(&cidr, "nope", NULL, 0), HP_ERR_INVALID);
}
END_TEST

START_TEST(test_ip_parse_rejects)
{
    hp_ip ip;
    ck_assert_int_eq(hp_ip_parse(&ip, "10.0.0.0/8"), HP_ERR_INVALID);
    ck_assert_int_eq(hp_ip_parse(&ip, ""), HP_ERR_INVALID);
    ck_assert_int_eq(hp_ip_parse(&ip, "10.0.0.1 "), HP_ERR_INVALID);
    ck_assert_int_eq(hp_ip_parse(&ip, "unknown"), HP_ERR_INVALID);
}
END_TEST

static Suite *cidr_suite(void)
{
    Suite *s = suite_create("cidr");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_v4_match);
    tcase_add_test(tc, test_v6_match);
    tcase_add_test(tc, test_zero_prefix);
    tcase_add_test(tc, test_full_prefix_and_bare);
    tcase_add_test(tc, test_v4_mapped);
    tcase_add_test(tc, test_sockaddr);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_format);
    tcase_add_loop_test(tc, test_garbage_rejected, 0, (int)(sizeof garbage / sizeof garbage[0]));
    tcase_add_test(tc, test_messages);
    tcase_add_test(tc, test_ip_parse_rejects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cidr_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
