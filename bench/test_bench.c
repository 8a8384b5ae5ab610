/*
 * Unit tests for the benchmark tools' modules: bn_hist (percentiles and
 * their error bound), bn_http (response heads) and bn_corpus (splitting
 * request files). The load loop itself is exercised by bench/gateway
 * against the real gateway.
 */
#include "bn_corpus.h"
#include "bn_hist.h"
#include "bn_http.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(test_hist_exact_below_128)
{
    bn_hist *h = malloc(sizeof *h);
    bn_hist_init(h);
    for (int v = 1; v <= 100; v++)
        bn_hist_record(h, v);
    ck_assert_int_eq(bn_hist_percentile(h, 50), 50);
    ck_assert_int_eq(bn_hist_percentile(h, 99), 99);
    ck_assert_int_eq(bn_hist_percentile(h, 100), 100);
    ck_assert_int_eq(h->max_ns, 100);
    free(h);
}
END_TEST

START_TEST(test_hist_error_bound)
{
    bn_hist *h = malloc(sizeof *h);
    bn_hist_init(h);
    /* 1 ms .. 100 ms in 1 µs steps: the percentile may be high by < 0.8 %. */
    for (int64_t v = 1000000; v <= 100000000; v += 1000)
        bn_hist_record(h, v);
    double p50 = (double)bn_hist_percentile(h, 50), exact = 50.5e6;
    ck_assert(p50 >= exact * 0.999 && p50 <= exact * 1.008);
    ck_assert_int_eq(bn_hist_percentile(h, 100), 100000000);
    free(h);
}
END_TEST

START_TEST(test_hist_merge_and_empty)
{
    bn_hist *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    bn_hist_init(a);
    bn_hist_init(b);
    ck_assert_int_eq(bn_hist_percentile(a, 99), 0);
    bn_hist_record(a, 10);
    bn_hist_record(b, 5000);
    bn_hist_merge(a, b);
    ck_assert_uint_eq(a->n, 2);
    ck_assert_int_eq(a->max_ns, 5000);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_http_head)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: 42\r\n\r\n{\"status\"";
    bn_resp resp;
    size_t head_len = 0;
    ck_assert_int_eq(bn_http_parse_head(ok, sizeof ok - 1, &resp, &head_len), BN_HTTP_HEAD);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_uint_eq(resp.body_len, 42);
    ck_assert(!resp.close);
    ck_assert_uint_eq(head_len, strstr(ok, "\r\n\r\n") + 4 - ok);
    ck_assert_int_eq(bn_http_parse_head(ok, 20, &resp, &head_len), BN_HTTP_PARTIAL);
}
END_TEST

START_TEST(test_http_close_and_errors)
{
    static const char closing[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                                  "Content-Length: 0\r\n\r\n";
    static const char old[] = "HTTP/1.0 204 No Content\r\n\r\n";
    static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    static const char junk[] = "SSH-2.0-OpenSSH\r\n\r\n";
    bn_resp resp;
    size_t n;
    ck_assert_int_eq(bn_http_parse_head(closing, sizeof closing - 1, &resp, &n), BN_HTTP_HEAD);
    ck_assert_int_eq(resp.status, 503);
    ck_assert(resp.close);
    ck_assert_int_eq(bn_http_parse_head(old, sizeof old - 1, &resp, &n), BN_HTTP_HEAD);
    ck_assert(resp.close && !resp.until_close && resp.body_len == 0);
    ck_assert_int_eq(bn_http_parse_head(chunked, sizeof chunked - 1, &resp, &n), BN_HTTP_BAD);
    ck_assert_int_eq(bn_http_parse_head(junk, sizeof junk - 1, &resp, &n), BN_HTTP_BAD);
}
END_TEST

/* Writes text to a new temporary file; returns its path (static storage). */
static const char *temp_file(const char *text)
{
    static char path[] = "/tmp/test_bench.XXXXXX";
    memcpy(path + sizeof path - 7, "XXXXXX", 6); /* mkstemp replaced them last time */
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

START_TEST(test_corpus_split)
{
    const char *path = temp_file("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                                 "POST /b HTTP/1.1\r\ncontent-length: 0\r\n\r\n");
    bn_corpus c;
    char err[256];
    ck_assert_int_eq(bn_corpus_load(&c, path, err, sizeof err), HP_OK);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_uint_eq(c.reqs[0].body_len, 3);
    ck_assert_int_eq(memcmp(c.reqs[0].body, "abc", 3), 0);
    ck_assert_uint_eq(c.reqs[1].body_len, 0);

    size_t pos = 0;
    bn_header h;
    ck_assert(bn_request_next_header(&c.reqs[0], &pos, &h));
    ck_assert(bn_header_is(&h, "HOST"));
    ck_assert_int_eq(memcmp(h.value, "x", h.value_len), 0);
    bn_corpus_deinit(&c);
    unlink(path);
}
END_TEST

START_TEST(test_corpus_rejects_truncated)
{
    const char *path = temp_file("POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    bn_corpus c;
    char err[256];
    ck_assert_int_eq(bn_corpus_load(&c, path, err, sizeof err), HP_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "shorter than its Content-Length"));
    ck_assert_uint_eq(c.n, 0);
    unlink(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bench");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hist_exact_below_128);
    tcase_add_test(tc, test_hist_error_bound);
    tcase_add_test(tc, test_hist_merge_and_empty);
    tcase_add_test(tc, test_http_head);
    tcase_add_test(tc, test_http_close_and_errors);
    tcase_add_test(tc, test_corpus_split);
    tcase_add_test(tc, test_corpus_rejects_truncated);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
