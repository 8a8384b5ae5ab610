/*
 * hp_sig: the entry points (hp_sig_verify, hp_sig_precheck, hp_sig_sign),
 * the helpers every scheme shares (header lookup with a cap, strict
 * timestamps, HMAC, the constant-time match), and the schemes that MAC only
 * the body or compare a credential: hmac-sha256/-sha1, github, shopify,
 * basic, bearer, none. Stripe, Standard Webhooks and Slack, which sign a
 * timestamp too, are in hp_sig_timed.c; LiveKit's JWTs in hp_sig_livekit.c.
 *
 * Each scheme reads and parses its headers in one function that both its
 * verifier and its precheck call (parse_body_mac, basic_credentials,
 * stripe_parse, …): the precheck is the verifier without the body and the
 * secrets, so it cannot refuse a request the verifier would accept.
 */
#include "hp_sig.h"

#include "hp_alloc.h"
#include "hp_codec.h"
#include "hp_sig_int.h"

#include <openssl/core_names.h> /* OSSL_MAC_PARAM_DIGEST */
#include <openssl/crypto.h>     /* CRYPTO_memcmp */
#include <openssl/evp.h>        /* EVP_MAC */
#include <openssl/sha.h>        /* SHA256 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp, strncasecmp */

/* ---- helpers shared by the schemes ---- */

bool hp_sig_fail(hp_sig_outcome *out, hp_sig_result result, const char *reason)
{
    out->result = result;
    out->reason = reason;
    return false;
}

void hp_sig_succeed(hp_sig_outcome *out)
{
    out->result = HP_SIG_OK;
    out->reason = HP_SIG_R_OK;
}

bool hp_sig_get_header(const hp_sig_req *req, const char *name, hp_sig_outcome *out,
                       const char **val, size_t *len)
{
    const char *v = req->get(req->ctx, name);

    if (!v || v[0] == '\0')
        return hp_sig_fail(out, HP_SIG_MISSING, HP_SIG_R_MISSING);
    /* strnlen: a huge value costs no more than the cap to measure. */
    size_t n = strnlen(v, HP_SIG_MAX_HEADER_LEN + 1);
    if (n > HP_SIG_MAX_HEADER_LEN)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    *val = v;
    *len = n;
    return true;
}

bool hp_sig_parse_ts(const char *s, size_t len, int64_t *ts)
{
    int64_t v = 0;

    if (len == 0 || len > 12)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ts = v;
    return true;
}

bool hp_sig_check_window(int64_t ts, int64_t now, int tolerance_s, hp_sig_outcome *out)
{
    if (tolerance_s <= 0)
        return true;
    /* Differences in uint64: no overflow, whatever clock the caller has. */
    if (now > ts && (uint64_t)now - (uint64_t)ts > (uint64_t)tolerance_s)
        return hp_sig_fail(out, HP_SIG_STALE, HP_SIG_R_TOO_OLD);
    if (ts > now && (uint64_t)ts - (uint64_t)now > (uint64_t)tolerance_s)
        return hp_sig_fail(out, HP_SIG_STALE, HP_SIG_R_FUTURE);
    return true;
}

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void crypto_failed(const char *what)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"libcrypto failed\",\"call\":\"%s\"}\n", what);
    abort();
}

/* Fetching the algorithm takes locks and a lookup: once per process. */
static void hmac_fetch(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

size_t hp_sig_hmac(const char *md, const unsigned char *key, size_t keylen,
                   const hp_sig_part *parts, size_t nparts, unsigned char *mac)
{
    static const unsigned char empty_key[1];
    OSSL_PARAM params[2];
    size_t maclen = 0;

    pthread_once(&hmac_once, hmac_fetch);
    if (!hmac_alg)
        crypto_failed("EVP_MAC_fetch");
    EVP_MAC_CTX *mctx = EVP_MAC_CTX_new(hmac_alg);
    if (!mctx)
        crypto_failed("EVP_MAC_CTX_new");
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(mctx, keylen ? key : empty_key, keylen, params) != 1)
        crypto_failed("EVP_MAC_init");
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].len > 0 && EVP_MAC_update(mctx, parts[i].data, parts[i].len) != 1)
            crypto_failed("EVP_MAC_update");
    }
    if (EVP_MAC_final(mctx, mac, &maclen, HP_SIG_MAC_MAX) != 1)
        crypto_failed("EVP_MAC_final");
    EVP_MAC_CTX_free(mctx);
    return maclen;
}

