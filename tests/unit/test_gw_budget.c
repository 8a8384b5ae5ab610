/*
 * Unit tests for gw_budget and gw_clientkey: reservations up to the total
 * and the per-client caps and not a byte more, which cap refused, release
 * exactly once, clients that do not share a slot not affecting each other,
 * IPv6 addresses of one /64 sharing a share, and threads that reserve at
 * once never getting more than the caps (and giving everything back).
 */
#include "gw_budget.h"

#include "gw_clientkey.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define KiB ((size_t)1024)
#define MiB (KiB * KiB)

static hp_ip ip(const char *text)
{
    hp_ip a;
    ck_assert_msg(hp_ip_parse(&a, text) == HP_OK, "%s", text);
    return a;
}

START_TEST(test_client_cap)
{
    gw_budget *b = gw_budget_new(16 * MiB, 4 * MiB);
    hp_ip a = ip("192.0.2.1");
    gw_budget_hold h[5];
    for (int i = 0; i < 4; i++) {
        gw_budget_hold_init(b, &h[i], &a);
        ck_assert_int_eq(gw_budget_grow(b, &h[i], MiB), GW_BUDGET_OK);
    }
    gw_budget_hold_init(b, &h[4], &a);
    ck_assert_int_eq(gw_budget_grow(b, &h[4], 1), GW_BUDGET_CLIENT_FULL);
    ck_assert_uint_eq(h[4].bytes, 0);
    ck_assert_uint_eq(gw_budget_used(b), 4 * MiB);
    ck_assert_uint_eq(gw_budget_client_used(b, &a), 4 * MiB);
    /* One released: room for exactly it again. */
    gw_budget_release(b, &h[0]);
    ck_assert_uint_eq(gw_budget_used(b), 3 * MiB);
    ck_assert_int_eq(gw_budget_grow(b, &h[4], MiB), GW_BUDGET_OK);
    ck_assert_int_eq(gw_budget_grow(b, &h[4], 1), GW_BUDGET_CLIENT_FULL);
    for (int i = 0; i < 5; i++)
        gw_budget_release(b, &h[i]);
    ck_assert_uint_eq(gw_budget_used(b), 0);
    ck_assert_uint_eq(gw_budget_client_used(b, &a), 0);
    gw_budget_free(b);
}
END_TEST

/* n addresses 10.<i>.0.1 whose slots all differ, in b. */
static void distinct_clients(const gw_budget *b, hp_ip *out, int n)
{
    int got = 0;
    for (int i = 0; got < n && i < 100000; i++) {
        char text[32];
        snprintf(text, sizeof text, "10.%d.%d.1", i / 256, i % 256);
        hp_ip a = ip(text);
        gw_budget_hold h;
        gw_budget_hold_init(b, &h, &a);
        bool dup = false;
        for (int k = 0; k < got; k++) {
            gw_budget_hold hk;
            gw_budget_hold_init(b, &hk, &out[k]);
            dup |= hk.slot == h.slot;
        }
        if (!dup)
            out[got++] = a;
    }
    ck_assert_int_eq(got, n);
}

START_TEST(test_total_cap)
{
    gw_budget *b = gw_budget_new(16 * MiB, 4 * MiB);
    hp_ip c[5];
    distinct_clients(b, c, 5);
    gw_budget_hold h[5];
    for (int i = 0; i < 4; i++) {
        gw_budget_hold_init(b, &h[i], &c[i]);
        ck_assert_int_eq(gw_budget_grow(b, &h[i], 4 * MiB), GW_BUDGET_OK);
    }
    /* The fifth client has its share, but the total is spent. */
    gw_budget_hold_init(b, &h[4], &c[4]);
    ck_assert_int_eq(gw_budget_grow(b, &h[4], 1), GW_BUDGET_FULL);
    ck_assert_uint_eq(gw_budget_client_used(b, &c[4]), 0); /* the refusal left nothing */
    ck_assert_uint_eq(gw_budget_used(b), 16 * MiB);
    gw_budget_release(b, &h[2]);
    ck_assert_int_eq(gw_budget_grow(b, &h[4], 4 * MiB), GW_BUDGET_OK);
    for (int i = 0; i < 5; i++)
        gw_budget_release(b, &h[i]);
    ck_assert_uint_eq(gw_budget_used(b), 0);
    gw_budget_free(b);
}
END_TEST

