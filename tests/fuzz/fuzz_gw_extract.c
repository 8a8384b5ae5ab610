/*
 * Fuzzes gw_extract, the gateway's request path from a verified request to
 * the record's id, type, key and time: fuzzed bodies and headers against a
 * few sources loaded from configuration text, as in production — JSON
 * pointers (one pass of hp_jsonscan), headers, the body's SHA-256, times as
 * numbers, numeric text and RFC 3339.
 *
 * Input: a request as fuzz_util.h reads it, whose first header line names
 * the source ("json", "headers", "sha", "mixed"; an unknown name picks one
 * by its first byte).
 *
 * Beyond "no crash, no leak", it asserts: a success has an event id and a
 * key of 1 to HP_ENVELOPE_KEY_MAX bytes of UTF-8 without NUL, a type that
 * is absent or the same, a time that is absent or within 1970..9999; a
 * failure names one of the fields, says why in a message that starts with
 * that field, and leaves nothing behind; extraction is deterministic; and
 * for the "json" source the id is what jansson finds at /id, for "sha" the
 * hex SHA-256 of the body.
 */
#include "fuzz_util.h"
#include "gw_extract.h"
#include "hp_codec.h"
#include "hp_config.h"
#include "hp_jsonptr.h"
#include "hp_utf8.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIME_MAX_MS INT64_C(253402300799999)

static const char config_text[] =
    "{\"sources\": ["
    "{\"name\": \"json\", \"verify\": {\"scheme\": \"none\"}, \"insecure\": true,"
    " \"event_id\": {\"json\": \"/id\"}, \"event_type\": {\"json\": \"/type\"},"
    " \"key\": {\"json\": \"/data/object/id\"}, \"event_time\": {\"json\": \"/created\"},"
    " \"entity_type\": {\"json\": \"/object\"}, \"handler\": \"entity\"},"
    "{\"name\": \"headers\", \"verify\": {\"scheme\": \"none\"}, \"insecure\": true,"
    " \"event_id\": {\"header\": \"X-Id\"}, \"event_type\": {\"header\": \"X-Type\"},"
    " \"key\": {\"header\": \"X-Key\"}, \"event_time\": {\"header\": \"X-Time\"}},"
    "{\"name\": \"sha\", \"verify\": {\"scheme\": \"none\"}, \"insecure\": true,"
    " \"event_time\": {\"json\": \"/t\"}},"
    "{\"name\": \"mixed\", \"verify\": {\"scheme\": \"none\"}, \"insecure\": true,"
    " \"event_id\": {\"json\": \"/data/0/id\"}, \"event_type\": {\"header\": \"X-Type\"},"
    " \"key\": {\"json\": \"/k~1ey\"}, \"event_time\": {\"header\": \"X-Time\"},"
    " \"entity_type\": \"thing\"}"
    "]}";

static hp_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc;
    (void)argv;
    if (hp_config_load_string(&cfg, config_text, "fuzz.json", err, sizeof err) != HP_OK) {
        fprintf(stderr, "fuzz_gw_extract: %s\n", err);
        abort();
    }
    return 0;
}

static const hp_source *pick_source(const gw_headers *hs)
{
    if (hs->n == 0)
        return &cfg.sources[0];
    const hp_source *src = hp_config_find_source(&cfg, hs->items[0].name);
    return src ? src : &cfg.sources[(unsigned char)hs->items[0].name[0] % cfg.nsources];
}

static void check_text(const char *s, const char *what)
{
    size_t n = strlen(s);
    FZ_CHECK(n >= 1 && n <= HP_ENVELOPE_KEY_MAX, "%s: %zu bytes", what, n);
    FZ_CHECK(hp_utf8_valid(s, n), "%s: not UTF-8", what);
}

static bool same(const gw_extracted *a, const gw_extracted *b)
{
    return strcmp(a->event_id, b->event_id) == 0 && strcmp(a->key, b->key) == 0 &&
           ((!a->event_type && !b->event_type) ||
            (a->event_type && b->event_type && strcmp(a->event_type, b->event_type) == 0)) &&
           a->event_time_ms == b->event_time_ms;
}

/* The "json" source's id is jansson's value at /id, where jansson can tell. */
static void check_id_json(const fz_request *r, const char *id)
{
    json_t *root = json_loadb((const char *)r->body, r->len, JSON_ALLOW_NUL, NULL);
    json_t *v = hp_jsonptr_get(root, "/id");

    if (json_is_string(v)) {
        FZ_CHECK(strlen(id) == json_string_length(v) && strcmp(id, json_string_value(v)) == 0,
                 "id differs from jansson's string");
    } else if (json_is_integer(v)) {
        char digits[32];
        snprintf(digits, sizeof digits, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        FZ_CHECK(strcmp(id, "-0") == 0 || strcmp(id, digits) == 0, "id %s, jansson %s", id, digits);
    } else if (root) {
        FZ_CHECK(false, "an id where jansson has none");
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_request r;
    gw_extracted ex, ex2;
    const char *field = "unset";
    const char *field2 = "unset";
    char err[512] = "", err2[512] = "";

    fz_request_parse(&r, data, size);
    const hp_source *src = pick_source(&r.headers);
    hp_err rc = gw_extract(src, r.body, r.len, &r.headers, &ex, &field, err, sizeof err);
    hp_err rc2 = gw_extract(src, r.body, r.len, &r.headers, &ex2, &field2, err2, sizeof err2);
    FZ_CHECK(rc == rc2, "not deterministic");
    if (rc == HP_OK) {
        FZ_CHECK(same(&ex, &ex2), "not deterministic");
        check_text(ex.event_id, "event_id");
        check_text(ex.key, "key");
        if (ex.event_type)
            check_text(ex.event_type, "event_type");
        FZ_CHECK(ex.event_time_ms == HP_ENVELOPE_NO_TIME ||
                     (ex.event_time_ms >= 0 && ex.event_time_ms <= TIME_MAX_MS),
                 "event_time_ms %lld", (long long)ex.event_time_ms);
        if (strcmp(src->name, "json") == 0)
            check_id_json(&r, ex.event_id);
        if (strcmp(src->name, "sha") == 0) {
            unsigned char md[SHA256_DIGEST_LENGTH];
            char hex[HP_HEX_LEN(SHA256_DIGEST_LENGTH) + 1];
            SHA256(r.body ? r.body : (const unsigned char *)"", r.len, md);
            hp_hex_encode(md, sizeof md, hex);
            FZ_CHECK(strcmp(ex.event_id, hex) == 0, "sha: id is not the body's SHA-256");
        }
    } else {
        FZ_CHECK(rc == HP_ERR_INVALID, "rc %d", (int)rc);
        FZ_CHECK(field && field2 && strcmp(field, field2) == 0 && strcmp(err, err2) == 0,
                 "not deterministic");
        static const char *const fields[] = {"event_id", "event_type", "key", "event_time", "body"};
        bool known = false;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            known |= strcmp(field, fields[i]) == 0;
        FZ_CHECK(known, "field %s", field);
        FZ_CHECK(strncmp(err, field, strlen(field)) == 0 && err[strlen(field)] == ':',
                 "message \"%s\" for %s", err, field);
        FZ_CHECK(!ex.event_id && !ex.key && !ex.event_type, "a failure left something behind");
    }
    gw_extracted_deinit(&ex);
    gw_extracted_deinit(&ex2);
    fz_request_free(&r);
    return 0;
}
