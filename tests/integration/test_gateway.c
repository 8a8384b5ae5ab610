/*
 * hookpipe-gateway accepts what each provider sends and makes it durable:
 * for every verify scheme, a request signed as the provider would sign it
 * (hp_sig_sign) is answered 200 {"status":"accepted","event_id":…}, and the
 * record in webhooks.raw is envelope version 1 (DESIGN.md §Kafka record):
 * the body byte for byte, the configured key, and every hookpipe-* header,
 * with the request headers minus credentials and signatures. Each test
 * runs its own gateway on loopback ports against the stack's real Kafka.
 */
#include "hp_envelope.h"
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h"

#include <check.h>
#include <ctype.h>
#include <openssl/evp.h> /* EVP_Digest, for body_sha256 ids */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */

/* Slack for hookpipe-received-at against the test's own clock readings (coarse clocks). */
#define RECEIVED_AT_SLACK_MS 20

/* The full set of extractors most sources use; see body_text(). */
#define EXTRACT_ALL                                                                                \
    "\"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"}, "                   \
    "\"key\": {\"json\": \"/data/object/id\"}, \"event_time\": {\"json\": \"/created\"}"
#define EXTRACT_ID "\"event_id\": {\"json\": \"/id\"}"

enum { ID_BODY, ID_HEADER, ID_SHA256 };
enum { KEY_EVENT_ID, KEY_OBJECT, KEY_ROOM };

typedef struct scheme_case {
    const char *name;        /* the source's name */
    const char *source;      /* the source's other members */
    int id_from;             /* where the event id comes from */
    const char *id_header;   /* ID_HEADER: the header carrying it */
    const char *type_header; /* a header carrying the event type, or NULL */
    const char *want_type;   /* hookpipe-event-type, NULL = absent */
    int key_from;            /* what the Kafka key is */
    int64_t want_time_ms;    /* hookpipe-event-time, HP_ENVELOPE_NO_TIME = absent */
} scheme_case;

