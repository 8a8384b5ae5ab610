/*
 * Unit tests for hp_metrics: the exact exposition text of each metric type,
 * escaping, number formatting, child identity, gauge removal, misuse aborts,
 * and exact totals under concurrent updates.
 */
#include "hp_metrics.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 4
#define NITER 100000

/* Renders reg and checks the text against expected. */
static void assert_render(hp_metrics *reg, const char *expected)
{
    size_t len = 12345;
    char *text = hp_metrics_render(reg, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, strlen(text));
    ck_assert_str_eq(text, expected);
    free(text);
}

START_TEST(test_counter_without_labels)
{
    hp_metrics *reg = hp_metrics_new();
    hp_counter_family *fam = hp_metrics_counter(reg, "hp_things_total", "Things done.", 0, NULL);
    assert_render(reg, "# HELP hp_things_total Things done.\n"
                       "# TYPE hp_things_total counter\n");
    hp_counter *ctr = hp_counter_get(fam, NULL);
    hp_counter_inc(ctr);
    hp_counter_add(ctr, 41);
    ck_assert_uint_eq(hp_counter_value(ctr), 42);
    assert_render(reg, "# HELP hp_things_total Things done.\n"
                       "# TYPE hp_things_total counter\n"
                       "hp_things_total 42\n");
    hp_metrics_free(reg);
}
END_TEST

START_TEST(test_counter_with_labels)
{
    static const char *const names[] = {"source", "code"};
    static const char *const stripe_200[] = {"stripe", "200"};
    static const char *const github_401[] = {"github", "401"};
    hp_metrics *reg = hp_metrics_new();
    hp_counter_family *fam = hp_metrics_counter(reg, "hookpipe_gateway_requests_total",
                                                "Requests by source and status code.", 2, names);
    hp_counter *a = hp_counter_get(fam, stripe_200);
    hp_counter_add(a, 3);
    hp_counter_inc(hp_counter_get(fam, github_401));
    /* A lookup with equal values (other pointers) finds the same child. */
    char src[] = "stripe", code[] = "200";
    const char *again[] = {src, code};
    ck_assert_ptr_eq(hp_counter_get(fam, again), a);
    assert_render(reg, "# HELP hookpipe_gateway_requests_total Requests by source and status "
                       "code.\n"
                       "# TYPE hookpipe_gateway_requests_total counter\n"
                       "hookpipe_gateway_requests_total{source=\"stripe\",code=\"200\"} 3\n"
                       "hookpipe_gateway_requests_total{source=\"github\",code=\"401\"} 1\n");
    hp_metrics_free(reg);
}
END_TEST

START_TEST(test_families_in_registration_order)
{
    hp_metrics *reg = hp_metrics_new();
    hp_gauge_family *g = hp_metrics_gauge(reg, "b_gauge", "B.", 0, NULL);
    hp_counter_family *c = hp_metrics_counter(reg, "a_total", "A.", 0, NULL);
    hp_counter_inc(hp_counter_get(c, NULL));
    hp_gauge_set(hp_gauge_get(g, NULL), 7);
    assert_render(reg, "# HELP b_gauge B.\n# TYPE b_gauge gauge\nb_gauge 7\n"
                       "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n");
    hp_metrics_free(reg);
}
END_TEST

