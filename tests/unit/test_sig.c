/*
 * Unit tests for hp_sig: the providers' vectors of signature-vectors.md,
 * each verified and re-made byte for byte; per scheme, the ways a request
 * goes wrong (wrong secret, a changed body byte, the header missing, empty,
 * garbage, 10 KiB long or not ASCII); timestamp windows at the tolerance
 * and one second past it; several signatures in one header; rotation; and
 * sign -> verify for every scheme. LiveKit's JWTs have tests of their own in
 * test_sig_livekit.c.
 *
 * Configurations are built here, as the config module would leave them
 * (standard-webhooks secrets already base64-decoded); requests are a small
 * table of headers looked up case-insensitively.
 */
#include "hp_codec.h"
#include "hp_sig.h"
#include "sig_test.h"

#include <check.h>
#include <string.h>

#define NOW INT64_C(1700000000)
#define GOOD "whsec_Z29vZC1zZWNyZXQtZm9yLXRlc3Rz"
#define WRONG "whsec_d3Jvbmctc2VjcmV0LW9mLXRlc3Rz"

/* ---- the official and computed vectors ---- */

#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS "1614265330"
#define SW_BODY "{\"test\": 2432232314}"
#define SW_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

START_TEST(test_standard_webhooks_official)
{
    hp_verify_config vc = st_vc(HP_VERIFY_STANDARD_WEBHOOKS, SW_SECRET, NULL);
    int64_t ts = 1614265330;

    st_set("webhook-id", SW_ID);
    st_set("webhook-timestamp", SW_TS);
    st_set("webhook-signature", SW_SIG);
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, SW_BODY, ts + 300, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, SW_BODY, ts + 301, HP_SIG_STALE, "timestamp_too_old");
    ST_EXPECT(&vc, SW_BODY, ts - 300, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, SW_BODY, ts - 301, HP_SIG_STALE, "timestamp_in_future");
    ST_EXPECT(&vc, "{\"test\": 2432232315}", ts, HP_SIG_INVALID, "mismatch");

    /* Svix's names, read first. */
    st_clear();
    st_set("svix-id", SW_ID);
    st_set("svix-timestamp", SW_TS);
    st_set("svix-signature", SW_SIG);
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_OK, "ok");
    /* A webhook-* family beside it does not matter... */
    st_set("webhook-signature", "v1,AAAA");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_OK, "ok");
    /* ...but one request never mixes the two. */
    st_set("svix-signature", NULL);
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_MISSING, "missing_header");
    st_set("webhook-signature", SW_SIG);
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_MISSING, "missing_header");

    /* Made byte for byte by hp_sig_sign. */
    hp_sig_headers hs;
    ck_assert_int_eq(
        hp_sig_sign(&vc, (const unsigned char *)SW_BODY, strlen(SW_BODY), ts, SW_ID, &hs), HP_OK);
    ck_assert_uint_eq(hs.n, 3);
    ck_assert_str_eq(hp_sig_headers_get(&hs, "webhook-id"), SW_ID);
    ck_assert_str_eq(hp_sig_headers_get(&hs, "webhook-timestamp"), SW_TS);
    ck_assert_str_eq(hp_sig_headers_get(&hs, "webhook-signature"), SW_SIG);
    hp_sig_headers_deinit(&hs);
    ck_assert_uint_eq(hs.n, 0);
}
END_TEST