bool hp_sig_match(const hp_verify_config *vc, const char *md, const hp_sig_part *parts,
                  size_t nparts, const hp_sig_cands *cands)
{
    unsigned char mac[HP_SIG_MAC_MAX];
    int found = 0;

    for (size_t s = 0; s < vc->nsecrets; s++) {
        size_t maclen =
            hp_sig_hmac(md, vc->secrets[s].bytes, vc->secrets[s].len, parts, nparts, mac);
        if (maclen != cands->len)
            continue;
        for (size_t c = 0; c < cands->n; c++)
            found |= CRYPTO_memcmp(mac, cands->sig[c], maclen) == 0;
    }
    hp_memzero(mac, sizeof mac);
    return found != 0;
}

void hp_sig_headers_add(hp_sig_headers *hs, const char *name, const char *value)
{
    if (hs->n >= HP_SIG_MAX_HEADERS)
        abort(); /* a scheme makes at most HP_SIG_MAX_HEADERS: a bug */
    hs->h[hs->n].name = hp_xstrdup(name);
    hs->h[hs->n].value = hp_xstrdup(value);
    hs->n++;
}

/* ---- the schemes of this file ---- */

static const char *scheme_md(const hp_verify_config *vc)
{
    return vc->scheme == HP_VERIFY_HMAC_SHA1 ? "SHA1" : "SHA256";
}

static hp_err decode_mac(hp_verify_encoding enc, const char *s, size_t len, unsigned char *out,
                         size_t *outlen)
{
    if (enc == HP_VERIFY_ENC_HEX)
        return hp_hex_decode(s, len, out, HP_SIG_MAC_MAX, outlen);
    return hp_base64_decode(s, len, enc == HP_VERIFY_ENC_BASE64 ? HP_BASE64_STD : HP_BASE64_URL,
                            out, HP_SIG_MAC_MAX, outlen);
}

/* Parses a header value "<prefix><encoded MAC>" into cands (one
 * candidate, as long as the scheme's MAC). False (bad_format) otherwise. */
static bool parse_body_mac(const hp_verify_config *vc, const char *val, size_t vlen,
                           const char *prefix, hp_verify_encoding enc, hp_sig_cands *cands,
                           hp_sig_outcome *out)
{
    size_t n = 0;

    if (!prefix)
        prefix = "";
    size_t plen = strlen(prefix);
    if (vlen < plen || strncmp(val, prefix, plen) != 0)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    cands->len = vc->scheme == HP_VERIFY_HMAC_SHA1 ? 20 : 32;
    cands->n = 1;
    if (decode_mac(enc, val + plen, vlen - plen, cands->sig[0], &n) != HP_OK || n != cands->len)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    return true;
}

/* Verifies a header value "<prefix><encoded HMAC(md) of the body>". */
static void verify_body_mac(const hp_verify_config *vc, const hp_sig_req *req, const char *val,
                            size_t vlen, const char *prefix, hp_verify_encoding enc,
                            hp_sig_outcome *out)
{
    hp_sig_cands cands;
    hp_sig_part body = {req->body, req->len};

    if (!parse_body_mac(vc, val, vlen, prefix, enc, &cands, out))
        return;
    if (hp_sig_match(vc, scheme_md(vc), &body, 1, &cands))
        hp_sig_succeed(out);
    else
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_MISMATCH);
}