static const scheme_case cases[] = {
    {"hmac-hex",
     "\"verify\": {\"scheme\": \"hmac-sha256\", \"header\": \"X-Webhook-Signature\", "
     "\"encoding\": \"hex\", \"secrets\": [\"hex-secret\"]}, " EXTRACT_ALL,
     ID_BODY, NULL, NULL, "order.created", KEY_OBJECT, 1700000000000LL},
    {"hmac-b64",
     "\"verify\": {\"scheme\": \"hmac-sha256\", \"header\": \"X-Signature\", "
     "\"encoding\": \"base64\", \"prefix\": \"sha256=\", \"secrets\": [\"b64-secret\", \"old\"]}, "
     "\"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"}",
     ID_BODY, NULL, NULL, "order.created", KEY_EVENT_ID, HP_ENVELOPE_NO_TIME},
    {"hmac-sha1",
     "\"verify\": {\"scheme\": \"hmac-sha1\", \"header\": \"X-Hub-Signature\", "
     "\"prefix\": \"sha1=\", \"secrets\": [\"sha1-secret\"]}, " EXTRACT_ID,
     ID_BODY, NULL, NULL, NULL, KEY_EVENT_ID, HP_ENVELOPE_NO_TIME},
    {"github",
     "\"verify\": {\"scheme\": \"github\", \"secrets\": [\"gh-secret\"]}, "
     "\"event_id\": {\"header\": \"X-GitHub-Delivery\"}, "
     "\"event_type\": {\"header\": \"X-GitHub-Event\"}",
     ID_HEADER, "X-GitHub-Delivery", "X-GitHub-Event", "push", KEY_EVENT_ID, HP_ENVELOPE_NO_TIME},
    {"stripe",
     "\"verify\": {\"scheme\": \"stripe\", \"secrets\": [\"whsec_stripe\"], \"tolerance_s\": 300}, "
     "\"handler\": \"entity\", " EXTRACT_ALL,
     ID_BODY, NULL, NULL, "order.created", KEY_OBJECT, 1700000000000LL},
    {"stdwebhooks",
     "\"verify\": {\"scheme\": \"standard-webhooks\", "
     "\"secrets\": [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]}, "
     "\"event_id\": {\"header\": \"webhook-id\"}, \"event_type\": {\"json\": \"/type\"}, "
     "\"event_time\": {\"json\": \"/createdAt\"}",
     ID_HEADER, "webhook-id", NULL, "order.created", KEY_EVENT_ID, 1704164645678LL},
    {"slack",
     "\"verify\": {\"scheme\": \"slack\", \"secrets\": [\"slack-secret\"]}, " EXTRACT_ID
     ", \"event_type\": {\"json\": \"/type\"}",
     ID_BODY, NULL, NULL, "order.created", KEY_EVENT_ID, HP_ENVELOPE_NO_TIME},
    {"shopify",
     "\"verify\": {\"scheme\": \"shopify\", \"secrets\": [\"shpss_secret\"]}, "
     "\"event_id\": {\"header\": \"X-Shopify-Webhook-Id\"}, "
     "\"event_type\": {\"header\": \"X-Shopify-Topic\"}",
     ID_HEADER, "X-Shopify-Webhook-Id", "X-Shopify-Topic", "push", KEY_EVENT_ID,
     HP_ENVELOPE_NO_TIME},
    {"livekit",
     "\"verify\": {\"scheme\": \"livekit\", \"keys\": {\"APIkeyA\": \"lk-secret-a-0123456789\", "
     "\"APIkeyB\": \"lk-secret-b-0123456789\"}}, \"handler\": \"livekit\", "
     "\"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/event\"}, "
     "\"key\": {\"json\": \"/room/sid\"}, \"event_time\": {\"json\": \"/createdMs\"}",
     ID_BODY, NULL, NULL, "room_started", KEY_ROOM, 1700000000123LL},
    {"basic", "\"verify\": {\"scheme\": \"basic\", \"secrets\": [\"user:pa55\"]}, " EXTRACT_ID,
     ID_BODY, NULL, NULL, NULL, KEY_EVENT_ID, HP_ENVELOPE_NO_TIME},
    {"bearer", "\"verify\": {\"scheme\": \"bearer\", \"secrets\": [\"tok-123\"]}, " EXTRACT_ID,
     ID_BODY, NULL, NULL, NULL, KEY_EVENT_ID, HP_ENVELOPE_NO_TIME},
    {"none", "\"verify\": {\"scheme\": \"none\"}, \"insecure\": true", ID_SHA256, NULL, NULL, NULL,
     KEY_EVENT_ID, HP_ENVELOPE_NO_TIME},
};

