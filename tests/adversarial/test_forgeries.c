/*
 * adversarial.forgeries (issue 11, item 6): forged requests cannot spend a
 * source's rate limit, and an address that keeps failing verification is
 * limited on its own.
 *
 * Source "orders" allows 5 requests per second (burst 5); the gateway's
 * unverified_rate_limit is 10 per second (burst 20). Address A (127.0.0.3)
 * sends 200 well-formed forgeries as fast as it can; interleaved, A and B
 * (127.0.0.2) send 20 signed requests, 4 per second: every signed one gets
 * 200. A's forgeries beyond its failures' limit get 429 (for A only: B's
 * forgery afterwards gets 401). Then B sends 10 signed requests at once:
 * the source's own limit answers 429 after its burst of 5, with its own
 * message — the only 429 a signed request ever gets.
 */
#include "adv_admit.h"
#include "it_env.h"

#include <check.h>

#define A "127.0.0.3"
#define B "127.0.0.2"
#define FORGERIES 200
#define SIGNED_EVERY 10
#define SIGNED_GAP_MS 250

#define GATEWAY "\"unverified_rate_limit\": {\"per_second\": 10, \"burst\": 20}"
#define ORDERS                                                                                     \
    "[{\"name\": \"orders\", \"verify\": {\"scheme\": \"hmac-sha256\", "                           \
    "\"header\": \"X-Webhook-Signature\", \"secrets\": [\"forgeries-secret\"]}, "                  \
    "\"event_id\": {\"json\": \"/id\"}, \"rate_limit\": {\"per_second\": 5, \"burst\": 5}}]"

/* Posts an event with id from address from, signed with vc (NULL: the
 * source's own); returns the answer in resp. */
static void post_from(it_gw *gw, const char *from, const hp_verify_config *vc, const char *id,
                      it_http_response *resp)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"id\": \"%s\", \"amount\": 12}", id);
    it_post post = {.source = "orders", .body = body, .len = (size_t)n, .sign_with = vc};
    it_http_conn conn;
    char err[512];
    IT_CHECK(adv_connect_from(&conn, from, gw->port, 10000) == 0, "%s", conn.err);
    IT_CHECK(it_gw_send(gw, &conn, &post, resp, err, sizeof err) == 0, "from %s: %s", from, err);
    it_http_close(&conn);
}

/* Asserts a 429 whose message contains what. */
static void assert_limited(const it_http_response *resp, const char *what)
{
    it_assert_error(resp, 429, "rate_limited", NULL);
    IT_CHECK(it_http_response_header(resp, "Retry-After") != NULL, "429 without Retry-After");
    char *msg = adv_message(resp);
    IT_CHECK(strstr(msg, what) != NULL, "429 says \"%s\", expected \"%s\"", msg, what);
    free(msg);
}

START_TEST(test_forgeries)
{
    it_gw gw;
    it_gw_start(&gw, GATEWAY, ORDERS);
    hp_verify_config forger = adv_forger(it_gw_verify(&gw, "orders"));
    int n401 = 0, n429 = 0, nsigned = 0;
    int64_t t0 = hp_time_mono_ns(), last_signed = 0;

    for (int i = 0; i < FORGERIES; i++) {
        it_http_response resp;
        post_from(&gw, A, &forger, "forged", &resp);
        if (resp.status == 401) {
            it_assert_error(&resp, 401, "invalid_signature", NULL);
            n401++;
        } else {
            assert_limited(&resp, "failed verification");
            n429++;
        }
        it_http_response_deinit(&resp);
        if (i % SIGNED_EVERY != SIGNED_EVERY - 1)
            continue;
        /* A signed one, from A and B in turn, within the source's 5/s. */
        int64_t wait_ms = (last_signed + SIGNED_GAP_MS * 1000000LL - hp_time_mono_ns()) / 1000000;
        if (last_signed && wait_ms > 0)
            it_sleep_ms((int)wait_ms);
        last_signed = hp_time_mono_ns();
        char id[64];
        it_unique(id, sizeof id, "forgeries-signed");
        const char *from = (i / SIGNED_EVERY) % 2 ? A : B;
        post_from(&gw, from, NULL, id, &resp);
        IT_CHECK(resp.status == 200, "signed request %d from %s, after %d forgeries: %d %.300s",
                 nsigned, from, i + 1, resp.status, resp.body);
        it_assert_accepted(&resp, id);
        it_http_response_deinit(&resp);
        nsigned++;
    }
    double secs = (double)(hp_time_mono_ns() - t0) / 1e9;
    fprintf(stderr, "forgeries: %d x 401, %d x 429 in %.1f s; %d signed, all 200\n", n401, n429,
            secs, nsigned);
    IT_CHECK(n401 >= 20, "only %d forgeries got 401; the burst is 20", n401);
    IT_CHECK(n401 <= 20 + (int)(10 * secs) + 2, "%d forgeries got 401 in %.1f s (10/s, burst 20)",
             n401, secs);
    IT_CHECK(n429 > 0, "no forgery was limited");
    double failures =
        adv_metric(&gw, "hookpipe_gateway_signature_failures_total", "source=\"orders\"");
    IT_CHECK(failures >= FORGERIES, "%.0f signature failures counted, %d forged", failures,
             FORGERIES);

    /* B's failures are its own. */
    it_http_response resp;
    post_from(&gw, B, &forger, "forged-b", &resp);
    it_assert_error(&resp, 401, "invalid_signature", NULL);
    it_http_response_deinit(&resp);

    /* The source's limit: 5 at once, then 429 with its own message. */
    it_sleep_ms(1500);
    int ok = 0, limited = 0;
    for (int i = 0; i < 10; i++) {
        char id[64];
        it_unique(id, sizeof id, "forgeries-burst");
        post_from(&gw, B, NULL, id, &resp);
        if (resp.status == 200) {
            ok++;
        } else {
            assert_limited(&resp, "source orders is limited");
            limited++;
        }
        it_http_response_deinit(&resp);
    }
    fprintf(stderr, "forgeries: burst of 10 signed: %d x 200, %d x 429\n", ok, limited);
    IT_CHECK(ok >= 5, "only %d of a burst of 10 signed got 200; the source's burst is 5", ok);
    IT_CHECK(limited >= 1, "the source's limit of 5/s did not apply to 10 at once");
    it_gw_free(&gw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("adversarial.forgeries");
    TCase *tc = tcase_create("forgeries");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_forgeries);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
