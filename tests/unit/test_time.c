/*
 * Unit tests for hp_time: RFC 3339 formatting and parsing, event times.
 */
#include "hp_time.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static int64_t parse(const char *s)
{
    int64_t ms = 0;
    ck_assert_msg(hp_time_parse_rfc3339(s, strlen(s), &ms) == HP_OK, "rejected %s", s);
    return ms;
}

static void assert_rejected(const char *s)
{
    int64_t ms;
    ck_assert_msg(hp_time_parse_rfc3339(s, strlen(s), &ms) == HP_ERR_INVALID, "accepted %s", s);
}

START_TEST(test_format)
{
    char out[HP_TIME_RFC3339_SIZE];
    ck_assert_uint_eq(hp_time_format_rfc3339(0, out, sizeof out), 24);
    ck_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
    hp_time_format_rfc3339(1700000000123, out, sizeof out);
    ck_assert_str_eq(out, "2023-11-14T22:13:20.123Z");
    hp_time_format_rfc3339(951782400000, out, sizeof out); /* a leap day */
    ck_assert_str_eq(out, "2000-02-29T00:00:00.000Z");
    hp_time_format_rfc3339(-1, out, sizeof out);
    ck_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
    hp_time_format_rfc3339(253402300799999, out, sizeof out);
    ck_assert_str_eq(out, "9999-12-31T23:59:59.999Z");
}
END_TEST

START_TEST(test_format_limits)
{
    char small[10];
    ck_assert_uint_eq(hp_time_format_rfc3339(0, small, sizeof small), 0);
    char out[HP_TIME_RFC3339_SIZE];
    ck_assert_uint_eq(hp_time_format_rfc3339(253402300800000, out, sizeof out), 0);
}
END_TEST

START_TEST(test_parse)
{
    ck_assert_int_eq(parse("1970-01-01T00:00:00Z"), 0);
    ck_assert_int_eq(parse("2023-11-14T22:13:20.123Z"), 1700000000123);
    ck_assert_int_eq(parse("2023-11-14T22:13:20.1239999Z"), 1700000000123);
    ck_assert_int_eq(parse("2023-11-14T22:13:20.5Z"), 1700000000500);
    ck_assert_int_eq(parse("2023-11-14t22:13:20z"), 1700000000000);
    ck_assert_int_eq(parse("2023-11-14 22:13:20Z"), 1700000000000);
    ck_assert_int_eq(parse("2023-11-15T00:13:20+02:00"), 1700000000000);
    ck_assert_int_eq(parse("2023-11-14T17:13:20-05:00"), 1700000000000);
    ck_assert_int_eq(parse("2000-02-29T00:00:00Z"), 951782400000);
    ck_assert_int_eq(parse("2016-12-31T23:59:60Z"), 1483228799999);
}
END_TEST

START_TEST(test_parse_round_trip)
{
    char out[HP_TIME_RFC3339_SIZE];
    for (int64_t ms = -86400000LL * 366; ms < 4102444800000LL; ms += 7777777777LL) {
        size_t n = hp_time_format_rfc3339(ms, out, sizeof out);
        ck_assert_uint_gt(n, 0);
        ck_assert_int_eq(parse(out), ms);
    }
}
END_TEST

START_TEST(test_parse_rejects)
{
    assert_rejected("");
    assert_rejected("2023-11-14");
    assert_rejected("2023-11-14T22:13:20");      /* no offset */
    assert_rejected("2023-11-14T22:13:20.Z");    /* empty fraction */
    assert_rejected("2023-13-14T22:13:20Z");     /* month */
    assert_rejected("2023-02-29T22:13:20Z");     /* not a leap year */
    assert_rejected("2023-11-31T22:13:20Z");     /* day */
    assert_rejected("2023-11-14T24:00:00Z");     /* hour */
    assert_rejected("2023-11-14T22:60:00Z");     /* minute */
    assert_rejected("2023-11-14T22:13:20+2:00"); /* offset digits */
    assert_rejected("2023-11-14T22:13:20Zjunk");
    assert_rejected("23-11-14T22:13:20Z");
    assert_rejected("2023-1a-14T22:13:20Z");
}
END_TEST

START_TEST(test_parse_is_length_bounded)
{
    /* Only len bytes are read: the rest of the buffer is not part of the value. */
    const char *s = "2023-11-14T22:13:20Zgarbage";
    int64_t ms;
    ck_assert_int_eq(hp_time_parse_rfc3339(s, 20, &ms), HP_OK);
    ck_assert_int_eq(ms, 1700000000000);
}
END_TEST

START_TEST(test_unix_units)
{
    ck_assert_int_eq(hp_time_unix_to_ms(1700000000), 1700000000000);
    ck_assert_int_eq(hp_time_unix_to_ms(1700000000123), 1700000000123);
    ck_assert_int_eq(hp_time_unix_to_ms(0), 0);
}
END_TEST

START_TEST(test_parse_event)
{
    int64_t ms;
    ck_assert_int_eq(hp_time_parse_event("1700000000", 10, &ms), HP_OK);
    ck_assert_int_eq(ms, 1700000000000);
    ck_assert_int_eq(hp_time_parse_event("1700000000123", 13, &ms), HP_OK);
    ck_assert_int_eq(ms, 1700000000123);
    ck_assert_int_eq(hp_time_parse_event("1700000000.25", 13, &ms), HP_OK);
    ck_assert_int_eq(ms, 1700000000250);
    ck_assert_int_eq(hp_time_parse_event("2023-11-14T22:13:20Z", 20, &ms), HP_OK);
    ck_assert_int_eq(ms, 1700000000000);
    ck_assert_int_eq(hp_time_parse_event("", 0, &ms), HP_ERR_INVALID);
    ck_assert_int_eq(hp_time_parse_event("17e9", 4, &ms), HP_ERR_INVALID);
    ck_assert_int_eq(hp_time_parse_event("12.", 3, &ms), HP_ERR_INVALID);
    ck_assert_int_eq(hp_time_parse_event("99999999999999999999", 20, &ms), HP_ERR_INVALID);
    /* Milliseconds with a fraction: the fraction is dropped, and the check
     * for it must not overflow (found by fuzz_gw_extract). */
    ck_assert_int_eq(hp_time_parse_event("9999999999999999.5", 18, &ms), HP_OK);
    ck_assert_int_eq(ms, 9999999999999999);
}
END_TEST

START_TEST(test_clocks_move)
{
    int64_t a = hp_time_mono_ns(), b = hp_time_mono_ns();
    ck_assert_int_ge(b, a);
    ck_assert_int_gt(hp_time_now_ms(), 1700000000000); /* after Nov 2023 */
}
END_TEST

static Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_format_limits);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_parse_round_trip);
    tcase_add_test(tc, test_parse_rejects);
    tcase_add_test(tc, test_parse_is_length_bounded);
    tcase_add_test(tc, test_unix_units);
    tcase_add_test(tc, test_parse_event);
    tcase_add_test(tc, test_clocks_move);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(time_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