START_TEST(test_standard_webhooks_entries)
{
    hp_verify_config vc = st_vc(HP_VERIFY_STANDARD_WEBHOOKS, SW_SECRET, NULL);
    int64_t ts = 1614265330;

    st_set("webhook-id", SW_ID);
    st_set("webhook-timestamp", SW_TS);
    /* Any v1 matching; others and unknown versions skipped. */
    st_set("webhook-signature", "v1,bad " SW_SIG);
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_OK, "ok");
    st_set("webhook-signature",
           "v1,Z29vZC1zZWNyZXQtZm9yLXRlc3RzLWFhYWFhYWFhYWE= v2,xyz v1a,abc " SW_SIG);
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_OK, "ok");
    st_set("webhook-signature", SW_SIG " v1,Z29vZC1zZWNyZXQtZm9yLXRlc3RzLWFhYWFhYWFhYWE=");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_OK, "ok");
    st_set("webhook-signature", SW_SIG "  v2,xyz");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_OK, "ok");
    /* The right MAC under another version name is not a v1. */
    st_set("webhook-signature", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_INVALID, "bad_format");
    st_set("webhook-signature",
           "v1a,tQ9V2XOqn7jL/"
           "DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_INVALID, "bad_format");
    /* Unpadded base64 is the same signature. */
    st_set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_OK, "ok");
    st_set("webhook-signature", "v1, g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_INVALID, "bad_format");
    /* The id is signed. */
    st_set("webhook-signature", SW_SIG);
    st_set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJeK");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_INVALID, "mismatch");
    st_set("webhook-id", SW_ID);
    /* Timestamps: digits only, at most 12 of them. */
    static const char *const bad_ts[] = {"+1614265330", "-1614265330",   " 1614265330",
                                         "1614265330 ", "1614265330.0",  "0x60",
                                         "1e9",         "1614265330000", "16142653a0"};
    for (size_t i = 0; i < sizeof bad_ts / sizeof bad_ts[0]; i++) {
        st_set("webhook-timestamp", bad_ts[i]);
        ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_INVALID, "bad_format");
    }
    st_set("webhook-timestamp", "01614265330");
    ST_EXPECT(&vc, SW_BODY, ts, HP_SIG_INVALID, "mismatch"); /* signed as text */
    /* Tolerance 0: the timestamp is not checked. */
    st_set("webhook-timestamp", SW_TS);
    vc.tolerance_s = 0;
    ST_EXPECT(&vc, SW_BODY, NOW, HP_SIG_OK, "ok");
}
END_TEST

#define STRIPE_SECRET "whsec_test_secret"
#define STRIPE_BODY "{\"id\":\"evt_test\",\"object\":\"event\"}"
#define STRIPE_V1 "v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
#define STRIPE_OTHER "v1=0000000000000000000000000000000000000000000000000000000000000000"

START_TEST(test_stripe_vector)
{
    hp_verify_config vc = st_vc(HP_VERIFY_STRIPE, STRIPE_SECRET, NULL);

    st_set("Stripe-Signature", "t=1700000000," STRIPE_V1);
    ST_EXPECT(&vc, STRIPE_BODY, NOW, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, STRIPE_BODY, NOW + 300, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, STRIPE_BODY, NOW + 301, HP_SIG_STALE, "timestamp_too_old");
    ST_EXPECT(&vc, STRIPE_BODY, NOW - 300, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, STRIPE_BODY, NOW - 301, HP_SIG_STALE, "timestamp_in_future");

    hp_sig_headers hs;
    ck_assert_int_eq(
        hp_sig_sign(&vc, (const unsigned char *)STRIPE_BODY, strlen(STRIPE_BODY), NOW, NULL, &hs),
        HP_OK);
    ck_assert_uint_eq(hs.n, 1);
    ck_assert_str_eq(hs.h[0].name, "Stripe-Signature");
    ck_assert_str_eq(hs.h[0].value, "t=1700000000," STRIPE_V1);
    hp_sig_headers_deinit(&hs);
}
END_TEST

