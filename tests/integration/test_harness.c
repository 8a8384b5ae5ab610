/*
 * The integration harness itself: it_http against a tiny canned HTTP server
 * of this file (every response framing, interim responses, chunked and
 * head-only requests, timeouts, IPv6), it_proc against sh and sleep, and
 * it_kafka against the stack's Kafka. The gateway's and the worker's tests
 * trust these helpers; this proves they measure what they claim.
 */
#include "hp_envelope.h"
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h" /* it_metric */
#include "it_http.h"
#include "it_kafka.h"
#include "it_proc.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- a canned server: one connection at a time, answers by path ---- */

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
    char last_body[4096]; /* the body of the last request, de-chunked */
    size_t last_len;
} server;

/* Reads one request from c; returns its path (in path) or -1 at EOF. */
static int read_request(server *srv, FILE *in, char *path, size_t pathsz)
{
    char line[8192], method[16];
    long long cl = 0;
    int chunked = 0;
    if (!fgets(line, sizeof line, in) || sscanf(line, "%15s %255s", method, path) != 2)
        return -1;
    (void)pathsz;
    while (fgets(line, sizeof line, in) && strcmp(line, "\r\n") != 0) {
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            cl = strtoll(line + 15, NULL, 10);
        if (strncasecmp(line, "Transfer-Encoding: chunked", 26) == 0)
            chunked = 1;
    }
    srv->last_len = 0;
    if (strcmp(path, "/head-only") == 0)
        return 0; /* the client sent no body: don't wait for it */
    for (int guard = 0; chunked && guard < 10000; guard++) {
        long long n = fgets(line, sizeof line, in) ? strtoll(line, NULL, 16) : 0;
        if (n <= 0)
            break;
        if (srv->last_len + (size_t)n > sizeof srv->last_body ||
            fread(srv->last_body + srv->last_len, 1, (size_t)n, in) != (size_t)n)
            return -1;
        srv->last_len += (size_t)n;
        if (!fgets(line, sizeof line, in))
            return -1;
    }
    if (chunked && !fgets(line, sizeof line, in)) /* the empty line after "0" */
        return -1;
    if (!chunked && cl > 0) {
        if ((size_t)cl > sizeof srv->last_body ||
            fread(srv->last_body, 1, (size_t)cl, in) != (size_t)cl)
            return -1;
        srv->last_len = (size_t)cl;
    }
    return 0;
}

/* Answers one request; returns 0 to keep the connection, -1 to close it. */
static int answer(server *srv, FILE *out, const char *path)
{
    if (strcmp(path, "/cl") == 0)
        fputs("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing:  a b \r\n\r\nhello", out);
    else if (strcmp(path, "/chunked") == 0)
        fputs("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nhel\r\n2;ext=1\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n",
              out);
    else if (strcmp(path, "/continue") == 0)
        fputs("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
              out);
    else if (strcmp(path, "/head-only") == 0)
        fputs("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
              "no",
              out);
    else if (strcmp(path, "/echo") == 0) {
        fprintf(out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", srv->last_len);
        fwrite(srv->last_body, 1, srv->last_len, out);
    } else if (strcmp(path, "/slow") == 0) {
        sleep(2);
        return -1;
    } else {
        fputs("HTTP/1.1 404 Not Found\r\n\r\nto the close", out);
        fflush(out);
        return -1;
    }
    fflush(out);
    return strcmp(path, "/head-only") == 0 ? -1 : 0;
}

static void *serve(void *arg)
{
    server *srv = arg;
    for (;;) {
        int c = accept(srv->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        FILE *in = fdopen(c, "r");
        FILE *out = fdopen(dup(c), "w");
        char path[256];
        while (read_request(srv, in, path, sizeof path) == 0 && answer(srv, out, path) == 0)
            ;
        fclose(in);
        fclose(out);
    }
}

static void server_start(server *srv, int family)
{
    memset(srv, 0, sizeof *srv);
    srv->fd = socket(family, SOCK_STREAM, 0);
    ck_assert_int_ge(srv->fd, 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
        sa->sin6_family = AF_INET6;
        sa->sin6_addr = in6addr_loopback;
        len = sizeof *sa;
    } else {
        struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
        sa->sin_family = AF_INET;
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *sa;
    }
    ck_assert_int_eq(bind(srv->fd, (struct sockaddr *)&ss, len), 0);
    ck_assert_int_eq(listen(srv->fd, 8), 0);
    ck_assert_int_eq(getsockname(srv->fd, (struct sockaddr *)&ss, &len), 0);
    srv->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                         : ((struct sockaddr_in *)&ss)->sin_port);
    ck_assert_int_eq(pthread_create(&srv->thread, NULL, serve, srv), 0);
}

/* ---- it_http ---- */

START_TEST(test_http_framings_and_keepalive)
{
    server srv;
    server_start(&srv, AF_INET);
    it_http_conn conn;
    ck_assert_msg(it_http_connect(&conn, "127.0.0.1", srv.port, 3000) == 0, "%s", conn.err);
    it_http_response resp;
    it_http_request req = {.method = "GET", .path = "/cl"};
    ck_assert_msg(it_http_roundtrip(&conn, &req, &resp) == 0, "%s", conn.err);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "hello");
    ck_assert_str_eq(it_http_response_header(&resp, "x-THING"), "a b");
    ck_assert(!resp.will_close);
    it_http_response_deinit(&resp);

    /* The same connection again: chunked, then an interim 100. */
    req.path = "/chunked";
    ck_assert_msg(it_http_roundtrip(&conn, &req, &resp) == 0, "%s", conn.err);
    ck_assert_str_eq(resp.body, "hello");
    it_http_response_deinit(&resp);
    req.path = "/continue";
    ck_assert_msg(it_http_roundtrip(&conn, &req, &resp) == 0, "%s", conn.err);
    ck_assert_int_eq(resp.status, 201);
    ck_assert_uint_eq(resp.body_len, 0);
    it_http_response_deinit(&resp);

    /* A body to the close closes the connection. */
    req.path = "/nope";
    ck_assert_msg(it_http_roundtrip(&conn, &req, &resp) == 0, "%s", conn.err);
    ck_assert_int_eq(resp.status, 404);
    ck_assert_str_eq(resp.body, "to the close");
    ck_assert(resp.will_close);
    ck_assert_int_eq(conn.fd, -1);
    it_http_response_deinit(&resp);
}
END_TEST

