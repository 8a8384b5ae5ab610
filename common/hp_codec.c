/*
 * hp_codec: hex and base64 encoders and strict decoders.
 *
 * Written here rather than taken from OpenSSL: EVP_DecodeBlock() counts the
 * '=' padding in its output length and needs padding, and EVP_EncodeBlock()
 * knows only the standard alphabet. What is decoded here is never secret
 * key material of ours (a received signature, a token, a JWT part), so the
 * lookups need not run in constant time.
 */
#include "hp_codec.h"

#include <stdbool.h>

static const char hex_digits[] = "0123456789abcdef";

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t hp_hex_encode(const unsigned char *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return 2 * len;
}

int hp_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

hp_err hp_hex_decode(const char *s, size_t len, unsigned char *out, size_t outsz, size_t *outlen)
{
    if (len % 2 != 0 || len / 2 > outsz)
        return HP_ERR_INVALID;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hp_hex_digit((unsigned char)s[i]);
        int lo = hp_hex_digit((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return HP_ERR_INVALID;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *outlen = len / 2;
    return HP_OK;
}

size_t hp_base64_encoded_len(size_t n, hp_base64_variant variant)
{
    if (variant == HP_BASE64_STD)
        return HP_BASE64_LEN(n);
    /* Unpadded: 4 characters per 3 bytes, 2 or 3 for a last 1 or 2. */
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t hp_base64_encode(const unsigned char *in, size_t len, hp_base64_variant variant, char *out)
{
    const char *abc = variant == HP_BASE64_STD ? b64_std : b64_url;
    bool pad = variant == HP_BASE64_STD;
    size_t o = 0;
    size_t i = 0;

    for (; i + 3 <= len; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18 & 0x3f];
        out[o++] = abc[v >> 12 & 0x3f];
        out[o++] = abc[v >> 6 & 0x3f];
        out[o++] = abc[v & 0x3f];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        out[o++] = abc[v >> 18 & 0x3f];
        out[o++] = abc[v >> 12 & 0x3f];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (len - i == 2) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
        out[o++] = abc[v >> 18 & 0x3f];
        out[o++] = abc[v >> 12 & 0x3f];
        out[o++] = abc[v >> 6 & 0x3f];
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int b64_value(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

hp_err hp_base64_decode(const char *s, size_t len, hp_base64_variant variant, unsigned char *out,
                        size_t outsz, size_t *outlen)
{
    bool url = variant != HP_BASE64_STD;
    size_t n = len;
    size_t pad = 0;
    unsigned long acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    while (n > 0 && s[n - 1] == '=') {
        n--;
        pad++;
    }
    if (pad > 0 && (variant == HP_BASE64_URL_NOPAD || pad > 2 || len % 4 != 0))
        return HP_ERR_INVALID;
    /* A last group of one character holds 6 bits: not a whole byte. */
    if (n % 4 == 1)
        return HP_ERR_INVALID;
    if (n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1) > outsz)
        return HP_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)s[i], url);
        if (v < 0)
            return HP_ERR_INVALID;
        acc = (acc << 6 | (unsigned long)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* The 2 or 4 bits left over must be zero, or two texts would decode to
     * the same bytes. */
    if ((acc & ((1ul << bits) - 1)) != 0)
        return HP_ERR_INVALID;
    *outlen = o;
    return HP_OK;
}