START_TEST(test_stripe_parsing)
{
    hp_verify_config vc = st_vc(HP_VERIFY_STRIPE, STRIPE_SECRET, NULL);
    static const struct {
        const char *header;
        hp_sig_result result;
        const char *reason;
    } cases[] = {
        /* Several v1 (a secret roll), v0 and unknown keys ignored, any order. */
        {"t=1700000000," STRIPE_OTHER "," STRIPE_V1, HP_SIG_OK, "ok"},
        {"t=1700000000," STRIPE_V1 "," STRIPE_OTHER, HP_SIG_OK, "ok"},
        {STRIPE_V1 ",t=1700000000", HP_SIG_OK, "ok"},
        {"t=1700000000,v0=abc,foo=bar,baz," STRIPE_V1 ",", HP_SIG_OK, "ok"},
        {"t=1700000000,v1=zz," STRIPE_V1, HP_SIG_OK, "ok"},
        {"t=1700000000,V1=8042376F6CA064ADBE037642A718227DFD59047137EB49497A54C49EB0CFB724",
         HP_SIG_INVALID, "bad_format"},
        {"t=1700000000,v1=8042376F6CA064ADBE037642A718227DFD59047137EB49497A54C49EB0CFB724",
         HP_SIG_OK, "ok"},
        {"t=1700000000," STRIPE_OTHER, HP_SIG_INVALID, "mismatch"},
        {"t=1700000001," STRIPE_V1, HP_SIG_INVALID, "mismatch"},
        /* Exactly one strictly decimal t. */
        {STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        {"t=1700000000,t=1700000000," STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        {"t=," STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        {"t=+1700000000," STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        {"t=1700000000 ," STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        {" t=1700000000," STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        {"t=1.7e9," STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        {"t=1700000000000," STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        /* At least one well-formed v1. */
        {"t=1700000000", HP_SIG_INVALID, "bad_format"},
        {"t=1700000000,v0=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724",
         HP_SIG_INVALID, "bad_format"},
        {"t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb7",
         HP_SIG_INVALID, "bad_format"},
        {"t=1700000000,v1=" STRIPE_V1, HP_SIG_INVALID, "bad_format"},
        {"t=1700000000," STRIPE_V1 "00", HP_SIG_INVALID, "bad_format"},
        {",,,", HP_SIG_INVALID, "bad_format"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        st_set("Stripe-Signature", cases[i].header);
        ST_EXPECT_MSG(&vc, STRIPE_BODY, NOW, cases[i].result, cases[i].reason, cases[i].header);
    }
    /* The whole secret string is the key, "whsec_" included. */
    vc = st_vc(HP_VERIFY_STRIPE, "test_secret", NULL);
    st_set("Stripe-Signature", "t=1700000000," STRIPE_V1);
    ST_EXPECT(&vc, STRIPE_BODY, NOW, HP_SIG_INVALID, "mismatch");
    /* Tolerance 0, as in Stripe's SDKs when asked: no check at all. */
    vc = st_vc(HP_VERIFY_STRIPE, STRIPE_SECRET, NULL);
    vc.tolerance_s = 0;
    ST_EXPECT(&vc, STRIPE_BODY, NOW + 86400 * 365, HP_SIG_OK, "ok");
}
END_TEST

#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
#define GH_SHA1 "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"

START_TEST(test_github_vector)
{
    hp_verify_config vc = st_vc(HP_VERIFY_GITHUB, GH_SECRET, NULL);

    st_set("X-Hub-Signature-256", GH_SIG);
    ST_EXPECT(&vc, GH_BODY, NOW, HP_SIG_OK, "ok");
    st_set("x-hub-signature-256",
           "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17");
    ST_EXPECT(&vc, GH_BODY, NOW, HP_SIG_OK, "ok");
    st_set("X-Hub-Signature-256",
           "SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    ST_EXPECT(&vc, GH_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Hub-Signature-256",
           "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    ST_EXPECT(&vc, GH_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Hub-Signature-256", GH_SIG "0");
    ST_EXPECT(&vc, GH_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Hub-Signature-256", GH_SIG "00");
    ST_EXPECT(&vc, GH_BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* The legacy SHA-1 header, even when right, does not count. */
    st_set("X-Hub-Signature-256", NULL);
    st_set("X-Hub-Signature", GH_SHA1);
    ST_EXPECT(&vc, GH_BODY, NOW, HP_SIG_MISSING, "missing_header");
    st_set("X-Hub-Signature-256", GH_SHA1);
    ST_EXPECT(&vc, GH_BODY, NOW, HP_SIG_INVALID, "bad_format");

    hp_sig_headers hs;
    ck_assert_int_eq(
        hp_sig_sign(&vc, (const unsigned char *)GH_BODY, strlen(GH_BODY), NOW, NULL, &hs), HP_OK);
    ck_assert_uint_eq(hs.n, 1);
    ck_assert_str_eq(hs.h[0].name, "X-Hub-Signature-256");
    ck_assert_str_eq(hs.h[0].value, GH_SIG);
    hp_sig_headers_deinit(&hs);
}
END_TEST

#define SLACK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define SLACK_TS "1531420618"
#define SLACK_BODY                                                                                 \
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="         \
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"     \
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"             \
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."               \
    "803a0bc887a14d10d2c447fce8b6703c"
#define SLACK_SIG "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

START_TEST(test_slack_official)
{
    hp_verify_config vc = st_vc(HP_VERIFY_SLACK, SLACK_SECRET, NULL);
    int64_t ts = 1531420618;

    st_set("X-Slack-Request-Timestamp", SLACK_TS);
    st_set("X-Slack-Signature", SLACK_SIG);
    ST_EXPECT(&vc, SLACK_BODY, ts, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, SLACK_BODY, ts + 300, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, SLACK_BODY, ts + 301, HP_SIG_STALE, "timestamp_too_old");
    ST_EXPECT(&vc, SLACK_BODY, ts - 300, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, SLACK_BODY, ts - 301, HP_SIG_STALE, "timestamp_in_future");
    st_set("X-Slack-Request-Timestamp", "1531420619");
    ST_EXPECT(&vc, SLACK_BODY, ts, HP_SIG_INVALID, "mismatch");
    st_set("X-Slack-Request-Timestamp", NULL);
    ST_EXPECT(&vc, SLACK_BODY, ts, HP_SIG_MISSING, "missing_header");
    st_set("X-Slack-Request-Timestamp", "");
    ST_EXPECT(&vc, SLACK_BODY, ts, HP_SIG_MISSING, "missing_header");
    st_set("X-Slack-Request-Timestamp", "-1531420618");
    ST_EXPECT(&vc, SLACK_BODY, ts, HP_SIG_INVALID, "bad_format");
    st_set("X-Slack-Request-Timestamp", SLACK_TS);
    st_set("X-Slack-Signature",
           "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
    ST_EXPECT(&vc, SLACK_BODY, ts, HP_SIG_INVALID, "bad_format");

    hp_sig_headers hs;
    ck_assert_int_eq(
        hp_sig_sign(&vc, (const unsigned char *)SLACK_BODY, strlen(SLACK_BODY), ts, NULL, &hs),
        HP_OK);
    ck_assert_uint_eq(hs.n, 2);
    ck_assert_str_eq(hp_sig_headers_get(&hs, "X-Slack-Request-Timestamp"), SLACK_TS);
    ck_assert_str_eq(hp_sig_headers_get(&hs, "X-Slack-Signature"), SLACK_SIG);
    hp_sig_headers_deinit(&hs);
}
END_TEST

#define SHOPIFY_BODY "{\"id\":1}"
#define SHOPIFY_SIG "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="

START_TEST(test_shopify_vector)
{
    hp_verify_config vc = st_vc(HP_VERIFY_SHOPIFY, "hush", NULL);

    st_set("X-Shopify-Hmac-Sha256", SHOPIFY_SIG);
    ST_EXPECT(&vc, SHOPIFY_BODY, NOW, HP_SIG_OK, "ok");
    st_set("X-Shopify-Hmac-Sha256", "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY");
    ST_EXPECT(&vc, SHOPIFY_BODY, NOW, HP_SIG_OK, "ok");
    /* Hex of the right MAC is not Shopify's encoding. */
    st_set("X-Shopify-Hmac-Sha256",
           "5672948d9b0bb8de626568e7e449ed7015421fd90c378dcb825cc2135fc649e6");
    ST_EXPECT(&vc, SHOPIFY_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Shopify-Hmac-Sha256", "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1_GSeY=");
    ST_EXPECT(&vc, SHOPIFY_BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* The events-webhooks name. */
    st_clear();
    st_set("shopify-hmac-sha256", SHOPIFY_SIG);
    ST_EXPECT(&vc, SHOPIFY_BODY, NOW, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, "{\"id\":2}", NOW, HP_SIG_INVALID, "mismatch");

    hp_sig_headers hs;
    ck_assert_int_eq(
        hp_sig_sign(&vc, (const unsigned char *)SHOPIFY_BODY, strlen(SHOPIFY_BODY), NOW, NULL, &hs),
        HP_OK);
    ck_assert_str_eq(hp_sig_headers_get(&hs, "X-Shopify-Hmac-Sha256"), SHOPIFY_SIG);
    hp_sig_headers_deinit(&hs);
}
END_TEST

#define CONVOY_SECRET "convoy-webhook-secret"
#define CONVOY_BODY "{\"event\":\"charge.success\",\"amount\":1000,\"currency\":\"NGN\"}"
#define CONVOY_HEX "244449b7f48cbc2709060c9dcdc2b3aa47a78f540430579015c579fb12defbb4"
#define CONVOY_B64 "JERJt/SMvCcJBgydzcKzqkenj1QEMFeQFcV5+xLe+7Q="
#define CONVOY_B64URL "JERJt_SMvCcJBgydzcKzqkenj1QEMFeQFcV5-xLe-7Q"

/* hmac-*: verifies value in header, and makes exactly it. */
static void check_hmac(hp_verify_scheme scheme, const char *secret, const char *body,
                       const char *prefix, hp_verify_encoding enc, const char *value)
{
    hp_verify_config vc = st_hmac_vc(scheme, "X-Webhook-Signature", prefix, enc, secret);
    hp_sig_headers hs;

    st_clear();
    st_set("X-Webhook-Signature", value);
    ST_EXPECT_MSG(&vc, body, NOW, HP_SIG_OK, "ok", value);
    ck_assert_int_eq(hp_sig_sign(&vc, (const unsigned char *)body, strlen(body), NOW, NULL, &hs),
                     HP_OK);
    ck_assert_uint_eq(hs.n, 1);
    ck_assert_str_eq(hs.h[0].name, "X-Webhook-Signature");
    ck_assert_str_eq(hs.h[0].value, value);
    hp_sig_headers_deinit(&hs);
}

START_TEST(test_hmac_vectors)
{
    check_hmac(HP_VERIFY_HMAC_SHA256, CONVOY_SECRET, CONVOY_BODY, "", HP_VERIFY_ENC_HEX,
               CONVOY_HEX);
    check_hmac(HP_VERIFY_HMAC_SHA256, CONVOY_SECRET, CONVOY_BODY, NULL, HP_VERIFY_ENC_BASE64,
               CONVOY_B64);
    check_hmac(HP_VERIFY_HMAC_SHA256, CONVOY_SECRET, CONVOY_BODY, "sha256=", HP_VERIFY_ENC_HEX,
               "sha256=" CONVOY_HEX);
    check_hmac(HP_VERIFY_HMAC_SHA256, CONVOY_SECRET, CONVOY_BODY, "", HP_VERIFY_ENC_BASE64URL,
               CONVOY_B64URL);
    check_hmac(HP_VERIFY_HMAC_SHA1, GH_SECRET, GH_BODY, "sha1=", HP_VERIFY_ENC_HEX, GH_SHA1);
    check_hmac(HP_VERIFY_HMAC_SHA256, GH_SECRET, GH_BODY, "sha256=", HP_VERIFY_ENC_HEX, GH_SIG);
}
END_TEST

START_TEST(test_hmac_format)
{
    hp_verify_config vc =
        st_hmac_vc(HP_VERIFY_HMAC_SHA256, "X-Sig", "sha256=", HP_VERIFY_ENC_HEX, CONVOY_SECRET);

    st_set("X-Sig", CONVOY_HEX); /* prefix missing */
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Sig", "sha256=");
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Sig", "sha256=" CONVOY_B64);
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* A SHA-1 length MAC for a SHA-256 scheme. */
    st_set("X-Sig", "sha256=01dc10d0c83e72ed246219cdd91669667fe2ca59");
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Sig", "sha256=244449B7F48CBC2709060C9DCDC2B3AA47A78F540430579015C579FB12DEFBB4");
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_OK, "ok");

    vc = st_hmac_vc(HP_VERIFY_HMAC_SHA256, "X-Sig", "", HP_VERIFY_ENC_BASE64, CONVOY_SECRET);
    st_set("X-Sig", CONVOY_B64URL);
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Sig", "JERJt/SMvCcJBgydzcKzqkenj1QEMFeQFcV5+xLe+7Q"); /* padding optional */
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_OK, "ok");
    vc = st_hmac_vc(HP_VERIFY_HMAC_SHA256, "X-Sig", "", HP_VERIFY_ENC_BASE64URL, CONVOY_SECRET);
    st_set("X-Sig", CONVOY_B64);
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_INVALID, "bad_format");
    st_set("X-Sig", CONVOY_B64URL "=");
    ST_EXPECT(&vc, CONVOY_BODY, NOW, HP_SIG_OK, "ok");
}
END_TEST

/* ---- basic, bearer, none ---- */

START_TEST(test_basic)
{
    hp_verify_config vc = st_vc(HP_VERIFY_BASIC, "user:pa55word", NULL);

    st_set("Authorization", "Basic dXNlcjpwYTU1d29yZA==");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_OK, "ok");
    st_set("Authorization", "basic  dXNlcjpwYTU1d29yZA");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_OK, "ok");
    st_set("Authorization", "Basic dXNlcjpwYTU1d29yZA==="); /* bad padding */
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "bad_format");
    st_set("Authorization", "Basic dXNlcjpwYTU1d29y"); /* user:pa55wor */
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "mismatch");
    st_set("Authorization", "Basic dXNlcjpwYTU1d29yZHg="); /* user:pa55wordx */
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "mismatch");
    st_set("Authorization", "Basic");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "bad_format");
    st_set("Authorization", "Basic ");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "bad_format");
    st_set("Authorization", "Basicx dXNlcjpwYTU1d29yZA==");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "bad_format");
    st_set("Authorization", "Bearer user:pa55word");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "bad_format");
    /* Credentials are not bound to the body. */
    st_set("Authorization", "Basic dXNlcjpwYTU1d29yZA==");
    ST_EXPECT(&vc, "anything", NOW, HP_SIG_OK, "ok");
}
END_TEST

START_TEST(test_bearer)
{
    hp_verify_config vc = st_vc(HP_VERIFY_BEARER, "tok-123", "tok-456");

    st_set("Authorization", "Bearer tok-123");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_OK, "ok");
    st_set("Authorization", "bearer tok-456");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_OK, "ok");
    st_set("Authorization", "Bearer tok-12");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "mismatch");
    st_set("Authorization", "Bearer tok-1234");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "mismatch");
    st_set("Authorization", "Bearer TOK-123");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "mismatch");
    st_set("Authorization", "tok-123");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "bad_format");
    st_set("Authorization", "Basic dG9rLTEyMw==");
    ST_EXPECT(&vc, "{}", NOW, HP_SIG_INVALID, "bad_format");
}
END_TEST

