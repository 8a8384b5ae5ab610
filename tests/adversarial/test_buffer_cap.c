/*
 * adversarial.buffer_cap (issue 11, item 5): unauthenticated clients cannot
 * make the gateway buffer more than gateway.max_buffered_bytes, nor one
 * client address more than its max_buffered_bytes_per_client.
 *
 * 200 connections from one address announce 1 MiB bodies with well-formed,
 * wrong signatures, all at once. With 16 MiB in all and 4 MiB per client,
 * at most four are admitted; the rest get 503 + Retry-After at once,
 * before a byte of body is sent. While the admitted four hold their share
 * (half of each body sent), another address (127.0.0.2) still gets 200 for
 * a signed request, and requests whose signature header is missing or
 * malformed get 401 from the head alone — from the flooding address too —
 * and a chunked upload from the flooding address gets 503 on its head.
 * The gateway's peak RSS (VmHWM) stays within the cap and a margin of its
 * RSS before the flood; once everything is answered (or its client went
 * away mid-body), no byte stays reserved.
 */
#include "adv_admit.h"
#include "it_env.h"

#include <check.h>

#define MiB ((size_t)1024 * 1024)
#define FLOOD 200
#define BODY_LEN MiB
#define CAP "\"max_buffered_bytes\": 16777216, \"max_buffered_bytes_per_client\": 4194304"
/* What the gateway may add to its RSS beyond the cap: MHD's connection
 * pools (16 KiB each), allocator slack, librdkafka. */
#define RSS_MARGIN (24 * MiB)

#define ORDERS                                                                                     \
    "[{\"name\": \"orders\", \"verify\": {\"scheme\": \"hmac-sha256\", "                           \
    "\"header\": \"X-Webhook-Signature\", \"secrets\": [\"buffer-cap-secret\"]}, "                 \
    "\"event_id\": {\"json\": \"/id\"}}]"

/* A JSON body of exactly len bytes with id id. The caller frees. */
static char *padded_body(const char *id, size_t len)
{
    char *body = hp_xmalloc(len + 1);
    int n = snprintf(body, len + 1, "{\"id\": \"%s\", \"pad\": \"", id);
    ck_assert(n > 0 && (size_t)n + 2 < len);
    memset(body + n, 'a', len - (size_t)n - 2);
    memcpy(body + len - 2, "\"}", 2);
    body[len] = '\0';
    return body;
}

/* Sends the head of a POST of len bytes with headers hs on conn. */
static int send_head(it_http_conn *conn, const it_http_header *hs, size_t nhs, size_t len)
{
    it_http_request req = {.method = "POST",
                           .path = "/webhooks/orders",
                           .headers = hs,
                           .nheaders = nhs,
                           .body_len = len,
                           .head_only = true};
    return it_http_send(conn, &req);
}

/* A chunked upload's head from from with headers hs: refused 503 at once
 * (its first reservation step does not fit the spent share). */
static void assert_chunked_refused(it_gw *gw, const char *from, const it_http_header *hs,
                                   size_t nhs)
{
    it_http_conn conn;
    IT_CHECK(adv_connect_from(&conn, from, gw->port, 10000) == 0, "%s", conn.err);
    it_http_request req = {.method = "POST",
                           .path = "/webhooks/orders",
                           .headers = hs,
                           .nheaders = nhs,
                           .chunk_size = 4096,
                           .head_only = true};
    IT_CHECK(it_http_send(&conn, &req) == 0, "%s", conn.err);
    it_http_response resp;
    IT_CHECK(it_http_read(&conn, &resp) == 0, "no answer to a chunked head from %s: %s", from,
             conn.err);
    it_assert_error(&resp, 503, "unavailable", NULL);
    IT_CHECK(it_http_response_header(&resp, "Retry-After") != NULL, "503 without Retry-After");
    it_http_response_deinit(&resp);
    it_http_close(&conn);
}

