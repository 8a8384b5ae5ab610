/*
 * Unit tests for hp_log: lines are captured through a pipe (hp_log_set_fd)
 * and parsed with jansson, which rejects any invalid JSON or UTF-8.
 */
#include "hp_log.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pipefd[2];

static void setup(void)
{
    ck_assert_int_eq(pipe(pipefd), 0);
    ck_assert_int_eq(fcntl(pipefd[0], F_SETFL, O_NONBLOCK), 0);
    hp_log_set_fd(pipefd[1]);
    hp_log_set_level(HP_LOG_INFO);
}

static void teardown(void)
{
    hp_log_set_fd(2);
    close(pipefd[0]);
    close(pipefd[1]);
}

/* Everything written so far (the lines are small enough for the pipe buffer). */
static size_t drain(char *buf, size_t size)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(pipefd[0], buf + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

/* Reads exactly one line, checks it is one JSON object, returns it (decref it). */
static json_t *one_line(void)
{
    static char buf[65536];
    size_t len = drain(buf, sizeof buf);
    ck_assert_uint_gt(len, 0);
    ck_assert_uint_le(len, HP_LOG_LINE_MAX);
    ck_assert_int_eq(buf[len - 1], '\n');
    ck_assert_ptr_eq(strchr(buf, '\n'), buf + len - 1);
    json_error_t jerr;
    json_t *obj = json_loadb(buf, len, 0, &jerr);
    ck_assert_msg(obj != NULL, "not JSON (%s): %s", jerr.text, buf);
    ck_assert(json_is_object(obj));
    return obj;
}

static const char *str_of(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

START_TEST(test_fields)
{
    hp_log(HP_LOG_INFO, "gateway", "request done", HP_LOG_STR("source", "orders"),
           HP_LOG_INT("status", 200), HP_LOG_INT("delta", -5), HP_LOG_DBL("duration_ms", 1.25),
           HP_LOG_UINT("offset", UINT64_C(1099511627776)), HP_LOG_BOOL("retry", true),
           HP_LOG_STR("none", NULL), HP_LOG_DBL("nan", NAN));
    json_t *obj = one_line();
    const char *ts = str_of(obj, "ts");
    ck_assert_uint_eq(strlen(ts), 24);
    ck_assert_int_eq(ts[10], 'T');
    ck_assert_int_eq(ts[23], 'Z');
    ck_assert_str_eq(str_of(obj, "level"), "info");
    ck_assert_str_eq(str_of(obj, "component"), "gateway");
    ck_assert_str_eq(str_of(obj, "msg"), "request done");
    ck_assert_str_eq(str_of(obj, "source"), "orders");
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "status")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "delta")), -5);
    ck_assert(json_real_value(json_object_get(obj, "duration_ms")) == 1.25);
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "offset")), 1099511627776);
    ck_assert(json_is_true(json_object_get(obj, "retry")));
    ck_assert(json_is_null(json_object_get(obj, "none")));
    ck_assert(json_is_null(json_object_get(obj, "nan")));
    ck_assert_ptr_null(json_object_get(obj, "truncated"));
    json_decref(obj);
}
END_TEST

START_TEST(test_key_order_and_no_fields)
{
    char buf[1024];
    hp_log(HP_LOG_WARN, "worker", "plain");
    size_t len = drain(buf, sizeof buf);
    ck_assert_uint_gt(len, 40);
    /* Fixed keys come first, in this order, for people reading raw lines. */
    ck_assert_ptr_eq(strstr(buf, "{\"ts\":\""), buf);
    ck_assert_ptr_nonnull(strstr(buf, "\",\"level\":\"warn\",\"component\":\"worker\","
                                      "\"msg\":\"plain\"}\n"));
}
END_TEST

START_TEST(test_escaping)
{
    const char *nasty = "q\"uote back\\slash nl\n cr\r tab\t bell\x07 del\x7f";
    hp_log(HP_LOG_ERROR, "c\"omp", nasty, HP_LOG_STR("k\"ey", nasty));
    json_t *obj = one_line();
    ck_assert_str_eq(str_of(obj, "msg"), nasty);
    ck_assert_str_eq(str_of(obj, "component"), "c\"omp");
    ck_assert_str_eq(str_of(obj, "k\"ey"), nasty);
    json_decref(obj);

    char raw[512];
    hp_log(HP_LOG_INFO, "t", "ctl", HP_LOG_STR("v", "\x01\x1f"));
    drain(raw, sizeof raw);
    ck_assert_ptr_nonnull(strstr(raw, "\"v\":\"\\u0001\\u001f\""));
}
END_TEST

