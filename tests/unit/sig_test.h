/*
 * Helpers shared by test_sig.c and test_sig_livekit.c: a request as a small
 * table of headers, verify configurations built the way hp_config leaves
 * them, one configuration per scheme for the table-driven tests, and
 * assertions that name both the expected and the actual outcome.
 *
 * Header values are borrowed: the caller keeps them alive until the next
 * st_set/st_clear. Secrets live in static storage, reset by st_setup().
 */
#ifndef SIG_TEST_H
#define SIG_TEST_H

#include "hp_codec.h"
#include "hp_sig.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ST_MAXH 8

static struct {
    const char *name[ST_MAXH];
    const char *value[ST_MAXH];
    size_t n;
} st_req;

static hp_secret st_secrets[32];
static unsigned char st_bytes[32][256];
static hp_livekit_key st_keys[16];
static size_t st_nsecrets;
static size_t st_nkeys;

static inline void st_clear(void)
{
    memset(&st_req, 0, sizeof st_req);
}

static inline void st_setup(void)
{
    st_clear();
    st_nsecrets = 0;
    st_nkeys = 0;
}

static inline void st_teardown(void)
{
}

/* The header callback of hp_sig_verify(). */
static inline const char *st_get(void *ctx, const char *name)
{
    (void)ctx;
    for (size_t i = 0; i < st_req.n; i++) {
        if (strcasecmp(st_req.name[i], name) == 0)
            return st_req.value[i];
    }
    return NULL;
}

/* Sets header name (replacing one of any case); value NULL removes it. */
static inline void st_set(const char *name, const char *value)
{
    for (size_t i = 0; i < st_req.n; i++) {
        if (strcasecmp(st_req.name[i], name) == 0) {
            if (value) {
                st_req.value[i] = value;
            } else {
                st_req.n--;
                st_req.name[i] = st_req.name[st_req.n];
                st_req.value[i] = st_req.value[st_req.n];
            }
            return;
        }
    }
    if (!value)
        return;
    ck_assert_uint_lt(st_req.n, ST_MAXH);
    st_req.name[st_req.n] = name;
    st_req.value[st_req.n] = value;
    st_req.n++;
}

/* A secret of text's bytes, or (b64) of the base64 after "whsec_". */
static inline hp_secret *st_secret(const char *text, bool b64)
{
    ck_assert_uint_lt(st_nsecrets, 32);
    hp_secret *sec = &st_secrets[st_nsecrets];
    unsigned char *bytes = st_bytes[st_nsecrets++];
    size_t n = strlen(text);

    if (b64) {
        const char *p = strncmp(text, "whsec_", 6) == 0 ? text + 6 : text;
        ck_assert_int_eq(hp_base64_decode(p, strlen(p), HP_BASE64_STD, bytes, 255, &n), HP_OK);
    } else {
        ck_assert_uint_lt(n, 256);
        memcpy(bytes, text, n);
    }
    bytes[n] = '\0';
    sec->bytes = bytes;
    sec->len = n;
    return sec;
}

/*
 * A configuration of scheme with secret s1 and, if not NULL, s2. livekit:
 * keys "APIkey" = s1 and "APIkey2" = s2. stripe, standard-webhooks and
 * slack get the default tolerance of 300 s.
 */
static inline hp_verify_config st_vc(hp_verify_scheme scheme, const char *s1, const char *s2)
{
    hp_verify_config vc;
    bool b64 = scheme == HP_VERIFY_STANDARD_WEBHOOKS;

    memset(&vc, 0, sizeof vc);
    vc.scheme = scheme;
    if (scheme == HP_VERIFY_LIVEKIT) {
        ck_assert_uint_le(st_nkeys + 2, 16);
        vc.keys = &st_keys[st_nkeys];
        st_keys[st_nkeys].api_key = "APIkey";
        st_keys[st_nkeys++].secret = *st_secret(s1, false);
        if (s2) {
            st_keys[st_nkeys].api_key = "APIkey2";
            st_keys[st_nkeys++].secret = *st_secret(s2, false);
        }
        vc.nkeys = s2 ? 2 : 1;
        return vc;
    }
    vc.secrets = st_secret(s1, b64);
    vc.nsecrets = 1;
    if (s2) {
        st_secret(s2, b64);
        vc.nsecrets = 2;
    }
    if (scheme == HP_VERIFY_STRIPE || scheme == HP_VERIFY_STANDARD_WEBHOOKS ||
        scheme == HP_VERIFY_SLACK)
        vc.tolerance_s = 300;
    return vc;
}