START_TEST(test_none)
{
    hp_verify_config vc = {.scheme = HP_VERIFY_NONE};
    hp_sig_outcome o;
    hp_sig_headers hs;

    hp_sig_verify(&vc, NULL, 0, st_get, NULL, NOW, &o);
    ck_assert_int_eq(o.result, HP_SIG_OK);
    ck_assert_str_eq(o.reason, "ok");
    ck_assert_ptr_null(o.headers_used[0]);
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, NULL, &hs), HP_OK);
    ck_assert_uint_eq(hs.n, 0);
    hp_sig_headers_deinit(&hs);
}
END_TEST

/* ---- every scheme: round trip and the usual ways to fail ---- */

#define BODY "{\"id\":\"evt_1\",\"type\":\"thing.updated\",\"n\":42}"

START_TEST(test_scheme_round_trip)
{
    hp_verify_config vc = st_case_vc(_i, GOOD, NULL);
    hp_sig_headers hs;
    hp_sig_outcome o;

    st_sign(&vc, BODY, NOW, &hs);
    ck_assert_uint_ge(hs.n, 1);
    o = st_run(&vc, BODY, NOW);
    ck_assert_msg(o.result == HP_SIG_OK, "%s: %s", st_case_name(_i), o.reason);
    ck_assert_str_eq(o.reason, "ok");
    /* headers_used names the header that carries the signature. */
    const char *main_header = o.headers_used[0];
    ck_assert_ptr_nonnull(main_header);
    ck_assert_ptr_nonnull(hp_sig_headers_get(&hs, main_header));
    /* Empty bodies sign and verify too. */
    hp_sig_headers hs2;
    st_sign(&vc, "", NOW + 1, &hs2);
    ST_EXPECT(&vc, "", NOW + 1, HP_SIG_OK, "ok");
    if (vc.scheme != HP_VERIFY_BASIC && vc.scheme != HP_VERIFY_BEARER)
        ST_EXPECT(&vc, "x", NOW + 1, HP_SIG_INVALID,
                  vc.scheme == HP_VERIFY_LIVEKIT ? "body_hash_mismatch" : "mismatch");
    hp_sig_headers_deinit(&hs2);
    hp_sig_headers_deinit(&hs);
}
END_TEST

