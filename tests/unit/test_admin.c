/*
 * Unit tests for hp_admin: a real server on 127.0.0.1:0, driven by a tiny
 * blocking HTTP/1.1 client over a socket (no curl), plus the errors of a
 * malformed, foreign or busy address.
 */
#include "hp_admin.h"

#include "hp_metrics.h"

#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct reply {
    int status;
    char head[4096]; /* status line and headers */
    char body[65536];
    size_t body_len;
};

/* Connects to the server at family/port, sends request, reads the answer until EOF. */
static void http(int family, int port, const char *request, struct reply *rep)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_addr = in6addr_loopback;
        sslen = sizeof *sin6;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sslen = sizeof *sin;
    }
    int fd = socket(family, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&ss, sslen), 0);
    size_t reqlen = strlen(request);
    ck_assert_int_eq(write(fd, request, reqlen), (ssize_t)reqlen);

    static char raw[sizeof rep->head + sizeof rep->body];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof raw - 1 && (n = read(fd, raw + len, sizeof raw - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    raw[len] = '\0';

    char *end = strstr(raw, "\r\n\r\n");
    ck_assert_msg(end != NULL, "no header end in: %s", raw);
    size_t head_len = (size_t)(end - raw);
    ck_assert_uint_lt(head_len, sizeof rep->head);
    memcpy(rep->head, raw, head_len);
    rep->head[head_len] = '\0';
    rep->body_len = len - head_len - 4;
    memcpy(rep->body, end + 4, rep->body_len);
    rep->body[rep->body_len] = '\0';
    ck_assert_int_eq(sscanf(rep->head, "HTTP/1.1 %d ", &rep->status), 1);
}

static void get(int port, const char *method, const char *path, struct reply *rep)
{
    char req[256];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
                     method, path);
    ck_assert(n > 0 && (size_t)n < sizeof req);
    http(AF_INET, port, req, rep);
}

/* The value of header name (copied into out), or NULL. */
static const char *header(const struct reply *rep, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name);
    for (const char *line = strstr(rep->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *p = line + 2;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            p += nlen + 1;
            p += strspn(p, " ");
            size_t vlen = strcspn(p, "\r");
            ck_assert_uint_lt(vlen, outsz);
            memcpy(out, p, vlen);
            out[vlen] = '\0';
            return out;
        }
    }
    return NULL;
}

static json_t *body_json(const struct reply *rep)
{
    json_error_t jerr;
    json_t *obj = json_loadb(rep->body, rep->body_len, 0, &jerr);
    ck_assert_msg(obj != NULL, "body is not JSON: %s", rep->body);
    return obj;
}

/* ---- readiness callback ---- */

struct readiness {
    atomic_bool ready;
    const char *reason;
};

static bool is_ready(void *opaque, char *reason, size_t reason_size)
{
    struct readiness *r = opaque;
    if (atomic_load(&r->ready))
        return true;
    int n = snprintf(reason, reason_size, "%s", r->reason);
    ck_assert(n >= 0);
    return false;
}

/* ---- fixture: one server with a registry ---- */

static hp_admin *adm;
static hp_metrics *reg;
static hp_counter *ctr;
static struct readiness readiness;

static void setup(void)
{
    static const char *const names[] = {"source"};
    static const char *const values[] = {"orders"};
    char errstr[256] = "";
    reg = hp_metrics_new();
    ctr = hp_counter_get(hp_metrics_counter(reg, "hp_test_total", "Test.", 1, names), values);
    atomic_init(&readiness.ready, true);
    readiness.reason = "kafka: no broker reachable";
    ck_assert_int_eq(
        hp_admin_start(&adm, "127.0.0.1:0", reg, is_ready, &readiness, errstr, sizeof errstr),
        HP_OK);
    ck_assert_int_gt(hp_admin_port(adm), 0);
}

static void teardown(void)
{
    hp_admin_stop(adm);
    hp_metrics_free(reg);
}

START_TEST(test_healthz)
{
    struct reply rep;
    char val[128];
    get(hp_admin_port(adm), "GET", "/healthz", &rep);
    ck_assert_int_eq(rep.status, 200);
    ck_assert_str_eq(rep.body, "{\"status\":\"ok\"}");
    ck_assert_str_eq(header(&rep, "Content-Type", val, sizeof val), "application/json");
}
END_TEST

