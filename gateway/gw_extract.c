/*
 * gw_extract: the event id, type, key and time of one webhook. See
 * gw_extract.h; the rules users see are in docs/configuration.md.
 *
 * Each extractor first finds its raw value — a JSON value that one scan of
 * the body found (hp_jsonscan: validated, no tree built), a header's text,
 * the body's SHA-256 or a constant — and then one of two readers turns it
 * into what the field needs: text for the id, type and key, UNIX
 * milliseconds for the time. Messages name the field and where its value
 * was looked for (the configured pointer or header name), never the
 * value itself: bodies and ids are the providers' data, not ours to log.
 */
#include "gw_extract.h"

#include "hp_alloc.h"
#include "hp_utf8.h"
#include "hp_codec.h"
#include "hp_jsonscan.h"
#include "hp_time.h"

#include <errno.h>
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

/* The extractors of a source, in the order gw_extract reads them. */
enum { EX_ID, EX_TYPE, EX_KEY, EX_TIME, EX_ENTITY_TYPE, EX_COUNT };

/* One extraction: the request and what has been worked out from it so far. */
struct ctx {
    const unsigned char *body;
    size_t len;
    const gw_headers *headers;
    const hp_extractor *ex[EX_COUNT];
    hp_json_value json[EX_COUNT];    /* what each JSON extractor found in the body */
    char sha256[HP_HEX_LEN(32) + 1]; /* "" until computed */
    const char **field;
    char *errstr;
    size_t errstr_size;
};

/* A raw value an extractor found: a JSON number, object, array, boolean or
 * null, or text of len bytes, or neither (absent). */
