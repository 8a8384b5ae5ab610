/*
 * Unit tests for wk_json: which bodies are spliced into the batch document
 * as they are (everything jsonb takes, nothing it refuses: one bad splice
 * would fail a whole batch) and how strings are written.
 */
#include "wk_json.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ok(const char *s)
{
    return wk_json_spliceable(s, strlen(s), false);
}

START_TEST(test_accepts_json)
{
    static const char *const good[] = {
        "{}",
        "[]",
        " { } ",
        "\t[ ]\r\n",
        "0",
        "-0",
        "1.5",
        "-12e+3",
        "1E-2",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\uD83D\\uDE00\"",
        "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
        "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}",
        "[1,2,[3,[4]],{}]",
        "{\"a\":1,\"a\":2}",
        /* Beyond 64 bits: jsonb numbers are numeric (jansson refused these). */
        "{\"id\":123456789012345678901234567890}",
        "1e1000",
        "-1E-1000",
        "{\"event\":\"room_started\",\"room\":{\"sid\":\"RM_x\",\"creationTime\":\"1700000000\"}}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(ok(good[i]), "refused: %s", good[i]);
}
END_TEST

START_TEST(test_refuses_what_jsonb_refuses)
{
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:2}",
        "[1 2]",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "tru",
        "nul",
        "True",
        "'a'",
        "\"abc",
        "\"a\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"tab\there\"",
        "{} {}",
        "[] x",
        "NaN",
        "Infinity",
        /* jsonb cannot hold U+0000, nor an unpaired surrogate. */
        "\"\\u0000\"",
        "{\"a\":\"x\\u0000y\"}",
        "\"\\uD83D\"",
        "\"\\uDE00\"",
        "\"\\uD83Dx\"",
        "\"\\uD83D\\u0041\"",
        /* Beyond numeric: an exponent over 1000, more than 1000 digits below. */
        "1e1001",
        "1e-1001",
        "1e99999999999999999999",
        /* Invalid UTF-8. */
        "\"\xff\"",
        "\"\xc3\"",
        "\"\xed\xa0\x80\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!ok(bad[i]), "accepted: %s", bad[i]);
    /* A raw NUL byte, and text after the value. */
    ck_assert(!wk_json_spliceable("{}\0", 3, false));
    ck_assert(!wk_json_spliceable("\"a\0b\"", 5, false));
}
END_TEST

START_TEST(test_limits)
{
    /* Nesting: WK_JSON_DEPTH_MAX levels pass, one more does not. */
    size_t n = WK_JSON_DEPTH_MAX + 1;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    ck_assert(!ok(deep));
    ck_assert(ok(deep + 1) == false); /* unbalanced */
    deep[2 * n - 1] = '\0';
    ck_assert(wk_json_spliceable(deep + 1, 2 * (n - 1), false));
    free(deep);

    /* Digits: WK_JSON_NUMBER_DIGITS_MAX pass, one more does not. */
    char num[WK_JSON_NUMBER_DIGITS_MAX + 8];
    memset(num, '7', WK_JSON_NUMBER_DIGITS_MAX);
    num[WK_JSON_NUMBER_DIGITS_MAX] = '\0';
    ck_assert(ok(num));
    num[WK_JSON_NUMBER_DIGITS_MAX] = '7';
    num[WK_JSON_NUMBER_DIGITS_MAX + 1] = '\0';
    ck_assert(!ok(num));
}
END_TEST

START_TEST(test_object_only)
{
    ck_assert(wk_json_spliceable(" {\"a\":1} ", 9, true));
    ck_assert(!wk_json_spliceable("[1]", 3, true));
    ck_assert(!wk_json_spliceable("\"x\"", 3, true));
    ck_assert(!wk_json_spliceable("null", 4, true));
}
END_TEST

START_TEST(test_put_string)
{
    hp_buf out;
    hp_buf_init(&out, 1024);
    const char in[] = "a\"b\\c\n\x01\x1f"
                      "caf\xc3\xa9/";
    ck_assert_int_eq(wk_json_put_string(&out, in, sizeof in - 1), HP_OK);
    ck_assert_str_eq(out.data, "\"a\\\"b\\\\c\\u000a\\u0001\\u001fcaf\xc3\xa9/\"");
    ck_assert(wk_json_spliceable(out.data, out.len, false));
    hp_buf_deinit(&out);

    /* The cap is respected. */
    hp_buf_init(&out, 4);
    ck_assert_int_eq(wk_json_put_string(&out, "abcdef", 6), HP_ERR_INVALID);
    hp_buf_deinit(&out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wk_json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_accepts_json);
    tcase_add_test(tc, test_refuses_what_jsonb_refuses);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_object_only);
    tcase_add_test(tc, test_put_string);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