START_TEST(test_gauge_set_add_remove)
{
    static const char *const names[] = {"topic", "partition"};
    static const char *const p0[] = {"webhooks.raw", "0"};
    static const char *const p1[] = {"webhooks.raw", "1"};
    hp_metrics *reg = hp_metrics_new();
    hp_gauge_family *fam =
        hp_metrics_gauge(reg, "hookpipe_worker_consumer_lag", "Lag in messages.", 2, names);
    hp_gauge *g0 = hp_gauge_get(fam, p0);
    hp_gauge_set(g0, 2.5);
    hp_gauge_add(g0, -1);
    ck_assert(hp_gauge_value(g0) == 1.5);
    hp_gauge_set(hp_gauge_get(fam, p1), 12);
    assert_render(reg, "# HELP hookpipe_worker_consumer_lag Lag in messages.\n"
                       "# TYPE hookpipe_worker_consumer_lag gauge\n"
                       "hookpipe_worker_consumer_lag{topic=\"webhooks.raw\",partition=\"0\"} 1.5\n"
                       "hookpipe_worker_consumer_lag{topic=\"webhooks.raw\",partition=\"1\"} 12\n");

    /* Removing hides the child, even from a stale handle's update; a later
     * get shows it again from 0. */
    hp_gauge_remove(fam, p0);
    hp_gauge_set(g0, 99);
    assert_render(reg, "# HELP hookpipe_worker_consumer_lag Lag in messages.\n"
                       "# TYPE hookpipe_worker_consumer_lag gauge\n"
                       "hookpipe_worker_consumer_lag{topic=\"webhooks.raw\",partition=\"1\"} 12\n");
    static const char *const absent[] = {"webhooks.raw", "9"};
    hp_gauge_remove(fam, absent);
    ck_assert_ptr_eq(hp_gauge_get(fam, p0), g0);
    ck_assert(hp_gauge_value(g0) == 0);
    assert_render(reg, "# HELP hookpipe_worker_consumer_lag Lag in messages.\n"
                       "# TYPE hookpipe_worker_consumer_lag gauge\n"
                       "hookpipe_worker_consumer_lag{topic=\"webhooks.raw\",partition=\"0\"} 0\n"
                       "hookpipe_worker_consumer_lag{topic=\"webhooks.raw\",partition=\"1\"} 12\n");
    hp_metrics_free(reg);
}
END_TEST

START_TEST(test_histogram_with_labels)
{
    static const char *const names[] = {"source"};
    static const char *const orders[] = {"orders"};
    static const double bounds[] = {0.5, 1, 2.5};
    hp_metrics *reg = hp_metrics_new();
    hp_histogram_family *fam =
        hp_metrics_histogram(reg, "hp_req_seconds", "Request time.", 1, names, bounds, 3);
    hp_histogram *h = hp_histogram_get(fam, orders);
    /* 0.5 is in le="0.5": buckets count v <= bound. */
    hp_histogram_observe(h, 0.25);
    hp_histogram_observe(h, 0.5);
    hp_histogram_observe(h, 0.5);
    hp_histogram_observe(h, 1);
    hp_histogram_observe(h, 4);
    assert_render(reg, "# HELP hp_req_seconds Request time.\n"
                       "# TYPE hp_req_seconds histogram\n"
                       "hp_req_seconds_bucket{source=\"orders\",le=\"0.5\"} 3\n"
                       "hp_req_seconds_bucket{source=\"orders\",le=\"1\"} 4\n"
                       "hp_req_seconds_bucket{source=\"orders\",le=\"2.5\"} 4\n"
                       "hp_req_seconds_bucket{source=\"orders\",le=\"+Inf\"} 5\n"
                       "hp_req_seconds_sum{source=\"orders\"} 6.25\n"
                       "hp_req_seconds_count{source=\"orders\"} 5\n");
    hp_metrics_free(reg);
}
END_TEST

START_TEST(test_histogram_latency_buckets)
{
    hp_metrics *reg = hp_metrics_new();
    hp_histogram_family *fam =
        hp_metrics_histogram(reg, "hp_lat_seconds", "Latency.", 0, NULL, HP_METRICS_LATENCY_BUCKETS,
                             HP_METRICS_LATENCY_NBOUNDS);
    hp_histogram *h = hp_histogram_get(fam, NULL);
    hp_histogram_observe(h, 0.003);
    hp_histogram_observe(h, 20);
    assert_render(reg, "# HELP hp_lat_seconds Latency.\n"
                       "# TYPE hp_lat_seconds histogram\n"
                       "hp_lat_seconds_bucket{le=\"0.0005\"} 0\n"
                       "hp_lat_seconds_bucket{le=\"0.001\"} 0\n"
                       "hp_lat_seconds_bucket{le=\"0.0025\"} 0\n"
                       "hp_lat_seconds_bucket{le=\"0.005\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"0.01\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"0.025\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"0.05\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"0.1\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"0.25\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"0.5\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"1\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"2.5\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"5\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"10\"} 1\n"
                       "hp_lat_seconds_bucket{le=\"+Inf\"} 2\n"
                       "hp_lat_seconds_sum 20.003\n"
                       "hp_lat_seconds_count 2\n");
    hp_metrics_free(reg);
}
END_TEST

