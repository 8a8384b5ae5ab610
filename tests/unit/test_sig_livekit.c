/*
 * Unit tests for hp_sig's livekit scheme: JWTs are built here, part by part
 * with OpenSSL's one-shot HMAC(), so that every header and claim can be
 * chosen: the official body's sha256 claim, the "Bearer " prefix, algorithm
 * confusion (none, HS512, RS256, a missing or duplicated alg), iss and key
 * rotation, exp and nbf at the leeway and one second past it, the body
 * hash, and malformed tokens.
 */
#include "hp_codec.h"
#include "hp_sig.h"
#include "sig_test.h"

#include <check.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define NOW INT64_C(1700000000)
#define SECRET "lk-api-secret-0123456789abcdefghijklmnopqrstuv"
#define SECRET2 "lk-api-secret-rotated-zyxwvutsrqponmlkjihgfedc"

/* node-sdks WebhookReceiver.test.ts: the body and its sha256 claim. */
#define LK_BODY                                                                                    \
    "{\"event\":\"room_started\", \"room\":{\"sid\":\"RM_TkVjUvAqgzKz\", "                         \
    "\"name\":\"mytestroom\", \"emptyTimeout\":300, \"creationTime\":\"1628545903\", "             \
    "\"turnPassword\":\"ICkSr2rEeslkN6e9bXL4Ji5zzMD5Z7zzr6ulOaxMj6N\", "                           \
    "\"enabledCodecs\":[{\"mime\":\"audio/opus\"}, {\"mime\":\"video/VP8\"}]}}"
#define LK_SHA "CoEQz1chqJ9bnZRcORddjplkvpjmPujmLTR42DbefYI="

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static char tok[4096];
static char claims_buf[1024];

/* base64url(hdr) "." base64url(claims) "." base64url(HMAC-SHA256(secret)). */
static const char *jwt(const char *hdr, const char *claims, const char *secret)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    size_t at = hp_base64_encode((const unsigned char *)hdr, strlen(hdr), HP_BASE64_URL_NOPAD, tok);

    tok[at++] = '.';
    at += hp_base64_encode((const unsigned char *)claims, strlen(claims), HP_BASE64_URL_NOPAD,
                           tok + at);
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
                               (const unsigned char *)tok, at, mac, &maclen));
    tok[at++] = '.';
    hp_base64_encode(mac, maclen, HP_BASE64_URL_NOPAD, tok + at);
    return tok;
}

/* Claims as LiveKit sends them (plus a grant we ignore). */
static const char *claims(const char *iss, int64_t nbf, int64_t exp, const char *sha)
{
    snprintf(claims_buf, sizeof claims_buf,
             "{\"exp\":%" PRId64 ",\"iss\":\"%s\",\"nbf\":%" PRId64
             ",\"sha256\":\"%s\",\"video\":{}}",
             exp, iss, nbf, sha);
    return claims_buf;
}

static const char *good_claims(void)
{
    return claims("APIkey", NOW, NOW + 300, LK_SHA);
}

