/*
 * Fuzzes the decode side of the Kafka record envelope, hp_envelope_decode,
 * which the worker runs on every record it consumes (wk_record_init): the
 * headers are built from the input with librdkafka's own header list.
 * (wk_record_init itself needs a consumed rd_kafka_message_t, which only a
 * broker or librdkafka's internals make; it adds a UTF-8 check of the key.)
 *
 * Input: one header per line, "name=value" (the value may hold any byte but
 * a newline, NUL included); a line without '=' is a header without a value.
 *
 * Beyond "no crash, no leak", it asserts: the result is HP_OK or
 * HP_ERR_INVALID with a message, and a failure leaves nothing behind; a
 * decoded envelope is version 1 with a non-empty source and event id, each
 * string the last header of its name; an integer header is accepted only if
 * its text is the value decoded (no silent clamping of an out-of-range
 * number); and encode -> decode gives the same envelope back.
 */
#include "fuzz_util.h"
#include "hp_envelope.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const hp_envelope *a, const hp_envelope *b)
{
    FZ_CHECK(a->version == b->version, "version");
    FZ_CHECK(same_str(a->source, b->source), "source");
    FZ_CHECK(same_str(a->event_id, b->event_id), "event_id");
    FZ_CHECK(same_str(a->event_type, b->event_type), "event_type");
    FZ_CHECK(a->event_time_ms == b->event_time_ms, "event_time_ms %lld != %lld",
             (long long)a->event_time_ms, (long long)b->event_time_ms);
    FZ_CHECK(a->received_at_ms == b->received_at_ms, "received_at_ms");
    FZ_CHECK(same_str(a->content_type, b->content_type), "content_type");
    FZ_CHECK(same_str(a->gateway, b->gateway), "gateway");
    FZ_CHECK(same_str(a->remote_addr, b->remote_addr), "remote_addr");
    FZ_CHECK(same_str(a->http_headers, b->http_headers), "http_headers");
}

/* An integer header that decoded must be in range: strtoll did not clamp. */
static void check_int(const rd_kafka_headers_t *hdrs, const char *name)
{
    char *text = hp_envelope_header_dup(hdrs, name);
    if (text) {
        errno = 0;
        (void)strtoll(text, NULL, 10);
        FZ_CHECK(errno != ERANGE, "%s: out-of-range %s accepted", name, text);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
    hp_envelope env, back;
    char err[256] = "";

    for (size_t pos = 0; pos < size;) {
        const uint8_t *line = data + pos;
        const uint8_t *nl = memchr(line, '\n', size - pos);
        size_t linelen = nl ? (size_t)(nl - line) : size - pos;
        const uint8_t *eq = memchr(line, '=', linelen);
        size_t namelen = eq ? (size_t)(eq - line) : linelen;
        char *name = fz_strndup(line, namelen);
        if (eq)
            rd_kafka_header_add(hdrs, name, -1, eq + 1, (ssize_t)(linelen - namelen - 1));
        else
            rd_kafka_header_add(hdrs, name, -1, NULL, 0);
        free(name);
        pos += linelen + 1;
    }

    hp_err rc = hp_envelope_decode(hdrs, &env, err, sizeof err);
    FZ_CHECK(rc == HP_OK || rc == HP_ERR_INVALID, "rc %d", (int)rc);
    if (rc != HP_OK) {
        FZ_CHECK(err[0] != '\0', "rejected without a message");
        FZ_CHECK(!env.source && !env.event_id && !env.event_type && !env.http_headers,
                 "a failed decode left something behind");
    } else {
        FZ_CHECK(env.version == HP_ENVELOPE_VERSION, "version %d", env.version);
        FZ_CHECK(env.source && env.source[0] && env.event_id && env.event_id[0],
                 "source or event id empty");
        char *src = hp_envelope_header_dup(hdrs, HP_HDR_SOURCE);
        FZ_CHECK(same_str(src, env.source), "source is not the last header");
        free(src);
        check_int(hdrs, HP_HDR_EVENT_TIME);
        check_int(hdrs, HP_HDR_RECEIVED_AT);

        rd_kafka_headers_t *again = hp_envelope_headers_new(&env);
        char err2[256] = "";
        FZ_CHECK(hp_envelope_decode(again, &back, err2, sizeof err2) == HP_OK,
                 "re-encoded envelope does not decode: %s", err2);
        check_same(&env, &back);
        hp_envelope_deinit(&back);
        rd_kafka_headers_destroy(again);
        hp_envelope_deinit(&env);
    }
    rd_kafka_headers_destroy(hdrs);
    return 0;
}