START_TEST(test_scheme_failures)
{
    hp_verify_config vc = st_case_vc(_i, GOOD, NULL);
    hp_verify_config wrong = st_case_vc(_i, WRONG, NULL);
    hp_sig_headers hs;
    bool body_only = vc.scheme != HP_VERIFY_BASIC && vc.scheme != HP_VERIFY_BEARER;
    char big[10 * 1024 + 1];

    st_sign(&vc, BODY, NOW, &hs);
    hp_sig_outcome o = st_run(&vc, BODY, NOW);
    ck_assert_int_eq(o.result, HP_SIG_OK);
    const char *h = o.headers_used[0];
    const char *good = hp_sig_headers_get(&hs, h);

    ST_EXPECT(&wrong, BODY, NOW, HP_SIG_INVALID, "mismatch");
    if (body_only) {
        char tampered[] = BODY;
        tampered[10] ^= 0x01;
        ST_EXPECT(&vc, tampered, NOW, HP_SIG_INVALID,
                  vc.scheme == HP_VERIFY_LIVEKIT ? "body_hash_mismatch" : "mismatch");
    }
    st_set(h, NULL);
    ST_EXPECT(&vc, BODY, NOW, HP_SIG_MISSING, "missing_header");
    st_set(h, "");
    ST_EXPECT(&vc, BODY, NOW, HP_SIG_MISSING, "missing_header");
    st_set(h, "garbage");
    ST_EXPECT_RESULT(&vc, BODY, NOW, HP_SIG_INVALID);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    st_set(h, big);
    ST_EXPECT(&vc, BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* The valid value, then 10 KiB after it. */
    snprintf(big, sizeof big, "%s", good);
    memset(big + strlen(good), ',', sizeof big - 1 - strlen(good));
    st_set(h, big);
    ST_EXPECT(&vc, BODY, NOW, HP_SIG_INVALID, "bad_format");
    /* Bytes that are not ASCII, before, after and instead. */
    char bytes[600];
    snprintf(bytes, sizeof bytes, "\xc3\xa9%s", good);
    st_set(h, bytes);
    ST_EXPECT_RESULT(&vc, BODY, NOW, HP_SIG_INVALID);
    snprintf(bytes, sizeof bytes, "%s\xff\xfe", good);
    st_set(h, bytes);
    ST_EXPECT_RESULT(&vc, BODY, NOW, HP_SIG_INVALID);
    for (size_t i = 0; i < 512; i++)
        bytes[i] = (char)(0x80 + i % 128);
    bytes[512] = '\0';
    st_set(h, bytes);
    ST_EXPECT_RESULT(&vc, BODY, NOW, HP_SIG_INVALID);
    hp_sig_headers_deinit(&hs);
}
END_TEST

/* Two secrets configured, the request signed with either. */
START_TEST(test_scheme_rotation)
{
    hp_verify_config signer = st_case_vc(_i, GOOD, NULL);
    hp_verify_config vc = st_case_vc(_i, WRONG, GOOD);
    hp_verify_config vc2 = st_case_vc(_i, GOOD, WRONG);
    hp_sig_headers hs;

    if (vc.scheme == HP_VERIFY_LIVEKIT)
        return; /* iss picks the key: test_sig_livekit.c */
    st_sign(&signer, BODY, NOW, &hs);
    ST_EXPECT(&vc, BODY, NOW, HP_SIG_OK, "ok");
    ST_EXPECT(&vc2, BODY, NOW, HP_SIG_OK, "ok");
    hp_sig_headers_deinit(&hs);
    st_sign(&vc, BODY, NOW, &hs); /* signs with the first */
    ST_EXPECT(&signer, BODY, NOW, HP_SIG_INVALID, "mismatch");
    hp_sig_headers_deinit(&hs);
}
END_TEST

/* The schemes with a timestamp, at the edges of the window. */
START_TEST(test_scheme_window)
{
    hp_verify_config vc = st_case_vc(_i, GOOD, NULL);
    hp_sig_headers hs;

    if (vc.tolerance_s == 0)
        return;
    ck_assert_int_eq(vc.tolerance_s, 300);
    st_sign(&vc, BODY, NOW, &hs);
    ST_EXPECT(&vc, BODY, NOW + 300, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, BODY, NOW + 301, HP_SIG_STALE, "timestamp_too_old");
    ST_EXPECT(&vc, BODY, NOW - 300, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, BODY, NOW - 301, HP_SIG_STALE, "timestamp_in_future");
    /* A forged old request is invalid, not stale. */
    hp_verify_config wrong = st_case_vc(_i, WRONG, NULL);
    ST_EXPECT(&wrong, BODY, NOW + 301, HP_SIG_INVALID, "mismatch");
    vc.tolerance_s = 10;
    ST_EXPECT(&vc, BODY, NOW + 10, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, BODY, NOW + 11, HP_SIG_STALE, "timestamp_too_old");
    hp_sig_headers_deinit(&hs);
}
END_TEST

START_TEST(test_sign_errors)
{
    hp_verify_config vc = st_vc(HP_VERIFY_STANDARD_WEBHOOKS, GOOD, NULL);
    hp_sig_headers hs;

    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, -1, NULL, &hs), HP_ERR_INVALID);
    ck_assert_uint_eq(hs.n, 0);
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, INT64_C(1000000000000), NULL, &hs), HP_ERR_INVALID);
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, "msg 1", &hs), HP_ERR_INVALID);
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, "", &hs), HP_ERR_INVALID);
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, "msg\r\nX: y", &hs), HP_ERR_INVALID);
    ck_assert_uint_eq(hs.n, 0);
    vc.nsecrets = 0;
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, NULL, &hs), HP_ERR_INVALID);
    vc = st_hmac_vc(HP_VERIFY_HMAC_SHA256, "X-Sig", "", HP_VERIFY_ENC_HEX, GOOD);
    vc.header = NULL;
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, NULL, &hs), HP_ERR_INVALID);
    vc = st_vc(HP_VERIFY_LIVEKIT, GOOD, NULL);
    vc.nkeys = 0;
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, NULL, &hs), HP_ERR_INVALID);
}
END_TEST

