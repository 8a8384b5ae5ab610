/*
 * Unit tests for hp_jsonscan. jansson is the reference: the gateway used to
 * parse bodies with it, and the worker still does, so for every document
 * both must agree on whether it is JSON and on the value at each pointer.
 * Hand-picked cases first, then a seeded random differential run over
 * generated and mutated documents.
 */
#include "hp_jsonptr.h"
#include "hp_jsonscan.h"

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hp_err scan(const char *doc, size_t len, const char *const *ptrs, size_t n,
                   hp_json_value *found, char *err, size_t errsz)
{
    return hp_jsonscan(doc, len, ptrs, n, found, err, errsz);
}

/* jansson's verdict, as the gateway used to call it. Big integers and
 * overflowing reals are where the two differ on purpose: NULL + *differs. */
static json_t *reference(const char *doc, size_t len, int *differs)
{
    json_error_t jerr;
    json_t *root = json_loadb(doc, len, JSON_ALLOW_NUL, &jerr);
    *differs = !root && (strstr(jerr.text, "too big") || strstr(jerr.text, "overflow"));
    return root;
}

/* Asserts that v (found by the scanner) is the jansson value want. */
static void assert_same_value(const hp_json_value *v, json_t *want, const char *ptr)
{
    if (!want) {
        ck_assert_msg(v->kind == HP_JSON_ABSENT, "%s: scanner found %s, jansson nothing", ptr,
                      hp_json_kind_name(v->kind));
        return;
    }
    switch (json_typeof(want)) {
    case JSON_STRING: {
        ck_assert_msg(v->kind == HP_JSON_STRING, "%s: not a string", ptr);
        char *text = malloc(v->len + 1);
        size_t n = hp_jsonscan_string(v, text);
        ck_assert_uint_eq(n, json_string_length(want));
        ck_assert_msg(memcmp(text, json_string_value(want), n) == 0, "%s: string differs", ptr);
        free(text);
        break;
    }
    case JSON_INTEGER: {
        ck_assert_msg(v->kind == HP_JSON_INTEGER, "%s: not an integer", ptr);
        char digits[32];
        snprintf(digits, sizeof digits, "%" JSON_INTEGER_FORMAT, json_integer_value(want));
        /* "-0" is the one integer whose text jansson does not print back */
        if (!(v->len == 2 && memcmp(v->text, "-0", 2) == 0)) {
            ck_assert_uint_eq(v->len, strlen(digits));
            ck_assert_msg(memcmp(v->text, digits, v->len) == 0, "%s: integer differs", ptr);
        }
        break;
    }
    case JSON_REAL:
        ck_assert_msg(v->kind == HP_JSON_REAL, "%s: not a real", ptr);
        break;
    case JSON_OBJECT:
        ck_assert_msg(v->kind == HP_JSON_OBJECT, "%s: not an object", ptr);
        break;
    case JSON_ARRAY:
        ck_assert_msg(v->kind == HP_JSON_ARRAY, "%s: not an array", ptr);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        ck_assert_msg(v->kind == HP_JSON_BOOLEAN, "%s: not a boolean", ptr);
        break;
    case JSON_NULL:
        ck_assert_msg(v->kind == HP_JSON_NULL, "%s: not null", ptr);
        break;
    }
}

/* Scans doc with ptrs and checks verdict and values against jansson. */
static void assert_agrees(const char *doc, size_t len, const char *const *ptrs, size_t n)
{
    hp_json_value found[HP_JSONSCAN_POINTERS_MAX];
    char err[160] = "";
    int differs;
    json_t *root = reference(doc, len, &differs);
    hp_err rc = scan(doc, len, ptrs, n, found, err, sizeof err);
    if (differs)
        return;
    ck_assert_msg((rc == HP_OK) == (root != NULL), "verdicts differ on %.*s: scanner %s", (int)len,
                  doc, rc == HP_OK ? "accepts" : err);
    for (size_t i = 0; root && i < n; i++)
        assert_same_value(&found[i], hp_jsonptr_get(root, ptrs[i]), ptrs[i]);
    json_decref(root);
}

#define AGREES(doc, ...)                                                                           \
    do {                                                                                           \
        const char *ptrs_[] = {__VA_ARGS__};                                                       \
        assert_agrees(doc, strlen(doc), ptrs_, sizeof ptrs_ / sizeof ptrs_[0]);                    \
    } while (0)

START_TEST(test_rfc6901_examples)
{
    const char *doc = "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, \"e^f\": 3, "
                      "\"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, \"m~n\": 8}";
    AGREES(doc, "", "/foo", "/foo/0", "/", "/a~1b", "/c%d", "/e^f", "/g|h");
    AGREES(doc, "/i\\j", "/k\"l", "/ ", "/m~0n", "/foo/1", "/foo/2", "/foo/01", "/foo/-");
}
END_TEST