START_TEST(test_livekit_official)
{
    hp_verify_config vc = st_vc(HP_VERIFY_LIVEKIT, SECRET, NULL);
    char bearer[4200];

    st_set("Authorization", jwt(HS256, good_claims(), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    snprintf(bearer, sizeof bearer, "Bearer %s", tok);
    st_set("Authorization", bearer);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    snprintf(bearer, sizeof bearer, "bEARER %s", tok);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    snprintf(bearer, sizeof bearer, "Bearer  %s", tok);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    snprintf(bearer, sizeof bearer, "Basic %s", tok);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* Without a typ too. */
    st_set("Authorization", jwt("{\"alg\":\"HS256\"}", good_claims(), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
}
END_TEST

/* What hp_sig_sign makes, taken apart. */
START_TEST(test_livekit_sign)
{
    hp_verify_config vc = st_vc(HP_VERIFY_LIVEKIT, SECRET, SECRET2);
    hp_sig_headers hs;
    unsigned char part[1024];
    size_t n;

    st_sign(&vc, LK_BODY, NOW, &hs);
    ck_assert_uint_eq(hs.n, 1);
    ck_assert_str_eq(hs.h[0].name, "Authorization");
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, LK_BODY, NOW + 300 + 60, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, LK_BODY, NOW + 300 + 61, HP_SIG_STALE, "expired");

    const char *t = hs.h[0].value;
    const char *dot1 = strchr(t, '.');
    const char *dot2 = strchr(dot1 + 1, '.');
    ck_assert_ptr_null(strchr(dot2 + 1, '.'));
    ck_assert_int_eq(
        hp_base64_decode(t, (size_t)(dot1 - t), HP_BASE64_URL_NOPAD, part, sizeof part - 1, &n),
        HP_OK);
    part[n] = '\0';
    ck_assert_str_eq((char *)part, HS256);
    ck_assert_int_eq(hp_base64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), HP_BASE64_URL_NOPAD,
                                      part, sizeof part - 1, &n),
                     HP_OK);
    part[n] = '\0';
    ck_assert_str_eq((char *)part, "{\"iss\":\"APIkey\",\"nbf\":1700000000,\"exp\":1700000300,"
                                   "\"sha256\":\"" LK_SHA "\"}");
    hp_sig_headers_deinit(&hs);
}
END_TEST

START_TEST(test_livekit_alg)
{
    hp_verify_config vc = st_vc(HP_VERIFY_LIVEKIT, SECRET, NULL);
    static const char *const bad_alg[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS384\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"ES256\"}",
        "{\"alg\":\"hs256\"}",
        "{\"alg\":\"HS256 \"}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":null}",
        "{\"alg\":256}",
        "{\"alg\":[\"HS256\"]}",
        "{}",
    };

    for (size_t i = 0; i < sizeof bad_alg / sizeof bad_alg[0]; i++) {
        /* Even with a MAC that is right under the secret. */
        st_set("Authorization", jwt(bad_alg[i], good_claims(), SECRET));
        ST_EXPECT_MSG(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_alg", bad_alg[i]);
    }
    /* alg none as attackers send it: no signature at all. */
    jwt("{\"alg\":\"none\"}", good_claims(), SECRET);
    *(strrchr(tok, '.') + 1) = '\0';
    st_set("Authorization", tok);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_alg");
    /* A second alg (duplicate keys) is refused outright. */
    st_set("Authorization", jwt("{\"alg\":\"none\",\"alg\":\"HS256\"}", good_claims(), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("Authorization", jwt("{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", good_claims(), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("Authorization", jwt("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", good_claims(), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
}
END_TEST

START_TEST(test_livekit_keys)
{
    hp_verify_config vc = st_vc(HP_VERIFY_LIVEKIT, SECRET, SECRET2);

    /* iss picks the key: APIkey = SECRET, APIkey2 = SECRET2. */
    st_set("Authorization", jwt(HS256, claims("APIkey", NOW, NOW + 300, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    st_set("Authorization", jwt(HS256, claims("APIkey2", NOW, NOW + 300, LK_SHA), SECRET2));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    st_set("Authorization", jwt(HS256, claims("APIkey", NOW, NOW + 300, LK_SHA), SECRET2));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "mismatch");
    st_set("Authorization", jwt(HS256, claims("APIkey2", NOW, NOW + 300, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "mismatch");
    st_set("Authorization", jwt(HS256, claims("APIkey3", NOW, NOW + 300, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "unknown_key");
    st_set("Authorization", jwt(HS256, claims("apikey", NOW, NOW + 300, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "unknown_key");
    st_set("Authorization", jwt(HS256, "{\"exp\":1700000300,\"sha256\":\"" LK_SHA "\"}", SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "unknown_key");
    st_set("Authorization",
           jwt(HS256, "{\"iss\":7,\"exp\":1700000300,\"sha256\":\"" LK_SHA "\"}", SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "unknown_key");
    /* One key name with two secrets (a secret rolled under the same key):
     * either one is valid. */
    vc.keys[1].api_key = "APIkey";
    st_set("Authorization", jwt(HS256, good_claims(), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    st_set("Authorization", jwt(HS256, good_claims(), SECRET2));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    st_set("Authorization", jwt(HS256, good_claims(), "other"));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "mismatch");
}
END_TEST

START_TEST(test_livekit_times)
{
    hp_verify_config vc = st_vc(HP_VERIFY_LIVEKIT, SECRET, NULL);

    st_set("Authorization", jwt(HS256, claims("APIkey", NOW - 600, NOW - 60, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    st_set("Authorization", jwt(HS256, claims("APIkey", NOW - 600, NOW - 61, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_STALE, "expired");
    st_set("Authorization", jwt(HS256, claims("APIkey", NOW + 60, NOW + 360, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    st_set("Authorization", jwt(HS256, claims("APIkey", NOW + 61, NOW + 361, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_STALE, "not_yet_valid");
    /* nbf is optional, exp is not; both NumericDate integers. */
    static const char *const cases[] = {
        "{\"iss\":\"APIkey\",\"exp\":1700000300,\"sha256\":\"" LK_SHA "\"}",
        "{\"iss\":\"APIkey\",\"nbf\":1700000000,\"sha256\":\"" LK_SHA "\"}",
        "{\"iss\":\"APIkey\",\"exp\":1700000300.0,\"sha256\":\"" LK_SHA "\"}",
        "{\"iss\":\"APIkey\",\"exp\":\"1700000300\",\"sha256\":\"" LK_SHA "\"}",
        "{\"iss\":\"APIkey\",\"exp\":1700000300,\"nbf\":\"x\",\"sha256\":\"" LK_SHA "\"}",
        "{\"iss\":\"APIkey\",\"exp\":null,\"sha256\":\"" LK_SHA "\"}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        st_set("Authorization", jwt(HS256, cases[i], SECRET));
        ST_EXPECT_MSG(&vc, LK_BODY, NOW, i == 0 ? HP_SIG_OK : HP_SIG_INVALID,
                      i == 0 ? "ok" : "bad_format", cases[i]);
    }
    /* Extreme claims do not overflow anything. */
    st_set("Authorization", jwt(HS256, claims("APIkey", INT64_MIN, INT64_MAX, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    st_set("Authorization", jwt(HS256, claims("APIkey", INT64_MAX, INT64_MIN, LK_SHA), SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_STALE, "expired");
}
END_TEST

START_TEST(test_livekit_body_hash)
{
    hp_verify_config vc = st_vc(HP_VERIFY_LIVEKIT, SECRET, NULL);

    st_set("Authorization", jwt(HS256, good_claims(), SECRET));
    ST_EXPECT(&vc, LK_BODY " ", NOW, HP_SIG_INVALID, "body_hash_mismatch");
    ST_EXPECT(&vc, "", NOW, HP_SIG_INVALID, "body_hash_mismatch");
    /* The unpadded form of the same hash is the same hash. */
    st_set("Authorization",
           jwt(HS256,
               claims("APIkey", NOW, NOW + 300, "CoEQz1chqJ9bnZRcORddjplkvpjmPujmLTR42DbefYI"),
               SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_OK, "ok");
    static const char *const bad[] = {
        "", "CoEQz1chqJ9bnZRcORddjplkvpjmPujmLTR42DbefY==",
        "0a8110cf5721a89f5b9d945c39175d8e9964be99e63ee8e62d3478d836de7d82",
        "CoEQz1chqJ9bnZRcORddjplkvpjmPujmLTR42DbefYI_"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st_set("Authorization", jwt(HS256, claims("APIkey", NOW, NOW + 300, bad[i]), SECRET));
        ST_EXPECT_MSG(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format", bad[i]);
    }
    st_set("Authorization", jwt(HS256, "{\"iss\":\"APIkey\",\"exp\":1700000300}", SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("Authorization",
           jwt(HS256, "{\"iss\":\"APIkey\",\"exp\":1700000300,\"sha256\":42}", SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
}
END_TEST

START_TEST(test_livekit_malformed)
{
    hp_verify_config vc = st_vc(HP_VERIFY_LIVEKIT, SECRET, NULL);
    char t[4200];
    const char *good = jwt(HS256, good_claims(), SECRET);
    char *dot2;

    /* Two parts, four parts, empty parts. */
    snprintf(t, sizeof t, "%s", good);
    *strrchr(t, '.') = '\0';
    st_set("Authorization", t);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    static const char *const junk[] = {
        ".", "..", "...", "a.b.c", "Bearer", "Bearer x.y.z", "\xff\xfe.\xfd.\xfc"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        st_set("Authorization", junk[i]);
        ST_EXPECT_MSG(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format", junk[i]);
    }
    snprintf(t, sizeof t, "%s.%s", good, "AAAA");
    st_set("Authorization", t);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    snprintf(t, sizeof t, ".%s", strchr(good, '.') + 1);
    st_set("Authorization", t);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* Padding, the standard alphabet, spaces. */
    snprintf(t, sizeof t, "%s=", good);
    st_set("Authorization", t);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    snprintf(t, sizeof t, "%s", good);
    dot2 = strrchr(t, '.');
    dot2[1] = '+';
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    snprintf(t, sizeof t, " %s", good);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* A signature a character short. */
    snprintf(t, sizeof t, "%s", good);
    t[strlen(t) - 1] = '\0';
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* A changed signature, or claims changed under the old signature. */
    snprintf(t, sizeof t, "%s", good);
    dot2 = strrchr(t, '.');
    dot2[1] = dot2[1] == 'A' ? 'B' : 'A';
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "mismatch");
    char sig[64];
    snprintf(sig, sizeof sig, "%s", strrchr(good, '.'));
    jwt(HS256, claims("APIkey", NOW, NOW + 3000, LK_SHA), SECRET);
    snprintf(strrchr(tok, '.'), sizeof tok - (size_t)(strrchr(tok, '.') - tok), "%s", sig);
    st_set("Authorization", tok);
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "mismatch");
    /* JSON that is not an object, or not JSON. */
    static const char *const not_objects[] = {"[\"HS256\"]", "\"HS256\"", "{\"alg\":\"HS256\"", "",
                                              "null"};
    for (size_t i = 0; i < sizeof not_objects / sizeof not_objects[0]; i++) {
        st_set("Authorization", jwt(not_objects[i], good_claims(), SECRET));
        ST_EXPECT_MSG(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format", not_objects[i]);
        st_set("Authorization", jwt(HS256, not_objects[i], SECRET));
        ST_EXPECT_MSG(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format", not_objects[i]);
    }
    /* Claims with duplicate keys: which exp would count? Neither. */
    st_set("Authorization", jwt(HS256,
                                "{\"iss\":\"APIkey\",\"exp\":1,\"exp\":1700000300,"
                                "\"sha256\":\"" LK_SHA "\"}",
                                SECRET));
    ST_EXPECT(&vc, LK_BODY, NOW, HP_SIG_INVALID, "bad_format");
}
END_TEST

static Suite *sig_livekit_suite(void)
{
    Suite *s = suite_create("sig_livekit");
    TCase *tc = tcase_create("livekit");

    tcase_add_checked_fixture(tc, st_setup, st_teardown);
    tcase_add_test(tc, test_livekit_official);
    tcase_add_test(tc, test_livekit_sign);
    tcase_add_test(tc, test_livekit_alg);
    tcase_add_test(tc, test_livekit_keys);
    tcase_add_test(tc, test_livekit_times);
    tcase_add_test(tc, test_livekit_body_hash);
    tcase_add_test(tc, test_livekit_malformed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sig_livekit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
