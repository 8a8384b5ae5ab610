/*
 * hookpipe-gateway refuses what it must refuse, with the error format of
 * DESIGN.md §HTTP API ({"error","message","timestamp"[,"field"]}), and a
 * refused request never reaches Kafka: bad, missing and stale signatures
 * (401), bodies over max_body_bytes (413, announced or chunked), unknown
 * sources (404), wrong methods (405), unusable payloads (400), addresses
 * outside allow_ips (403), requests over the rate limit (429). Events of
 * a type the source does not subscribe to are answered 200 "ignored" and
 * not stored either.
 */
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORDERS_SECRET "orders-secret-0123"
#define ORDERS                                                                                     \
    "{\"name\": \"orders\", \"verify\": {\"scheme\": \"hmac-sha256\", "                            \
    "\"header\": \"X-Webhook-Signature\", \"secrets\": [\"" ORDERS_SECRET "\"]}, "                 \
    "\"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"}}"

/* A small JSON event with the given id and type. */
static size_t event(char *out, size_t outsz, const char *id, const char *type)
{
    int n = snprintf(out, outsz, "{\"id\": \"%s\", \"type\": \"%s\", \"amount\": 12}", id, type);
    ck_assert(n > 0 && (size_t)n < outsz);
    return (size_t)n;
}

/* Posts one event of source with post's other settings; answers into resp. */
static void post_event(it_gw *gw, it_post *post, const char *id, it_http_response *resp)
{
    char body[512];
    post->body = body;
    post->len = event(body, sizeof body, id, "order.created");
    it_gw_post(gw, post, resp);
    post->body = NULL;
}

/* Sends post and asserts the error answer and that nothing of id was produced. */
static void assert_refused(it_gw *gw, it_post *post, const char *id, int status, const char *code)
{
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    it_http_response resp;
    post_event(gw, post, id, &resp);
    it_assert_error(&resp, status, code, NULL);
    IT_CHECK(strstr(resp.body, ORDERS_SECRET) == NULL, "the error names the secret");
    it_http_response_deinit(&resp);
    it_assert_not_produced(&snap, id);
    it_kafka_snapshot_deinit(&snap);
}