START_TEST(test_utf8)
{
    /* Valid multi-byte text passes through unchanged. */
    const char *good = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    hp_log(HP_LOG_INFO, "t", good);
    json_t *obj = one_line();
    ck_assert_str_eq(str_of(obj, "msg"), good);
    json_decref(obj);

    /* Each invalid byte becomes U+FFFD: stray, truncated, overlong, surrogate, too big. */
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a\xffz", "a\xef\xbf\xbdz"},
        {"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\x80z", "\xef\xbf\xbdz"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hp_log(HP_LOG_INFO, "t", "utf8", HP_LOG_STR("v", cases[i].in));
        obj = one_line();
        ck_assert_str_eq(str_of(obj, "v"), cases[i].out);
        json_decref(obj);
    }
}
END_TEST

START_TEST(test_level_filter)
{
    char buf[1024];
    hp_log_set_level(HP_LOG_WARN);
    ck_assert(!hp_log_enabled(HP_LOG_INFO));
    ck_assert(hp_log_enabled(HP_LOG_WARN));
    hp_log(HP_LOG_DEBUG, "t", "no");
    hp_log(HP_LOG_INFO, "t", "no");
    hp_logf(HP_LOG_INFO, "t", "no %d", 1);
    ck_assert_uint_eq(drain(buf, sizeof buf), 0);
    hp_log(HP_LOG_WARN, "t", "yes");
    json_t *obj = one_line();
    ck_assert_str_eq(str_of(obj, "level"), "warn");
    json_decref(obj);
    hp_log(HP_LOG_ERROR, "t", "yes");
    obj = one_line();
    ck_assert_str_eq(str_of(obj, "level"), "error");
    json_decref(obj);
    hp_log_set_level(HP_LOG_DEBUG);
    hp_log(HP_LOG_DEBUG, "t", "yes");
    obj = one_line();
    ck_assert_str_eq(str_of(obj, "level"), "debug");
    json_decref(obj);
}
END_TEST

START_TEST(test_level_parse)
{
    hp_log_level level = HP_LOG_ERROR;
    ck_assert_int_eq(hp_log_level_parse("debug", &level), HP_OK);
    ck_assert_int_eq(level, HP_LOG_DEBUG);
    ck_assert_int_eq(hp_log_level_parse("INFO", &level), HP_OK);
    ck_assert_int_eq(level, HP_LOG_INFO);
    ck_assert_int_eq(hp_log_level_parse("warn", &level), HP_OK);
    ck_assert_int_eq(level, HP_LOG_WARN);
    ck_assert_int_eq(hp_log_level_parse("Warning", &level), HP_OK);
    ck_assert_int_eq(level, HP_LOG_WARN);
    ck_assert_int_eq(hp_log_level_parse("error", &level), HP_OK);
    ck_assert_int_eq(level, HP_LOG_ERROR);
    ck_assert_int_eq(hp_log_level_parse("verbose", &level), HP_ERR_INVALID);
    ck_assert_int_eq(hp_log_level_parse("", &level), HP_ERR_INVALID);
    ck_assert_int_eq(hp_log_level_parse(NULL, &level), HP_ERR_INVALID);
    ck_assert_int_eq(level, HP_LOG_ERROR);
    ck_assert_str_eq(hp_log_level_name(HP_LOG_WARN), "warn");
}
END_TEST

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static bool ends_with_ellipsis(const char *s)
{
    size_t n = strlen(s);
    return n >= 3 && strcmp(s + n - 3, "\xe2\x80\xa6") == 0;
}