START_TEST(test_pointer_edges)
{
    const char *doc = "{\"data\":{\"object\":{\"id\":\"evt_1\",\"n\":-12,\"t\":1.5e3,\"b\":true,"
                      "\"z\":null,\"arr\":[{\"id\":7},[1,[2,{\"x\":\"deep\"}]]]}},"
                      "\"esc\\u0061ped\":\"\\u00e9\\ud83d\\ude00\\n\",\"nul\":\"a\\u0000b\"}";
    AGREES(doc, "/data/object/id", "/data/object/n", "/data/object/t", "/data/object/b",
           "/data/object/z", "/data/object/missing", "/data/object/id/0", "/data");
    AGREES(doc, "/data/object/arr/0/id", "/data/object/arr/1/1/1/x", "/data/object/arr/1/1/0",
           "/escaped", "/nul", "/data/object/arr/9", "bad", "/data/~2");
    /* A pointer through a scalar names nothing; an empty token is a name. */
    AGREES("{\"a\":1,\"\":{\"\":2}}", "/a/b", "//", "/");
}
END_TEST

START_TEST(test_duplicate_names_last_wins)
{
    AGREES("{\"id\":\"first\",\"id\":\"second\"}", "/id");
    AGREES("{\"a\":{\"b\":1},\"a\":{\"c\":2}}", "/a/b", "/a/c", "/a");
    AGREES("{\"a\":{\"b\":1},\"x\":0,\"a\":{\"b\":3}}", "/a/b");
}
END_TEST

START_TEST(test_verdicts)
{
    static const char *docs[] = {"{}",
                                 "[]",
                                 " \n\t{ } \r\n",
                                 "[1,2,3]",
                                 "{\"a\":[]}",
                                 "[-0, 0.5, 1e10, 1E-2, -3.25e+7]",
                                 "",
                                 " ",
                                 "42",
                                 "\"text\"",
                                 "true",
                                 "null",
                                 "{",
                                 "}",
                                 "[1,]",
                                 "[,1]",
                                 "{\"a\"}",
                                 "{\"a\":}",
                                 "{\"a\":1,}",
                                 "{a:1}",
                                 "{'a':1}",
                                 "[01]",
                                 "[1.]",
                                 "[.5]",
                                 "[1e]",
                                 "[+1]",
                                 "[-]",
                                 "[NaN]",
                                 "[Infinity]",
                                 "[tru]",
                                 "[nul]",
                                 "[truex]",
                                 "{} {}",
                                 "{}x",
                                 "[\"\\x\"]",
                                 "[\"\\u12\"]",
                                 "[\"\\ud800\"]",
                                 "[\"\\udc00\"]",
                                 "[\"\\ud800\\u0041\"]",
                                 "[\"\\ud83d\\ude00\"]",
                                 "[\"tab\there\"]",
                                 "[\"a\nb\"]",
                                 "[\"\xc3\xa9\"]",
                                 "[\"\xc3\"]",
                                 "[\"\xed\xa0\x80\"]",
                                 "[\"\xf4\x90\x80\x80\"]",
                                 "[\"\xc0\xaf\"]",
                                 "[\"unterminated]",
                                 "[1 2]",
                                 "{\"a\" 1}",
                                 "[\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"]",
                                 "\xef\xbb\xbf{}"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        AGREES(docs[i], "");
    /* NUL bytes: inside a string only escaped, outside never. */
    assert_agrees("[\"a\0b\"]", 7, (const char *[]){""}, 1);
    assert_agrees("{}\0", 3, (const char *[]){""}, 1);
    /* Found by fuzz_jsonscan: jansson refuses an escaped NUL in a member name
     * (not in a value), and so must the scanner. */
    AGREES("{\"a\\u0000b\":1}", "/a");
    AGREES("{\"\\u0000\":1}", "");
    AGREES("{\"a\\\\u0000\":\"\\u0000\"}", "/a\\u0000");
    AGREES("[{\"x\":{\"\\u0041\\u0000\":[]}}]", "/0/x");
}
END_TEST