/* A JSON body with non-ASCII UTF-8, a newline inside and one at the end. */
static size_t body_text(char *out, size_t outsz, const char *id)
{
    int n =
        snprintf(out, outsz,
                 "{\"id\": \"%s\", \"type\": \"order.created\", \"event\": \"room_started\",\n"
                 " \"created\": 1700000000, \"createdAt\": \"2024-01-02T03:04:05.678Z\", "
                 "\"createdMs\": 1700000000123,\n"
                 " \"data\": {\"object\": {\"id\": \"obj_%s\"}}, \"room\": {\"sid\": \"RM_%s\"},"
                 " \"note\": \"h\xc3\xa9llo \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac \\u00e9\"}\n",
                 id, id, id);
    ck_assert(n > 0 && (size_t)n < outsz);
    return (size_t)n;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    ck_assert(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char *no_header(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

/* hookpipe-http-headers: a JSON object with what was sent, minus secrets and signatures. */
static void check_http_headers(const char *text, const hp_verify_config *vc,
                               const it_http_header *extra, size_t nextra)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    IT_CHECK(j && json_is_object(j), "hookpipe-http-headers is not a JSON object: %s", text);
    const char *ua = json_string_value(json_object_get(j, "user-agent"));
    IT_CHECK(ua && strcmp(ua, "hookpipe-it/1.0") == 0, "no user-agent in %s", text);
    for (size_t i = 0; i < nextra; i++) {
        char lower[64];
        size_t k = 0;
        for (; extra[i].name[k] && k < sizeof lower - 1; k++)
            lower[k] = (char)tolower((unsigned char)extra[i].name[k]);
        lower[k] = '\0';
        const char *v = json_string_value(json_object_get(j, lower));
        IT_CHECK(v && strcmp(v, extra[i].value) == 0, "no %s in %s", lower, text);
    }
    const char *key;
    json_t *val;
    /* The scheme's signature headers, whatever the request carried. */
    hp_sig_outcome oc;
    hp_sig_verify(vc, NULL, 0, no_header, NULL, 0, &oc);
    json_object_foreach (j, key, val) {
        IT_CHECK(strcasecmp(key, "authorization") != 0 && strcasecmp(key, "cookie") != 0,
                 "hookpipe-http-headers holds %s: %s", key, text);
        for (size_t i = 0; oc.headers_used[i]; i++)
            IT_CHECK(strcasecmp(key, oc.headers_used[i]) != 0,
                     "hookpipe-http-headers holds the verified signature header %s: %s", key, text);
    }
    json_decref(j);
}

/* The record of one accepted request: DESIGN.md §Kafka record, header by header. */
static void check_record(const it_kafka_record *rec, const scheme_case *sc, const char *body,
                         size_t len, const char *id, int64_t t0, int64_t t1,
                         const hp_verify_config *vc, const it_http_header *extra, size_t nextra)
{
    IT_CHECK(rec->value_len == len && memcmp(rec->value, body, len) == 0,
             "value is not the body byte for byte (%zu bytes, want %zu)", rec->value_len, len);
    char want_key[256];
    snprintf(want_key, sizeof want_key, "%s%s",
             sc->key_from == KEY_OBJECT ? "obj_"
             : sc->key_from == KEY_ROOM ? "RM_"
                                        : "",
             id);
    IT_CHECK(rec->key && rec->key_len == strlen(want_key) && strcmp(rec->key, want_key) == 0,
             "key is %s, want %s", rec->key ? rec->key : "(null)", want_key);
    IT_CHECK(strcmp(it_record_header(rec, HP_HDR_VERSION), "1") == 0, "version");
    IT_CHECK(strcmp(it_record_header(rec, HP_HDR_SOURCE), sc->name) == 0, "source");
    IT_CHECK(strcmp(it_record_header(rec, HP_HDR_EVENT_ID), id) == 0, "event id");
    const it_kafka_header *type = it_kafka_record_header(rec, HP_HDR_EVENT_TYPE);
    if (sc->want_type)
        IT_CHECK(type && type->value && strcmp(type->value, sc->want_type) == 0,
                 "event type is %s, want %s", type ? type->value : "(none)", sc->want_type);
    else
        IT_CHECK(!type, "event type %s, want none", type->value);
    const it_kafka_header *time = it_kafka_record_header(rec, HP_HDR_EVENT_TIME);
    char want_time[32];
    snprintf(want_time, sizeof want_time, "%lld", (long long)sc->want_time_ms);
    if (sc->want_time_ms != HP_ENVELOPE_NO_TIME)
        IT_CHECK(time && time->value && strcmp(time->value, want_time) == 0,
                 "event time is %s, want %s", time ? time->value : "(none)", want_time);
    else
        IT_CHECK(!time, "event time %s, want none", time->value);
    char *end;
    long long at = strtoll(it_record_header(rec, HP_HDR_RECEIVED_AT), &end, 10);
    IT_CHECK(*end == '\0' && at >= t0 - RECEIVED_AT_SLACK_MS && at <= t1 + RECEIVED_AT_SLACK_MS,
             "received-at %s outside [%lld, %lld]", it_record_header(rec, HP_HDR_RECEIVED_AT),
             (long long)t0, (long long)t1);
    IT_CHECK(
        strcmp(it_record_header(rec, HP_HDR_CONTENT_TYPE), "application/json; charset=utf-8") == 0,
        "content type %s", it_record_header(rec, HP_HDR_CONTENT_TYPE));
    IT_CHECK(it_record_header(rec, HP_HDR_GATEWAY)[0] != '\0', "empty hookpipe-gateway");
    IT_CHECK(strcmp(it_record_header(rec, HP_HDR_REMOTE_ADDR), "127.0.0.1") == 0, "remote addr %s",
             it_record_header(rec, HP_HDR_REMOTE_ADDR));
    check_http_headers(it_record_header(rec, HP_HDR_HTTP_HEADERS), vc, extra, nextra);
}

START_TEST(test_scheme_accepted)
{
    const scheme_case *sc = &cases[_i];
    char sources[2048], id[128], body[1024];
    snprintf(sources, sizeof sources, "[{\"name\": \"%s\", %s}]", sc->name, sc->source);
    it_gw gw;
    it_gw_start(&gw, "", sources);

    it_unique(id, sizeof id, sc->name);
    size_t len = body_text(body, sizeof body, id);
    if (sc->id_from == ID_SHA256)
        sha256_hex(body, len, id);
    it_http_header extra[3] = {{"X-Test-Trace", "trace-1"}};
    size_t nextra = 1;
    if (sc->id_from == ID_HEADER && strcmp(sc->id_header, "webhook-id") != 0)
        extra[nextra++] = (it_http_header){sc->id_header, id};
    if (sc->type_header)
        extra[nextra++] = (it_http_header){sc->type_header, "push"};

    it_kafka_snapshot snap;
    it_snapshot(&snap);
    it_post post = {.source = sc->name,
                    .body = body,
                    .len = len,
                    .extra = extra,
                    .nextra = nextra,
                    .msg_id = id};
    it_http_response resp;
    int64_t t0 = hp_time_now_ms();
    it_gw_post(&gw, &post, &resp);
    int64_t t1 = hp_time_now_ms();
    it_assert_accepted(&resp, id);
    it_http_response_deinit(&resp);

    it_kafka_record rec;
    it_find_record(&snap, id, &rec);
    check_record(&rec, sc, body, len, id, t0, t1, it_gw_verify(&gw, sc->name), extra, nextra);
    it_kafka_record_deinit(&rec);
    it_kafka_snapshot_deinit(&snap);
    IT_CHECK(it_gw_stop(&gw, 15000) == 0, "the gateway did not exit 0 on SIGTERM");
    it_gw_free(&gw);
}
END_TEST

/* Several requests on one keep-alive connection, with content types other than JSON. */
START_TEST(test_keepalive_any_content_type)
{
    it_gw gw;
    it_gw_start(&gw, "",
                "[{\"name\": \"forms\", \"verify\": {\"scheme\": \"bearer\", "
                "\"secrets\": [\"tok\"]}, \"event_id\": {\"header\": \"X-Event-Id\"}}]");
    static const char *const types[] = {"application/x-www-form-urlencoded",
                                        "application/webhook+json", "text/plain"};
    static const char *const bodies[] = {"a=1&b=%C3%A9\n", "{\"x\": 1}", "not json at all"};
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    it_http_conn conn;
    IT_CHECK(it_http_connect(&conn, "127.0.0.1", gw.port, IT_GW_HTTP_TIMEOUT_MS) == 0, "%s",
             conn.err);
    char ids[3][64], err[512];
    for (int i = 0; i < 3; i++) {
        it_unique(ids[i], sizeof ids[i], "form");
        it_http_header extra[] = {{"Content-Type", types[i]}, {"X-Event-Id", ids[i]}};
        it_post post = {.source = "forms",
                        .body = bodies[i],
                        .len = strlen(bodies[i]),
                        .extra = extra,
                        .nextra = 2};
        it_http_response resp;
        IT_CHECK(it_gw_send(&gw, &conn, &post, &resp, err, sizeof err) == 0,
                 "request %d on the kept-alive connection: %s", i + 1, err);
        it_assert_accepted(&resp, ids[i]);
        it_http_response_deinit(&resp);
    }
    it_http_close(&conn);
    for (int i = 0; i < 3; i++) {
        it_kafka_record rec;
        it_find_record(&snap, ids[i], &rec);
        IT_CHECK(rec.value_len == strlen(bodies[i]) &&
                     memcmp(rec.value, bodies[i], rec.value_len) == 0,
                 "value of %s is not the body", ids[i]);
        IT_CHECK(strcmp(it_record_header(&rec, HP_HDR_CONTENT_TYPE), types[i]) == 0,
                 "content type %s, want %s", it_record_header(&rec, HP_HDR_CONTENT_TYPE), types[i]);
        it_kafka_record_deinit(&rec);
    }
    it_kafka_snapshot_deinit(&snap);
    it_gw_free(&gw);
}
END_TEST

/* Rotation: a signature made with any configured secret (or LiveKit key) is valid. */
START_TEST(test_secret_rotation)
{
    it_gw gw;
    it_gw_start(
        &gw, "",
        "[{\"name\": \"rotating\", \"verify\": {\"scheme\": \"hmac-sha256\", "
        "\"header\": \"X-Sig\", \"secrets\": [\"new-secret\", \"old-secret\"]}, "
        "\"event_id\": {\"json\": \"/id\"}},"
        " {\"name\": \"lk\", \"verify\": {\"scheme\": \"livekit\", \"keys\": "
        "{\"APIkeyA\": \"lk-secret-a-0123456789\", \"APIkeyB\": \"lk-secret-b-0123456789\"}},"
        " \"event_id\": {\"json\": \"/id\"}}]");
    hp_verify_config old = *it_gw_verify(&gw, "rotating");
    old.secrets = &old.secrets[1];
    old.nsecrets = 1;
    hp_verify_config second = *it_gw_verify(&gw, "lk");
    ck_assert_uint_eq(second.nkeys, 2);
    second.keys = &second.keys[1];
    second.nkeys = 1;
    const char *sources[] = {"rotating", "lk"};
    const hp_verify_config *vcs[] = {&old, &second};
    for (int i = 0; i < 2; i++) {
        char id[64], body[1024];
        it_unique(id, sizeof id, "rotation");
        it_post post = {.source = sources[i], .body = body, .sign_with = vcs[i]};
        post.len = body_text(body, sizeof body, id);
        it_http_response resp;
        it_gw_post(&gw, &post, &resp);
        it_assert_accepted(&resp, id);
        it_http_response_deinit(&resp);
    }
    it_gw_free(&gw);
}
END_TEST

/* X-Forwarded-For counts only from trusted_proxies: it names the client then. */
START_TEST(test_forwarded_for)
{
    it_gw gw;
    it_gw_start(&gw, "\"trusted_proxies\": [\"127.0.0.0/8\"]",
                "[{\"name\": \"proxied\", \"verify\": {\"scheme\": \"bearer\", "
                "\"secrets\": [\"t\"]}, \"event_id\": {\"json\": \"/id\"}, "
                "\"allow_ips\": [\"203.0.113.0/24\"]}]");
    char id[64], body[1024];
    it_unique(id, sizeof id, "xff");
    it_http_header extra[] = {{"X-Forwarded-For", "198.51.100.1, 203.0.113.9"}};
    it_post post = {.source = "proxied", .body = body, .extra = extra, .nextra = 1};
    post.len = body_text(body, sizeof body, id);
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    it_http_response resp;
    it_gw_post(&gw, &post, &resp);
    it_assert_accepted(&resp, id);
    it_http_response_deinit(&resp);
    it_kafka_record rec;
    it_find_record(&snap, id, &rec);
    IT_CHECK(strcmp(it_record_header(&rec, HP_HDR_REMOTE_ADDR), "203.0.113.9") == 0,
             "remote addr %s, want 203.0.113.9 (the rightmost untrusted X-Forwarded-For entry)",
             it_record_header(&rec, HP_HDR_REMOTE_ADDR));
    it_kafka_record_deinit(&rec);
    it_kafka_snapshot_deinit(&snap);
    it_gw_free(&gw);

    /* Without trusted proxies the same header is ignored: 127.0.0.1 is not allowed. */
    it_gw_start(&gw, "",
                "[{\"name\": \"proxied\", \"verify\": {\"scheme\": \"bearer\", "
                "\"secrets\": [\"t\"]}, \"event_id\": {\"json\": \"/id\"}, "
                "\"allow_ips\": [\"203.0.113.0/24\"]}]");
    it_unique(id, sizeof id, "xff-spoofed");
    post.len = body_text(body, sizeof body, id);
    it_gw_post(&gw, &post, &resp);
    it_assert_error(&resp, 403, "forbidden_ip", NULL);
    it_http_response_deinit(&resp);
    it_gw_free(&gw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gateway");
    TCase *tc = tcase_create("accepted");
    tcase_set_timeout(tc, 90);
    tcase_add_loop_test(tc, test_scheme_accepted, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_keepalive_any_content_type);
    tcase_add_test(tc, test_secret_rotation);
    tcase_add_test(tc, test_forwarded_for);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
