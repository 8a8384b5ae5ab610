/*
 * Unit tests for gw_headers: case-insensitive lookup, joining of repeated
 * headers, and the JSON record of a request's headers — names lower-cased,
 * credentials and the exclude list left out, and valid JSON whatever bytes
 * the values hold (checked by parsing it back with jansson).
 */
#include "gw_headers.h"
#include "hp_utf8.h"

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define HS(arr) ((gw_headers){(arr), sizeof(arr) / sizeof((arr)[0])})

/* Parses text as a JSON object, failing the test if it is not one. */
static json_t *parse_object(const char *text)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    ck_assert_msg(obj != NULL, "not JSON: %s (%s)", text, jerr.text);
    ck_assert(json_is_object(obj));
    return obj;
}

static const char *member(json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

START_TEST(test_get_case_insensitive)
{
    gw_header items[] = {{"Content-Type", "application/json"}, {"X-GitHub-Event", "push"}};
    gw_headers hs = HS(items);
    ck_assert_str_eq(gw_headers_get(&hs, "content-type"), "application/json");
    ck_assert_str_eq(gw_headers_get(&hs, "CONTENT-TYPE"), "application/json");
    ck_assert_str_eq(gw_headers_get(&hs, "x-github-event"), "push");
    ck_assert_ptr_null(gw_headers_get(&hs, "X-GitHub-Delivery"));
    ck_assert_ptr_null(gw_headers_get(&hs, "Content"));
    ck_assert_ptr_null(gw_headers_get(NULL, "Content-Type"));
}
END_TEST

START_TEST(test_get_first_of_duplicates)
{
    gw_header items[] = {{"X-Id", "first"}, {"x-id", "second"}, {"X-ID", "third"}};
    gw_headers hs = HS(items);
    ck_assert_str_eq(gw_headers_get(&hs, "X-Id"), "first");
}
END_TEST

START_TEST(test_join)
{
    gw_header items[] = {{"X-Forwarded-For", "1.2.3.4"},
                         {"Host", "example.com"},
                         {"x-forwarded-for", "10.0.0.1, 10.0.0.2"}};
    gw_headers hs = HS(items);
    char *s = gw_headers_join(&hs, "X-FORWARDED-FOR");
    ck_assert_str_eq(s, "1.2.3.4, 10.0.0.1, 10.0.0.2");
    free(s);
    s = gw_headers_join(&hs, "host");
    ck_assert_str_eq(s, "example.com");
    free(s);
    ck_assert_ptr_null(gw_headers_join(&hs, "X-Real-IP"));
    ck_assert_ptr_null(gw_headers_join(NULL, "Host"));
}
END_TEST

START_TEST(test_json_basic_order_and_case)
{
    gw_header items[] = {{"Content-Type", "application/json"},
                         {"X-GitHub-Event", "push"},
                         {"User-Agent", "GitHub-Hookshot/abc"}};
    gw_headers hs = HS(items);
    char *s = gw_headers_json(&hs, NULL);
    /* Order of first appearance, names lower-cased, values as received. */
    ck_assert_str_eq(s, "{\"content-type\":\"application/json\",\"x-github-event\":\"push\","
                        "\"user-agent\":\"GitHub-Hookshot/abc\"}");
    free(s);
}
END_TEST

START_TEST(test_json_empty)
{
    gw_headers none = {NULL, 0};
    char *s = gw_headers_json(&none, NULL);
    ck_assert_str_eq(s, "{}");
    free(s);
    s = gw_headers_json(NULL, NULL);
    ck_assert_str_eq(s, "{}");
    free(s);
}
END_TEST

START_TEST(test_json_duplicates_joined)
{
    gw_header items[] = {{"Accept", "a/b"}, {"X-Tag", "one"}, {"accept", "c/d"}, {"X-TAG", "two"}};
    gw_headers hs = HS(items);
    char *s = gw_headers_json(&hs, NULL);
    ck_assert_str_eq(s, "{\"accept\":\"a/b, c/d\",\"x-tag\":\"one, two\"}");
    free(s);
}
END_TEST

START_TEST(test_json_exclusions)
{
    gw_header items[] = {
        {"AUTHORIZATION", "Bearer secret"}, {"Proxy-Authorization", "Basic c2VjcmV0"},
        {"cookie", "session=secret"},       {"Cookie", "more=secret"},
        {"Stripe-Signature", "t=1,v1=abc"}, {"X-Keep", "yes"},
        {"authorization", "Bearer again"}};
    gw_headers hs = HS(items);
    const char *const exclude[] = {"stripe-signature", NULL};
    char *s = gw_headers_json(&hs, exclude);
    ck_assert_str_eq(s, "{\"x-keep\":\"yes\"}");
    ck_assert_ptr_null(strstr(s, "secret"));
    free(s);

    /* Without an exclude list the signature header stays. */
    s = gw_headers_json(&hs, NULL);
    ck_assert_str_eq(s, "{\"stripe-signature\":\"t=1,v1=abc\",\"x-keep\":\"yes\"}");
    free(s);
}
END_TEST

START_TEST(test_json_escapes)
{
    gw_header items[] = {{"X-Quote", "say \"hi\" \\o/"},
                         {"X-Ctl", "a\tb\x01\x1f\x7f"},
                         {"X-Utf8", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"}};
    gw_headers hs = HS(items);
    char *s = gw_headers_json(&hs, NULL);
    json_t *obj = parse_object(s);
    ck_assert_str_eq(member(obj, "x-quote"), "say \"hi\" \\o/");
    ck_assert_str_eq(member(obj, "x-ctl"), "a\tb\x01\x1f\x7f");
    ck_assert_str_eq(member(obj, "x-utf8"), "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
    json_decref(obj);
    free(s);
}
END_TEST

START_TEST(test_json_invalid_utf8)
{
    /* A lone continuation byte, a truncated sequence, an overlong "/", a
     * surrogate, and bytes never valid: each becomes U+FFFD. */
    gw_header items[] = {{"X-Bad", "a\x80z"},        {"X-Cut", "\xe2\x82"},
                         {"X-Overlong", "\xc0\xaf"}, {"X-Surrogate", "\xed\xa0\x80"},
                         {"X-Never", "\xff\xfe"},    {"X-N\xe4me", "v"}};
    gw_headers hs = HS(items);
    char *s = gw_headers_json(&hs, NULL);
    json_t *obj = parse_object(s);
    ck_assert_str_eq(member(obj, "x-bad"), "a\xef\xbf\xbdz");
    ck_assert_str_eq(member(obj, "x-cut"), "\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(member(obj, "x-overlong"), "\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(member(obj, "x-surrogate"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(member(obj, "x-never"), "\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(member(obj, "x-n\xef\xbf\xbdme"), "v");
    json_decref(obj);
    free(s);
}
END_TEST

/* Found by fuzz_gw_headers: names that differ only in bytes that are not
 * UTF-8 (or in those and a real U+FFFD) were written as two members of one
 * name, and a reader of the record kept one of the values. */
START_TEST(test_json_names_equal_once_escaped)
{
    gw_header items[] = {{"X-\xff", "1"},
                         {"X-Other", "o"},
                         {"x-\xfe", "2"},
                         {"X-\xef\xbf\xbd", "3"},
                         {"X-\xff\xff", "4"}};
    gw_headers hs = HS(items);
    char *s = gw_headers_json(&hs, NULL);
    json_error_t jerr;
    json_t *obj = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
    ck_assert_msg(obj != NULL, "not JSON without duplicates: %s (%s)", s, jerr.text);
    ck_assert_uint_eq(json_object_size(obj), 3);
    ck_assert_str_eq(member(obj, "x-\xef\xbf\xbd"), "1, 2, 3");
    ck_assert_str_eq(member(obj, "x-other"), "o");
    ck_assert_str_eq(member(obj, "x-\xef\xbf\xbd\xef\xbf\xbd"), "4");
    json_decref(obj);
    free(s);
}
END_TEST

START_TEST(test_json_worst_case_size)
{
    /* Every byte escapes to six: the output must still fit its allocation
     * (the sanitizer build checks the bound). */
    char name[64], value[256];
    memset(name, '\x01', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memset(value, '\xff', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    gw_header items[] = {{name, value}, {name, value}, {"x", ""}};
    gw_headers hs = HS(items);
    char *s = gw_headers_json(&hs, NULL);
    json_t *obj = parse_object(s);
    ck_assert_uint_eq(json_object_size(obj), 2);
    ck_assert_str_eq(member(obj, "x"), "");
    json_decref(obj);
    free(s);
}
END_TEST

START_TEST(test_utf8_valid)
{
    ck_assert(hp_utf8_valid("", 0));
    ck_assert(hp_utf8_valid("plain", 5));
    ck_assert(hp_utf8_valid("\xe2\x82\xac\xf0\x9f\x98\x80", 7));
    ck_assert(!hp_utf8_valid("\xe2\x82", 2));
    ck_assert(!hp_utf8_valid("\xc0\xaf", 2));
    ck_assert(!hp_utf8_valid("\xed\xa0\x80", 3));
    ck_assert(!hp_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    /* Only n bytes are read: a sequence cut by n is invalid. */
    ck_assert(!hp_utf8_valid("\xe2\x82\xac", 2));
}
END_TEST

static Suite *headers_suite(void)
{
    Suite *s = suite_create("gw_headers");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_get_case_insensitive);
    tcase_add_test(tc, test_get_first_of_duplicates);
    tcase_add_test(tc, test_join);
    tcase_add_test(tc, test_json_basic_order_and_case);
    tcase_add_test(tc, test_json_empty);
    tcase_add_test(tc, test_json_duplicates_joined);
    tcase_add_test(tc, test_json_exclusions);
    tcase_add_test(tc, test_json_escapes);
    tcase_add_test(tc, test_json_invalid_utf8);
    tcase_add_test(tc, test_json_names_equal_once_escaped);
    tcase_add_test(tc, test_json_worst_case_size);
    tcase_add_test(tc, test_utf8_valid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(headers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