START_TEST(test_readyz)
{
    struct reply rep;
    get(hp_admin_port(adm), "GET", "/readyz", &rep);
    ck_assert_int_eq(rep.status, 200);
    ck_assert_str_eq(rep.body, "{\"status\":\"ready\"}");

    atomic_store(&readiness.ready, false);
    get(hp_admin_port(adm), "GET", "/readyz", &rep);
    ck_assert_int_eq(rep.status, 503);
    ck_assert_str_eq(rep.body,
                     "{\"status\":\"not ready\",\"reason\":\"kafka: no broker reachable\"}");

    /* A reason is escaped, whatever it holds. */
    readiness.reason = "draining \"now\"\n\xff";
    get(hp_admin_port(adm), "GET", "/readyz", &rep);
    ck_assert_int_eq(rep.status, 503);
    json_t *obj = body_json(&rep);
    ck_assert_str_eq(json_string_value(json_object_get(obj, "status")), "not ready");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(obj, "reason")));
    json_decref(obj);
}
END_TEST

START_TEST(test_metrics)
{
    struct reply rep;
    char val[128];
    hp_counter_add(ctr, 5);
    get(hp_admin_port(adm), "GET", "/metrics", &rep);
    ck_assert_int_eq(rep.status, 200);
    ck_assert_str_eq(header(&rep, "Content-Type", val, sizeof val),
                     "text/plain; version=0.0.4; charset=utf-8");
    ck_assert_str_eq(rep.body, "# HELP hp_test_total Test.\n"
                               "# TYPE hp_test_total counter\n"
                               "hp_test_total{source=\"orders\"} 5\n");

    /* A query string does not change the route. */
    get(hp_admin_port(adm), "GET", "/metrics?name[]=x", &rep);
    ck_assert_int_eq(rep.status, 200);
}
END_TEST

START_TEST(test_head)
{
    struct reply rep;
    char val[128];
    get(hp_admin_port(adm), "HEAD", "/metrics", &rep);
    ck_assert_int_eq(rep.status, 200);
    ck_assert_uint_eq(rep.body_len, 0);
    ck_assert_str_eq(header(&rep, "Content-Type", val, sizeof val),
                     "text/plain; version=0.0.4; charset=utf-8");
    get(hp_admin_port(adm), "HEAD", "/healthz", &rep);
    ck_assert_int_eq(rep.status, 200);
    ck_assert_uint_eq(rep.body_len, 0);
}
END_TEST

START_TEST(test_not_found)
{
    struct reply rep;
    char val[128];
    const char *paths[] = {"/", "/healthz/", "/metricsx", "/webhooks/orders"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        get(hp_admin_port(adm), "GET", paths[i], &rep);
        ck_assert_int_eq(rep.status, 404);
        ck_assert_str_eq(header(&rep, "Content-Type", val, sizeof val), "application/json");
        json_t *obj = body_json(&rep);
        ck_assert_str_eq(json_string_value(json_object_get(obj, "error")), "not_found");
        ck_assert_ptr_nonnull(json_string_value(json_object_get(obj, "message")));
        ck_assert_uint_eq(strlen(json_string_value(json_object_get(obj, "timestamp"))), 24);
        json_decref(obj);
    }
}
END_TEST

START_TEST(test_method_not_allowed)
{
    struct reply rep;
    char val[128];
    get(hp_admin_port(adm), "DELETE", "/metrics", &rep);
    ck_assert_int_eq(rep.status, 405);
    ck_assert_str_eq(header(&rep, "Allow", val, sizeof val), "GET, HEAD");
    json_t *obj = body_json(&rep);
    ck_assert_str_eq(json_string_value(json_object_get(obj, "error")), "method_not_allowed");
    json_decref(obj);

    /* With a body, too: MHD discards it. */
    http(AF_INET, hp_admin_port(adm),
         "POST /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
         "Content-Length: 5\r\n\r\nhello",
         &rep);
    ck_assert_int_eq(rep.status, 405);
    ck_assert_str_eq(header(&rep, "Allow", val, sizeof val), "GET, HEAD");
}
END_TEST

/* ---- start errors and other addresses (no fixture) ---- */