START_TEST(test_wrong_secret)
{
    it_gw gw;
    it_gw_start(&gw, "", "[" ORDERS "]");
    hp_verify_config wrong = *it_gw_verify(&gw, "orders");
    hp_secret secret = {(unsigned char *)"not-the-secret", 14};
    wrong.secrets = &secret;
    wrong.nsecrets = 1;
    char id[64];
    it_unique(id, sizeof id, "wrong-secret");
    it_post post = {.source = "orders", .sign_with = &wrong};
    assert_refused(&gw, &post, id, 401, "invalid_signature");
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_tampered_body)
{
    it_gw gw;
    it_gw_start(&gw, "", "[" ORDERS "]");
    char id[64], signed_body[512];
    it_unique(id, sizeof id, "tampered");
    it_post post = {.source = "orders", .sign_body = signed_body};
    /* Signed with amount 12, sent with amount 13. */
    post.sign_len = event(signed_body, sizeof signed_body, id, "order.created");
    signed_body[post.sign_len - 2] = '3';
    assert_refused(&gw, &post, id, 401, "invalid_signature");
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_missing_signature)
{
    it_gw gw;
    it_gw_start(&gw, "", "[" ORDERS "]");
    char id[64];
    it_unique(id, sizeof id, "unsigned");
    it_post post = {.source = "orders", .no_signature = true};
    assert_refused(&gw, &post, id, 401, "missing_signature");
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_stale_stripe_timestamp)
{
    it_gw gw;
    it_gw_start(&gw, "",
                "[{\"name\": \"stripe\", \"verify\": {\"scheme\": \"stripe\", "
                "\"secrets\": [\"whsec_stale\"], \"tolerance_s\": 300}, "
                "\"event_id\": {\"json\": \"/id\"}}]");
    char id[64];
    it_unique(id, sizeof id, "stale");
    it_post post = {.source = "stripe", .sign_time_s = hp_time_now_ms() / 1000 - 3600};
    assert_refused(&gw, &post, id, 401, "timestamp_out_of_tolerance");
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_too_large_announced)
{
    it_gw gw;
    it_gw_start(&gw, "\"max_body_bytes\": 1024", "[" ORDERS "]");
    /* Only the head: the answer must come from Content-Length alone. */
    it_http_header extra[] = {{"Expect", "100-continue"}};
    it_post post = {.source = "orders",
                    .no_signature = true,
                    .len = 4096,
                    .head_only = true,
                    .extra = extra,
                    .nextra = 1};
    it_http_response resp;
    it_gw_post(&gw, &post, &resp);
    it_assert_error(&resp, 413, "payload_too_large", NULL);
    it_http_response_deinit(&resp);
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_too_large_chunked)
{
    it_gw gw;
    it_gw_start(&gw, "\"max_body_bytes\": 1024", "[" ORDERS "]");
    char id[64], body[8192];
    it_unique(id, sizeof id, "chunked");
    int n = snprintf(body, sizeof body, "{\"id\": \"%s\", \"type\": \"t\", \"pad\": \"%0*d\"}", id,
                     6000, 0);
    ck_assert(n > 0 && (size_t)n < sizeof body);
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    it_post post = {.source = "orders", .body = body, .len = (size_t)n, .chunk_size = 512};
    it_http_response resp;
    char err[512];
    /* A closed connection (no answer) is a correct refusal too. */
    if (it_gw_send(&gw, NULL, &post, &resp, err, sizeof err) == 0) {
        it_assert_error(&resp, 413, "payload_too_large", NULL);
        it_http_response_deinit(&resp);
    } else {
        fprintf(stderr, "chunked over the limit: no answer (%s)\n", err);
    }
    it_assert_not_produced(&snap, id);
    it_kafka_snapshot_deinit(&snap);
    /* The gateway still serves. */
    it_gw_get(&gw, true, "/healthz", &resp);
    IT_CHECK(resp.status == 200, "healthz %d after the chunked overflow", resp.status);
    it_http_response_deinit(&resp);
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_unknown_source_and_method)
{
    it_gw gw;
    it_gw_start(&gw, "", "[" ORDERS "]");
    it_post post = {.source = "nope", .no_signature = true, .body = "{}", .len = 2};
    it_http_response resp;
    it_gw_post(&gw, &post, &resp);
    it_assert_error(&resp, 404, "unknown_source", NULL);
    it_http_response_deinit(&resp);

    it_gw_get(&gw, false, "/webhooks/orders", &resp);
    it_assert_error(&resp, 405, "method_not_allowed", NULL);
    const char *allow = it_http_response_header(&resp, "Allow");
    IT_CHECK(allow && strstr(allow, "POST"), "405 without Allow: POST (RFC 9110 §15.5.6)");
    it_http_response_deinit(&resp);
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_invalid_payloads)
{
    it_gw gw;
    it_gw_start(&gw, "", "[" ORDERS "]");
    static const char no_id[] = "{\"type\": \"order.created\", \"amount\": 12}";
    it_post post = {.source = "orders", .body = no_id, .len = sizeof no_id - 1};
    it_http_response resp;
    it_gw_post(&gw, &post, &resp);
    it_assert_error(&resp, 400, "invalid_payload", "event_id");
    it_http_response_deinit(&resp);

    static const char not_json[] = "id=evt_1&type=order.created";
    post.body = not_json;
    post.len = sizeof not_json - 1;
    it_gw_post(&gw, &post, &resp);
    it_assert_error(&resp, 400, "invalid_payload", "body");
    it_http_response_deinit(&resp);
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_unsubscribed_event_ignored)
{
    it_gw gw;
    it_gw_start(&gw, "",
                "[{\"name\": \"filtered\", \"verify\": {\"scheme\": \"bearer\", "
                "\"secrets\": [\"tok\"]}, \"event_id\": {\"json\": \"/id\"}, "
                "\"event_type\": {\"json\": \"/type\"}, \"events\": [\"order.created\"]}]");
    char id[64], kept[64], body[512];
    it_unique(id, sizeof id, "ignored");
    it_unique(kept, sizeof kept, "kept");
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    it_post post = {.source = "filtered", .body = body};
    post.len = event(body, sizeof body, id, "order.deleted");
    it_http_response resp;
    it_gw_post(&gw, &post, &resp);
    IT_CHECK(resp.status == 200, "want 200 ignored, got %d: %s", resp.status, resp.body);
    json_t *j = it_json_body(&resp);
    const char *status = json_string_value(json_object_get(j, "status"));
    IT_CHECK(status && strcmp(status, "ignored") == 0, "want ignored, got %s", resp.body);
    json_decref(j);
    it_http_response_deinit(&resp);

    post.len = event(body, sizeof body, kept, "order.created");
    it_gw_post(&gw, &post, &resp);
    it_assert_accepted(&resp, kept);
    it_http_response_deinit(&resp);
    it_assert_not_produced(&snap, id);
    it_kafka_snapshot_deinit(&snap);

    it_gw_get(&gw, true, "/metrics", &resp);
    double v;
    IT_CHECK(it_metric(resp.body, "hookpipe_gateway_ignored_total", "source=\"filtered\"", &v) &&
                 v == 1,
             "hookpipe_gateway_ignored_total{source=\"filtered\"} is not 1");
    it_http_response_deinit(&resp);
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_forbidden_ip)
{
    it_gw gw;
    it_gw_start(&gw, "",
                "[{\"name\": \"far\", \"verify\": {\"scheme\": \"bearer\", \"secrets\": [\"t\"]}, "
                "\"event_id\": {\"json\": \"/id\"}, \"allow_ips\": [\"203.0.113.0/24\"]},"
                " {\"name\": \"near\", \"verify\": {\"scheme\": \"bearer\", \"secrets\": [\"t\"]},"
                " \"event_id\": {\"json\": \"/id\"}, \"allow_ips\": [\"127.0.0.0/8\"]}]");
    char id[64], near[64];
    it_unique(id, sizeof id, "far");
    it_post post = {.source = "far"};
    assert_refused(&gw, &post, id, 403, "forbidden_ip");
    it_unique(near, sizeof near, "near");
    post.source = "near";
    it_http_response resp;
    post_event(&gw, &post, near, &resp);
    it_assert_accepted(&resp, near);
    it_http_response_deinit(&resp);
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_rate_limited)
{
    it_gw gw;
    it_gw_start(&gw, "",
                "[{\"name\": \"limited\", \"verify\": {\"scheme\": \"bearer\", "
                "\"secrets\": [\"t\"]}, \"event_id\": {\"json\": \"/id\"}, "
                "\"rate_limit\": {\"per_second\": 1, \"burst\": 2}}]");
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    char ids[3][64];
    it_http_response resp[3];
    it_post post = {.source = "limited"};
    for (int i = 0; i < 3; i++) {
        it_unique(ids[i], sizeof ids[i], "limited");
        post_event(&gw, &post, ids[i], &resp[i]);
    }
    it_assert_accepted(&resp[0], ids[0]);
    it_assert_accepted(&resp[1], ids[1]);
    it_assert_error(&resp[2], 429, "rate_limited", NULL);
    const char *ra = it_http_response_header(&resp[2], "Retry-After");
    char *end = NULL;
    long secs = ra ? strtol(ra, &end, 10) : 0;
    IT_CHECK(ra && end != ra && *end == '\0' && secs >= 1 && secs <= 2,
             "429 Retry-After is %s, want 1 or 2 seconds", ra ? ra : "(none)");
    for (int i = 0; i < 3; i++)
        it_http_response_deinit(&resp[i]);
    it_assert_not_produced(&snap, ids[2]);
    it_kafka_snapshot_deinit(&snap);
    it_gw_free(&gw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gateway_errors");
    TCase *tc = tcase_create("refused");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_wrong_secret);
    tcase_add_test(tc, test_tampered_body);
    tcase_add_test(tc, test_missing_signature);
    tcase_add_test(tc, test_stale_stripe_timestamp);
    tcase_add_test(tc, test_too_large_announced);
    tcase_add_test(tc, test_too_large_chunked);
    tcase_add_test(tc, test_unknown_source_and_method);
    tcase_add_test(tc, test_invalid_payloads);
    tcase_add_test(tc, test_unsubscribed_event_ignored);
    tcase_add_test(tc, test_forbidden_ip);
    tcase_add_test(tc, test_rate_limited);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