/* Reads an answer that must already be there (or come within ms). */
static bool answered(it_http_conn *conn, int ms, it_http_response *resp)
{
    int saved = conn->timeout_ms;
    conn->timeout_ms = ms;
    int rc = it_http_read(conn, resp);
    conn->timeout_ms = saved;
    return rc == 0;
}

/* From address from: a head with header name: value (or none), and the
 * answer, which must come before any body is sent. */
static void assert_refused_by_head(it_gw *gw, const char *from, const char *name, const char *value,
                                   const char *code)
{
    it_http_conn conn;
    IT_CHECK(adv_connect_from(&conn, from, gw->port, 10000) == 0, "%s", conn.err);
    it_http_header hs[2] = {{"Content-Type", "application/json"}, {name, value}};
    IT_CHECK(send_head(&conn, hs, value ? 2 : 1, BODY_LEN) == 0, "%s", conn.err);
    it_http_response resp;
    IT_CHECK(answered(&conn, 5000, &resp), "no answer to a head with %s %s from %s: %s", name,
             value ? value : "(none)", from, conn.err);
    it_assert_error(&resp, 401, code, NULL);
    it_http_response_deinit(&resp);
    it_http_close(&conn);
}

/* From 127.0.0.2: a signed request, answered 200. */
static void assert_other_client_served(it_gw *gw)
{
    char id[64];
    it_unique(id, sizeof id, "buffer-cap-signed");
    char *body = padded_body(id, 4096);
    it_http_header hs[HP_SIG_MAX_HEADERS + 1];
    hp_sig_headers sig;
    size_t n =
        adv_headers(it_gw_verify(gw, "orders"), body, 4096, &sig, hs, HP_SIG_MAX_HEADERS + 1);
    it_http_conn conn;
    IT_CHECK(adv_connect_from(&conn, "127.0.0.2", gw->port, 10000) == 0, "%s", conn.err);
    it_http_request req = {.method = "POST",
                           .path = "/webhooks/orders",
                           .headers = hs,
                           .nheaders = n,
                           .body = body,
                           .body_len = 4096};
    it_http_response resp;
    IT_CHECK(it_http_roundtrip(&conn, &req, &resp) == 0, "signed from 127.0.0.2: %s", conn.err);
    it_assert_accepted(&resp, id);
    it_http_response_deinit(&resp);
    it_http_close(&conn);
    hp_sig_headers_deinit(&sig);
    free(body);
}

/* Sends bytes [from, to) of body on every connection still waiting, round robin. */
static void send_bodies(it_http_conn *conns, const bool *waiting, const char *body, size_t from,
                        size_t to)
{
    const size_t step = 64 * 1024;
    for (size_t at = from; at < to; at += step) {
        size_t n = to - at < step ? to - at : step;
        for (int i = 0; i < FLOOD; i++)
            if (waiting[i] && conns[i].fd >= 0)
                it_http_send_raw(&conns[i], body + at, n); /* a refused one may be closed */
    }
}

