/*
 * Unit tests for hp_jsonptr: RFC 6901 resolution, with the RFC's own examples.
 */
#include "hp_jsonptr.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The example document of RFC 6901 section 5. */
static const char *rfc_doc = "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, "
                             "\"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, "
                             "\"m~n\": 8}";

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    ck_assert_msg(j != NULL, "%s", err.text);
    return j;
}

static void assert_int_at(json_t *doc, const char *ptr, json_int_t want)
{
    json_t *v = hp_jsonptr_get(doc, ptr);
    ck_assert_msg(v != NULL, "nothing at %s", ptr);
    ck_assert_msg(json_is_integer(v), "not an integer at %s", ptr);
    ck_assert_int_eq(json_integer_value(v), want);
}

START_TEST(test_rfc_examples)
{
    json_t *doc = load(rfc_doc);
    ck_assert_ptr_eq(hp_jsonptr_get(doc, ""), doc);
    ck_assert(json_is_array(hp_jsonptr_get(doc, "/foo")));
    ck_assert_str_eq(json_string_value(hp_jsonptr_get(doc, "/foo/0")), "bar");
    ck_assert_str_eq(json_string_value(hp_jsonptr_get(doc, "/foo/1")), "baz");
    assert_int_at(doc, "/", 0);
    assert_int_at(doc, "/a~1b", 1);
    assert_int_at(doc, "/c%d", 2);
    assert_int_at(doc, "/e^f", 3);
    assert_int_at(doc, "/g|h", 4);
    assert_int_at(doc, "/i\\j", 5);
    assert_int_at(doc, "/k\"l", 6);
    assert_int_at(doc, "/ ", 7);
    assert_int_at(doc, "/m~0n", 8);
    json_decref(doc);
}
END_TEST

START_TEST(test_escape_order)
{
    /* "~01" is "~1" (not "/"): ~0 is decoded after ~1 would have been. */
    json_t *doc = load("{\"~1\": 1, \"/\": 2, \"~\": 3}");
    assert_int_at(doc, "/~01", 1);
    assert_int_at(doc, "/~1", 2);
    assert_int_at(doc, "/~0", 3);
    json_decref(doc);
}
END_TEST

START_TEST(test_nested)
{
    json_t *doc = load("{\"data\": {\"object\": {\"id\": \"cus_1\", \"items\": [{\"n\": 5}]}}}");
    ck_assert_str_eq(json_string_value(hp_jsonptr_get(doc, "/data/object/id")), "cus_1");
    assert_int_at(doc, "/data/object/items/0/n", 5);
    json_decref(doc);
}
END_TEST

START_TEST(test_missing_and_malformed)
{
    json_t *doc = load(rfc_doc);
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/nope"));
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/foo/2"));  /* past the end */
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/foo/-"));  /* "-" never exists */
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/foo/01")); /* leading zero */
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/foo/-1"));
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/foo/1x"));
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/foo/0/x")); /* into a string */
    ck_assert_ptr_null(hp_jsonptr_get(doc, "foo"));      /* no leading slash */
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/m~2n"));    /* bad escape */
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/m~"));
    ck_assert_ptr_null(hp_jsonptr_get(doc, "/foo/99999999999999999999"));
    ck_assert_ptr_null(hp_jsonptr_get(NULL, "/foo"));
    ck_assert_ptr_null(hp_jsonptr_get(doc, NULL));
    json_decref(doc);
}
END_TEST

START_TEST(test_non_string_values)
{
    /* Callers decide what a number or null id means; the pointer just finds it. */
    json_t *doc = load("{\"id\": 42, \"n\": null, \"t\": true}");
    ck_assert(json_is_integer(hp_jsonptr_get(doc, "/id")));
    ck_assert(json_is_null(hp_jsonptr_get(doc, "/n")));
    ck_assert(json_is_true(hp_jsonptr_get(doc, "/t")));
    json_decref(doc);
}
END_TEST

START_TEST(test_overlong_token)
{
    char ptr[600];
    ptr[0] = '/';
    memset(ptr + 1, 'a', 500);
    ptr[501] = '\0';
    json_t *doc = load("{\"a\": 1}");
    ck_assert_ptr_null(hp_jsonptr_get(doc, ptr));
    json_decref(doc);
}
END_TEST

/* Found by fuzz_jsonptr: a member name of 256 bytes or more was never found,
 * though hp_jsonscan (the gateway's lookup) finds it. */
START_TEST(test_long_member_name)
{
    char text[1024], ptr[1024];
    char name[301];
    memset(name, 'k', 300);
    name[300] = '\0';
    name[10] = '/'; /* written ~1 in the pointer */
    snprintf(text, sizeof text, "{\"%s\": {\"x\": 3}, \"%.255s\": 1}", name, name + 45);
    json_t *doc = load(text);
    snprintf(ptr, sizeof ptr, "/%.10s~1%s/x", name, name + 11);
    assert_int_at(doc, ptr, 3);
    snprintf(ptr, sizeof ptr, "/%.255s", name + 45);
    assert_int_at(doc, ptr, 1);
    json_decref(doc);
}
END_TEST

START_TEST(test_valid)
{
    ck_assert(hp_jsonptr_valid(""));
    ck_assert(hp_jsonptr_valid("/"));
    ck_assert(hp_jsonptr_valid("/a~0b~1c"));
    ck_assert(!hp_jsonptr_valid("a"));
    ck_assert(!hp_jsonptr_valid("/a~"));
    ck_assert(!hp_jsonptr_valid("/a~2"));
    ck_assert(!hp_jsonptr_valid(NULL));
}
END_TEST

static Suite *jsonptr_suite(void)
{
    Suite *s = suite_create("jsonptr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rfc_examples);
    tcase_add_test(tc, test_escape_order);
    tcase_add_test(tc, test_nested);
    tcase_add_test(tc, test_missing_and_malformed);
    tcase_add_test(tc, test_non_string_values);
    tcase_add_test(tc, test_overlong_token);
    tcase_add_test(tc, test_long_member_name);
    tcase_add_test(tc, test_valid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jsonptr_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