static inline hp_verify_config st_hmac_vc(hp_verify_scheme scheme, const char *header,
                                          const char *prefix, hp_verify_encoding enc,
                                          const char *secret)
{
    hp_verify_config vc = st_vc(scheme, secret, NULL);

    vc.header = (char *)header;
    vc.prefix = (char *)prefix;
    vc.encoding = enc;
    return vc;
}

/* One configuration per scheme (and hmac-* encoding), for loop tests. */
#define ST_NCASES 12

static inline const char *st_case_name(int i)
{
    static const char *const names[ST_NCASES] = {"hmac-sha256 hex",
                                                 "hmac-sha256 base64",
                                                 "hmac-sha256 base64url",
                                                 "hmac-sha1 hex",
                                                 "github",
                                                 "stripe",
                                                 "standard-webhooks",
                                                 "slack",
                                                 "shopify",
                                                 "livekit",
                                                 "basic",
                                                 "bearer"};
    return names[i];
}

static inline hp_verify_config st_case_vc(int i, const char *s1, const char *s2)
{
    static const hp_verify_scheme schemes[ST_NCASES] = {
        HP_VERIFY_HMAC_SHA256,       HP_VERIFY_HMAC_SHA256, HP_VERIFY_HMAC_SHA256,
        HP_VERIFY_HMAC_SHA1,         HP_VERIFY_GITHUB,      HP_VERIFY_STRIPE,
        HP_VERIFY_STANDARD_WEBHOOKS, HP_VERIFY_SLACK,       HP_VERIFY_SHOPIFY,
        HP_VERIFY_LIVEKIT,           HP_VERIFY_BASIC,       HP_VERIFY_BEARER};
    static const hp_verify_encoding encs[4] = {HP_VERIFY_ENC_HEX, HP_VERIFY_ENC_BASE64,
                                               HP_VERIFY_ENC_BASE64URL, HP_VERIFY_ENC_HEX};
    hp_verify_config vc = st_vc(schemes[i], s1, s2);

    if (i < 4) {
        vc.header = "X-Signature";
        vc.prefix = i == 0 ? "sha256=" : "";
        vc.encoding = encs[i];
    }
    return vc;
}

static inline hp_sig_outcome st_run(const hp_verify_config *vc, const char *body, int64_t now)
{
    hp_sig_outcome o;

    hp_sig_verify(vc, (const unsigned char *)body, strlen(body), st_get, NULL, now, &o);
    return o;
}

/* Signs body and makes the request carry exactly the headers made; the
 * caller deinits hs after its last st_run. */
static inline void st_sign(const hp_verify_config *vc, const char *body, int64_t now,
                           hp_sig_headers *hs)
{
    ck_assert_int_eq(hp_sig_sign(vc, (const unsigned char *)body, strlen(body), now, NULL, hs),
                     HP_OK);
    st_clear();
    for (size_t i = 0; i < hs->n; i++)
        st_set(hs->h[i].name, hs->h[i].value);
}

#define ST_EXPECT_MSG(vc, body, now, res, why, label)                                              \
    do {                                                                                           \
        hp_sig_outcome o_ = st_run(vc, body, now);                                                 \
        ck_assert_msg(o_.result == (res) && strcmp(o_.reason, why) == 0,                           \
                      "%s: got %s/%s, want %s/%s", label, hp_sig_result_name(o_.result),           \
                      o_.reason, hp_sig_result_name(res), why);                                    \
    } while (0)

#define ST_EXPECT(vc, body, now, res, why) ST_EXPECT_MSG(vc, body, now, res, why, "")

#define ST_EXPECT_RESULT(vc, body, now, res)                                                       \
    do {                                                                                           \
        hp_sig_outcome o_ = st_run(vc, body, now);                                                 \
        ck_assert_msg(o_.result == (res), "got %s/%s, want %s", hp_sig_result_name(o_.result),     \
                      o_.reason, hp_sig_result_name(res));                                         \
    } while (0)

#endif /* SIG_TEST_H */