/* A webhook-id is made when the caller has none: "msg_" + 24 base62. */
START_TEST(test_sign_random_id)
{
    hp_verify_config vc = st_vc(HP_VERIFY_STANDARD_WEBHOOKS, GOOD, NULL);
    hp_sig_headers a;
    hp_sig_headers b;

    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, NULL, &a), HP_OK);
    ck_assert_int_eq(hp_sig_sign(&vc, NULL, 0, NOW, NULL, &b), HP_OK);
    const char *id = hp_sig_headers_get(&a, "webhook-id");
    ck_assert_uint_eq(strlen(id), 28);
    ck_assert(strncmp(id, "msg_", 4) == 0);
    ck_assert_uint_eq(strspn(id + 4, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "abcdefghijklmnopqrstuvwxyz"),
                      24);
    ck_assert_str_ne(id, hp_sig_headers_get(&b, "webhook-id"));
    hp_sig_headers_deinit(&a);
    hp_sig_headers_deinit(&b);
}
END_TEST

START_TEST(test_result_names)
{
    ck_assert_str_eq(hp_sig_result_name(HP_SIG_OK), "ok");
    ck_assert_str_eq(hp_sig_result_name(HP_SIG_MISSING), "missing");
    ck_assert_str_eq(hp_sig_result_name(HP_SIG_INVALID), "invalid");
    ck_assert_str_eq(hp_sig_result_name(HP_SIG_STALE), "stale");
}
END_TEST