START_TEST(test_port_in_use)
{
    hp_admin *first = NULL, *second = NULL;
    char errstr[256], listen_addr[64], want[128];
    ck_assert_int_eq(hp_admin_start(&first, "127.0.0.1:0", NULL, NULL, NULL, errstr, sizeof errstr),
                     HP_OK);
    int n = snprintf(listen_addr, sizeof listen_addr, "127.0.0.1:%d", hp_admin_port(first));
    ck_assert(n > 0 && (size_t)n < sizeof listen_addr);
    ck_assert_int_eq(hp_admin_start(&second, listen_addr, NULL, NULL, NULL, errstr, sizeof errstr),
                     HP_ERR_IO);
    ck_assert_ptr_null(second);
    n = snprintf(want, sizeof want, "admin_listen %s: Address already in use", listen_addr);
    ck_assert(n > 0 && (size_t)n < sizeof want);
    ck_assert_str_eq(errstr, want);

    /* Stopping releases the port: it can be bound again at once. */
    int port = hp_admin_port(first);
    hp_admin_stop(first);
    ck_assert_int_eq(hp_admin_start(&second, listen_addr, NULL, NULL, NULL, errstr, sizeof errstr),
                     HP_OK);
    ck_assert_int_eq(hp_admin_port(second), port);
    hp_admin_stop(second);
}
END_TEST

START_TEST(test_foreign_address)
{
    hp_admin *a = NULL;
    char errstr[256];
    /* TEST-NET-1: never an address of this host. */
    ck_assert_int_eq(hp_admin_start(&a, "192.0.2.1:9090", NULL, NULL, NULL, errstr, sizeof errstr),
                     HP_ERR_IO);
    ck_assert_ptr_null(a);
    ck_assert_str_eq(errstr, "admin_listen 192.0.2.1:9090: Cannot assign requested address");
}
END_TEST

START_TEST(test_malformed_address)
{
    static const char *const bad[] = {"nonsense",        "127.0.0.1",     "127.0.0.1:",
                                      "127.0.0.1:70000", "127.0.0.1:80x", "::1:80",
                                      "[::1]80",         "[]:80",         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hp_admin *a = NULL;
        char errstr[256] = "";
        ck_assert_int_eq(hp_admin_start(&a, bad[i], NULL, NULL, NULL, errstr, sizeof errstr),
                         HP_ERR_INVALID);
        ck_assert_ptr_null(a);
        ck_assert_msg(strstr(errstr, "admin_listen \"") == errstr, "%s", errstr);
        ck_assert_ptr_nonnull(strstr(errstr, bad[i]));
    }
}
END_TEST

START_TEST(test_no_registry_always_ready)
{
    hp_admin *a = NULL;
    char errstr[256];
    struct reply rep;
    ck_assert_int_eq(hp_admin_start(&a, "127.0.0.1:0", NULL, NULL, NULL, errstr, sizeof errstr),
                     HP_OK);
    get(hp_admin_port(a), "GET", "/readyz", &rep);
    ck_assert_int_eq(rep.status, 200);
    get(hp_admin_port(a), "GET", "/metrics", &rep);
    ck_assert_int_eq(rep.status, 200);
    ck_assert_uint_eq(rep.body_len, 0);
    hp_admin_stop(a);
    hp_admin_stop(NULL);
}
END_TEST

static bool have_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;
    bool ok = bind(fd, (struct sockaddr *)&sin6, sizeof sin6) == 0;
    close(fd);
    return ok;
}

START_TEST(test_ipv6)
{
    if (!have_ipv6_loopback())
        return; /* no IPv6 on this machine: nothing to test */
    hp_admin *a = NULL;
    char errstr[256];
    struct reply rep;
    ck_assert_int_eq(hp_admin_start(&a, "[::1]:0", NULL, NULL, NULL, errstr, sizeof errstr), HP_OK);
    http(AF_INET6, hp_admin_port(a),
         "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &rep);
    ck_assert_int_eq(rep.status, 200);
    hp_admin_stop(a);
}
END_TEST

static Suite *admin_suite(void)
{
    Suite *s = suite_create("admin");
    TCase *tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_healthz);
    tcase_add_test(tc, test_readyz);
    tcase_add_test(tc, test_metrics);
    tcase_add_test(tc, test_head);
    tcase_add_test(tc, test_not_found);
    tcase_add_test(tc, test_method_not_allowed);
    suite_add_tcase(s, tc);

    tc = tcase_create("start");
    tcase_add_test(tc, test_port_in_use);
    tcase_add_test(tc, test_foreign_address);
    tcase_add_test(tc, test_malformed_address);
    tcase_add_test(tc, test_no_registry_always_ready);
    tcase_add_test(tc, test_ipv6);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(admin_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