/* Shopify's classic and events-webhooks names for the same header. */
static const char *const shopify_headers[] = {"X-Shopify-Hmac-Sha256", "shopify-hmac-sha256"};

/* The header of a body MAC (hmac-*, github, shopify) and its prefix and
 * encoding; false with out set when the request has no usable one. */
static bool body_mac_header(const hp_verify_config *vc, const hp_sig_req *req, const char **val,
                            size_t *vlen, const char **prefix, hp_verify_encoding *enc,
                            hp_sig_outcome *out)
{
    switch (vc->scheme) {
    case HP_VERIFY_GITHUB:
        /* X-Hub-Signature (HMAC-SHA1) is deliberately not a fallback. */
        *prefix = "sha256=";
        *enc = HP_VERIFY_ENC_HEX;
        return hp_sig_get_header(req, "X-Hub-Signature-256", out, val, vlen);
    case HP_VERIFY_SHOPIFY:
        *prefix = "";
        *enc = HP_VERIFY_ENC_BASE64;
        if (hp_sig_get_header(req, shopify_headers[0], out, val, vlen))
            return true;
        return out->result == HP_SIG_MISSING &&
               hp_sig_get_header(req, shopify_headers[1], out, val, vlen);
    default: /* hmac-sha256, hmac-sha1 */
        *prefix = vc->prefix;
        *enc = vc->encoding;
        return vc->header && hp_sig_get_header(req, vc->header, out, val, vlen);
    }
}

/* hmac-sha256, hmac-sha1, github, shopify: a MAC of the body in one header. */
static void verify_body_mac_scheme(const hp_verify_config *vc, const hp_sig_req *req,
                                   hp_sig_outcome *out)
{
    const char *val, *prefix;
    size_t vlen;
    hp_verify_encoding enc;

    if (body_mac_header(vc, req, &val, &vlen, &prefix, &enc, out))
        verify_body_mac(vc, req, val, vlen, prefix, enc, out);
}

/* Checks the body MAC's header of a request and parses it, without the
 * body: the precheck of hmac-*, github and shopify. */
static void precheck_body_mac(const hp_verify_config *vc, const hp_sig_req *req,
                              hp_sig_outcome *out)
{
    hp_sig_cands cands;
    const char *val, *prefix;
    size_t vlen;
    hp_verify_encoding enc;

    if (body_mac_header(vc, req, &val, &vlen, &prefix, &enc, out) &&
        parse_body_mac(vc, val, vlen, prefix, enc, &cands, out))
        hp_sig_succeed(out);
}

/*
 * Reads "Authorization: <scheme> <credentials>" (the scheme name in any
 * case, one or more spaces). Sets *cred and *clen to the credentials.
 */
static bool auth_credentials(const hp_sig_req *req, const char *scheme, hp_sig_outcome *out,
                             const char **cred, size_t *clen)
{
    size_t slen = strlen(scheme);
    const char *val;
    size_t vlen;
    size_t i;

    if (!hp_sig_get_header(req, "Authorization", out, &val, &vlen))
        return false;
    if (vlen <= slen || strncasecmp(val, scheme, slen) != 0 || val[slen] != ' ')
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    i = slen;
    while (i < vlen && val[i] == ' ')
        i++;
    if (i == vlen)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    *cred = val + i;
    *clen = vlen - i;
    return true;
}

/*
 * Whether cred equals any secret. The SHA-256 digests are compared rather
 * than the bytes, so that neither the lengths nor the position of the
 * first difference show in the time taken.
 */
static bool credential_matches(const hp_verify_config *vc, const unsigned char *cred, size_t clen)
{
    unsigned char got[SHA256_DIGEST_LENGTH];
    unsigned char want[SHA256_DIGEST_LENGTH];
    int found = 0;

    SHA256(cred, clen, got);
    for (size_t s = 0; s < vc->nsecrets; s++) {
        SHA256(vc->secrets[s].bytes, vc->secrets[s].len, want);
        found |= CRYPTO_memcmp(got, want, sizeof got) == 0;
    }
    hp_memzero(want, sizeof want);
    hp_memzero(got, sizeof got);
    return found != 0;
}