START_TEST(test_error_position)
{
    hp_json_value found[1];
    char err[160];
    ck_assert_int_eq(
        scan("{\n  \"a\": tru\n}", 14, (const char *[]){"/a"}, 1, found, err, sizeof err),
        HP_ERR_INVALID);
    ck_assert_str_eq(err, "line 2, column 8: invalid literal");
    ck_assert_int_eq(scan("42", 2, NULL, 0, found, err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "line 1, column 1: expected an object or an array");
    ck_assert_int_eq(scan("", 0, NULL, 0, found, err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "line 1, column 1: expected a value");
    ck_assert_int_eq(scan(NULL, 0, NULL, 0, found, err, sizeof err), HP_ERR_INVALID);
    /* Found by fuzz_gw_extract (an empty body is NULL): NULL + 0 was computed,
     * undefined behaviour that clang's UBSan reports. */
    ck_assert_int_eq(scan(NULL, 0, (const char *[]){"/id"}, 1, found, err, sizeof err),
                     HP_ERR_INVALID);
    ck_assert_int_eq(found[0].kind, HP_JSON_ABSENT);
    ck_assert_str_eq(err, "line 1, column 1: expected a value");
    ck_assert_int_eq(scan("{\"a\\u0000\":1}", 12, NULL, 0, found, err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "line 1, column 2: NUL character in a member name");
}
END_TEST

START_TEST(test_big_numbers_are_text)
{
    /* jansson refuses integers beyond 64 bits; an id is text, so the scanner keeps it. */
    const char *doc = "{\"id\":123456789012345678901234567890}";
    hp_json_value found[1];
    ck_assert_int_eq(scan(doc, strlen(doc), (const char *[]){"/id"}, 1, found, NULL, 0), HP_OK);
    ck_assert_int_eq(found[0].kind, HP_JSON_INTEGER);
    ck_assert_uint_eq(found[0].len, 30);
}
END_TEST

static char *nested(size_t depth)
{
    char *doc = malloc(2 * depth + 1);
    memset(doc, '[', depth);
    memset(doc + depth, ']', depth);
    doc[2 * depth] = '\0';
    return doc;
}

START_TEST(test_depth_limit)
{
    char *ok = nested(HP_JSONSCAN_DEPTH_MAX);
    char *deep = nested(HP_JSONSCAN_DEPTH_MAX + 1);
    char err[160];
    hp_json_value found[1];
    ck_assert_int_eq(scan(ok, strlen(ok), NULL, 0, found, err, sizeof err), HP_OK);
    ck_assert_int_eq(scan(deep, strlen(deep), NULL, 0, found, err, sizeof err), HP_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "nested too deeply"));
    free(ok);
    free(deep);
}
END_TEST

/* A small deterministic generator (xorshift) of JSON-ish documents. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static void gen_value(char **p, char *end, int depth)
{
    static const char *names[] = {"id", "type", "a", "a~b", "a/b", "", "\\u0069d", "data"};
    static const char *scalars[] = {"1",
                                    "-0",
                                    "12.5",
                                    "1e3",
                                    "true",
                                    "false",
                                    "null",
                                    "\"x\"",
                                    "\"\\u00e9\"",
                                    "\"\\ud83d\\ude00\"",
                                    "\"a\\nb\"",
                                    "\"\xc3\xa9\"",
                                    "9007199254740993"};
    if (end - *p < 64)
        return;
    unsigned pick = depth > 4 ? 2 : rnd(3);
    if (pick == 0) {
        *(*p)++ = '{';
        unsigned n = rnd(4);
        for (unsigned i = 0; i < n && end - *p > 64; i++) {
            *p += sprintf(*p, "%s\"%s\":", i ? "," : "", names[rnd(8)]);
            gen_value(p, end, depth + 1);
        }
        *(*p)++ = '}';
    } else if (pick == 1) {
        *(*p)++ = '[';
        unsigned n = rnd(4);
        for (unsigned i = 0; i < n && end - *p > 64; i++) {
            if (i)
                *(*p)++ = ',';
            gen_value(p, end, depth + 1);
        }
        *(*p)++ = ']';
    } else {
        *p += sprintf(*p, "%s", scalars[rnd(sizeof scalars / sizeof scalars[0])]);
    }
}

START_TEST(test_random_differential)
{
    static const char *ptrs[] = {"/id", "/data/id", "/a~1b", "/0", "/0/id", "/a~0b/1", "/type", ""};
    static const char mutations[] = "{}[]\",:\\0123456789eE.-+ tfnu\x80\xc3\xff";
    char doc[4096];
    for (int round = 0; round < 20000; round++) {
        char *p = doc;
        if (rnd(2)) {
            p += sprintf(p, "{\"id\":");
        } else {
            *p++ = '[';
        }
        gen_value(&p, doc + sizeof doc - 2, 1);
        *p++ = doc[0] == '{' ? '}' : ']';
        size_t len = (size_t)(p - doc);
        /* Three rounds in four mutate a byte, insert one or cut the tail. */
        switch (rnd(4)) {
        case 0:
            doc[rnd((unsigned)len)] = mutations[rnd(sizeof mutations - 1)];
            break;
        case 1:
            len = rnd((unsigned)len) + 1;
            break;
        case 2: {
            size_t at = rnd((unsigned)len);
            memmove(doc + at + 1, doc + at, len - at);
            doc[at] = mutations[rnd(sizeof mutations - 1)];
            len++;
            break;
        }
        default:
            break;
        }
        assert_agrees(doc, len, ptrs, sizeof ptrs / sizeof ptrs[0]);
    }
}
END_TEST

static Suite *jsonscan_suite(void)
{
    Suite *s = suite_create("jsonscan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rfc6901_examples);
    tcase_add_test(tc, test_pointer_edges);
    tcase_add_test(tc, test_duplicate_names_last_wins);
    tcase_add_test(tc, test_verdicts);
    tcase_add_test(tc, test_error_position);
    tcase_add_test(tc, test_big_numbers_are_text);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_random_differential);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jsonscan_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