START_TEST(test_escaping)
{
    static const char *const names[] = {"path"};
    static const char *const nasty[] = {"a\\b\"c\nd"};
    hp_metrics *reg = hp_metrics_new();
    hp_counter_family *fam =
        hp_metrics_counter(reg, "hp_esc_total", "Back\\slash and\nnewline \"quoted\".", 1, names);
    hp_counter_inc(hp_counter_get(fam, nasty));
    /* HELP escapes backslash and newline only; label values also the double quote. */
    assert_render(reg, "# HELP hp_esc_total Back\\\\slash and\\nnewline \"quoted\".\n"
                       "# TYPE hp_esc_total counter\n"
                       "hp_esc_total{path=\"a\\\\b\\\"c\\nd\"} 1\n");
    hp_metrics_free(reg);
}
END_TEST

static void assert_gauge_text(double v, const char *expected)
{
    hp_metrics *reg = hp_metrics_new();
    hp_gauge_set(hp_gauge_get(hp_metrics_gauge(reg, "g", "", 0, NULL), NULL), v);
    char want[128];
    int n = snprintf(want, sizeof want, "# TYPE g gauge\ng %s\n", expected);
    ck_assert(n > 0 && (size_t)n < sizeof want);
    assert_render(reg, want);
    hp_metrics_free(reg);
}

START_TEST(test_number_formatting)
{
    assert_gauge_text(0.1, "0.1");
    assert_gauge_text(1, "1");
    assert_gauge_text(1e-05, "1e-05");
    assert_gauge_text(0.005, "0.005");
    assert_gauge_text(-0.5, "-0.5");
    assert_gauge_text(123456789, "123456789");
    assert_gauge_text(1e21, "1e+21");
    assert_gauge_text(0.1 + 0.2, "0.30000000000000004");
    assert_gauge_text(INFINITY, "+Inf");
    assert_gauge_text(-INFINITY, "-Inf");
    assert_gauge_text(NAN, "NaN");
}
END_TEST

START_TEST(test_counter_is_integer)
{
    hp_metrics *reg = hp_metrics_new();
    hp_counter_add(hp_counter_get(hp_metrics_counter(reg, "big_total", "Big.", 0, NULL), NULL),
                   UINT64_C(18446744073709551615));
    assert_render(reg, "# HELP big_total Big.\n# TYPE big_total counter\n"
                       "big_total 18446744073709551615\n");
    hp_metrics_free(reg);
}
END_TEST

/* ---- misuse aborts ---- */

START_TEST(test_bad_name_aborts)
{
    hp_metrics *reg = hp_metrics_new();
    hp_metrics_counter(reg, "1starts_with_digit", "Bad.", 0, NULL);
}
END_TEST

START_TEST(test_bad_label_aborts)
{
    static const char *const names[] = {"has:colon"};
    hp_metrics *reg = hp_metrics_new();
    hp_metrics_counter(reg, "ok_total", "Bad label.", 1, names);
}
END_TEST

START_TEST(test_le_label_aborts)
{
    static const char *const names[] = {"le"};
    static const double bounds[] = {1};
    hp_metrics *reg = hp_metrics_new();
    hp_metrics_histogram(reg, "h_seconds", "Bad label.", 1, names, bounds, 1);
}
END_TEST

START_TEST(test_unsorted_bounds_abort)
{
    static const double bounds[] = {1, 0.5};
    hp_metrics *reg = hp_metrics_new();
    hp_metrics_histogram(reg, "h_seconds", "Bad bounds.", 0, NULL, bounds, 2);
}
END_TEST

START_TEST(test_duplicate_aborts)
{
    hp_metrics *reg = hp_metrics_new();
    hp_metrics_counter(reg, "twice_total", "Once.", 0, NULL);
    hp_metrics_gauge(reg, "twice_total", "Twice.", 0, NULL);
}
END_TEST

START_TEST(test_too_many_labels_abort)
{
    static const char *const names[] = {"a", "b", "c", "d", "e"};
    hp_metrics *reg = hp_metrics_new();
    hp_metrics_counter(reg, "wide_total", "Five labels.", 5, names);
}
END_TEST

START_TEST(test_null_label_value_aborts)
{
    static const char *const names[] = {"source"};
    static const char *const values[] = {NULL};
    hp_metrics *reg = hp_metrics_new();
    hp_counter_get(hp_metrics_counter(reg, "n_total", "Null value.", 1, names), values);
}
END_TEST

/* ---- concurrency ---- */

struct shared {
    hp_counter_family *cfam;
    hp_histogram_family *hfam;
    hp_gauge_family *gfam;
};