/* Reads and decodes Basic credentials into plain (n bytes, which the
 * caller zeroes). */
static bool basic_credentials(const hp_sig_req *req, hp_sig_outcome *out, unsigned char *plain,
                              size_t size, size_t *n)
{
    const char *cred;
    size_t clen;

    if (!auth_credentials(req, "Basic", out, &cred, &clen))
        return false;
    if (hp_base64_decode(cred, clen, HP_BASE64_STD, plain, size, n) != HP_OK)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    return true;
}

static void verify_basic(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out)
{
    unsigned char plain[HP_BASE64_DECODED_MAX(HP_SIG_MAX_HEADER_LEN)];
    size_t n = 0;

    if (!basic_credentials(req, out, plain, sizeof plain, &n))
        return;
    bool ok = credential_matches(vc, plain, n);
    hp_memzero(plain, n);
    if (ok)
        hp_sig_succeed(out);
    else
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_MISMATCH);
}

static void precheck_basic(const hp_sig_req *req, hp_sig_outcome *out)
{
    unsigned char plain[HP_BASE64_DECODED_MAX(HP_SIG_MAX_HEADER_LEN)];
    size_t n = 0;

    if (basic_credentials(req, out, plain, sizeof plain, &n))
        hp_sig_succeed(out);
    hp_memzero(plain, n);
}

static void verify_bearer(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out)
{
    const char *cred;
    size_t clen;

    if (!auth_credentials(req, "Bearer", out, &cred, &clen))
        return;
    if (credential_matches(vc, (const unsigned char *)cred, clen))
        hp_sig_succeed(out);
    else
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_MISMATCH);
}

static void precheck_bearer(const hp_sig_req *req, hp_sig_outcome *out)
{
    const char *cred;
    size_t clen;

    if (auth_credentials(req, "Bearer", out, &cred, &clen))
        hp_sig_succeed(out);
}

/* The signature headers of each scheme, for hp_sig_outcome.headers_used. */
static void set_headers_used(const hp_verify_config *vc, hp_sig_outcome *out)
{
    const char **h = out->headers_used;

    switch (vc->scheme) {
    case HP_VERIFY_HMAC_SHA256:
    case HP_VERIFY_HMAC_SHA1:
        h[0] = vc->header;
        break;
    case HP_VERIFY_GITHUB:
        /* The legacy SHA-1 header carries a MAC of the body too. */
        h[0] = "X-Hub-Signature-256";
        h[1] = "X-Hub-Signature";
        break;
    case HP_VERIFY_STRIPE:
        h[0] = "Stripe-Signature";
        break;
    case HP_VERIFY_STANDARD_WEBHOOKS:
        h[0] = "webhook-signature";
        h[1] = "svix-signature";
        break;
    case HP_VERIFY_SLACK:
        h[0] = "X-Slack-Signature";
        break;
    case HP_VERIFY_SHOPIFY:
        h[0] = shopify_headers[0];
        h[1] = shopify_headers[1];
        break;
    case HP_VERIFY_LIVEKIT:
    case HP_VERIFY_BASIC:
    case HP_VERIFY_BEARER:
        h[0] = "Authorization";
        break;
    case HP_VERIFY_NONE:
        break;
    }
}

/* Clears out, fails it closed until a scheme says otherwise, and names the
 * scheme's signature headers. */
static void outcome_init(const hp_verify_config *vc, hp_sig_outcome *out)
{
    memset(out, 0, sizeof *out);
    hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_MISMATCH);
    set_headers_used(vc, out);
}

