/*
 * Unit tests for gw_ratelimit: a full bucket at start, refusal with a
 * Retry-After once it is empty, refill on a made-up clock, no limit, and
 * threads that take at the same time never getting more than the bucket held.
 */
#include "gw_ratelimit.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(5000) * SEC) /* an arbitrary monotonic time */

static gw_ratelimit *bucket(double per_second, int burst)
{
    hp_rate_limit limit = {per_second, burst};
    gw_ratelimit *rl = gw_ratelimit_new(&limit);
    ck_assert_ptr_nonnull(rl);
    return rl;
}

START_TEST(test_burst_then_refused)
{
    gw_ratelimit *rl = bucket(10, 5);
    int retry = -1;
    for (int i = 0; i < 5; i++)
        ck_assert_msg(gw_ratelimit_take(rl, T0, &retry), "take %d", i);
    ck_assert_int_eq(retry, -1); /* untouched while allowed */
    ck_assert(!gw_ratelimit_take(rl, T0, &retry));
    ck_assert_int_eq(retry, 1); /* 0.1 s away, rounded up to whole seconds */
    gw_ratelimit_free(rl);
}
END_TEST

START_TEST(test_retry_after_slow_rate)
{
    /* One token every four seconds. */
    gw_ratelimit *rl = bucket(0.25, 1);
    int retry = 0;
    ck_assert(gw_ratelimit_take(rl, T0, &retry));
    ck_assert(!gw_ratelimit_take(rl, T0, &retry));
    ck_assert_int_eq(retry, 4);
    ck_assert(!gw_ratelimit_take(rl, T0 + 1 * SEC, &retry));
    ck_assert_int_eq(retry, 3);
    ck_assert(!gw_ratelimit_take(rl, T0 + 3 * SEC + SEC / 2, &retry));
    ck_assert_int_eq(retry, 1);
    ck_assert(gw_ratelimit_take(rl, T0 + 4 * SEC, &retry));
    ck_assert(!gw_ratelimit_take(rl, T0 + 4 * SEC, NULL)); /* retry_after_s may be NULL */
    gw_ratelimit_free(rl);
}
END_TEST

START_TEST(test_refill)
{
    gw_ratelimit *rl = bucket(2, 4);
    int retry = 0;
    for (int i = 0; i < 4; i++)
        ck_assert(gw_ratelimit_take(rl, T0, &retry));
    ck_assert(!gw_ratelimit_take(rl, T0, &retry));
    /* Half a second earns one token at 2 per second. */
    ck_assert(gw_ratelimit_take(rl, T0 + SEC / 2, &retry));
    ck_assert(!gw_ratelimit_take(rl, T0 + SEC / 2, &retry));
    /* A clock reading from before the last one earns nothing. */
    ck_assert(!gw_ratelimit_take(rl, T0, &retry));
    /* A long pause fills the bucket to burst, never beyond. */
    int granted = 0;
    while (gw_ratelimit_take(rl, T0 + 3600 * SEC, &retry))
        granted++;
    ck_assert_int_eq(granted, 4);
    gw_ratelimit_free(rl);
}
END_TEST

START_TEST(test_no_limit)
{
    hp_rate_limit none = {0, 0};
    ck_assert_ptr_null(gw_ratelimit_new(&none));
    ck_assert_ptr_null(gw_ratelimit_new(NULL));
    int retry = 0;
    for (int i = 0; i < 1000; i++)
        ck_assert(gw_ratelimit_take(NULL, T0, &retry));
    gw_ratelimit_free(NULL);
}
END_TEST

START_TEST(test_default_burst)
{
    /* A burst below 1 (not set) means ceil(per_second). */
    gw_ratelimit *rl = bucket(2.5, 0);
    int granted = 0, retry;
    while (gw_ratelimit_take(rl, T0, &retry))
        granted++;
    ck_assert_int_eq(granted, 3);
    gw_ratelimit_free(rl);
}
END_TEST

START_TEST(test_from_config)
{
    hp_config cfg;
    char err[256];
    const char *text = "{\"sources\": [{\"name\": \"s\", \"verify\": {\"scheme\": \"none\"}, "
                       "\"insecure\": true, \"rate_limit\": {\"per_second\": 500, \"burst\": 7}}]}";
    ck_assert_msg(hp_config_load_string(&cfg, text, "config.json", err, sizeof err) == HP_OK, "%s",
                  err);
    gw_ratelimit *rl = gw_ratelimit_new(&cfg.sources[0].rate_limit);
    int granted = 0, retry;
    while (gw_ratelimit_take(rl, T0, &retry))
        granted++;
    ck_assert_int_eq(granted, 7);
    ck_assert_int_eq(retry, 1);
    gw_ratelimit_free(rl);
    hp_config_deinit(&cfg);
}
END_TEST

#define THREADS 4
#define TRIES 20000
#define BURST 1000

struct hammer {
    gw_ratelimit *rl;
    atomic_int granted;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    int retry;
    for (int i = 0; i < TRIES; i++) {
        if (gw_ratelimit_take(h->rl, T0, &retry))
            atomic_fetch_add(&h->granted, 1);
    }
    return NULL;
}

START_TEST(test_threads_never_over_grant)
{
    struct hammer h = {.rl = bucket(1, BURST)};
    atomic_init(&h.granted, 0);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, hammer_thread, &h), 0);
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    /* No time passed: exactly the burst, however the takes interleaved. */
    ck_assert_int_eq(atomic_load(&h.granted), BURST);
    gw_ratelimit_free(h.rl);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("gw_ratelimit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_burst_then_refused);
    tcase_add_test(tc, test_retry_after_slow_rate);
    tcase_add_test(tc, test_refill);
    tcase_add_test(tc, test_no_limit);
    tcase_add_test(tc, test_default_burst);
    tcase_add_test(tc, test_from_config);
    tcase_add_test(tc, test_threads_never_over_grant);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ratelimit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