struct raw {
    const hp_json_value *json; /* a JSON value other than a string */
    const char *text;
    size_t len;
    char *owned; /* a decoded JSON string, text points into it */
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

/* When some extractor reads the body as JSON: checks that it is JSON and
 * finds every JSON extractor's value, in one pass. */
static hp_err scan_body(struct ctx *c)
{
    const char *pointers[EX_COUNT];
    bool json = false;
    char why[160];

    for (int i = 0; i < EX_COUNT; i++) {
        pointers[i] = c->ex[i]->kind == HP_EXTRACT_JSON ? c->ex[i]->arg : NULL;
        json |= pointers[i] != NULL;
    }
    if (!json)
        return HP_OK;
    if (hp_jsonscan((const char *)c->body, c->len, pointers, EX_COUNT, c->json, why, sizeof why) !=
        HP_OK)
        return fail(c, "body", "not a JSON object or array (%s)", why);
    return HP_OK;
}

/* Finds the raw value of extractor which; absent when it finds nothing. A
 * JSON string is decoded into raw->owned, freed by raw_deinit(). */
static void find(struct ctx *c, int which, struct raw *raw)
{
    const hp_extractor *ex = c->ex[which];
    const hp_json_value *v = &c->json[which];

    memset(raw, 0, sizeof *raw);
    switch (ex->kind) {
    case HP_EXTRACT_JSON:
        if (v->kind == HP_JSON_STRING) {
            raw->owned = hp_xmalloc(v->len + 1); /* + 1: handed over as a C string */
            raw->text = raw->owned;
            raw->len = hp_jsonscan_string(v, raw->owned);
            raw->owned[raw->len] = '\0';
        } else if (v->kind != HP_JSON_ABSENT) {
            raw->json = v;
        }
        return;
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

static void raw_deinit(struct raw *raw)
{
    free(raw->owned);
}

/* The longest value of each text field: what the worker can index
 * (hp_envelope.h). Checked here so that such an event is a 400 now, not a
 * record no database row can hold. */
static size_t text_max(int which)
{
    switch (which) {
    case EX_ID:
        return HP_ENVELOPE_EVENT_ID_MAX;
    case EX_TYPE:
        return HP_ENVELOPE_EVENT_TYPE_MAX;
    default:
        return HP_ENVELOPE_KEY_MAX;
    }
}

/* Checks the text of field name, found by extractor which, and gives it
 * to *out (a decoded JSON string moves, anything else is copied). */
static hp_err take_text(struct ctx *c, const char *name, int which, struct raw *raw, char **out)
{
    char w[320];
    if (memchr(raw->text, '\0', raw->len))
        return fail(c, name, "%s contains a NUL character", where(c->ex[which], w, sizeof w));
    if (raw->len > text_max(which))
        return fail(c, name, "%s is %zu bytes long; the longest %s hookpipe accepts is %zu bytes",
                    where(c->ex[which], w, sizeof w), raw->len, name, text_max(which));
    if (!hp_utf8_valid(raw->text, raw->len))
        return fail(c, name, "%s is not valid UTF-8", where(c->ex[which], w, sizeof w));
    if (raw->owned) {
        *out = raw->owned;
        raw->owned = NULL;
    } else {
        *out = hp_xstrndup(raw->text, raw->len);
    }
    return HP_OK;
}

/*
 * Reads field name (found by extractor which) as text into *out (NULL when
 * absent; an empty value counts as absent unless required, when it is an
 * error). An integer is taken as its decimal text, however long.
 */
static hp_err read_text(struct ctx *c, const char *name, int which, bool required, char **out)
{
    char w[320];
    struct raw raw;
    hp_err rc = HP_OK;

    *out = NULL;
    find(c, which, &raw);
    if (raw.json && raw.json->kind == HP_JSON_INTEGER) {
        raw.text = raw.json->text;
        raw.len = raw.json->len;
    } else if (raw.json) {
        rc = fail(c, name, "%s is %s; expected a string or an integer",
                  where(c->ex[which], w, sizeof w), hp_json_kind_name(raw.json->kind));
        goto out;
    }
    if (!raw.text || raw.len == 0) {
        if (required)
            rc = fail(c, name, "%s is %s", where(c->ex[which], w, sizeof w),
                      raw.text ? "empty" : "missing");
        goto out;
    }
    rc = take_text(c, name, which, &raw, out);
out:
    raw_deinit(&raw);
    return rc;
}

/* The milliseconds of a JSON number: integers as hp_time_unix_to_ms reads
 * them; with a fraction, seconds below 1e11, else milliseconds, truncated
 * to the millisecond. False if out of range. */
static bool number_to_ms(const hp_json_value *v, int64_t *ms)
{
    char *text = hp_xstrndup(v->text, v->len);
    char *end;
    bool ok;

    errno = 0;
    if (v->kind == HP_JSON_INTEGER) {
        long long n = strtoll(text, &end, 10);
        ok = errno == 0 && *end == '\0';
        if (ok)
            *ms = hp_time_unix_to_ms(n);
    } else {
        double d = strtod(text, &end);
        d = fabs(d) < REAL_MS_THRESHOLD ? d * 1000.0 : d;
        ok = *end == '\0' && d >= 0.0 && d <= (double)TIME_MAX_MS;
        if (ok)
            *ms = (int64_t)d;
    }
    free(text);
    return ok;
}

/* Reads the event time into *ms; absent or empty leaves HP_ENVELOPE_NO_TIME. */
static hp_err read_time(struct ctx *c, int64_t *ms)
{
    char w[320];
    struct raw raw;
    bool ok;
    hp_err rc = HP_OK;

    *ms = HP_ENVELOPE_NO_TIME;
    find(c, EX_TIME, &raw);
    if (raw.json && (raw.json->kind == HP_JSON_INTEGER || raw.json->kind == HP_JSON_REAL)) {
        ok = number_to_ms(raw.json, ms);
    } else if (raw.json) {
        rc = fail(c, "event_time",
                  "%s is %s; expected UNIX seconds or milliseconds, or an RFC 3339 string",
                  where(c->ex[EX_TIME], w, sizeof w), hp_json_kind_name(raw.json->kind));
        goto out;
    } else if (!raw.text || raw.len == 0) {
        goto out;
    } else {
        ok = hp_time_parse_event(raw.text, raw.len, ms) == HP_OK;
    }
    if (!ok || *ms < 0 || *ms > TIME_MAX_MS) {
        *ms = HP_ENVELOPE_NO_TIME;
        rc = fail(c, "event_time",
                  "%s is not a time (UNIX seconds or milliseconds, or RFC 3339; from 1970 to "
                  "9999)",
                  where(c->ex[EX_TIME], w, sizeof w));
    }
out:
    raw_deinit(&raw);
    return rc;
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
    c.ex[EX_ID] = &src->event_id;
    c.ex[EX_TYPE] = &src->event_type;
    c.ex[EX_KEY] = &src->key;
    c.ex[EX_TIME] = &src->event_time;
    /* entity_type is the worker's to extract, but a JSON one makes the
     * body JSON just as much: better a 400 now than poison later. */
    c.ex[EX_ENTITY_TYPE] = &src->entity_type;
    if ((rc = scan_body(&c)) != HP_OK ||
        (rc = read_text(&c, "event_id", EX_ID, true, &out->event_id)) != HP_OK ||
        (rc = read_text(&c, "event_type", EX_TYPE, false, &out->event_type)) != HP_OK ||
        (rc = read_text(&c, "key", EX_KEY, false, &out->key)) != HP_OK ||
        (rc = read_time(&c, &out->event_time_ms)) != HP_OK)
        goto out;
    if (!out->key)
        out->key = hp_xstrdup(out->event_id);
out:
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
