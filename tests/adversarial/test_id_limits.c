/*
 * adversarial.id_limits (issue 11, item 1, the gateway's half): an event
 * id, type or key longer than the worker can index (HP_ENVELOPE_EVENT_ID_MAX
 * 512, _EVENT_TYPE_MAX 256, _KEY_MAX 1024 bytes) is refused at the gateway,
 * 400 invalid_payload naming the field and the limit, and never reaches
 * Kafka; values exactly at the limits are accepted and recorded whole.
 */
#include "adv_admit.h"
#include "hp_envelope.h"
#include "it_env.h"

#include <check.h>

#define SRC                                                                                        \
    "[{\"name\": \"limits\", \"verify\": {\"scheme\": \"hmac-sha256\", "                           \
    "\"header\": \"X-Webhook-Signature\", \"secrets\": [\"id-limits-secret\"]}, "                  \
    "\"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"}, "                   \
    "\"key\": {\"json\": \"/key\"}}]"

/* A text of n bytes: prefix, then 'x' up to n. The caller frees. */
static char *text_of(const char *prefix, size_t n)
{
    char *s = hp_xmalloc(n + 1);
    size_t p = strlen(prefix);
    ck_assert_uint_le(p, n);
    memcpy(s, prefix, p);
    memset(s + p, 'x', n - p);
    s[n] = '\0';
    return s;
}

/* Posts {"id": id, "type": type, "key": key} signed. */
static void post(it_gw *gw, const char *id, const char *type, const char *key,
                 it_http_response *resp)
{
    size_t size = strlen(id) + strlen(type) + strlen(key) + 64;
    char *body = hp_xmalloc(size);
    int n =
        snprintf(body, size, "{\"id\": \"%s\", \"type\": \"%s\", \"key\": \"%s\"}", id, type, key);
    ck_assert(n > 0 && (size_t)n < size);
    it_post p = {.source = "limits", .body = body, .len = (size_t)n};
    it_gw_post(gw, &p, resp);
    free(body);
}

/* Asserts 400 invalid_payload for field, whose message names the limit. */
static void assert_too_long(const it_http_response *resp, const char *field, size_t limit)
{
    it_assert_error(resp, 400, "invalid_payload", field);
    char *msg = adv_message(resp);
    char want[32];
    snprintf(want, sizeof want, "%zu bytes", limit);
    IT_CHECK(strstr(msg, want) != NULL, "the message does not name the limit %zu: %s", limit, msg);
    free(msg);
}

START_TEST(test_id_limits)
{
    it_gw gw;
    it_gw_start(&gw, "", SRC);
    char uid[64];
    it_unique(uid, sizeof uid, "idl");
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    it_http_response resp;

    /* One byte over each limit. */
    char *id = text_of(uid, HP_ENVELOPE_EVENT_ID_MAX + 1);
    post(&gw, id, "t", "k", &resp);
    assert_too_long(&resp, "event_id", HP_ENVELOPE_EVENT_ID_MAX);
    it_http_response_deinit(&resp);
    free(id);

    char *type = text_of("t", HP_ENVELOPE_EVENT_TYPE_MAX + 1);
    char short_id[80];
    snprintf(short_id, sizeof short_id, "%s-short", uid);
    post(&gw, short_id, type, "k", &resp);
    assert_too_long(&resp, "event_type", HP_ENVELOPE_EVENT_TYPE_MAX);
    it_http_response_deinit(&resp);
    free(type);

    char *key = text_of("k", HP_ENVELOPE_KEY_MAX + 1);
    post(&gw, short_id, "t", key, &resp);
    assert_too_long(&resp, "key", HP_ENVELOPE_KEY_MAX);
    it_http_response_deinit(&resp);
    free(key);
    it_assert_not_produced(&snap, short_id);

    /* Exactly at the limits: accepted, recorded whole. */
    id = text_of(uid, HP_ENVELOPE_EVENT_ID_MAX);
    type = text_of("t", HP_ENVELOPE_EVENT_TYPE_MAX);
    key = text_of("k", HP_ENVELOPE_KEY_MAX);
    post(&gw, id, type, key, &resp);
    it_assert_accepted(&resp, id);
    it_http_response_deinit(&resp);
    it_kafka_record rec;
    it_find_record(&snap, id, &rec);
    IT_CHECK(strcmp(it_record_header(&rec, HP_HDR_EVENT_TYPE), type) == 0,
             "the event type was not recorded whole");
    IT_CHECK(rec.key && rec.key_len == HP_ENVELOPE_KEY_MAX &&
                 memcmp(rec.key, key, rec.key_len) == 0,
             "the key was not recorded whole");
    it_kafka_record_deinit(&rec);
    free(id);
    free(type);
    free(key);
    it_kafka_snapshot_deinit(&snap);
    it_gw_free(&gw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("adversarial.id_limits");
    TCase *tc = tcase_create("id_limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_id_limits);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
