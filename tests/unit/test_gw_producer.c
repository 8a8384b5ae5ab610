/*
 * Fault-injection tests of the gateway's producer against librdkafka's mock
 * cluster (test.mock.num.brokers): every record gets exactly one delivery
 * report — acknowledged, or failed soon after message.timeout.ms when the
 * broker is down — and a fatal producer error is survived by replacing the
 * producer. (The gateway's reaper answers at ack_timeout_ms whatever
 * librdkafka does; the real broker is exercised by the integration tests.)
 */
#include "gw_producer.h"

#include "hp_time.h"

#include <check.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACK_TIMEOUT_MS 2000

static const char *config_json = "{\"gateway\": {\"ack_timeout_ms\": 2000},"
                                 " \"kafka\": {\"brokers\": \"mock\", \"topic\": \"webhooks.raw\","
                                 "             \"properties\": {\"test.mock.num.brokers\": 1}},"
                                 " \"log\": {\"level\": \"error\"},"
                                 " \"sources\": [{\"name\": \"s\", \"verify\": {\"scheme\": "
                                 "\"bearer\", \"secrets\": [\"t\"]}}]}";

typedef struct reports {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count;
    rd_kafka_resp_err_t last;
    void *last_opaque;
} reports;

static void on_delivery(void *opaque, rd_kafka_resp_err_t err, void *cb_opaque)
{
    reports *r = cb_opaque;
    pthread_mutex_lock(&r->mu);
    r->count++;
    r->last = err;
    r->last_opaque = opaque;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Waits up to timeout_ms for the count-th report; false if it did not come. */
static bool wait_reports(reports *r, int count, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (r->count < count && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
        ;
    bool ok = r->count >= count;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static hp_config cfg;
static reports rep;
static gw_producer *prod;

static void setup(void)
{
    char err[512];
    ck_assert_msg(hp_config_load_string(&cfg, config_json, "test.json", err, sizeof err) == HP_OK,
                  "%s", err);
    pthread_mutex_init(&rep.mu, NULL);
    pthread_cond_init(&rep.cv, NULL);
    rep.count = 0;
    ck_assert_msg(gw_producer_new(&prod, &cfg, on_delivery, &rep, err, sizeof err) == HP_OK, "%s",
                  err);
}

static void teardown(void)
{
    gw_producer_close(prod, 1000);
    hp_config_deinit(&cfg);
}

static rd_kafka_resp_err_t send_one(void *opaque)
{
    return gw_producer_send(prod, "{}", 2, "key", rd_kafka_headers_new(1), opaque);
}

START_TEST(test_delivered)
{
    int marker;
    ck_assert_int_eq(send_one(&marker), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_msg(wait_reports(&rep, 1, 10000), "no delivery report");
    ck_assert_int_eq(rep.last, RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_ptr_eq(rep.last_opaque, &marker);
}
END_TEST

START_TEST(test_broker_down_reports_timeout)
{
    /* Warm up: the producer knows the partition leader and has its PID. */
    ck_assert_int_eq(send_one(NULL), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert(wait_reports(&rep, 1, 10000));
    ck_assert_int_eq(rep.last, RD_KAFKA_RESP_ERR_NO_ERROR);

    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(gw_producer_handle(prod));
    ck_assert_ptr_nonnull(mc);
    rd_kafka_mock_broker_set_down(mc, 1);
    int64_t t0 = hp_time_mono_ns();
    ck_assert_int_eq(send_one(NULL), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_msg(wait_reports(&rep, 2, 3 * ACK_TIMEOUT_MS), "no report with the broker down");
    double ms = (double)(hp_time_mono_ns() - t0) / 1e6;
    ck_assert_int_eq(rep.last, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
    /* message.timeout.ms is ack_timeout_ms - 1000, and librdkafka scans for
     * timeouts once a second: the report comes in about ack_timeout_ms. */
    ck_assert_msg(ms >= ACK_TIMEOUT_MS - 1000 && ms <= ACK_TIMEOUT_MS + 1000,
                  "report after %.0f ms", ms);
}
END_TEST

START_TEST(test_fatal_error_replaces_producer)
{
    ck_assert_int_eq(send_one(NULL), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert(wait_reports(&rep, 1, 10000));
    rd_kafka_t *before = gw_producer_handle(prod);

    gw_producer_test_fatal(prod);
    /* Until the swap, sends fail at once (503); after it, they are delivered again. */
    int64_t deadline = hp_time_mono_ns() + 10000000000LL;
    while (gw_producer_handle(prod) == before && hp_time_mono_ns() < deadline)
        usleep(10000);
    ck_assert_msg(gw_producer_handle(prod) != before, "the producer was not replaced");

    int delivered_before = rep.count;
    ck_assert_int_eq(send_one(NULL), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_msg(wait_reports(&rep, delivered_before + 1, 10000), "no report after replacement");
    ck_assert_int_eq(rep.last, RD_KAFKA_RESP_ERR_NO_ERROR);
}
END_TEST

START_TEST(test_guarded_property_rejected)
{
    hp_config bad;
    char err[512];
    const char *json = "{\"kafka\": {\"brokers\": \"x:1\", \"properties\": {\"acks\": \"1\"}},"
                       " \"sources\": [{\"name\": \"s\", \"verify\": {\"scheme\": \"bearer\","
                       " \"secrets\": [\"t\"]}}]}";
    ck_assert(hp_config_load_string(&bad, json, "c.json", err, sizeof err) == HP_OK);
    ck_assert_int_eq(gw_producer_check_config(&bad, err, sizeof err), HP_ERR_INVALID);
    ck_assert_msg(strstr(err, "kafka.properties.acks: set by hookpipe") != NULL, "%s", err);
    hp_config_deinit(&bad);

    json = "{\"kafka\": {\"brokers\": \"x:1\", \"properties\": {\"linger.mss\": 5}},"
           " \"sources\": [{\"name\": \"s\", \"verify\": {\"scheme\": \"bearer\","
           " \"secrets\": [\"t\"]}}]}";
    ck_assert(hp_config_load_string(&bad, json, "c.json", err, sizeof err) == HP_OK);
    ck_assert_int_eq(gw_producer_check_config(&bad, err, sizeof err), HP_ERR_INVALID);
    ck_assert_msg(strstr(err, "kafka.properties.linger.mss: ") != NULL, "%s", err);
    hp_config_deinit(&bad);
}
END_TEST

static Suite *producer_suite(void)
{
    Suite *s = suite_create("gw_producer");
    TCase *tc = tcase_create("mock cluster");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_delivered);
    tcase_add_test(tc, test_broker_down_reports_timeout);
    tcase_add_test(tc, test_fatal_error_replaces_producer);
    suite_add_tcase(s, tc);
    TCase *conf = tcase_create("configuration");
    tcase_add_test(conf, test_guarded_property_rejected);
    suite_add_tcase(s, conf);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(producer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
