/*
 * Fuzzes the parsers every signature scheme runs on header text before any
 * MAC is computed: hp_hex_decode, hp_base64_decode (standard, URL, URL
 * without padding) and hp_sig_parse_ts (the strict timestamp parser of
 * stripe, standard-webhooks and slack). The input is the header text.
 *
 * Beyond "no crash", it asserts:
 *  - decoders write only into an output buffer of exactly the size they
 *    ask for (a heap block ASan watches) and fail, not overflow, when it is
 *    one byte short;
 *  - canonical form: text a decoder accepts is what the encoder writes for
 *    the decoded bytes (up to hex case and base64 padding), so one byte
 *    string has one accepted encoding; and encode -> decode of the input as
 *    bytes gives the bytes back;
 *  - hp_sig_parse_ts accepts exactly 1 to 12 decimal digits, and its value
 *    is strtoll's.
 */
#include "fuzz_util.h"
#include "hp_codec.h"
#include "hp_sig_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s[0..n) without trailing '=' characters: its length. */
static size_t unpadded(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    return n;
}

static void check_hex(const char *s, size_t len)
{
    size_t outsz = len / 2 + 1;
    unsigned char *out = malloc(outsz);
    size_t n = 0;

    if (hp_hex_decode(s, len, out, outsz, &n) == HP_OK) {
        FZ_CHECK(len % 2 == 0 && n == len / 2, "hex: %zu chars gave %zu bytes", len, n);
        char *text = malloc(HP_HEX_LEN(n) + 1);
        hp_hex_encode(out, n, text);
        for (size_t i = 0; i < len; i++)
            FZ_CHECK(tolower((unsigned char)s[i]) == text[i], "hex: not canonical at %zu", i);
        free(text);
        if (n > 0) {
            unsigned char *small = malloc(n - 1 ? n - 1 : 1);
            size_t m = 0;
            FZ_CHECK(hp_hex_decode(s, len, small, n - 1, &m) != HP_OK, "hex: fits in %zu", n - 1);
            free(small);
        }
    }
    free(out);
}

static void check_base64(const char *s, size_t len, hp_base64_variant variant)
{
    size_t outsz = HP_BASE64_DECODED_MAX(len);
    unsigned char *out = malloc(outsz ? outsz : 1);
    size_t n = 0;

    if (hp_base64_decode(s, len, variant, out, outsz, &n) == HP_OK) {
        FZ_CHECK(n <= outsz, "base64: %zu bytes in %zu", n, outsz);
        char *text = malloc(HP_BASE64_LEN(n) + 1);
        size_t tlen = hp_base64_encode(out, n, variant, text);
        FZ_CHECK(tlen == hp_base64_encoded_len(n, variant), "base64: encoded length");
        FZ_CHECK(unpadded(text, tlen) == unpadded(s, len) && memcmp(text, s, unpadded(s, len)) == 0,
                 "base64 variant %d: accepted text is not canonical", (int)variant);
        if (variant == HP_BASE64_URL_NOPAD)
            FZ_CHECK(memchr(s, '=', len) == NULL, "base64url-nopad accepted padding");
        free(text);
        if (n > 0) {
            unsigned char *small = malloc(n - 1 ? n - 1 : 1);
            size_t m = 0;
            FZ_CHECK(hp_base64_decode(s, len, variant, small, n - 1, &m) != HP_OK,
                     "base64: fits in %zu", n - 1);
            free(small);
        }
    }
    free(out);
}

/* encode -> decode of arbitrary bytes gives them back, in every variant. */
static void check_round_trip(const unsigned char *bytes, size_t len)
{
    char *text = malloc(HP_BASE64_LEN(len) + HP_HEX_LEN(len) + 1);
    unsigned char *back = malloc(len + 2);
    size_t n = 0;

    size_t tlen = hp_hex_encode(bytes, len, text);
    FZ_CHECK(hp_hex_decode(text, tlen, back, len + 2, &n) == HP_OK && n == len &&
                 memcmp(back, bytes, len) == 0,
             "hex round trip");
    for (int v = HP_BASE64_STD; v <= HP_BASE64_URL_NOPAD; v++) {
        tlen = hp_base64_encode(bytes, len, (hp_base64_variant)v, text);
        FZ_CHECK(hp_base64_decode(text, tlen, (hp_base64_variant)v, back, len + 2, &n) == HP_OK &&
                     n == len && memcmp(back, bytes, len) == 0,
                 "base64 variant %d round trip", v);
    }
    free(back);
    free(text);
}

static void check_ts(const char *s, size_t len)
{
    int64_t ts = -1;
    bool digits = len >= 1 && len <= 12;

    for (size_t i = 0; digits && i < len; i++)
        digits = s[i] >= '0' && s[i] <= '9';
    bool ok = hp_sig_parse_ts(s, len, &ts);
    FZ_CHECK(ok == digits, "parse_ts(%.*s) = %d", (int)len, s, ok);
    if (ok) {
        char buf[16];
        memcpy(buf, s, len);
        buf[len] = '\0';
        FZ_CHECK(ts == strtoll(buf, NULL, 10), "parse_ts(%s) = %lld", buf, (long long)ts);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: no terminator, so a read past len is caught. */
    char *s = malloc(size ? size : 1);
    memcpy(s, data, size);

    check_hex(s, size);
    for (int v = HP_BASE64_STD; v <= HP_BASE64_URL_NOPAD; v++)
        check_base64(s, size, (hp_base64_variant)v);
    check_round_trip(data, size);
    check_ts(s, size);
    free(s);
    return 0;
}
