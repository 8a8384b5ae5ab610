/*
 * Unit tests for the HTTP client hookpipectl send uses (common/hp_httpc):
 * URL splitting, and one request against a scripted server on loopback
 * (a thread that reads the request and writes a canned answer): framing by
 * Content-Length, chunked and the close, interim 100 responses skipped,
 * the body cap, a refused connection and a server that never answers.
 */
#include "hp_httpc.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct server {
    int fd;
    int port;
    const char *answer; /* NULL: read the request, then say nothing */
    char request[8192];
    pthread_t thread;
} server;

static void *serve(void *arg)
{
    server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    size_t n = 0;
    while (n + 1 < sizeof s->request) {
        ssize_t r = read(c, s->request + n, sizeof s->request - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        s->request[n] = '\0';
        char *head_end = strstr(s->request, "\r\n\r\n");
        const char *cl = strstr(s->request, "Content-Length: ");
        if (head_end && cl && n >= (size_t)(head_end + 4 - s->request) + strtoul(cl + 16, NULL, 10))
            break;
    }
    if (s->answer) {
        ssize_t w = write(c, s->answer, strlen(s->answer));
        (void)w;
        close(c);
    } else {
        sleep(2); /* longer than the client's timeout */
        close(c);
    }
    return NULL;
}

static void server_start(server *s, const char *answer)
{
    memset(s, 0, sizeof *s);
    s->answer = answer;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s->fd, 4), 0);
    socklen_t len = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(server *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
}

static hp_err post(server *s, hp_httpc_response *resp, int timeout_ms, size_t max_body, char *err,
                   size_t errsz)
{
    const hp_httpc_header h[] = {{"Content-Type", "application/json"}, {"X-Sig", "abc"}};
    return hp_httpc_request("127.0.0.1", s->port, "POST", "/webhooks/orders", h, 2, "{\"a\":1}", 7,
                            timeout_ms, max_body, resp, err, errsz);
}

START_TEST(test_urls)
{
    hp_httpc_url u;
    char err[256];
    ck_assert_int_eq(hp_httpc_parse_url("http://127.0.0.1:8080", &u, err, sizeof err), HP_OK);
    ck_assert_str_eq(u.host, "127.0.0.1");
    ck_assert_int_eq(u.port, 8080);
    ck_assert_str_eq(u.path, "/");
    ck_assert_int_eq(hp_httpc_parse_url("http://gw.example/webhooks/a?x=1", &u, err, sizeof err),
                     HP_OK);
    ck_assert_str_eq(u.host, "gw.example");
    ck_assert_int_eq(u.port, 80);
    ck_assert_str_eq(u.path, "/webhooks/a?x=1");
    ck_assert_int_eq(hp_httpc_parse_url("http://[::1]:9/x", &u, err, sizeof err), HP_OK);
    ck_assert_str_eq(u.host, "::1");
    ck_assert_int_eq(u.port, 9);
    ck_assert_int_eq(hp_httpc_parse_url("https://x", &u, err, sizeof err), HP_ERR_INVALID);
    ck_assert_msg(strstr(err, "https is not supported") != NULL, "%s", err);
    const char *bad[] = {"ftp://x",        "http://",      "http://:80",  "http://x:0",
                         "http://x:99999", "http://x:8a/", "http://[::1", "127.0.0.1:8080"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(hp_httpc_parse_url(bad[i], &u, err, sizeof err) == HP_ERR_INVALID,
                      "%s accepted", bad[i]);
}
END_TEST

START_TEST(test_content_length)
{
    server s;
    hp_httpc_response r;
    char err[256];
    server_start(&s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\n"
                     "\r\n{\"status\":\"accepted\"}");
    ck_assert_int_eq(post(&s, &r, 5000, 1024, err, sizeof err), HP_OK);
    server_stop(&s);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"status\":\"accepted\"}");
    ck_assert_str_eq(hp_httpc_response_header(&r, "content-type"), "application/json");
    ck_assert_msg(strstr(s.request, "POST /webhooks/orders HTTP/1.1\r\n") == s.request, "%s",
                  s.request);
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nX-Sig: abc\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nContent-Length: 7\r\n"));
    ck_assert_ptr_nonnull(strstr(s.request, "\r\n\r\n{\"a\":1}"));
    hp_httpc_response_deinit(&r);
}
END_TEST

START_TEST(test_chunked_interim_and_close)
{
    server s;
    hp_httpc_response r;
    char err[256];
    server_start(&s, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    ck_assert_int_eq(post(&s, &r, 5000, 1024, err, sizeof err), HP_OK);
    server_stop(&s);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(r.body, "hello world");
    hp_httpc_response_deinit(&r);

    server_start(&s, "HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\n\r\nbusy");
    ck_assert_int_eq(post(&s, &r, 5000, 1024, err, sizeof err), HP_OK);
    server_stop(&s);
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(r.body, "busy");
    hp_httpc_response_deinit(&r);
}
END_TEST

START_TEST(test_failures)
{
    server s;
    hp_httpc_response r;
    char err[256];
    server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ntoo big");
    ck_assert_int_eq(post(&s, &r, 5000, 10, err, sizeof err), HP_ERR_INVALID);
    server_stop(&s);
    ck_assert_msg(strstr(err, "Content-Length") != NULL, "%s", err);

    server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    ck_assert_int_eq(post(&s, &r, 5000, 1024, err, sizeof err), HP_ERR_IO);
    server_stop(&s);
    ck_assert_msg(strstr(err, "closed before the response was complete") != NULL, "%s", err);

    server_start(&s, "nonsense\r\n\r\n");
    ck_assert_int_eq(post(&s, &r, 5000, 1024, err, sizeof err), HP_ERR_INVALID);
    server_stop(&s);

    server_start(&s, NULL);
    ck_assert_int_eq(post(&s, &r, 300, 1024, err, sizeof err), HP_ERR_IO);
    ck_assert_msg(strstr(err, "timed out after 300 ms") != NULL, "%s", err);
    server_stop(&s);

    /* Nothing listens on port 1. */
    const hp_httpc_header none[] = {{"X", "y"}};
    ck_assert_int_eq(hp_httpc_request("127.0.0.1", 1, "POST", "/", none, 0, NULL, 0, 1000, 10, &r,
                                      err, sizeof err),
                     HP_ERR_IO);
    ck_assert_msg(strstr(err, "127.0.0.1:1: connect") != NULL, "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_http");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_urls);
    tcase_add_test(tc, test_content_length);
    tcase_add_test(tc, test_chunked_interim_and_close);
    tcase_add_test(tc, test_failures);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