static Suite *sig_suite(void)
{
    Suite *s = suite_create("sig");
    TCase *tc = tcase_create("vectors");

    tcase_add_checked_fixture(tc, st_setup, st_teardown);
    tcase_add_test(tc, test_standard_webhooks_official);
    tcase_add_test(tc, test_standard_webhooks_entries);
    tcase_add_test(tc, test_stripe_vector);
    tcase_add_test(tc, test_stripe_parsing);
    tcase_add_test(tc, test_github_vector);
    tcase_add_test(tc, test_slack_official);
    tcase_add_test(tc, test_shopify_vector);
    tcase_add_test(tc, test_hmac_vectors);
    tcase_add_test(tc, test_hmac_format);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_bearer);
    tcase_add_test(tc, test_none);
    suite_add_tcase(s, tc);

    tc = tcase_create("schemes");
    tcase_add_checked_fixture(tc, st_setup, st_teardown);
    tcase_add_loop_test(tc, test_scheme_round_trip, 0, ST_NCASES);
    tcase_add_loop_test(tc, test_scheme_failures, 0, ST_NCASES);
    tcase_add_loop_test(tc, test_scheme_rotation, 0, ST_NCASES);
    tcase_add_loop_test(tc, test_scheme_window, 0, ST_NCASES);
    tcase_add_test(tc, test_sign_errors);
    tcase_add_test(tc, test_sign_random_id);
    tcase_add_test(tc, test_result_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sig_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
