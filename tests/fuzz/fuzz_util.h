/*
 * Helpers shared by the libFuzzer harnesses of tests/fuzz.
 *
 * FZ_CHECK turns a broken invariant into a crash libFuzzer reports (with
 * the input that caused it), the way a sanitizer finding is reported.
 *
 * fz_request reads an input shaped like an HTTP request without its request
 * line — "Name: value" lines, an empty line, then the body — into the
 * gateway's gw_headers and a body, so that seed files are readable and a
 * mutation of a header stays a header:
 *
 *     X-Signature: sha256=...
 *     Content-Type: application/json
 *
 *     {"id":"evt_1"}
 *
 * A line without ':' is a header with an empty value; with no empty line
 * every line is a header and the body is empty. Names and values are C
 * strings, so a NUL byte in one ends it. The body is a separate allocation
 * of exactly its length, so that ASan sees any read past its end.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include "gw_headers.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant broken at %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Most header lines read; the rest of the input is then the body. */
#define FZ_MAX_HEADERS 32

typedef struct fz_request {
    char *text; /* the header part, NUL-separated */
    gw_header items[FZ_MAX_HEADERS];
    gw_headers headers;
    unsigned char *body; /* exactly len bytes (NULL if len is 0) */
    size_t len;
} fz_request;

/* Reads data[0..size) into r; free with fz_request_free(). */
static inline void fz_request_parse(fz_request *r, const uint8_t *data, size_t size)
{
    size_t pos = 0;
    size_t body_at = size;

    memset(r, 0, sizeof *r);
    r->text = malloc(size + 1);
    memcpy(r->text, data, size);
    r->text[size] = '\0';
    r->headers.items = r->items;
    while (pos < size && r->headers.n < FZ_MAX_HEADERS) {
        char *line = r->text + pos;
        char *nl = memchr(line, '\n', size - pos);
        size_t linelen = nl ? (size_t)(nl - line) : size - pos;
        if (linelen == 0 || (linelen == 1 && line[0] == '\r')) {
            body_at = pos + linelen + 1;
            break;
        }
        line[linelen] = '\0';
        if (linelen > 0 && line[linelen - 1] == '\r')
            line[linelen - 1] = '\0';
        char *colon = strchr(line, ':');
        const char *value = "";
        if (colon) {
            *colon = '\0';
            value = colon + 1;
            while (*value == ' ' || *value == '\t')
                value++;
        }
        r->items[r->headers.n].name = line;
        r->items[r->headers.n].value = value;
        r->headers.n++;
        pos += linelen + 1;
        body_at = pos < size ? pos : size;
    }
    if (body_at > size)
        body_at = size;
    r->len = size - body_at;
    if (r->len > 0) {
        r->body = malloc(r->len);
        memcpy(r->body, data + body_at, r->len);
    }
}

static inline void fz_request_free(fz_request *r)
{
    free(r->text);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* A NUL-terminated copy of data[0..size); the caller frees it. */
static inline char *fz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif /* FUZZ_UTIL_H */
