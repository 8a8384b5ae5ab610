/*
 * hp_codec: hex and base64 (standard and URL-safe) encoding and decoding of
 * byte strings, for signatures, keys and tokens.
 *
 * The decoders are strict, because what they read comes from the network:
 * no whitespace, no characters outside the alphabet, no bits set after the
 * last whole byte (so every byte string has exactly one accepted encoding,
 * up to hex case and base64 padding). Padding is optional on input unless
 * the variant says otherwise, but when present it must be complete ("QQ=="
 * or "QQ", never "QQ="). They never write past outsz and read exactly len
 * bytes of input (which need not be NUL-terminated).
 */
#ifndef HP_CODEC_H
#define HP_CODEC_H

#include "hp_err.h"

#include <stddef.h>

/* Hex text length of n bytes, without the terminator. */
#define HP_HEX_LEN(n) ((n)*2)

/* Base64 text length of n bytes, padded, without the terminator. */
#define HP_BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Most bytes a base64 text of len characters decodes to. */
#define HP_BASE64_DECODED_MAX(len) ((len) / 4 * 3 + 2)

/* Writes the lowercase hex of in[0..len) and a terminator into out, which
 * has room for HP_HEX_LEN(len) + 1 bytes. Returns HP_HEX_LEN(len). @thread any */
size_t hp_hex_encode(const unsigned char *in, size_t len, char *out);

/* The value of one hex digit (either case), or -1. @thread any */
int hp_hex_digit(unsigned char c);

/*
 * Decodes len hex characters (upper or lower case, an even number) from s
 * into out. HP_ERR_INVALID if s is not hex or its bytes do not fit in outsz;
 * else *outlen = len / 2. @thread any
 */
hp_err hp_hex_decode(const char *s, size_t len, unsigned char *out, size_t outsz,
                     size_t *outlen) HP_WARN_UNUSED;

typedef enum {
    /* RFC 4648 §4, "+/"; written padded, read with or without padding. */
    HP_BASE64_STD,
    /* RFC 4648 §5, "-_"; written without padding, read with or without. */
    HP_BASE64_URL,
    /* base64url as in JWS (RFC 7515 §2): "-_", padding neither written nor
     * accepted. */
    HP_BASE64_URL_NOPAD
} hp_base64_variant;

/* Length of the text hp_base64_encode writes for n bytes, without the
 * terminator. @thread any */
size_t hp_base64_encoded_len(size_t n, hp_base64_variant variant);

/* Writes the base64 of in[0..len) and a terminator into out, which has room
 * for hp_base64_encoded_len(len, variant) + 1 bytes (HP_BASE64_LEN(len) + 1
 * is always enough). Returns the text length. @thread any */
size_t hp_base64_encode(const unsigned char *in, size_t len, hp_base64_variant variant, char *out);

/*
 * Decodes len characters of base64 from s into out. HP_ERR_INVALID if s is
 * not canonical base64 of the variant (see the top of this file) or its
 * bytes do not fit in outsz (HP_BASE64_DECODED_MAX(len) always fits); else
 * *outlen is the number of bytes written. An empty text decodes to zero
 * bytes. @thread any
 */
hp_err hp_base64_decode(const char *s, size_t len, hp_base64_variant variant, unsigned char *out,
                        size_t outsz, size_t *outlen) HP_WARN_UNUSED;

#endif /* HP_CODEC_H */
