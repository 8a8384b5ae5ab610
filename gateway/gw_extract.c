/*
 * gw_extract: the event id, type, key and time of one webhook. See
 * gw_extract.h; the rules users see are in docs/configuration.md.
 *
 * Each extractor first finds its raw value — a JSON value in the parsed
 * body, a header's text, the body's SHA-256 or a constant — and then one of
 * two readers turns it into what the field needs: text for the id, type and
 * key, UNIX milliseconds for the time. Messages name the field and where its
 * value was looked for (the configured pointer or header name), never the
 * value itself: bodies and ids are the providers' data, not ours to log.
 */
#include "gw_extract.h"

#include "hp_alloc.h"
#include "hp_utf8.h"
#include "hp_codec.h"
#include "hp_jsonptr.h"
#include "hp_time.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Event times outside 1970-01-01 .. 9999-12-31T23:59:59.999Z are refused:
 * they are mistakes, and would not survive RFC 3339 or PostgreSQL. */
#define TIME_MAX_MS INT64_C(253402300799999)
/* Below this a JSON number with a fraction is seconds, from it milliseconds
 * (as hp_time_unix_to_ms decides for integers). */
#define REAL_MS_THRESHOLD 1e11

/* One extraction: the request and what has been worked out from it so far. */
struct ctx {
    const unsigned char *body;
    size_t len;
    const gw_headers *headers;
    json_t *root;                    /* the parsed body, if some extractor reads JSON */
    char sha256[HP_HEX_LEN(32) + 1]; /* "" until computed */
    const char **field;
    char *errstr;
    size_t errstr_size;
};

/* A raw value an extractor found: JSON, or text of len bytes, or neither
 * (absent). */
struct raw {
    json_t *json;
    const char *text;
    size_t len;
};

static hp_err fail(struct ctx *c, const char *field, const char *fmt, ...) HP_PRINTF(3, 4);