void hp_sig_verify(const hp_verify_config *vc, const unsigned char *body, size_t len,
                   hp_sig_header_fn *get, void *ctx, int64_t now_s, hp_sig_outcome *out)
{
    hp_sig_req req = {body, len, get, ctx, now_s};

    outcome_init(vc, out);
    switch (vc->scheme) {
    case HP_VERIFY_HMAC_SHA256:
    case HP_VERIFY_HMAC_SHA1:
    case HP_VERIFY_GITHUB:
    case HP_VERIFY_SHOPIFY:
        verify_body_mac_scheme(vc, &req, out);
        break;
    case HP_VERIFY_STRIPE:
        hp_sig_verify_stripe(vc, &req, out);
        break;
    case HP_VERIFY_STANDARD_WEBHOOKS:
        hp_sig_verify_standard(vc, &req, out);
        break;
    case HP_VERIFY_SLACK:
        hp_sig_verify_slack(vc, &req, out);
        break;
    case HP_VERIFY_LIVEKIT:
        hp_sig_verify_livekit(vc, &req, out);
        break;
    case HP_VERIFY_BASIC:
        verify_basic(vc, &req, out);
        break;
    case HP_VERIFY_BEARER:
        verify_bearer(vc, &req, out);
        break;
    case HP_VERIFY_NONE:
        hp_sig_succeed(out);
        break;
    }
}

void hp_sig_precheck(const hp_verify_config *vc, hp_sig_header_fn *get, void *ctx,
                     hp_sig_outcome *out)
{
    hp_sig_req req = {NULL, 0, get, ctx, 0};

    outcome_init(vc, out);
    switch (vc->scheme) {
    case HP_VERIFY_HMAC_SHA256:
    case HP_VERIFY_HMAC_SHA1:
    case HP_VERIFY_GITHUB:
    case HP_VERIFY_SHOPIFY:
        precheck_body_mac(vc, &req, out);
        break;
    case HP_VERIFY_STRIPE:
        hp_sig_precheck_stripe(&req, out);
        break;
    case HP_VERIFY_STANDARD_WEBHOOKS:
        hp_sig_precheck_standard(&req, out);
        break;
    case HP_VERIFY_SLACK:
        hp_sig_precheck_slack(&req, out);
        break;
    case HP_VERIFY_LIVEKIT:
        hp_sig_precheck_livekit(&req, out);
        break;
    case HP_VERIFY_BASIC:
        precheck_basic(&req, out);
        break;
    case HP_VERIFY_BEARER:
        precheck_bearer(&req, out);
        break;
    case HP_VERIFY_NONE:
        hp_sig_succeed(out);
        break;
    }
}

const char *hp_sig_result_name(hp_sig_result result)
{
    switch (result) {
    case HP_SIG_OK:
        return "ok";
    case HP_SIG_MISSING:
        return "missing";
    case HP_SIG_INVALID:
        return "invalid";
    case HP_SIG_STALE:
        return "stale";
    }
    return "unknown";
}

/* ---- signing ---- */

/* "<prefix><encoded HMAC of the body>" in header name. */
static void sign_body_mac(const hp_verify_config *vc, const hp_sig_req *req, const char *name,
                          const char *prefix, hp_verify_encoding enc, hp_sig_headers *hs)
{
    unsigned char mac[HP_SIG_MAC_MAX];
    hp_sig_part body = {req->body, req->len};
    size_t plen = prefix ? strlen(prefix) : 0;
    size_t maclen =
        hp_sig_hmac(scheme_md(vc), vc->secrets[0].bytes, vc->secrets[0].len, &body, 1, mac);
    char *value = hp_xmalloc(plen + HP_BASE64_LEN(HP_SIG_MAC_MAX) + HP_HEX_LEN(HP_SIG_MAC_MAX) + 1);

    if (plen > 0)
        memcpy(value, prefix, plen);
    if (enc == HP_VERIFY_ENC_HEX)
        hp_hex_encode(mac, maclen, value + plen);
    else
        hp_base64_encode(mac, maclen, enc == HP_VERIFY_ENC_BASE64 ? HP_BASE64_STD : HP_BASE64_URL,
                         value + plen);
    hp_sig_headers_add(hs, name, value);
    free(value);
}

