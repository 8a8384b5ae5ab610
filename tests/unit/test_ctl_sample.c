/*
 * Unit tests for hookpipectl's samples and signed requests (tools/ctl_sample,
 * tools/ctl_request): for every source of a configuration that covers every
 * scheme, every built-in sample is JSON, is signed so that the gateway's
 * verifier (hp_sig_verify) accepts it, and the gateway's own extractor
 * (gw_extract) finds the sample's event id and type in it — also where the
 * configuration's pointers are not in the provider's payload, or come from
 * headers. Errors name the source and the sample.
 */
#include "ctl_request.h"
#include "ctl_sample.h"
#include "gw_extract.h"
#include "hp_jsonptr.h"
#include "hp_sig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_S 1796025600LL

/* One source per scheme, and a few with pointers the samples do not carry. */
static const char config_text[] =
    "{\"sources\": ["
    "{\"name\": \"livekit\", \"verify\": {\"scheme\": \"livekit\", \"keys\": {\"APIk\": "
    "\"lk-secret-0123456789\"}}, \"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": "
    "\"/event\"}, \"key\": {\"json\": \"/room/sid\"}, \"event_time\": {\"json\": \"/createdAt\"}, "
    "\"handler\": \"livekit\"},"
    "{\"name\": \"stripe\", \"verify\": {\"scheme\": \"stripe\", \"secrets\": [\"whsec_test\"]}, "
    "\"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"}, \"key\": {\"json\": "
    "\"/data/object/id\"}, \"event_time\": {\"json\": \"/created\"}, \"handler\": \"entity\"},"
    "{\"name\": \"github\", \"verify\": {\"scheme\": \"github\", \"secrets\": [\"gh\"]}, "
    "\"event_id\": {\"header\": \"X-GitHub-Delivery\"}, \"event_type\": {\"header\": "
    "\"X-GitHub-Event\"}},"
    "{\"name\": \"slack\", \"verify\": {\"scheme\": \"slack\", \"secrets\": [\"sl\"]}, "
    "\"event_id\": {\"json\": \"/event_id\"}, \"event_type\": {\"json\": \"/event/type\"}, "
    "\"event_time\": {\"json\": \"/event_time\"}},"
    "{\"name\": \"shopify\", \"verify\": {\"scheme\": \"shopify\", \"secrets\": [\"sh\"]}, "
    "\"event_id\": {\"header\": \"X-Shopify-Webhook-Id\"}, \"event_type\": {\"header\": "
    "\"X-Shopify-Topic\"}, \"key\": {\"json\": \"/id\"}},"
    "{\"name\": \"svix\", \"verify\": {\"scheme\": \"standard-webhooks\", \"secrets\": "
    "[\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]}, \"event_id\": {\"header\": \"webhook-id\"}, "
    "\"event_type\": {\"json\": \"/type\"}, \"event_time\": {\"json\": \"/timestamp\"}},"
    "{\"name\": \"orders\", \"verify\": {\"scheme\": \"hmac-sha256\", \"header\": "
    "\"X-Signature\", \"encoding\": \"base64\", \"prefix\": \"sha256=\", \"secrets\": [\"o\"]}, "
    "\"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"}, \"key\": {\"json\": "
    "\"/order_id\"}},"
    "{\"name\": \"legacy\", \"verify\": {\"scheme\": \"hmac-sha1\", \"header\": \"X-Sig\", "
    "\"secrets\": [\"l\"]}, \"event_id\": {\"json\": \"/meta/delivery~1id\"}, \"event_type\": "
    "{\"json\": \"/meta/kind\"}, \"key\": {\"header\": \"X-Tenant\"}, \"event_time\": {\"json\": "
    "\"/meta/at\"}, \"entity_type\": {\"json\": \"/meta/entity\"}},"
    "{\"name\": \"basic\", \"verify\": {\"scheme\": \"basic\", \"secrets\": [\"u:p\"]}, "
    "\"event_id\": {\"json\": \"/id\"}},"
    "{\"name\": \"bearer\", \"verify\": {\"scheme\": \"bearer\", \"secrets\": [\"tok\"]}, "
    "\"event_id\": {\"body_sha256\": true}},"
    "{\"name\": \"open\", \"verify\": {\"scheme\": \"none\"}, \"insecure\": true, \"event_id\": "
    "{\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"}},"
    "{\"name\": \"bad\", \"verify\": {\"scheme\": \"livekit\", \"api_key\": \"k\", \"secrets\": "
    "[\"s\"]}, \"event_id\": {\"json\": \"/room/sid/x\"}}"
    "]}";

