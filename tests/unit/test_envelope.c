/*
 * Unit tests for hp_envelope: headers written by the gateway decode to the
 * same envelope, and records that are not envelopes are rejected with a reason.
 */
#include "hp_envelope.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static hp_envelope sample(void)
{
    hp_envelope env = {
        .version = HP_ENVELOPE_VERSION,
        .source = "stripe",
        .event_id = "evt_1",
        .event_type = "customer.updated",
        .event_time_ms = 1700000000000,
        .received_at_ms = 1700000000123,
        .content_type = "application/json",
        .gateway = "gw-1:42",
        .remote_addr = "2001:db8::1",
        .http_headers = "{\"user-agent\":\"Stripe/1.0\"}",
    };
    return env;
}

START_TEST(test_round_trip)
{
    hp_envelope in = sample(), out;
    char err[256];
    rd_kafka_headers_t *hdrs = hp_envelope_headers_new(&in);
    ck_assert_int_eq(hp_envelope_decode(hdrs, &out, err, sizeof err), HP_OK);
    ck_assert_int_eq(out.version, 1);
    ck_assert_str_eq(out.source, "stripe");
    ck_assert_str_eq(out.event_id, "evt_1");
    ck_assert_str_eq(out.event_type, "customer.updated");
    ck_assert_int_eq(out.event_time_ms, 1700000000000);
    ck_assert_int_eq(out.received_at_ms, 1700000000123);
    ck_assert_str_eq(out.content_type, "application/json");
    ck_assert_str_eq(out.gateway, "gw-1:42");
    ck_assert_str_eq(out.remote_addr, "2001:db8::1");
    ck_assert_str_eq(out.http_headers, "{\"user-agent\":\"Stripe/1.0\"}");
    hp_envelope_deinit(&out);
    rd_kafka_headers_destroy(hdrs);
}
END_TEST

START_TEST(test_optional_fields_left_out)
{
    hp_envelope in = sample(), out;
    char err[256];
    in.event_type = NULL;
    in.event_time_ms = HP_ENVELOPE_NO_TIME;
    in.content_type = NULL;
    rd_kafka_headers_t *hdrs = hp_envelope_headers_new(&in);
    const void *val;
    size_t len;
    ck_assert_int_ne(rd_kafka_header_get_last(hdrs, HP_HDR_EVENT_TIME, &val, &len),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(hp_envelope_decode(hdrs, &out, err, sizeof err), HP_OK);
    ck_assert_ptr_null(out.event_type);
    ck_assert_ptr_null(out.content_type);
    ck_assert_int_eq(out.event_time_ms, HP_ENVELOPE_NO_TIME);
    hp_envelope_deinit(&out);
    rd_kafka_headers_destroy(hdrs);
}
END_TEST

/* Decoding hdrs fails and the message contains want. */
static void assert_rejected(rd_kafka_headers_t *hdrs, const char *want)
{
    hp_envelope out;
    char err[256] = "";
    ck_assert_int_eq(hp_envelope_decode(hdrs, &out, err, sizeof err), HP_ERR_INVALID);
    ck_assert_msg(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"", err, want);
    ck_assert_ptr_null(out.source);
    rd_kafka_headers_destroy(hdrs);
}

START_TEST(test_rejects)
{
    hp_envelope out;
    char err[256];
    ck_assert_int_eq(hp_envelope_decode(NULL, &out, err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "the record has no headers: not a hookpipe envelope");

    assert_rejected(rd_kafka_headers_new(1), "hookpipe-version: missing");

    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(4);
    rd_kafka_header_add(hdrs, HP_HDR_VERSION, -1, "2", 1);
    assert_rejected(hdrs, "envelope version 2 is not supported");

    hdrs = rd_kafka_headers_new(4);
    rd_kafka_header_add(hdrs, HP_HDR_VERSION, -1, "1x", 2);
    assert_rejected(hdrs, "hookpipe-version: not a decimal integer");

    hdrs = rd_kafka_headers_new(4);
    rd_kafka_header_add(hdrs, HP_HDR_VERSION, -1, "1", 1);
    rd_kafka_header_add(hdrs, HP_HDR_SOURCE, -1, "s", 1);
    assert_rejected(hdrs, "hookpipe-event-id: missing or empty");

    hdrs = rd_kafka_headers_new(4);
    rd_kafka_header_add(hdrs, HP_HDR_VERSION, -1, "1", 1);
    rd_kafka_header_add(hdrs, HP_HDR_SOURCE, -1, "s", 1);
    rd_kafka_header_add(hdrs, HP_HDR_EVENT_ID, -1, "e", 1);
    rd_kafka_header_add(hdrs, HP_HDR_EVENT_TIME, -1, "soon", 4);
    assert_rejected(hdrs, "hookpipe-event-time: not a decimal integer");

    /* A NUL inside a value can't be a C string: treated as absent. */
    hdrs = rd_kafka_headers_new(4);
    rd_kafka_header_add(hdrs, HP_HDR_VERSION, -1, "1", 1);
    rd_kafka_header_add(hdrs, HP_HDR_SOURCE, -1, "s\0x", 3);
    rd_kafka_header_add(hdrs, HP_HDR_EVENT_ID, -1, "e", 1);
    assert_rejected(hdrs, "hookpipe-source: missing or empty");

    /* Found by fuzz_envelope: numbers beyond 64 bits were clamped by strtoll
     * (to INT64_MAX, or to INT64_MIN, which reads as "no event time"). */
    static const char *const out_of_range[] = {"99999999999999999999", "9223372036854775808",
                                               "-9223372036854775809"};
    for (size_t i = 0; i < 3; i++) {
        hdrs = rd_kafka_headers_new(4);
        rd_kafka_header_add(hdrs, HP_HDR_VERSION, -1, "1", 1);
        rd_kafka_header_add(hdrs, HP_HDR_SOURCE, -1, "s", 1);
        rd_kafka_header_add(hdrs, HP_HDR_EVENT_ID, -1, "e", 1);
        rd_kafka_header_add(hdrs, i == 1 ? HP_HDR_RECEIVED_AT : HP_HDR_EVENT_TIME, -1,
                            out_of_range[i], -1);
        assert_rejected(hdrs, "not a decimal integer");
    }
    hdrs = rd_kafka_headers_new(4);
    rd_kafka_header_add(hdrs, HP_HDR_VERSION, -1, "1", 1);
    rd_kafka_header_add(hdrs, HP_HDR_SOURCE, -1, "s", 1);
    rd_kafka_header_add(hdrs, HP_HDR_EVENT_ID, -1, "e", 1);
    rd_kafka_header_add(hdrs, HP_HDR_EVENT_TIME, -1, "9223372036854775807", -1);
    ck_assert_int_eq(hp_envelope_decode(hdrs, &out, err, sizeof err), HP_OK);
    ck_assert_int_eq(out.event_time_ms, INT64_MAX);
    hp_envelope_deinit(&out);
    rd_kafka_headers_destroy(hdrs);
}
END_TEST

static Suite *envelope_suite(void)
{
    Suite *s = suite_create("envelope");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_optional_fields_left_out);
    tcase_add_test(tc, test_rejects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(envelope_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