START_TEST(test_http_bodies_timeouts_ipv6)
{
    server srv;
    server_start(&srv, AF_INET);
    const char body[] = "{\"x\":\"h\xc3\xa9llo\"}\n0123456789";
    it_http_header hs[] = {{"X-A", "1"}};
    it_http_request req = {.method = "POST",
                           .path = "/echo",
                           .headers = hs,
                           .nheaders = 1,
                           .body = body,
                           .body_len = sizeof body - 1,
                           .chunk_size = 4};
    it_http_response resp;
    char err[256];
    ck_assert_msg(it_http_once("127.0.0.1", srv.port, 3000, &req, &resp, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_uint_eq(resp.body_len, sizeof body - 1);
    ck_assert(memcmp(resp.body, body, resp.body_len) == 0);
    it_http_response_deinit(&resp);

    /* The head alone, with a Content-Length that promises a body. */
    req = (it_http_request){
        .method = "POST", .path = "/head-only", .body_len = 100000, .head_only = true};
    ck_assert_msg(it_http_once("127.0.0.1", srv.port, 3000, &req, &resp, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(resp.status, 413);
    it_http_response_deinit(&resp);

    /* No answer within the timeout is an error, not a hang. */
    req = (it_http_request){.method = "GET", .path = "/slow"};
    int64_t t0 = hp_time_mono_ns();
    ck_assert_int_eq(it_http_once("127.0.0.1", srv.port, 300, &req, &resp, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "timed out") != NULL, "%s", err);
    ck_assert_int_lt(hp_time_mono_ns() - t0, 1500000000LL);

    server srv6;
    server_start(&srv6, AF_INET6);
    req = (it_http_request){.method = "GET", .path = "/cl"};
    ck_assert_msg(it_http_once("::1", srv6.port, 3000, &req, &resp, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_str_eq(resp.body, "hello");
    it_http_response_deinit(&resp);

    /* A refused connection. */
    int port = it_free_port();
    ck_assert_int_eq(it_http_once("127.0.0.1", port, 1000, &req, &resp, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "refused") != NULL, "%s", err);
}
END_TEST

/* ---- it_proc ---- */

START_TEST(test_proc_spawn_stop_run)
{
    char dir[256], log[300], err[256];
    ck_assert_int_eq(it_tempdir(dir, sizeof dir, "hookpipe-it-harness"), 0);
    snprintf(log, sizeof log, "%s/log", dir);
    it_proc p;
    const char *sh[] = {"/bin/sh", "-c", "echo started $IT_X; trap 'exit 3' TERM; sleep 30 & wait",
                        NULL};
    const char *set[] = {"IT_X=yes", NULL};
    ck_assert_msg(it_proc_spawn(&p, sh, NULL, set, log, err, sizeof err) == 0, "%s", err);
    it_sleep_ms(300);
    ck_assert(it_proc_alive(&p));
    ck_assert_int_eq(it_proc_stop(&p, SIGTERM, 5000), 3);
    char *text = it_read_file(log, 1000, true, NULL);
    ck_assert_str_eq(text, "started yes\n");
    free(text);

    const char *sleeper[] = {"/bin/sleep", "30", NULL};
    ck_assert_int_eq(it_proc_spawn(&p, sleeper, NULL, NULL, log, err, sizeof err), 0);
    ck_assert_int_eq(it_proc_stop(&p, SIGTERM, 5000), 128 + SIGTERM);
    it_tempdir_remove(dir);

    it_run_result res;
    const char *echo[] = {"sh", "-c", "echo out; echo err >&2; exit 4", NULL};
    ck_assert_int_eq(it_run(echo, 5000, &res), 0);
    ck_assert_int_eq(res.exit_code, 4);
    ck_assert_str_eq(res.out, "out\n");
    ck_assert_str_eq(res.err, "err\n");
    it_run_result_deinit(&res);
    const char *slow[] = {"sleep", "10", NULL};
    int64_t t0 = hp_time_mono_ns();
    ck_assert_int_eq(it_run(slow, 300, &res), 0);
    ck_assert_int_eq(res.exit_code, -1);
    ck_assert_int_lt(hp_time_mono_ns() - t0, 2000000000LL);
    it_run_result_deinit(&res);
}
END_TEST

START_TEST(test_metric_parser)
{
    const char *text = "# HELP x_total X.\n# TYPE x_total counter\n"
                       "x_total{source=\"a\",code=\"200\"} 3\n"
                       "x_total{code=\"200\",source=\"b\"} 4\n"
                       "x_total{source=\"a\",code=\"401\"} 1\n"
                       "x_total_other{source=\"a\"} 9\nplain 2.5\n";
    double v;
    ck_assert(it_metric(text, "x_total", "source=\"a\",code=\"200\"", &v));
    ck_assert(v == 3);
    ck_assert(it_metric(text, "x_total", "code=\"200\"", &v));
    ck_assert(v == 7);
    ck_assert(it_metric(text, "x_total", "", &v));
    ck_assert(v == 8);
    ck_assert(it_metric(text, "plain", "", &v));
    ck_assert(v == 2.5);
    ck_assert(!it_metric(text, "x_total", "source=\"c\"", &v));
    ck_assert(!it_metric(text, "x_total", "source=\"a", &v));
}
END_TEST

/* ---- it_kafka ---- */

static int delivered;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    delivered = msg->err ? -1 : 1;
}

START_TEST(test_kafka_find_and_count)
{
    char id[64], other[64], err[512];
    it_unique(id, sizeof id, "harness");
    it_unique(other, sizeof other, "harness-absent");
    it_kafka_snapshot snap;
    ck_assert_msg(it_kafka_snapshot_take(&snap, "webhooks.raw", err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(snap.npartitions, 12);

    rd_kafka_t *rk = it_producer_new(on_delivery);
    ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("webhooks.raw"),
                                       RD_KAFKA_V_KEY("k1", 2), RD_KAFKA_V_VALUE("v\n\xc3\xa9", 4),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_HEADER(HP_HDR_EVENT_ID, id, (ssize_t)strlen(id)),
                                       RD_KAFKA_V_HEADER("x-empty", "", 0), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(rd_kafka_flush(rk, 15000), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(delivered, 1);
    rd_kafka_destroy(rk);

    it_kafka_record rec;
    ck_assert_int_eq(it_kafka_find(&snap, id, 15000, &rec, err, sizeof err), 1);
    ck_assert_uint_eq(rec.key_len, 2);
    ck_assert_str_eq(rec.key, "k1");
    ck_assert_uint_eq(rec.value_len, 4);
    ck_assert(memcmp(rec.value, "v\n\xc3\xa9", 4) == 0);
    ck_assert_str_eq(it_kafka_record_header(&rec, HP_HDR_EVENT_ID)->value, id);
    ck_assert_uint_eq(it_kafka_record_header(&rec, "x-empty")->value_len, 0);
    ck_assert_ptr_null(it_kafka_record_header(&rec, "x-none"));
    it_kafka_record_deinit(&rec);

    ck_assert_int_eq(it_kafka_count(&snap, id, 15000, err, sizeof err), 1);
    ck_assert_int_eq(it_kafka_count(&snap, other, 15000, err, sizeof err), 0);
    int64_t t0 = hp_time_mono_ns();
    ck_assert_int_eq(it_kafka_find(&snap, other, 1000, &rec, err, sizeof err), 0);
    ck_assert_int_lt(hp_time_mono_ns() - t0, 5000000000LL);
    it_kafka_snapshot_deinit(&snap);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("harness");
    TCase *tc = tcase_create("harness");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_http_framings_and_keepalive);
    tcase_add_test(tc, test_http_bodies_timeouts_ipv6);
    tcase_add_test(tc, test_proc_spawn_stop_run);
    tcase_add_test(tc, test_metric_parser);
    tcase_add_test(tc, test_kafka_find_and_count);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