static hp_config cfg;
static ctl_sample_ids ids = {
    .id = "AbCdEfGhIjKlMnOpQrStUvWx", .uuid = "6f1c2a4e-8b1d-4c3e-9f00-0123456789ab", .n = 4242};

static void setup(void)
{
    char err[512];
    ck_assert_msg(hp_config_load_string(&cfg, config_text, "config.json", err, sizeof err) == HP_OK,
                  "%s", err);
}

static void teardown(void)
{
    hp_config_deinit(&cfg);
}

static const char *get_header(void *ctx, const char *name)
{
    return ctl_request_header(ctx, name);
}

/* Verifies and extracts req as the gateway would; checks what the sample promised. */
static void check_request(const hp_source *src, ctl_request *req, const char *what)
{
    hp_sig_outcome out;
    hp_sig_verify(&src->verify, req->body, req->len, get_header, req, NOW_S + 1, &out);
    ck_assert_msg(out.result == HP_SIG_OK, "%s: signature %s (%s)", what,
                  hp_sig_result_name(out.result), out.reason);

    gw_header items[CTL_REQUEST_MAX_HEADERS];
    for (size_t i = 0; i < req->nheaders; i++)
        items[i] = (gw_header){req->names[i], req->values[i]};
    gw_headers hs = {items, req->nheaders};
    gw_extracted ex = {0};
    const char *field = NULL;
    char err[512];
    hp_err rc = gw_extract(src, req->body, req->len, &hs, &ex, &field, err, sizeof err);
    ck_assert_msg(rc == HP_OK, "%s: the gateway rejects it: %s: %s", what, field, err);
    if (src->event_id.kind != HP_EXTRACT_BODY_SHA256)
        ck_assert_msg(strcmp(ex.event_id, req->event_id) == 0, "%s: event id %s, want %s", what,
                      ex.event_id, req->event_id);
    if (src->event_type.kind != HP_EXTRACT_NONE)
        ck_assert_msg(ex.event_type && strcmp(ex.event_type, req->event_type) == 0,
                      "%s: event type %s, want %s", what, ex.event_type ? ex.event_type : "(none)",
                      req->event_type);
    if (src->event_time.kind != HP_EXTRACT_NONE)
        ck_assert_msg(ex.event_time_ms != HP_ENVELOPE_NO_TIME, "%s: no event time", what);
    gw_extracted_deinit(&ex);
    ck_assert_ptr_nonnull(ctl_request_header(req, "Content-Type"));
    ck_assert_ptr_nonnull(ctl_request_header(req, "User-Agent"));
}

START_TEST(test_every_sample_of_every_source)
{
    char err[512], what[256];
    int checked = 0;
    for (size_t i = 0; i < cfg.nsources; i++) {
        const hp_source *src = &cfg.sources[i];
        if (strcmp(src->name, "bad") == 0)
            continue;
        const char *const *events = ctl_sample_events(src->verify.scheme);
        ck_assert_ptr_nonnull(events[0]);
        for (size_t k = 0; events[k]; k++) {
            ctl_request req;
            snprintf(what, sizeof what, "source %s, sample %s", src->name, events[k]);
            hp_err rc =
                ctl_request_build(&req, src, NULL, 0, events[k], NOW_S, &ids, err, sizeof err);
            ck_assert_msg(rc == HP_OK, "%s: %s", what, err);
            ck_assert(req.sample);
            ck_assert_str_eq(req.event_type, events[k]);
            json_t *root = json_loadb((const char *)req.body, req.len, 0, NULL);
            ck_assert_msg(json_is_object(root), "%s: not a JSON object", what);
            json_decref(root);
            check_request(src, &req, what);
            ctl_request_deinit(&req);
            checked++;
        }
    }
    ck_assert_int_ge(checked, 30);
}
END_TEST