START_TEST(test_release_once)
{
    gw_budget *b = gw_budget_new(MiB, MiB);
    hp_ip a = ip("192.0.2.7");
    gw_budget_hold h, other;
    gw_budget_hold_init(b, &h, &a);
    gw_budget_hold_init(b, &other, &a);
    ck_assert_int_eq(gw_budget_grow(b, &h, 1000), GW_BUDGET_OK);
    ck_assert_int_eq(gw_budget_grow(b, &h, 24), GW_BUDGET_OK); /* grows in steps */
    ck_assert_uint_eq(h.bytes, 1024);
    ck_assert_int_eq(gw_budget_grow(b, &other, 100), GW_BUDGET_OK);
    gw_budget_release(b, &h);
    gw_budget_release(b, &h); /* a second release gives back nothing */
    ck_assert_uint_eq(gw_budget_used(b), 100);
    gw_budget_release(b, &other);
    ck_assert_uint_eq(gw_budget_used(b), 0);
    /* Zero bytes always fit, even in a full budget. */
    ck_assert_int_eq(gw_budget_grow(b, &h, MiB), GW_BUDGET_OK);
    ck_assert_int_eq(gw_budget_grow(b, &other, 0), GW_BUDGET_OK);
    ck_assert_int_eq(gw_budget_grow(b, &other, (size_t)-1), GW_BUDGET_CLIENT_FULL);
    gw_budget_release(b, &h);
    gw_budget_free(b);
}
END_TEST

START_TEST(test_clientkey)
{
    uint64_t seed = gw_clientkey_seed();
    const size_t n = 16384;
    /* One IPv6 /64 is one client; another /64 (almost always) another slot. */
    hp_ip a1 = ip("2001:db8:1:2::1"), a2 = ip("2001:db8:1:2:ffff:eeee:dddd:cccc");
    ck_assert_uint_eq(gw_clientkey_slot(&a1, seed, n), gw_clientkey_slot(&a2, seed, n));
    /* IPv4 addresses are keyed by the whole address: 1,000 of them spread. */
    static bool used[16384];
    memset(used, 0, sizeof used);
    int distinct = 0;
    for (int i = 0; i < 1000; i++) {
        char text[32];
        snprintf(text, sizeof text, "198.51.%d.%d", i / 250, i % 250);
        hp_ip a = ip(text);
        size_t s = gw_clientkey_slot(&a, seed, n);
        ck_assert_uint_lt(s, n);
        distinct += !used[s];
        used[s] = true;
    }
    ck_assert_int_gt(distinct, 950); /* ~970 expected for 1,000 in 16,384 */
    /* Another seed, another table. */
    hp_ip a = ip("198.51.0.1"), b = ip("198.51.0.2");
    int same = 0;
    for (uint64_t s = 1; s <= 64; s++)
        same += gw_clientkey_slot(&a, s, n) == gw_clientkey_slot(&b, s, n);
    ck_assert_int_lt(same, 3);
}
END_TEST

#define THREADS 4
#define ROUNDS 20000

static gw_budget *shared;
static atomic_size_t peak;

static void *reserver(void *arg)
{
    hp_ip a = ip(arg);
    for (int i = 0; i < ROUNDS; i++) {
        gw_budget_hold h;
        gw_budget_hold_init(shared, &h, &a);
        if (gw_budget_grow(shared, &h, 300 * KiB) == GW_BUDGET_OK) {
            size_t used = gw_budget_used(shared);
            size_t p = atomic_load(&peak);
            while (used > p && !atomic_compare_exchange_weak(&peak, &p, used))
                ;
        }
        gw_budget_release(shared, &h);
    }
    return NULL;
}

START_TEST(test_threads)
{
    static char *addrs[THREADS] = {"192.0.2.1", "192.0.2.1", "198.51.100.1", "203.0.113.9"};
    shared = gw_budget_new(MiB, 700 * KiB);
    atomic_store(&peak, 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, reserver, addrs[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_le(atomic_load(&peak), MiB);
    ck_assert_uint_eq(gw_budget_used(shared), 0);
    hp_ip a = ip(addrs[0]);
    ck_assert_uint_eq(gw_budget_client_used(shared, &a), 0);
    gw_budget_free(shared);
}
END_TEST

static Suite *budget_suite(void)
{
    Suite *s = suite_create("gw_budget");
    TCase *tc = tcase_create("budget");
    tcase_add_test(tc, test_client_cap);
    tcase_add_test(tc, test_total_cap);
    tcase_add_test(tc, test_release_once);
    tcase_add_test(tc, test_clientkey);
    tcase_add_test(tc, test_threads);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(budget_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
