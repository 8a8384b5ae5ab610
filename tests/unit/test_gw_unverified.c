/*
 * Unit tests for gw_unverified: burst failures allowed per address, then
 * refused with a Retry-After, refilled at per_second on a made-up clock;
 * other addresses unaffected; no limit when per_second is 0; and threads
 * spending one address's bucket at once never getting more than it held.
 */
#include "gw_unverified.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(5000) * SEC) /* an arbitrary monotonic time */

static hp_ip ip(const char *text)
{
    hp_ip a;
    ck_assert_msg(hp_ip_parse(&a, text) == HP_OK, "%s", text);
    return a;
}

static gw_unverified *table(double per_second, int burst)
{
    hp_rate_limit limit = {per_second, burst};
    gw_unverified *u = gw_unverified_new(&limit);
    ck_assert_ptr_nonnull(u);
    return u;
}

START_TEST(test_burst_then_refused)
{
    gw_unverified *u = table(10, 20);
    hp_ip a = ip("192.0.2.1");
    int retry = -1;
    for (int i = 0; i < 20; i++)
        ck_assert_msg(gw_unverified_take(u, &a, T0, &retry), "take %d", i);
    ck_assert_int_eq(retry, -1);
    ck_assert(!gw_unverified_take(u, &a, T0, &retry));
    ck_assert_int_eq(retry, 1);
    /* 0.1 s later one more token, and only one. */
    ck_assert(gw_unverified_take(u, &a, T0 + SEC / 10, NULL));
    ck_assert(!gw_unverified_take(u, &a, T0 + SEC / 10, NULL));
    /* 2 s of quiet refill the bucket entirely, not beyond. */
    int n = 0;
    while (gw_unverified_take(u, &a, T0 + 3 * SEC, NULL) && n < 100)
        n++;
    ck_assert_int_eq(n, 20);
    gw_unverified_free(u);
}
END_TEST

START_TEST(test_addresses_apart)
{
    gw_unverified *u = table(1, 2);
    hp_ip a = ip("192.0.2.1");
    hp_ip b = ip("2001:db8::1"), b2 = ip("2001:db8::2");
    ck_assert(gw_unverified_take(u, &a, T0, NULL));
    ck_assert(gw_unverified_take(u, &a, T0, NULL));
    ck_assert(!gw_unverified_take(u, &a, T0, NULL));
    /* Another address (the odds that it shares a's bucket: 1 in 16,384). */
    ck_assert(gw_unverified_take(u, &b, T0, NULL));
    /* One IPv6 /64 is one client. */
    ck_assert(gw_unverified_take(u, &b2, T0, NULL));
    ck_assert(!gw_unverified_take(u, &b, T0, NULL));
    gw_unverified_free(u);
}
END_TEST

START_TEST(test_retry_after_slow)
{
    gw_unverified *u = table(0.25, 1);
    hp_ip a = ip("192.0.2.1");
    int retry = 0;
    ck_assert(gw_unverified_take(u, &a, T0, NULL));
    ck_assert(!gw_unverified_take(u, &a, T0, &retry));
    ck_assert_int_eq(retry, 4);
    ck_assert(!gw_unverified_take(u, &a, T0 + 3 * SEC, &retry));
    ck_assert_int_eq(retry, 1);
    ck_assert(gw_unverified_take(u, &a, T0 + 4 * SEC, NULL));
    gw_unverified_free(u);
}
END_TEST

START_TEST(test_off)
{
    hp_rate_limit off = {0, 0};
    ck_assert_ptr_null(gw_unverified_new(&off));
    hp_ip a = ip("192.0.2.1");
    for (int i = 0; i < 1000; i++)
        ck_assert(gw_unverified_take(NULL, &a, T0, NULL));
}
END_TEST

#define THREADS 4
static gw_unverified *shared;
static atomic_int granted;

static void *spender(void *arg)
{
    (void)arg;
    hp_ip a = ip("203.0.113.5");
    for (int i = 0; i < 10000; i++)
        if (gw_unverified_take(shared, &a, T0, NULL))
            atomic_fetch_add(&granted, 1);
    return NULL;
}

START_TEST(test_threads)
{
    shared = table(10, 500);
    atomic_store(&granted, 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, spender, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(atomic_load(&granted), 500);
    gw_unverified_free(shared);
}
END_TEST

static Suite *unverified_suite(void)
{
    Suite *s = suite_create("gw_unverified");
    TCase *tc = tcase_create("unverified");
    tcase_add_test(tc, test_burst_then_refused);
    tcase_add_test(tc, test_addresses_apart);
    tcase_add_test(tc, test_retry_after_slow);
    tcase_add_test(tc, test_off);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(unverified_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
