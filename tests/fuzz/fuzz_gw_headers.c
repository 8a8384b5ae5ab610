/*
 * Fuzzes gw_headers, the gateway's view of a request's headers: lookups
 * (gw_headers_get, which the verifiers and extractors use), joining the
 * lines of one name (gw_headers_join, how X-Forwarded-For is read), and the
 * JSON record of the headers that goes into every Kafka record
 * (gw_headers_json).
 *
 * Input: header lines as fuzz_util.h reads them (any bytes but NUL and
 * newline in names and values); the body is ignored.
 *
 * Beyond "no crash", it asserts: the record is a valid JSON object (jansson,
 * duplicate names refused) whose names are lower case; it never holds
 * Authorization, Proxy-Authorization, Cookie or an excluded name; it has one
 * member per other name as recorded (lower case, bytes that are not UTF-8
 * as U+FFFD), whose value is the values of the lines of that name in order,
 * ", "-joined; gw_headers_get returns the first line of a name, in any case;
 * gw_headers_join is the values in order, ", "-joined.
 */
#include "fuzz_util.h"
#include "gw_headers.h"
#include "hp_utf8.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const exclude[] = {"X-Signature", "Stripe-Signature", NULL};

static bool excluded(const char *name)
{
    static const char *const always[] = {"authorization", "proxy-authorization", "cookie"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(name, always[i]) == 0)
            return true;
    }
    for (size_t i = 0; exclude[i]; i++) {
        if (strcasecmp(name, exclude[i]) == 0)
            return true;
    }
    return false;
}

/* Whether header i's name appeared before it, in any case. */
static bool seen_before(const gw_headers *hs, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (strcasecmp(hs->items[j].name, hs->items[i].name) == 0)
            return true;
    }
    return false;
}

static void check_join(const gw_headers *hs, const char *name)
{
    char *joined = gw_headers_join(hs, name);
    size_t at = 0;
    bool any = false;

    for (size_t i = 0; i < hs->n; i++) {
        if (strcasecmp(hs->items[i].name, name) != 0)
            continue;
        FZ_CHECK(joined, "join: NULL though %s is present", name);
        if (any) {
            FZ_CHECK(strncmp(joined + at, ", ", 2) == 0, "join: no separator");
            at += 2;
        }
        size_t n = strlen(hs->items[i].value);
        FZ_CHECK(strncmp(joined + at, hs->items[i].value, n) == 0, "join: value %zu differs", i);
        at += n;
        any = true;
    }
    FZ_CHECK(!any || joined[at] == '\0', "join: trailing bytes");
    FZ_CHECK(any || !joined, "join: a value for an absent name");
    free(joined);
}

/* The member name a header name is recorded under, decoded: ASCII letters
 * lower-cased, each byte that is not part of a UTF-8 character U+FFFD. */
static char *fz_key(const char *name)
{
    size_t n = strlen(name);
    char *k = malloc(3 * n + 1);
    size_t at = 0;

    for (size_t i = 0; i < n;) {
        size_t len = hp_utf8_char_len((const unsigned char *)name + i, n - i);
        if (len == 0) {
            memcpy(k + at, "\xef\xbf\xbd", 3);
            at += 3;
            i++;
            continue;
        }
        memcpy(k + at, name + i, len);
        if (len == 1 && k[at] >= 'A' && k[at] <= 'Z')
            k[at] = (char)(k[at] - 'A' + 'a');
        at += len;
        i += len;
    }
    k[at] = '\0';
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_request r;
    gw_headers *hs;

    fz_request_parse(&r, data, size);
    hs = &r.headers;
    for (size_t i = 0; i < hs->n; i++) {
        const char *name = hs->items[i].name;
        const char *first = gw_headers_get(hs, name);
        size_t j = 0;
        while (strcasecmp(hs->items[j].name, name) != 0)
            j++;
        FZ_CHECK(first == hs->items[j].value, "get: not the first line of %s", name);
        if (!seen_before(hs, i)) {
            check_join(hs, name);
        }
    }
    bool sent = false;
    for (size_t i = 0; i < hs->n; i++)
        sent |= strcasecmp(hs->items[i].name, "X-Absent") == 0;
    FZ_CHECK(sent || gw_headers_get(hs, "X-Absent") == NULL, "get: phantom header");

    char *text = gw_headers_json(hs, exclude);
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    FZ_CHECK(json_is_object(root), "record is not a JSON object: %s: %s", jerr.text, text);
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value) {
        for (const char *p = key; *p; p++)
            FZ_CHECK(!(*p >= 'A' && *p <= 'Z'), "record name %s is not lower case", key);
        FZ_CHECK(!excluded(key), "record holds %s", key);
        FZ_CHECK(json_is_string(value), "record member %s is not a string", key);
    }
    /* Expected: one member per recorded name (names as fz_key writes them),
     * its value the values of every line of that name, in order. */
    size_t members = 0;
    for (size_t i = 0; i < hs->n; i++) {
        char *k = fz_key(hs->items[i].name);
        bool first = true;
        for (size_t j = 0; first && j < i; j++) {
            char *kj = fz_key(hs->items[j].name);
            first = strcmp(k, kj) != 0;
            free(kj);
        }
        if (first && !excluded(hs->items[i].name)) {
            members++;
            json_t *v = json_object_get(root, k);
            FZ_CHECK(v, "record lacks %s", k);
            size_t at = 0;
            const char *got = json_string_value(v);
            bool utf8 = true;
            for (size_t j = i; j < hs->n && utf8; j++) {
                char *kj = fz_key(hs->items[j].name);
                const char *val = hs->items[j].value;
                if (strcmp(k, kj) == 0) {
                    utf8 = hp_utf8_valid(val, strlen(val));
                    if (utf8) {
                        if (j > i) {
                            FZ_CHECK(strncmp(got + at, ", ", 2) == 0, "record of %s: separator", k);
                            at += 2;
                        }
                        FZ_CHECK(strncmp(got + at, val, strlen(val)) == 0,
                                 "record of %s: value %zu differs", k, j);
                        at += strlen(val);
                    }
                }
                free(kj);
            }
            FZ_CHECK(!utf8 || got[at] == '\0', "record of %s: trailing bytes", k);
        }
        free(k);
    }
    FZ_CHECK(json_object_size(root) == members, "record has %zu members for %zu names",
             json_object_size(root), members);
    json_decref(root);
    free(text);
    fz_request_free(&r);
    return 0;
}