/* Each thread resolves the same child itself, then updates it NITER times. */
static void *hammer(void *arg)
{
    struct shared *sh = arg;
    static const char *const shared_labels[] = {"shared"};
    hp_counter *ctr = hp_counter_get(sh->cfam, shared_labels);
    hp_histogram *hist = hp_histogram_get(sh->hfam, shared_labels);
    hp_gauge *gauge = hp_gauge_get(sh->gfam, shared_labels);
    for (int i = 0; i < NITER; i++) {
        hp_counter_inc(ctr);
        hp_histogram_observe(hist, (i & 1) ? 0.5 : 2.0);
        hp_gauge_add(gauge, 1);
        /* Scattered new children race with lookups and renders. */
        if (i % 10000 == 0) {
            char label[3] = {'c', (char)('0' + i / 10000), '\0'};
            const char *values[] = {label};
            hp_counter_inc(hp_counter_get(sh->cfam, values));
        }
    }
    return ctr;
}

static void *scrape(void *arg)
{
    hp_metrics *reg = arg;
    for (int i = 0; i < 20; i++) {
        size_t len;
        free(hp_metrics_render(reg, &len));
    }
    return NULL;
}

START_TEST(test_threads_exact_totals)
{
    static const char *const names[] = {"kind"};
    static const char *const shared_labels[] = {"shared"};
    static const double bounds[] = {1};
    hp_metrics *reg = hp_metrics_new();
    struct shared sh;
    memset(&sh, 0, sizeof sh);
    sh.cfam = hp_metrics_counter(reg, "stress_total", "Stress.", 1, names);
    sh.hfam = hp_metrics_histogram(reg, "stress_seconds", "Stress.", 1, names, bounds, 1);
    sh.gfam = hp_metrics_gauge(reg, "stress_gauge", "Stress.", 1, names);

    pthread_t threads[NTHREADS], scraper;
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(pthread_create(&threads[t], NULL, hammer, &sh), 0);
    ck_assert_int_eq(pthread_create(&scraper, NULL, scrape, reg), 0);
    void *seen[NTHREADS];
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(pthread_join(threads[t], &seen[t]), 0);
    ck_assert_int_eq(pthread_join(scraper, NULL), 0);

    hp_counter *ctr = hp_counter_get(sh.cfam, shared_labels);
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_ptr_eq(seen[t], ctr);
    ck_assert_uint_eq(hp_counter_value(ctr), (uint64_t)NTHREADS * NITER);
    ck_assert(hp_gauge_value(hp_gauge_get(sh.gfam, shared_labels)) == (double)NTHREADS * NITER);

    size_t len;
    char *text = hp_metrics_render(reg, &len);
    ck_assert_ptr_nonnull(text);
    /* Half the observations are 0.5 (le="1"), half 2.0; the sum is exact in binary. */
    ck_assert_ptr_nonnull(strstr(text, "stress_seconds_bucket{kind=\"shared\",le=\"1\"} 200000\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "stress_seconds_bucket{kind=\"shared\",le=\"+Inf\"} 400000\n"));
    ck_assert_ptr_nonnull(strstr(text, "stress_seconds_sum{kind=\"shared\"} 500000\n"));
    ck_assert_ptr_nonnull(strstr(text, "stress_seconds_count{kind=\"shared\"} 400000\n"));
    /* Each of the 10 scattered children was created once, counted by every thread. */
    ck_assert_ptr_nonnull(strstr(text, "stress_total{kind=\"c0\"} 4\n"));
    ck_assert_ptr_nonnull(strstr(text, "stress_total{kind=\"c9\"} 4\n"));
    ck_assert_ptr_null(strstr(text, "stress_total{kind=\"c10\"}"));
    free(text);
    hp_metrics_free(reg);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_counter_without_labels);
    tcase_add_test(tc, test_counter_with_labels);
    tcase_add_test(tc, test_families_in_registration_order);
    tcase_add_test(tc, test_gauge_set_add_remove);
    tcase_add_test(tc, test_histogram_with_labels);
    tcase_add_test(tc, test_histogram_latency_buckets);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_number_formatting);
    tcase_add_test(tc, test_counter_is_integer);
    suite_add_tcase(s, tc);

    tc = tcase_create("misuse");
    tcase_add_test_raise_signal(tc, test_bad_name_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_bad_label_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_le_label_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_unsorted_bounds_abort, SIGABRT);
    tcase_add_test_raise_signal(tc, test_duplicate_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_too_many_labels_abort, SIGABRT);
    tcase_add_test_raise_signal(tc, test_null_label_value_aborts, SIGABRT);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_threads_exact_totals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