/* "Authorization: <scheme> <credential>" (Basic: base64 of the secret). */
static void sign_auth(const hp_verify_config *vc, const char *scheme, bool b64, hp_sig_headers *hs)
{
    const hp_secret *sec = &vc->secrets[0];
    size_t slen = strlen(scheme);
    size_t vsize = slen + 1 + HP_BASE64_LEN(sec->len) + sec->len + 1;
    char *value = hp_xmalloc(vsize);

    memcpy(value, scheme, slen);
    value[slen] = ' ';
    if (b64) {
        hp_base64_encode(sec->bytes, sec->len, HP_BASE64_STD, value + slen + 1);
    } else {
        memcpy(value + slen + 1, sec->bytes, sec->len);
        value[slen + 1 + sec->len] = '\0';
    }
    hp_sig_headers_add(hs, "Authorization", value);
    hp_memzero(value, vsize);
    free(value);
}

hp_err hp_sig_sign(const hp_verify_config *vc, const unsigned char *body, size_t len, int64_t now_s,
                   const char *msg_id, hp_sig_headers *out)
{
    hp_sig_req req = {body, len, NULL, NULL, now_s};
    hp_err rc = HP_OK;

    memset(out, 0, sizeof *out);
    if (vc->scheme == HP_VERIFY_NONE)
        return HP_OK;
    if (now_s < 0 || now_s > HP_SIG_TS_MAX ||
        (vc->scheme == HP_VERIFY_LIVEKIT ? vc->nkeys : vc->nsecrets) == 0)
        return HP_ERR_INVALID;
    switch (vc->scheme) {
    case HP_VERIFY_HMAC_SHA256:
    case HP_VERIFY_HMAC_SHA1:
        if (!vc->header)
            return HP_ERR_INVALID;
        sign_body_mac(vc, &req, vc->header, vc->prefix, vc->encoding, out);
        break;
    case HP_VERIFY_GITHUB:
        sign_body_mac(vc, &req, "X-Hub-Signature-256", "sha256=", HP_VERIFY_ENC_HEX, out);
        break;
    case HP_VERIFY_STRIPE:
        rc = hp_sig_sign_stripe(vc, &req, out);
        break;
    case HP_VERIFY_STANDARD_WEBHOOKS:
        rc = hp_sig_sign_standard(vc, &req, msg_id, out);
        break;
    case HP_VERIFY_SLACK:
        rc = hp_sig_sign_slack(vc, &req, out);
        break;
    case HP_VERIFY_SHOPIFY:
        sign_body_mac(vc, &req, shopify_headers[0], "", HP_VERIFY_ENC_BASE64, out);
        break;
    case HP_VERIFY_LIVEKIT:
        rc = hp_sig_sign_livekit(vc, &req, out);
        break;
    case HP_VERIFY_BASIC:
        sign_auth(vc, "Basic", true, out);
        break;
    case HP_VERIFY_BEARER:
        sign_auth(vc, "Bearer", false, out);
        break;
    case HP_VERIFY_NONE:
        break;
    }
    if (rc != HP_OK)
        hp_sig_headers_deinit(out);
    return rc;
}

const char *hp_sig_headers_get(const hp_sig_headers *hs, const char *name)
{
    for (size_t i = 0; i < hs->n; i++) {
        if (strcasecmp(hs->h[i].name, name) == 0)
            return hs->h[i].value;
    }
    return NULL;
}

void hp_sig_headers_deinit(hp_sig_headers *hs)
{
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->h[i].name);
        hp_free_secret(hs->h[i].value);
    }
    memset(hs, 0, sizeof *hs);
}
