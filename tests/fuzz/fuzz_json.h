/*
 * The differential check of hp_jsonscan against jansson, shared by
 * fuzz_jsonscan.c (fuzzed documents) and fuzz_jsonptr.c (fuzzed pointers):
 * jansson is the reference the scanner replaced in the gateway, and the
 * worker still parses bodies with it and resolves pointers with
 * hp_jsonptr_get, so both sides must agree on what is JSON and on the value
 * every pointer names. The idea is that of tests/unit/test_jsonscan.c.
 */
#ifndef FUZZ_JSON_H
#define FUZZ_JSON_H

#include "fuzz_util.h"
#include "hp_jsonptr.h"
#include "hp_jsonscan.h"
#include "hp_utf8.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's tree of doc, or NULL. *differs is set when jansson refuses it for
 * a reason the scanner does not share on purpose (integers beyond 64 bits,
 * reals that overflow): the scanner keeps numbers as text. */
static inline json_t *fz_json_reference(const char *doc, size_t len, bool *differs)
{
    json_error_t jerr;
    json_t *root = json_loadb(doc, len, JSON_ALLOW_NUL, &jerr);

    *differs = !root && (strstr(jerr.text, "too big") || strstr(jerr.text, "overflow"));
    return root;
}

/* Asserts that v, which the scanner found at ptr, is jansson's value want
 * (NULL: the pointer names nothing). */
static inline void fz_json_same(const hp_json_value *v, json_t *want, const char *ptr)
{
    if (!want) {
        FZ_CHECK(v->kind == HP_JSON_ABSENT, "%s: scanner found %s, jansson nothing", ptr,
                 hp_json_kind_name(v->kind));
        return;
    }
    switch (json_typeof(want)) {
    case JSON_STRING: {
        FZ_CHECK(v->kind == HP_JSON_STRING, "%s: %s, jansson a string", ptr,
                 hp_json_kind_name(v->kind));
        char *text = malloc(v->len ? v->len : 1);
        size_t n = hp_jsonscan_string(v, text);
        FZ_CHECK(n <= v->len, "%s: decoded %zu bytes from %zu", ptr, n, v->len);
        FZ_CHECK(n == json_string_length(want) && memcmp(text, json_string_value(want), n) == 0,
                 "%s: strings differ", ptr);
        FZ_CHECK(hp_utf8_valid(text, n), "%s: decoded string is not UTF-8", ptr);
        free(text);
        break;
    }
    case JSON_INTEGER: {
        FZ_CHECK(v->kind == HP_JSON_INTEGER, "%s: %s, jansson an integer", ptr,
                 hp_json_kind_name(v->kind));
        char digits[32];
        snprintf(digits, sizeof digits, "%" JSON_INTEGER_FORMAT, json_integer_value(want));
        /* "-0" is the one integer jansson does not print back as written. */
        if (!(v->len == 2 && memcmp(v->text, "-0", 2) == 0))
            FZ_CHECK(v->len == strlen(digits) && memcmp(v->text, digits, v->len) == 0,
                     "%s: integer %.*s, jansson %s", ptr, (int)v->len, v->text, digits);
        break;
    }
    case JSON_REAL:
        FZ_CHECK(v->kind == HP_JSON_REAL, "%s: %s, jansson a real", ptr,
                 hp_json_kind_name(v->kind));
        break;
    case JSON_OBJECT:
        FZ_CHECK(v->kind == HP_JSON_OBJECT, "%s: %s, jansson an object", ptr,
                 hp_json_kind_name(v->kind));
        break;
    case JSON_ARRAY:
        FZ_CHECK(v->kind == HP_JSON_ARRAY, "%s: %s, jansson an array", ptr,
                 hp_json_kind_name(v->kind));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        FZ_CHECK(v->kind == HP_JSON_BOOLEAN, "%s: %s, jansson a boolean", ptr,
                 hp_json_kind_name(v->kind));
        break;
    case JSON_NULL:
        FZ_CHECK(v->kind == HP_JSON_NULL, "%s: %s, jansson null", ptr, hp_json_kind_name(v->kind));
        break;
    }
}

/* Scans doc for ptrs[0..n) and checks verdict and every value against
 * jansson (root: jansson's tree of doc, NULL if it refused it). */
static inline void fz_json_agree(const char *doc, size_t len, json_t *root, bool differs,
                                 const char *const *ptrs, size_t n)
{
    hp_json_value found[HP_JSONSCAN_POINTERS_MAX];
    char err[160] = "";
    hp_err rc = hp_jsonscan(doc, len, ptrs, n, found, err, sizeof err);

    FZ_CHECK(rc == HP_OK || rc == HP_ERR_INVALID, "rc %d", (int)rc);
    FZ_CHECK(rc == HP_OK || err[0] != '\0', "rejected without a message");
    /* A raw NUL byte is never JSON (not even inside a string), but jansson
     * 2.14 drops one that follows a number or literal ("[1\0]" loads): its
     * stream buffer uses NUL as "empty". The scanner must refuse it. */
    if (memchr(doc, '\0', len)) {
        FZ_CHECK(rc == HP_ERR_INVALID, "scanner accepts a raw NUL byte");
        return;
    }
    if (differs)
        return;
    FZ_CHECK((rc == HP_OK) == (root != NULL), "verdicts differ: scanner %s, jansson %s",
             rc == HP_OK ? "accepts" : err, root ? "accepts" : "refuses");
    for (size_t i = 0; root && i < n; i++) {
        FZ_CHECK(found[i].kind == HP_JSON_ABSENT ||
                     (found[i].text >= doc && found[i].text + found[i].len <= doc + len),
                 "%s: span outside the document", ptrs[i]);
        fz_json_same(&found[i], hp_jsonptr_get(root, ptrs[i]), ptrs[i]);
    }
}

#endif /* FUZZ_JSON_H */