START_TEST(test_long_value_truncated)
{
    char *big = repeat('x', 10000);
    hp_log(HP_LOG_INFO, "t", "big", HP_LOG_STR("v", big), HP_LOG_INT("after", 7));
    json_t *obj = one_line();
    const char *v = str_of(obj, "v");
    ck_assert_uint_le(strlen(v), HP_LOG_VALUE_MAX);
    ck_assert_uint_gt(strlen(v), HP_LOG_VALUE_MAX - 8);
    ck_assert(ends_with_ellipsis(v));
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "after")), 7);
    ck_assert_ptr_null(json_object_get(obj, "truncated"));
    json_decref(obj);

    /* Escapes count against the cap and are never cut in half. */
    char *quotes = repeat('"', 5000);
    hp_log(HP_LOG_INFO, "t", quotes);
    obj = one_line();
    v = str_of(obj, "msg");
    ck_assert(ends_with_ellipsis(v));
    ck_assert_uint_eq(strspn(v, "\""), strlen(v) - 3);
    json_decref(obj);

    /* A value that exactly fits is not cut. */
    char *exact = repeat('y', HP_LOG_VALUE_MAX);
    hp_log(HP_LOG_INFO, "t", exact);
    obj = one_line();
    ck_assert_str_eq(str_of(obj, "msg"), exact);
    json_decref(obj);
    free(exact);
    free(quotes);
    free(big);
}
END_TEST

START_TEST(test_line_capped)
{
    char *big = repeat('z', 3000);
    hp_log(HP_LOG_INFO, "t", big, HP_LOG_STR("a", big), HP_LOG_STR("b", big), HP_LOG_STR("c", big),
           HP_LOG_STR("d", big), HP_LOG_INT("small", 1));
    /* one_line() checks the length against HP_LOG_LINE_MAX. */
    json_t *obj = one_line();
    ck_assert(json_is_true(json_object_get(obj, "truncated")));
    ck_assert(ends_with_ellipsis(str_of(obj, "a")));
    ck_assert(ends_with_ellipsis(str_of(obj, "b")));
    /* c gets what the line has left; d and small no longer fit. */
    ck_assert(ends_with_ellipsis(str_of(obj, "c")));
    ck_assert_uint_lt(strlen(str_of(obj, "c")), strlen(str_of(obj, "b")));
    ck_assert_ptr_null(json_object_get(obj, "d"));
    ck_assert_ptr_null(json_object_get(obj, "small"));
    json_decref(obj);
    free(big);
}
END_TEST

START_TEST(test_logf_and_errno)
{
    errno = ERANGE;
    hp_logf(HP_LOG_INFO, "t", "listening on %s:%d", "127.0.0.1", 9090);
    ck_assert_int_eq(errno, ERANGE);
    json_t *obj = one_line();
    ck_assert_str_eq(str_of(obj, "msg"), "listening on 127.0.0.1:9090");
    json_decref(obj);
}
END_TEST

/* ---- threads: long lines (above PIPE_BUF) from several threads never mix ---- */

#define NTHREADS 4
#define NLINES 200

static void *writer(void *arg)
{
    const char *value = arg;
    for (int i = 0; i < NLINES; i++)
        hp_log(HP_LOG_INFO, "t", "line", HP_LOG_INT("i", i), HP_LOG_STR("a", value),
               HP_LOG_STR("b", value), HP_LOG_STR("c", value));
    return NULL;
}

START_TEST(test_threads_whole_lines)
{
    /* A blocking pipe drained here, while the writers fill it. */
    ck_assert_int_eq(fcntl(pipefd[0], F_SETFL, 0), 0);
    char *value = repeat('w', 1800);
    pthread_t threads[NTHREADS];
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(pthread_create(&threads[t], NULL, writer, value), 0);

    static char buf[HP_LOG_LINE_MAX * 2];
    size_t len = 0;
    int lines = 0;
    while (lines < NTHREADS * NLINES) {
        ssize_t n = read(pipefd[0], buf + len, sizeof buf - len);
        ck_assert_int_gt(n, 0);
        len += (size_t)n;
        char *nl;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            size_t line_len = (size_t)(nl - buf) + 1;
            ck_assert_uint_gt(line_len, 5000);
            json_error_t jerr;
            json_t *obj = json_loadb(buf, line_len, 0, &jerr);
            ck_assert_msg(obj != NULL, "line %d is not JSON: %s", lines, jerr.text);
            ck_assert_uint_eq(strlen(str_of(obj, "c")), 1800);
            json_decref(obj);
            memmove(buf, nl + 1, len - line_len);
            len -= line_len;
            lines++;
        }
    }
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
    free(value);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("lines");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_key_order_and_no_fields);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_utf8);
    tcase_add_test(tc, test_level_filter);
    tcase_add_test(tc, test_level_parse);
    tcase_add_test(tc, test_long_value_truncated);
    tcase_add_test(tc, test_line_capped);
    tcase_add_test(tc, test_logf_and_errno);
    tcase_add_test(tc, test_threads_whole_lines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
