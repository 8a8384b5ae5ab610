/*
 * Unit tests for gw_extract: event id, type, key and time from JSON bodies
 * (RFC 6901 pointers, strings and integers), from headers, and as the body's
 * SHA-256; every rejection with its field; and bodies shaped like LiveKit's
 * and Stripe's. Sources come from configuration text, as in production.
 *
 * JSON is written with single quotes, turned into double quotes by sq().
 */
#include "gw_extract.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hp_config cfg;
static gw_extracted ex;
static const char *field;
static char err[512];
static char body_buf[8192];

/* text with every ' turned into ", into buf. */
static const char *sq(char *buf, size_t bufsz, const char *text)
{
    size_t n = strlen(text);
    ck_assert_uint_lt(n, bufsz);
    for (size_t i = 0; i <= n; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    return buf;
}

/* Loads a configuration with one insecure source "s" that has the extra
 * members members (single-quoted JSON, may be ""); returns the source. */
static const hp_source *source(const char *members)
{
    char sq_text[2048], text[2048];
    snprintf(sq_text, sizeof sq_text,
             "{'sources': [{'name': 's', 'verify': {'scheme': 'none'}, 'insecure': true%s%s}]}",
             *members ? ", " : "", members);
    hp_config_deinit(&cfg);
    hp_err rc =
        hp_config_load_string(&cfg, sq(text, sizeof text, sq_text), "config.json", err, sizeof err);
    ck_assert_msg(rc == HP_OK, "config: %s", err);
    return &cfg.sources[0];
}

static hp_err run(const hp_source *src, const char *body, const gw_headers *hs)
{
    gw_extracted_deinit(&ex);
    err[0] = '\0';
    field = "unset";
    return gw_extract(src, (const unsigned char *)body, strlen(body), hs, &ex, &field, err,
                      sizeof err);
}

/* Extracts from a single-quoted JSON body, expecting success. */
static void ok(const hp_source *src, const char *body_sq)
{
    hp_err rc = run(src, sq(body_buf, sizeof body_buf, body_sq), NULL);
    ck_assert_msg(rc == HP_OK, "extract failed: %s", err);
    ck_assert_ptr_null(field);
    ck_assert_ptr_nonnull(ex.event_id);
    ck_assert_ptr_nonnull(ex.key);
}

/* Extracts from a single-quoted JSON body, expecting a failure of
 * expected_field; returns the message. */
static const char *fails(const hp_source *src, const char *body_sq, const char *expected_field)
{
    hp_err rc = run(src, sq(body_buf, sizeof body_buf, body_sq), NULL);
    ck_assert_msg(rc == HP_ERR_INVALID, "extracted, expected a failure: %s", body_sq);
    ck_assert_str_eq(field, expected_field);
    ck_assert_ptr_null(ex.event_id);
    ck_assert_ptr_null(ex.key);
    ck_assert_uint_gt(strlen(err), 0);
    return err;
}

static void setup(void)
{
    memset(&cfg, 0, sizeof cfg);
    memset(&ex, 0, sizeof ex);
}

static void teardown(void)
{
    gw_extracted_deinit(&ex);
    hp_config_deinit(&cfg);
}

START_TEST(test_json_string_id)
{
    ok(source("'event_id': {'json': '/id'}"), "{'id': 'evt_1', 'other': 2}");
    ck_assert_str_eq(ex.event_id, "evt_1");
    ck_assert_str_eq(ex.key, "evt_1"); /* no key extractor: the id */
    ck_assert_ptr_null(ex.event_type);
    ck_assert(ex.event_time_ms == HP_ENVELOPE_NO_TIME);
}
END_TEST

START_TEST(test_json_integer_id)
{
    const hp_source *src = source("'event_id': {'json': '/id'}");
    ok(src, "{'id': 1234567890123}");
    ck_assert_str_eq(ex.event_id, "1234567890123");
    ok(src, "{'id': -7}");
    ck_assert_str_eq(ex.event_id, "-7");
    ok(src, "{'id': 0}");
    ck_assert_str_eq(ex.event_id, "0");
}
END_TEST

START_TEST(test_nested_and_escaped_pointers)
{
    /* "~1" is "/" and "~0" is "~"; array elements by index. */
    const hp_source *src =
        source("'event_id': {'json': '/a~1b/c~0d'}, 'key': {'json': '/items/1/id'}");
    ok(src, "{'a/b': {'c~d': 'x'}, 'items': [{'id': 'first'}, {'id': 'second'}]}");
    ck_assert_str_eq(ex.event_id, "x");
    ck_assert_str_eq(ex.key, "second");
}
END_TEST

START_TEST(test_whole_document_pointer)
{
    const hp_source *src = source("'event_type': {'json': ''}");
    const char *msg = fails(src, "{'a': 1}", "event_type");
    ck_assert_str_eq(msg, "event_type: the value at \"\" is an object; expected a string or an "
                          "integer");
}
END_TEST

START_TEST(test_id_from_header)
{
    const hp_source *src = source("'event_id': {'header': 'X-GitHub-Delivery'}, "
                                  "'event_type': {'header': 'X-GitHub-Event'}");
    gw_header items[] = {{"x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
                         {"X-GITHUB-EVENT", "push"}};
    gw_headers hs = {items, 2};
    /* Nothing reads JSON, so a form post is fine. */
    ck_assert_int_eq(run(src, "payload=%7B%7D", &hs), HP_OK);
    ck_assert_str_eq(ex.event_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    ck_assert_str_eq(ex.key, ex.event_id);
    ck_assert_str_eq(ex.event_type, "push");

    gw_headers none = {NULL, 0};
    ck_assert_int_eq(run(src, "{}", &none), HP_ERR_INVALID);
    ck_assert_str_eq(field, "event_id");
    ck_assert_str_eq(err, "event_id: the header X-GitHub-Delivery is missing");
    ck_assert_int_eq(run(src, "{}", NULL), HP_ERR_INVALID);
}
END_TEST

START_TEST(test_header_value_checks)
{
    const hp_source *src = source("'event_id': {'header': 'X-Id'}");
    gw_header items[] = {{"X-Id", "bad\xff"}};
    gw_headers hs = {items, 1};
    ck_assert_int_eq(run(src, "", &hs), HP_ERR_INVALID);
    ck_assert_str_eq(err, "event_id: the header X-Id is not valid UTF-8");
    items[0].value = "";
    ck_assert_int_eq(run(src, "", &hs), HP_ERR_INVALID);
    ck_assert_str_eq(err, "event_id: the header X-Id is empty");
}
END_TEST

START_TEST(test_body_sha256)
{
    /* The default event id. */
    const hp_source *src = source("");
    ck_assert_int_eq(cfg.sources[0].event_id.kind, HP_EXTRACT_BODY_SHA256);
    ck_assert_int_eq(run(src, "", NULL), HP_OK);
    ck_assert_str_eq(ex.event_id,
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_int_eq(run(src, "abc", NULL), HP_OK);
    ck_assert_str_eq(ex.event_id,
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_str_eq(ex.key, ex.event_id);
    /* A NULL body of length 0 is the empty body. */
    gw_extracted_deinit(&ex);
    ck_assert_int_eq(gw_extract(src, NULL, 0, NULL, &ex, &field, err, sizeof err), HP_OK);
    ck_assert_str_eq(ex.event_id,
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_missing_and_empty_id)
{
    const hp_source *src = source("'event_id': {'json': '/id'}");
    ck_assert_str_eq(fails(src, "{'ID': 'x'}", "event_id"),
                     "event_id: the value at \"/id\" is missing");
    ck_assert_str_eq(fails(src, "{'id': ''}", "event_id"),
                     "event_id: the value at \"/id\" is empty");
    ck_assert_str_eq(fails(src, "[1, 2]", "event_id"), "event_id: the value at \"/id\" is missing");
}
END_TEST

/* A body whose field f holds n bytes of 'a' (and id "x" unless f is "id"). */
static const char *long_body(const char *f, size_t n)
{
    static char body[HP_ENVELOPE_KEY_MAX + 128];
    char v[HP_ENVELOPE_KEY_MAX + 2];
    ck_assert_uint_le(n, HP_ENVELOPE_KEY_MAX + 1);
    memset(v, 'a', n);
    v[n] = '\0';
    if (strcmp(f, "id") == 0)
        snprintf(body, sizeof body, "{'id': '%s'}", v);
    else
        snprintf(body, sizeof body, "{'id': 'x', '%s': '%s'}", f, v);
    return body;
}

START_TEST(test_long_values)
{
    const hp_source *src =
        source("'event_id': {'json': '/id'}, 'event_type': {'json': '/t'}, 'key': {'json': '/k'}");
    /* At each limit: accepted. */
    ok(src, long_body("id", HP_ENVELOPE_EVENT_ID_MAX));
    ck_assert_uint_eq(strlen(ex.event_id), HP_ENVELOPE_EVENT_ID_MAX);
    ok(src, long_body("t", HP_ENVELOPE_EVENT_TYPE_MAX));
    ck_assert_uint_eq(strlen(ex.event_type), HP_ENVELOPE_EVENT_TYPE_MAX);
    ok(src, long_body("k", HP_ENVELOPE_KEY_MAX));
    ck_assert_uint_eq(strlen(ex.key), HP_ENVELOPE_KEY_MAX);
    /* One byte more: refused, naming the field and the limit. */
    ck_assert_str_eq(fails(src, long_body("id", HP_ENVELOPE_EVENT_ID_MAX + 1), "event_id"),
                     "event_id: the value at \"/id\" is 513 bytes long; the longest event_id "
                     "hookpipe accepts is 512 bytes");
    ck_assert_str_eq(fails(src, long_body("t", HP_ENVELOPE_EVENT_TYPE_MAX + 1), "event_type"),
                     "event_type: the value at \"/t\" is 257 bytes long; the longest event_type "
                     "hookpipe accepts is 256 bytes");
    ck_assert_str_eq(fails(src, long_body("k", HP_ENVELOPE_KEY_MAX + 1), "key"),
                     "key: the value at \"/k\" is 1025 bytes long; the longest key hookpipe "
                     "accepts is 1024 bytes");
}
END_TEST

START_TEST(test_long_integer_id)
{
    /* An integer id is its decimal text, and held to the same limit. */
    const hp_source *src = source("'event_id': {'json': '/id'}");
    static char body[HP_ENVELOPE_EVENT_ID_MAX + 64];
    char v[HP_ENVELOPE_EVENT_ID_MAX + 2];
    memset(v, '7', HP_ENVELOPE_EVENT_ID_MAX + 1);
    v[HP_ENVELOPE_EVENT_ID_MAX + 1] = '\0';
    snprintf(body, sizeof body, "{'id': %s}", v);
    ck_assert_str_eq(fails(src, body, "event_id"),
                     "event_id: the value at \"/id\" is 513 bytes long; the longest event_id "
                     "hookpipe accepts is 512 bytes");
}
END_TEST

START_TEST(test_id_of_wrong_type)
{
    const hp_source *src = source("'event_id': {'json': '/id'}");
    ck_assert_str_eq(
        fails(src, "{'id': 17.25}", "event_id"),
        "event_id: the value at \"/id\" is a number with a fraction or exponent; expected a "
        "string or an integer");
    ck_assert_str_eq(fails(src, "{'id': true}", "event_id"),
                     "event_id: the value at \"/id\" is a boolean; expected a string or an "
                     "integer");
    ck_assert_str_eq(fails(src, "{'id': null}", "event_id"),
                     "event_id: the value at \"/id\" is null; expected a string or an integer");
    ck_assert_str_eq(fails(src, "{'id': {'v': 'SENSITIVE'}}", "event_id"),
                     "event_id: the value at \"/id\" is an object; expected a string or an "
                     "integer");
    ck_assert_str_eq(fails(src, "{'id': ['SENSITIVE']}", "event_id"),
                     "event_id: the value at \"/id\" is an array; expected a string or an "
                     "integer");
}
END_TEST

START_TEST(test_nul_in_strings)
{
    const hp_source *src = source("'event_id': {'json': '/id'}");
    ck_assert_str_eq(fails(src, "{'id': 'a\\u0000b'}", "event_id"),
                     "event_id: the value at \"/id\" contains a NUL character");
    /* Elsewhere in the body it is none of the gateway's business. */
    ok(src, "{'id': 'x', 'note': 'a\\u0000b'}");
    ck_assert_str_eq(ex.event_id, "x");
}
END_TEST

START_TEST(test_duplicate_names_allowed)
{
    ok(source("'event_id': {'json': '/id'}"), "{'id': 'first', 'id': 'last'}");
    ck_assert_str_eq(ex.event_id, "last");
}
END_TEST

START_TEST(test_body_not_json)
{
    const hp_source *src = source("'event_id': {'json': '/id'}");
    const char *msg = fails(src, "payload=SENSITIVE", "body");
    ck_assert_ptr_null(strstr(msg, "SENSITIVE"));
    /* The position of the error, never the text around it. */
    const char *prefix = "body: not a JSON object or array (line 1, column ";
    ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "%s", msg);
    fails(src, "", "body");
    fails(src, "'just a string'", "body");
    fails(src, "42", "body");
    fails(src, "{'id': 'x'} trailing", "body");
    fails(src, "{'id': '\xff'}", "body"); /* jansson refuses invalid UTF-8 */
    /* Only type, key or entity_type read JSON: still a JSON body. */
    fails(source("'entity_type': {'json': '/object'}"), "nope", "body");
    /* No JSON extractor: any bytes. */
    ck_assert_int_eq(run(source("'event_type': {'header': 'X-Type'}"), "\x01\xff not json", NULL),
                     HP_OK);
    ck_assert_ptr_null(ex.event_type);
}
END_TEST

START_TEST(test_event_time)
{
    const hp_source *src = source("'event_id': {'json': '/id'}, 'event_time': {'json': '/t'}");
    ok(src, "{'id': 'a', 't': 1700000000}");
    ck_assert_int_eq(ex.event_time_ms, 1700000000000);
    ok(src, "{'id': 'a', 't': 1700000000123}");
    ck_assert_int_eq(ex.event_time_ms, 1700000000123);
    ok(src, "{'id': 'a', 't': 1700000000.25}");
    ck_assert_int_eq(ex.event_time_ms, 1700000000250);
    ok(src, "{'id': 'a', 't': 1700000000123.0}");
    ck_assert_int_eq(ex.event_time_ms, 1700000000123);
    ok(src, "{'id': 'a', 't': '2023-11-14T22:13:20Z'}");
    ck_assert_int_eq(ex.event_time_ms, 1700000000000);
    ok(src, "{'id': 'a', 't': '2023-11-14T23:13:20.5+01:00'}");
    ck_assert_int_eq(ex.event_time_ms, 1700000000500);
    ok(src, "{'id': 'a', 't': '1700000000'}");
    ck_assert_int_eq(ex.event_time_ms, 1700000000000);
    ok(src, "{'id': 'a', 't': '1700000000123'}");
    ck_assert_int_eq(ex.event_time_ms, 1700000000123);
    ok(src, "{'id': 'a', 't': 0}");
    ck_assert_int_eq(ex.event_time_ms, 0);
    /* Absent or empty: no time, not an error. */
    ok(src, "{'id': 'a'}");
    ck_assert(ex.event_time_ms == HP_ENVELOPE_NO_TIME);
    ok(src, "{'id': 'a', 't': ''}");
    ck_assert(ex.event_time_ms == HP_ENVELOPE_NO_TIME);
}
END_TEST

START_TEST(test_event_time_invalid)
{
    const hp_source *src = source("'event_id': {'json': '/id'}, 'event_time': {'json': '/t'}");
    ck_assert_str_eq(fails(src, "{'id': 'a', 't': 'yesterday'}", "event_time"),
                     "event_time: the value at \"/t\" is not a time (UNIX seconds or "
                     "milliseconds, or RFC 3339; from 1970 to 9999)");
    fails(src, "{'id': 'a', 't': '2023-13-01T00:00:00Z'}", "event_time");
    fails(src, "{'id': 'a', 't': '17e8'}", "event_time");
    fails(src, "{'id': 'a', 't': -1}", "event_time");
    fails(src, "{'id': 'a', 't': 1e300}", "event_time");
    fails(src, "{'id': 'a', 't': 9223372036854775807}", "event_time");
    ck_assert_str_eq(fails(src, "{'id': 'a', 't': true}", "event_time"),
                     "event_time: the value at \"/t\" is a boolean; expected UNIX seconds or "
                     "milliseconds, or an RFC 3339 string");
    fails(src, "{'id': 'a', 't': null}", "event_time");
    fails(src, "{'id': 'a', 't': {}}", "event_time");

    src = source("'event_time': {'header': 'X-Time'}");
    gw_header items[] = {{"X-Time", "soon"}};
    gw_headers hs = {items, 1};
    ck_assert_int_eq(run(src, "", &hs), HP_ERR_INVALID);
    ck_assert_str_eq(field, "event_time");
    items[0].value = "1700000000";
    ck_assert_int_eq(run(src, "", &hs), HP_OK);
    ck_assert_int_eq(ex.event_time_ms, 1700000000000);
}
END_TEST

START_TEST(test_key_and_type)
{
    const hp_source *src = source("'event_id': {'json': '/id'}, 'event_type': {'json': '/type'}, "
                                  "'key': {'json': '/obj/id'}");
    ok(src, "{'id': 'e1', 'type': 'a.b', 'obj': {'id': 42}}");
    ck_assert_str_eq(ex.event_type, "a.b");
    ck_assert_str_eq(ex.key, "42");
    /* Absent or empty key: the event id. Absent or empty type: none. */
    ok(src, "{'id': 'e2'}");
    ck_assert_str_eq(ex.key, "e2");
    ck_assert_ptr_null(ex.event_type);
    ok(src, "{'id': 'e3', 'type': '', 'obj': {'id': ''}}");
    ck_assert_str_eq(ex.key, "e3");
    ck_assert_ptr_null(ex.event_type);
    ck_assert_str_eq(
        fails(src, "{'id': 'e4', 'type': 3.5}", "event_type"),
        "event_type: the value at \"/type\" is a number with a fraction or exponent; expected a "
        "string or an integer");
    fails(src, "{'id': 'e5', 'obj': {'id': false}}", "key");
}
END_TEST

START_TEST(test_livekit_body)
{
    const hp_source *src =
        source("'event_id': {'json': '/id'}, 'event_type': {'json': '/event'}, "
               "'key': {'json': '/room/sid'}, 'event_time': {'json': '/createdAt'}");
    /* LiveKit's protobuf JSON writes int64 as a string. */
    ok(src, "{'event': 'room_started', 'room': {'sid': 'RM_hycBMAjmt6Ub', 'name': 'Demo Room', "
            "'emptyTimeout': 300, 'creationTime': '1692985556'}, "
            "'id': 'EV_eugWmGhovZmm', 'createdAt': '1692985556'}");
    ck_assert_str_eq(ex.event_id, "EV_eugWmGhovZmm");
    ck_assert_str_eq(ex.event_type, "room_started");
    ck_assert_str_eq(ex.key, "RM_hycBMAjmt6Ub");
    ck_assert_int_eq(ex.event_time_ms, 1692985556000);
    /* participant_joined and the like; an event without a room keys by id. */
    ok(src, "{'event': 'egress_started', 'egressInfo': {'egressId': 'EG_1'}, 'id': 'EV_2', "
            "'createdAt': 1692985557}");
    ck_assert_str_eq(ex.key, "EV_2");
    ck_assert_int_eq(ex.event_time_ms, 1692985557000);
}
END_TEST

START_TEST(test_stripe_body)
{
    const hp_source *src =
        source("'event_id': {'json': '/id'}, 'event_type': {'json': '/type'}, "
               "'key': {'json': '/data/object/id'}, 'event_time': {'json': '/created'}, "
               "'handler': 'entity', 'entity_type': {'json': '/data/object/object'}");
    ok(src, "{'id': 'evt_1NG8Du2eZvKYlo2CUI79vXWy', 'object': 'event', 'api_version': "
            "'2022-11-15', 'created': 1680064028, 'data': {'object': {'id': "
            "'cus_NffrFeUfNV2Hib', 'object': 'customer', 'email': 'jenny@example.com', "
            "'metadata': {}}}, 'livemode': false, 'pending_webhooks': 1, 'request': {'id': "
            "null, 'idempotency_key': null}, 'type': 'customer.created'}");
    ck_assert_str_eq(ex.event_id, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
    ck_assert_str_eq(ex.event_type, "customer.created");
    ck_assert_str_eq(ex.key, "cus_NffrFeUfNV2Hib");
    ck_assert_int_eq(ex.event_time_ms, 1680064028000);
}
END_TEST

START_TEST(test_errstr_optional)
{
    const hp_source *src = source("'event_id': {'json': '/id'}");
    const char *f = NULL;
    ck_assert_int_eq(gw_extract(src, (const unsigned char *)"{}", 2, NULL, &ex, &f, NULL, 0),
                     HP_ERR_INVALID);
    ck_assert_str_eq(f, "event_id");
    char small[12];
    ck_assert_int_eq(
        gw_extract(src, (const unsigned char *)"{}", 2, NULL, &ex, NULL, small, sizeof small),
        HP_ERR_INVALID);
    ck_assert_str_eq(small, "event_id: t");
}
END_TEST

static Suite *extract_suite(void)
{
    Suite *s = suite_create("gw_extract");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_json_string_id);
    tcase_add_test(tc, test_json_integer_id);
    tcase_add_test(tc, test_nested_and_escaped_pointers);
    tcase_add_test(tc, test_whole_document_pointer);
    tcase_add_test(tc, test_id_from_header);
    tcase_add_test(tc, test_header_value_checks);
    tcase_add_test(tc, test_body_sha256);
    tcase_add_test(tc, test_missing_and_empty_id);
    tcase_add_test(tc, test_long_values);
    tcase_add_test(tc, test_long_integer_id);
    tcase_add_test(tc, test_id_of_wrong_type);
    tcase_add_test(tc, test_nul_in_strings);
    tcase_add_test(tc, test_duplicate_names_allowed);
    tcase_add_test(tc, test_body_not_json);
    tcase_add_test(tc, test_event_time);
    tcase_add_test(tc, test_event_time_invalid);
    tcase_add_test(tc, test_key_and_type);
    tcase_add_test(tc, test_livekit_body);
    tcase_add_test(tc, test_stripe_body);
    tcase_add_test(tc, test_errstr_optional);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* The overrides of the developer's shell must not change what loads. */
    unsetenv("HOOKPIPE_LISTEN");
    unsetenv("HOOKPIPE_ADMIN_LISTEN");
    unsetenv("HOOKPIPE_KAFKA_BROKERS");
    unsetenv("HOOKPIPE_POSTGRES_DSN");
    unsetenv("HOOKPIPE_LOG_LEVEL");
    SRunner *sr = srunner_create(extract_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
