/*
 * Unit tests for hp_codec: hex and base64 (standard, URL, URL without
 * padding) against the RFC 4648 §10 vectors, round trips of every length,
 * and the strictness of the decoders (padding, alphabets, stray bits, room).
 */
#include "hp_codec.h"

#include <check.h>
#include <string.h>

/* RFC 4648 §10: "", "f", "fo", "foo", "foob", "fooba", "foobar". */
static const char *const rfc_plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const rfc_b64[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const rfc_b64_nopad[] = {"",       "Zg",      "Zm8",     "Zm9v",
                                            "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
static const char *const rfc_hex[] = {"",         "66",         "666f",        "666f6f",
                                      "666f6f62", "666f6f6261", "666f6f626172"};

#define NRFC (sizeof rfc_plain / sizeof rfc_plain[0])

static hp_err b64dec(const char *s, hp_base64_variant v, unsigned char *out, size_t outsz,
                     size_t *n)
{
    return hp_base64_decode(s, strlen(s), v, out, outsz, n);
}

START_TEST(test_rfc4648_vectors)
{
    char text[64];
    unsigned char bytes[64];
    size_t n;
    const char *p = rfc_plain[_i];
    size_t plen = strlen(p);

    ck_assert_uint_eq(hp_hex_encode((const unsigned char *)p, plen, text), strlen(rfc_hex[_i]));
    ck_assert_str_eq(text, rfc_hex[_i]);
    ck_assert_int_eq(hp_hex_decode(rfc_hex[_i], strlen(rfc_hex[_i]), bytes, sizeof bytes, &n),
                     HP_OK);
    ck_assert_uint_eq(n, plen);
    ck_assert(memcmp(bytes, p, plen) == 0);

    ck_assert_uint_eq(hp_base64_encode((const unsigned char *)p, plen, HP_BASE64_STD, text),
                      strlen(rfc_b64[_i]));
    ck_assert_str_eq(text, rfc_b64[_i]);
    ck_assert_uint_eq(hp_base64_encoded_len(plen, HP_BASE64_STD), strlen(rfc_b64[_i]));
    hp_base64_encode((const unsigned char *)p, plen, HP_BASE64_URL, text);
    ck_assert_str_eq(text, rfc_b64_nopad[_i]);
    ck_assert_uint_eq(hp_base64_encoded_len(plen, HP_BASE64_URL), strlen(rfc_b64_nopad[_i]));
    hp_base64_encode((const unsigned char *)p, plen, HP_BASE64_URL_NOPAD, text);
    ck_assert_str_eq(text, rfc_b64_nopad[_i]);

    /* Padded and unpadded both decode, except padded in URL_NOPAD. */
    for (int v = HP_BASE64_STD; v <= HP_BASE64_URL_NOPAD; v++) {
        ck_assert_int_eq(b64dec(rfc_b64_nopad[_i], (hp_base64_variant)v, bytes, sizeof bytes, &n),
                         HP_OK);
        ck_assert_uint_eq(n, plen);
        ck_assert(memcmp(bytes, p, plen) == 0);
        hp_err want = v == HP_BASE64_URL_NOPAD && strchr(rfc_b64[_i], '=') ? HP_ERR_INVALID : HP_OK;
        ck_assert_int_eq(b64dec(rfc_b64[_i], (hp_base64_variant)v, bytes, sizeof bytes, &n), want);
        if (want == HP_OK) {
            ck_assert_uint_eq(n, plen);
            ck_assert(memcmp(bytes, p, plen) == 0);
        }
    }
}
END_TEST

START_TEST(test_hex_upper_and_errors)
{
    unsigned char b[8];
    size_t n = 99;

    ck_assert_int_eq(hp_hex_decode("DEADbeef", 8, b, sizeof b, &n), HP_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert(memcmp(b, "\xde\xad\xbe\xef", 4) == 0);
    ck_assert_int_eq(hp_hex_decode("abc", 3, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(hp_hex_decode("zz", 2, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(hp_hex_decode("0g", 2, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(hp_hex_decode(" 00", 3, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(hp_hex_decode("00 ", 3, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(hp_hex_decode("0x00", 4, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(hp_hex_decode("\xc3\xa9", 2, b, sizeof b, &n), HP_ERR_INVALID);
    /* Room: 9 bytes do not fit in 8. */
    ck_assert_int_eq(hp_hex_decode("000000000000000000", 18, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(hp_hex_decode("0000000000000000", 16, b, sizeof b, &n), HP_OK);
    ck_assert_uint_eq(n, 8);
    /* len, not the terminator, bounds the input. */
    ck_assert_int_eq(hp_hex_decode("abcdXX", 4, b, sizeof b, &n), HP_OK);
    ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(test_base64_bad_padding)
{
    unsigned char b[16];
    size_t n;
    static const char *const bad[] = {
        "Zg=",    /* incomplete padding */
        "Zg===",  /* too much */
        "Z===",   /* one character is 6 bits */
        "Z",      /* the same, unpadded */
        "Zm9vY",  /* 5 characters: a lone sixth */
        "=",      /* padding only */
        "====",   /* padding only */
        "Zg==Zg", /* padding inside */
        "Zm8==",  /* padding for the wrong length */
        "Zm9v=",  /* padding after a whole group */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(b64dec(bad[i], HP_BASE64_STD, b, sizeof b, &n) == HP_ERR_INVALID, "%s",
                      bad[i]);
}
END_TEST

START_TEST(test_base64_alphabets)
{
    unsigned char b[16];
    size_t n;
    static const unsigned char fb[] = {0xfb, 0xff};
    char text[8];

    hp_base64_encode(fb, 2, HP_BASE64_STD, text);
    ck_assert_str_eq(text, "+/8=");
    hp_base64_encode(fb, 2, HP_BASE64_URL, text);
    ck_assert_str_eq(text, "-_8");
    ck_assert_int_eq(b64dec("+/8=", HP_BASE64_STD, b, sizeof b, &n), HP_OK);
    ck_assert(n == 2 && memcmp(b, fb, 2) == 0);
    ck_assert_int_eq(b64dec("-_8", HP_BASE64_URL, b, sizeof b, &n), HP_OK);
    ck_assert(n == 2 && memcmp(b, fb, 2) == 0);
    ck_assert_int_eq(b64dec("-_8=", HP_BASE64_URL, b, sizeof b, &n), HP_OK);
    /* Each alphabet refuses the other's two characters. */
    ck_assert_int_eq(b64dec("-_8=", HP_BASE64_STD, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(b64dec("+/8", HP_BASE64_URL, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(b64dec("+/8", HP_BASE64_URL_NOPAD, b, sizeof b, &n), HP_ERR_INVALID);
    /* Whitespace, other punctuation, non-ASCII bytes, a NUL. */
    ck_assert_int_eq(b64dec("Zm9v Yg==", HP_BASE64_STD, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(b64dec("Zm9v\nYg==", HP_BASE64_STD, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(b64dec("Zm.v", HP_BASE64_STD, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(b64dec("Zm\xc3\xa9", HP_BASE64_STD, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(hp_base64_decode("Zm\0v", 4, HP_BASE64_STD, b, sizeof b, &n), HP_ERR_INVALID);
}
END_TEST

START_TEST(test_base64_stray_bits)
{
    unsigned char b[16];
    size_t n;

    /* "Zg" is canonical for "f"; "Zh" carries a set bit after the byte. */
    ck_assert_int_eq(b64dec("Zg==", HP_BASE64_STD, b, sizeof b, &n), HP_OK);
    ck_assert_int_eq(b64dec("Zh==", HP_BASE64_STD, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(b64dec("Zh", HP_BASE64_URL_NOPAD, b, sizeof b, &n), HP_ERR_INVALID);
    ck_assert_int_eq(b64dec("Zm8=", HP_BASE64_STD, b, sizeof b, &n), HP_OK);
    ck_assert_int_eq(b64dec("Zm9=", HP_BASE64_STD, b, sizeof b, &n), HP_ERR_INVALID);
}
END_TEST

/* EVP_DecodeBlock would report 3 bytes for "Zg=="; ours reports 1. */
START_TEST(test_base64_padding_length)
{
    unsigned char b[16];
    size_t n = 0;

    ck_assert_int_eq(b64dec("Zg==", HP_BASE64_STD, b, sizeof b, &n), HP_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(b64dec("Zm8=", HP_BASE64_STD, b, sizeof b, &n), HP_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(b64dec("", HP_BASE64_STD, b, sizeof b, &n), HP_OK);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_base64_room)
{
    unsigned char b[6];
    size_t n;

    ck_assert_int_eq(b64dec("Zm9vYmFy", HP_BASE64_STD, b, 6, &n), HP_OK);
    ck_assert_int_eq(b64dec("Zm9vYmFy", HP_BASE64_STD, b, 5, &n), HP_ERR_INVALID);
    ck_assert_int_eq(b64dec("Zm9vYmE=", HP_BASE64_STD, b, 5, &n), HP_OK);
    ck_assert_int_eq(b64dec("Zm9vYmE", HP_BASE64_STD, b, 4, &n), HP_ERR_INVALID);
    ck_assert_uint_eq(HP_BASE64_DECODED_MAX(8), 8);
}
END_TEST

/* Every byte value and every length up to 300, through every codec. */
START_TEST(test_round_trip)
{
    unsigned char in[300];
    unsigned char back[300];
    char text[HP_BASE64_LEN(300) + HP_HEX_LEN(300) + 1];
    size_t n;

    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof in; len++) {
        size_t t = hp_hex_encode(in, len, text);
        ck_assert_int_eq(hp_hex_decode(text, t, back, sizeof back, &n), HP_OK);
        ck_assert(n == len && memcmp(in, back, len) == 0);
        for (int v = HP_BASE64_STD; v <= HP_BASE64_URL_NOPAD; v++) {
            t = hp_base64_encode(in, len, (hp_base64_variant)v, text);
            ck_assert_uint_eq(t, hp_base64_encoded_len(len, (hp_base64_variant)v));
            ck_assert_uint_eq(strlen(text), t);
            ck_assert_int_eq(hp_base64_decode(text, t, (hp_base64_variant)v, back, sizeof back, &n),
                             HP_OK);
            ck_assert(n == len && memcmp(in, back, len) == 0);
            /* The bound for the decoder's room always holds. */
            ck_assert_uint_ge(HP_BASE64_DECODED_MAX(t), len);
        }
    }
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_rfc4648_vectors, 0, (int)NRFC);
    tcase_add_test(tc, test_hex_upper_and_errors);
    tcase_add_test(tc, test_base64_bad_padding);
    tcase_add_test(tc, test_base64_alphabets);
    tcase_add_test(tc, test_base64_stray_bits);
    tcase_add_test(tc, test_base64_padding_length);
    tcase_add_test(tc, test_base64_room);
    tcase_add_test(tc, test_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(codec_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