START_TEST(test_buffer_cap)
{
    it_gw gw;
    it_gw_start(&gw, CAP, ORDERS);
    const hp_verify_config *vc = it_gw_verify(&gw, "orders");
    hp_verify_config forger = adv_forger(vc);

    /* Warm up (producer, pools), then the baseline. */
    assert_other_client_served(&gw);
    size_t base = adv_proc_mem(gw.proc.pid, "VmHWM");

    char *body = padded_body("flood", BODY_LEN);
    it_http_header hs[HP_SIG_MAX_HEADERS + 1];
    hp_sig_headers sig;
    size_t nhs = adv_headers(&forger, body, BODY_LEN, &sig, hs, HP_SIG_MAX_HEADERS + 1);
    it_http_conn *conns = hp_xcalloc(FLOOD, sizeof *conns);
    bool *waiting = hp_xcalloc(FLOOD, sizeof *waiting);
    for (int i = 0; i < FLOOD; i++) {
        IT_CHECK(adv_connect_from(&conns[i], "127.0.0.1", gw.port, 30000) == 0, "conn %d: %s", i,
                 conns[i].err);
        IT_CHECK(send_head(&conns[i], hs, nhs, BODY_LEN) == 0, "head %d: %s", i, conns[i].err);
    }
    /* Answers given on the head alone: 503 + Retry-After. */
    it_sleep_ms(2000);
    int early = 0, nwaiting = 0;
    for (int i = 0; i < FLOOD; i++) {
        it_http_response resp;
        if (!answered(&conns[i], 20, &resp)) {
            waiting[i] = true;
            nwaiting++;
            continue;
        }
        it_assert_error(&resp, 503, "unavailable", NULL);
        IT_CHECK(it_http_response_header(&resp, "Retry-After") != NULL, "503 without Retry-After");
        it_http_response_deinit(&resp);
        it_http_close(&conns[i]);
        early++;
    }
    fprintf(stderr, "buffer_cap: %d of %d answered 503 on the head, %d admitted\n", early, FLOOD,
            nwaiting);
    IT_CHECK(nwaiting <= 4, "%d bodies of 1 MiB admitted from one address; its share is 4 MiB",
             nwaiting);
    IT_CHECK(early >= FLOOD - 4, "only %d of %d answered at once", early, FLOOD);

    /* The admitted hold their share, half sent; the others are served. */
    send_bodies(conns, waiting, body, 0, BODY_LEN / 2);
    assert_other_client_served(&gw);
    assert_refused_by_head(&gw, "127.0.0.2", "X-Webhook-Signature", NULL, "missing_signature");
    assert_refused_by_head(&gw, "127.0.0.2", "X-Webhook-Signature", "zz-not-hex",
                           "invalid_signature");
    assert_refused_by_head(&gw, "127.0.0.1", "X-Webhook-Signature", NULL, "missing_signature");
    assert_chunked_refused(&gw, "127.0.0.1", hs, nhs);
    /* One client goes away mid-body: its reservation must come back too. */
    for (int i = 0; i < FLOOD; i++) {
        if (waiting[i]) {
            it_http_close(&conns[i]);
            waiting[i] = false;
            break;
        }
    }
    send_bodies(conns, waiting, body, BODY_LEN / 2, BODY_LEN);
    for (int i = 0; i < FLOOD; i++) {
        if (!waiting[i])
            continue;
        it_http_response resp;
        IT_CHECK(it_http_read(&conns[i], &resp) == 0, "admitted %d: %s", i, conns[i].err);
        it_assert_error(&resp, 401, "invalid_signature", NULL);
        it_http_response_deinit(&resp);
        it_http_close(&conns[i]);
    }

    size_t peak = adv_proc_mem(gw.proc.pid, "VmHWM");
    fprintf(stderr, "buffer_cap: VmHWM %zu MiB before the flood, %zu MiB after\n", base / MiB,
            peak / MiB);
    IT_CHECK(!ADV_RSS_MEANINGFUL || peak <= base + 16 * MiB + RSS_MARGIN,
             "peak RSS grew by %zu MiB; the cap is 16 MiB (+ %zu MiB margin)", (peak - base) / MiB,
             RSS_MARGIN / MiB);
    IT_CHECK(adv_metric(&gw, "hookpipe_gateway_admission_refusals_total",
                        "reason=\"client_buffer_full\"") >= early,
             "the refusals are not counted");
    /* Every reservation given back, once (a second release would wrap it). */
    double held = -1;
    for (int i = 0; i < 50 && held != 0; i++) {
        it_sleep_ms(100);
        held = adv_metric(&gw, "hookpipe_gateway_buffered_bytes", "");
    }
    IT_CHECK(held == 0, "%.0f bytes still reserved after every request was answered", held);

    hp_sig_headers_deinit(&sig);
    free(waiting);
    free(conns);
    free(body);
    it_gw_free(&gw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("adversarial.buffer_cap");
    TCase *tc = tcase_create("buffer_cap");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_buffer_cap);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