static hp_err fail(struct ctx *c, const char *field, const char *fmt, ...)
{
    if (c->field)
        *c->field = field;
    if (c->errstr && c->errstr_size > 0) {
        int n = snprintf(c->errstr, c->errstr_size, "%s: ", field);
        if (n >= 0 && (size_t)n < c->errstr_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->errstr + n, c->errstr_size - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return HP_ERR_INVALID;
}

/* Where ex looks, for messages: "the value at /id", "the header X-Id". */
static const char *where(const hp_extractor *ex, char *buf, size_t bufsz)
{
    switch (ex->kind) {
    case HP_EXTRACT_JSON:
        snprintf(buf, bufsz, "the value at \"%s\"", ex->arg);
        break;
    case HP_EXTRACT_HEADER:
        snprintf(buf, bufsz, "the header %s", ex->arg);
        break;
    default:
        snprintf(buf, bufsz, "the value");
        break;
    }
    return buf;
}

/* What a JSON value is, for messages about one of the wrong type. */
static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static bool needs_json(const hp_source *src)
{
    /* entity_type is the worker's to extract, but a JSON one makes the
     * body JSON just as much: better a 400 now than poison later. */
    const hp_extractor *exs[] = {&src->event_id, &src->event_type, &src->key, &src->event_time,
                                 &src->entity_type};
    for (size_t i = 0; i < sizeof exs / sizeof exs[0]; i++) {
        if (exs[i]->kind == HP_EXTRACT_JSON)
            return true;
    }
    return false;
}

static hp_err parse_body(struct ctx *c)
{
    json_error_t jerr;
    /* Without JSON_DECODE_ANY the body must be an object or an array.
     * Duplicate names are allowed (providers send them; the last wins), and
     * so is "\u0000" in strings the extractors do not read. */
    c->root = json_loadb(c->body ? (const char *)c->body : "", c->len, JSON_ALLOW_NUL, &jerr);
    if (!c->root)
        return fail(c, "body", "not a JSON object or array (line %d, column %d)", jerr.line,
                    jerr.column);
    return HP_OK;
}

/* Finds the raw value of ex; absent when the extractor finds nothing. */
static void find(struct ctx *c, const hp_extractor *ex, struct raw *raw)
{
    memset(raw, 0, sizeof *raw);
    switch (ex->kind) {
    case HP_EXTRACT_JSON:
        raw->json = hp_jsonptr_get(c->root, ex->arg);
        break;
    case HP_EXTRACT_HEADER:
        raw->text = gw_headers_get((void *)c->headers, ex->arg);
        break;
    case HP_EXTRACT_BODY_SHA256:
        if (c->sha256[0] == '\0') {
            unsigned char md[SHA256_DIGEST_LENGTH];
            SHA256(c->body ? c->body : (const unsigned char *)"", c->len, md);
            hp_hex_encode(md, sizeof md, c->sha256);
        }
        raw->text = c->sha256;
        break;
    case HP_EXTRACT_CONST:
        raw->text = ex->arg;
        break;
    case HP_EXTRACT_NONE:
        break;
    }
    if (raw->text)
        raw->len = strlen(raw->text);
}

/*
 * Reads field name (extracted by ex) as text into *out (NULL when absent;
 * an empty value counts as absent unless required, when it is an error).
 */
static hp_err read_text(struct ctx *c, const char *name, const hp_extractor *ex, bool required,
                        char **out)
{
    char w[320];
    struct raw raw;
    char num[32];

    *out = NULL;
    find(c, ex, &raw);
    if (raw.json && json_is_integer(raw.json)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(raw.json));
        raw.text = num;
        raw.len = strlen(num);
    } else if (raw.json && json_is_string(raw.json)) {
        raw.text = json_string_value(raw.json);
        raw.len = json_string_length(raw.json);
    } else if (raw.json) {
        return fail(c, name, "%s is %s; expected a string or an integer", where(ex, w, sizeof w),
                    json_kind(raw.json));
    }
    if (!raw.text || raw.len == 0) {
        if (!required)
            return HP_OK;
        return fail(c, name, "%s is %s", where(ex, w, sizeof w), raw.text ? "empty" : "missing");
    }
    if (memchr(raw.text, '\0', raw.len))
        return fail(c, name, "%s contains a NUL character", where(ex, w, sizeof w));
    if (raw.len > GW_EXTRACT_VALUE_MAX)
        return fail(c, name, "%s is longer than %d bytes", where(ex, w, sizeof w),
                    GW_EXTRACT_VALUE_MAX);
    if (!hp_utf8_valid(raw.text, raw.len))
        return fail(c, name, "%s is not valid UTF-8", where(ex, w, sizeof w));
    *out = hp_xstrndup(raw.text, raw.len);
    return HP_OK;
}

/* The milliseconds of a JSON number with a fraction: seconds below 1e11,
 * else milliseconds, truncated to the millisecond. False if out of range. */
static bool real_to_ms(double value, int64_t *ms)
{
    double d = fabs(value) < REAL_MS_THRESHOLD ? value * 1000.0 : value;
    if (!(d >= 0.0 && d <= (double)TIME_MAX_MS))
        return false;
    *ms = (int64_t)d;
    return true;
}

/* Reads the event time (extracted by ex) into *ms; absent or empty leaves
 * HP_ENVELOPE_NO_TIME. */
static hp_err read_time(struct ctx *c, const hp_extractor *ex, int64_t *ms)
{
    char w[320];
    struct raw raw;
    bool ok;

    *ms = HP_ENVELOPE_NO_TIME;
    find(c, ex, &raw);
    if (raw.json && json_is_integer(raw.json)) {
        *ms = hp_time_unix_to_ms(json_integer_value(raw.json));
        ok = true;
    } else if (raw.json && json_is_real(raw.json)) {
        ok = real_to_ms(json_real_value(raw.json), ms);
    } else if (raw.json && !json_is_string(raw.json)) {
        return fail(c, "event_time",
                    "%s is %s; expected UNIX seconds or milliseconds, or an RFC 3339 string",
                    where(ex, w, sizeof w), json_kind(raw.json));
    } else {
        if (raw.json) {
            raw.text = json_string_value(raw.json);
            raw.len = json_string_length(raw.json);
        }
        if (!raw.text || raw.len == 0)
            return HP_OK;
        ok = hp_time_parse_event(raw.text, raw.len, ms) == HP_OK;
    }
    if (!ok || *ms < 0 || *ms > TIME_MAX_MS) {
        *ms = HP_ENVELOPE_NO_TIME;
        return fail(c, "event_time",
                    "%s is not a time (UNIX seconds or milliseconds, or RFC 3339; from 1970 to "
                    "9999)",
                    where(ex, w, sizeof w));
    }
    return HP_OK;
}

hp_err gw_extract(const hp_source *src, const unsigned char *body, size_t len,
                  const gw_headers *headers, gw_extracted *out, const char **field, char *errstr,
                  size_t errstr_size)
{
    struct ctx c = {.body = body,
                    .len = len,
                    .headers = headers,
                    .field = field,
                    .errstr = errstr,
                    .errstr_size = errstr_size};
    hp_err rc;

    memset(out, 0, sizeof *out);
    out->event_time_ms = HP_ENVELOPE_NO_TIME;
    if (field)
        *field = NULL;
    if (needs_json(src) && (rc = parse_body(&c)) != HP_OK)
        goto out;
    if ((rc = read_text(&c, "event_id", &src->event_id, true, &out->event_id)) != HP_OK ||
        (rc = read_text(&c, "event_type", &src->event_type, false, &out->event_type)) != HP_OK ||
        (rc = read_text(&c, "key", &src->key, false, &out->key)) != HP_OK ||
        (rc = read_time(&c, &src->event_time, &out->event_time_ms)) != HP_OK)
        goto out;
    if (!out->key)
        out->key = hp_xstrdup(out->event_id);
out:
    json_decref(c.root);
    if (rc != HP_OK)
        gw_extracted_deinit(out);
    return rc;
}

void gw_extracted_deinit(gw_extracted *ex)
{
    if (!ex)
        return;
    free(ex->event_id);
    free(ex->event_type);
    free(ex->key);
    memset(ex, 0, sizeof *ex);
    ex->event_time_ms = HP_ENVELOPE_NO_TIME;
}