START_TEST(test_given_body)
{
    char err[512];
    const hp_source *src = hp_config_find_source(&cfg, "github");
    const char body[] = "{\"action\":\"closed\"}";
    ctl_request req;
    ck_assert_int_eq(ctl_request_build(&req, src, (const unsigned char *)body, strlen(body), NULL,
                                       NOW_S, &ids, err, sizeof err),
                     HP_OK);
    ck_assert(!req.sample);
    ck_assert_mem_eq(req.body, body, strlen(body));
    ck_assert_str_eq(ctl_request_header(&req, "X-GitHub-Event"), "issues");
    ck_assert_str_eq(ctl_request_header(&req, "X-GitHub-Delivery"), ids.uuid);
    check_request(src, &req, "github, given body");
    ctl_request_deinit(&req);

    /* A header-extracted key gets a value too; the JSON pointers are the user's business. */
    src = hp_config_find_source(&cfg, "legacy");
    ck_assert_int_eq(ctl_request_build(&req, src, (const unsigned char *)body, strlen(body), NULL,
                                       NOW_S, &ids, err, sizeof err),
                     HP_OK);
    ck_assert_str_eq(ctl_request_header(&req, "X-Tenant"), "hookpipectl-sample");
    ctl_request_deinit(&req);
}
END_TEST

START_TEST(test_pointers_created)
{
    char err[512];
    ctl_sample s;
    const hp_source *src = hp_config_find_source(&cfg, "legacy");
    ck_assert_int_eq(ctl_sample_build(src, NULL, NOW_S, &ids, &s, err, sizeof err), HP_OK);
    json_t *root = json_loads(s.body, 0, NULL);
    ck_assert_str_eq(json_string_value(hp_jsonptr_get(root, "/meta/delivery~1id")), s.event_id);
    ck_assert_str_eq(json_string_value(hp_jsonptr_get(root, "/meta/kind")), "order.paid");
    ck_assert_int_eq(json_integer_value(hp_jsonptr_get(root, "/meta/at")), NOW_S);
    ck_assert_str_eq(json_string_value(hp_jsonptr_get(root, "/meta/entity")), "sample");
    /* The generic sample's own fields stay. */
    ck_assert_str_eq(json_string_value(hp_jsonptr_get(root, "/id")), "evt_"
                                                                     "AbCdEfGhIjKlMnOpQrStUvWx");
    json_decref(root);
    ctl_sample_deinit(&s);
}
END_TEST

START_TEST(test_errors)
{
    char err[512];
    ctl_sample s;
    ctl_request req;
    const hp_source *lk = hp_config_find_source(&cfg, "livekit");
    ck_assert_int_eq(ctl_sample_build(lk, "room_exploded", NOW_S, &ids, &s, err, sizeof err),
                     HP_ERR_INVALID);
    ck_assert_msg(strstr(err, "no sample \"room_exploded\"") && strstr(err, "room_started") &&
                      strstr(err, "source livekit"),
                  "%s", err);
    const hp_source *bad = hp_config_find_source(&cfg, "bad");
    ck_assert_int_eq(ctl_request_build(&req, bad, NULL, 0, NULL, NOW_S, &ids, err, sizeof err),
                     HP_ERR_INVALID);
    ck_assert_msg(strstr(err, "/room/sid/x") && strstr(err, "source bad"), "%s", err);

    json_t *root = json_pack("{s:[i], s:i}", "arr", 1, "n", 2);
    ck_assert_int_eq(ctl_sample_ensure(root, "/arr/0", json_string("x")), HP_OK); /* resolves */
    ck_assert_int_eq(ctl_sample_ensure(root, "/arr/5", json_string("x")), HP_ERR_INVALID);
    ck_assert_int_eq(ctl_sample_ensure(root, "/n/x", json_string("x")), HP_ERR_INVALID);
    ck_assert_int_eq(ctl_sample_ensure(root, "/a~0b/c", json_string("x")), HP_OK);
    ck_assert_str_eq(json_string_value(hp_jsonptr_get(root, "/a~0b/c")), "x");
    json_decref(root);
}
END_TEST

START_TEST(test_random_ids)
{
    ctl_sample_ids a, b;
    ck_assert_int_eq(ctl_sample_ids_random(&a), HP_OK);
    ck_assert_int_eq(ctl_sample_ids_random(&b), HP_OK);
    ck_assert_uint_eq(strlen(a.id), 24);
    ck_assert_uint_eq(strlen(a.uuid), 36);
    ck_assert_int_eq(a.uuid[14], '4');
    ck_assert_str_ne(a.id, b.id);
    ck_assert(a.n >= 1 && a.n <= 999999999999LL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_sample");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_every_sample_of_every_source);
    tcase_add_test(tc, test_given_body);
    tcase_add_test(tc, test_pointers_created);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_random_ids);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
