/*
 * hp_sig_livekit: LiveKit webhooks, whose Authorization header is a JWT
 * (RFC 7519) signed HS256 with the API secret of the key named by iss, and
 * whose sha256 claim is the base64 SHA-256 of the body.
 *
 * The token is checked in the order that lets nothing unauthenticated
 * matter: its shape and header (alg must be exactly HS256: "none", other
 * HMACs and public-key algorithms are refused, which closes the classic
 * algorithm-confusion holes), then iss, only to pick the key, then the MAC
 * over the text as received, and only then the claims that a forger could
 * otherwise choose: exp (required, 60 s of leeway), nbf (if present) and
 * the body hash. Both JSON parts must be objects without duplicate keys, and
 * exp and nbf JSON integers (NumericDate as LiveKit writes it). The
 * precheck (before the body) looks at the token's shape only: three
 * base64url parts and a 32-byte MAC, no JSON.
 */
#include "hp_alloc.h"
#include "hp_codec.h"
#include "hp_sig_int.h"

#include <jansson.h>
#include <openssl/crypto.h> /* CRYPTO_memcmp */
#include <openssl/sha.h>    /* SHA256 */
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strncasecmp */

#define MAC_LEN 32

/* The only JOSE header hp_sig_sign_livekit writes. */
static const char jwt_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* Decodes one base64url part of the token and parses it as a JSON object.
 * NULL if it is not one. */
static json_t *decode_part(const char *s, size_t len)
{
    unsigned char buf[HP_BASE64_DECODED_MAX(HP_SIG_MAX_HEADER_LEN)];
    size_t n = 0;
    json_error_t jerr;

    if (len == 0 || hp_base64_decode(s, len, HP_BASE64_URL_NOPAD, buf, sizeof buf, &n) != HP_OK)
        return NULL;
    json_t *obj = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &jerr);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

/* Whether the JOSE header says HS256 (and, if it says so, JWT). */
static bool header_ok(const json_t *hdr, hp_sig_outcome *out)
{
    const json_t *alg = json_object_get(hdr, "alg");
    const json_t *typ = json_object_get(hdr, "typ");

    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_BAD_ALG);
    if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0))
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    /* Extensions we would have to understand (RFC 7515 §4.1.11): none are. */
    if (json_object_get(hdr, "crit"))
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    return true;
}

/*
 * Whether mac is the HS256 MAC of input under the secret of a key whose
 * name is iss. Every such key is tried; unknown_key if there is none.
 */
static bool mac_ok(const hp_verify_config *vc, const char *iss, const char *input, size_t len,
                   const unsigned char *mac, hp_sig_outcome *out)
{
    unsigned char want[HP_SIG_MAC_MAX];
    hp_sig_part part = {input, len};
    bool known = false;
    int found = 0;

    for (size_t k = 0; k < vc->nkeys; k++) {
        const hp_livekit_key *key = &vc->keys[k];
        if (strcmp(key->api_key, iss) != 0)
            continue;
        known = true;
        hp_sig_hmac("SHA256", key->secret.bytes, key->secret.len, &part, 1, want);
        found |= CRYPTO_memcmp(want, mac, MAC_LEN) == 0;
    }
    hp_memzero(want, sizeof want);
    if (!known)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_UNKNOWN_KEY);
    if (!found)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_MISMATCH);
    return true;
}

/* The claims a valid signature vouches for: times, then the body hash. */
static bool claims_ok(const json_t *claims, const hp_sig_req *req, hp_sig_outcome *out)
{
    const json_t *exp = json_object_get(claims, "exp");
    const json_t *nbf = json_object_get(claims, "nbf");
    const json_t *sha = json_object_get(claims, "sha256");
    unsigned char want[SHA256_DIGEST_LENGTH];
    unsigned char got[HP_BASE64_DECODED_MAX(HP_BASE64_LEN(SHA256_DIGEST_LENGTH))];
    size_t n = 0;

    if (!json_is_integer(exp) || (nbf && !json_is_integer(nbf)) || !json_is_string(sha))
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    /* Compared as now - leeway against the claim: no overflow for any claim. */
    if (req->now_s - HP_SIG_JWT_LEEWAY_S > json_integer_value(exp))
        return hp_sig_fail(out, HP_SIG_STALE, HP_SIG_R_EXPIRED);
    if (nbf && req->now_s + HP_SIG_JWT_LEEWAY_S < json_integer_value(nbf))
        return hp_sig_fail(out, HP_SIG_STALE, HP_SIG_R_NOT_YET_VALID);
    if (hp_base64_decode(json_string_value(sha), json_string_length(sha), HP_BASE64_STD, got,
                         sizeof got, &n) != HP_OK ||
        n != SHA256_DIGEST_LENGTH)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    SHA256(req->body ? req->body : (const unsigned char *)"", req->len, want);
    if (CRYPTO_memcmp(want, got, SHA256_DIGEST_LENGTH) != 0)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_BODY_HASH);
    return true;
}

/* A token's three parts, as received, and its decoded MAC. */
struct jwt {
    const char *tok; /* the header part; the signed input runs to dot2 */
    size_t len;
    const char *dot1, *dot2;
    unsigned char mac[HP_BASE64_DECODED_MAX(HP_BASE64_LEN(MAC_LEN))];
};

/*
 * Reads the Authorization header and splits its token: three base64url
 * parts, the first two non-empty and decodable. With jwt_mac(), the JWT's
 * shape: what can be told without parsing JSON. False with out set if it
 * is missing or malformed.
 */
static bool jwt_split(const hp_sig_req *req, struct jwt *jwt, hp_sig_outcome *out)
{
    unsigned char scratch[HP_BASE64_DECODED_MAX(HP_SIG_MAX_HEADER_LEN)];
    const char *tok;
    size_t len;
    size_t n = 0;

    if (!hp_sig_get_header(req, "Authorization", out, &tok, &len))
        return false;
    /* LiveKit sends the bare token; a "Bearer " is tolerated. */
    if (len >= 7 && strncasecmp(tok, "Bearer ", 7) == 0) {
        tok += 7;
        len -= 7;
    }
    const char *end = tok + len;
    const char *dot1 = memchr(tok, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) || dot1 == tok ||
        dot2 == dot1 + 1 ||
        hp_base64_decode(tok, (size_t)(dot1 - tok), HP_BASE64_URL_NOPAD, scratch, sizeof scratch,
                         &n) != HP_OK ||
        hp_base64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), HP_BASE64_URL_NOPAD, scratch,
                         sizeof scratch, &n) != HP_OK)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    jwt->tok = tok;
    jwt->len = len;
    jwt->dot1 = dot1;
    jwt->dot2 = dot2;
    return true;
}

/* Decodes the token's MAC (32 bytes); false with out set if it is not one. */
static bool jwt_mac(struct jwt *jwt, hp_sig_outcome *out)
{
    const char *end = jwt->tok + jwt->len;
    size_t n = 0;

    if (hp_base64_decode(jwt->dot2 + 1, (size_t)(end - jwt->dot2 - 1), HP_BASE64_URL_NOPAD,
                         jwt->mac, sizeof jwt->mac, &n) != HP_OK ||
        n != MAC_LEN)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    return true;
}

void hp_sig_verify_livekit(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out)
{
    struct jwt jwt;
    json_t *hdr = NULL;
    json_t *claims = NULL;

    if (!jwt_split(req, &jwt, out))
        return;
    if (!(hdr = decode_part(jwt.tok, (size_t)(jwt.dot1 - jwt.tok)))) {
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
        goto out;
    }
    if (!header_ok(hdr, out))
        goto out;
    claims = decode_part(jwt.dot1 + 1, (size_t)(jwt.dot2 - jwt.dot1 - 1));
    if (!claims || !jwt_mac(&jwt, out)) {
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
        goto out;
    }
    const json_t *iss = json_object_get(claims, "iss");
    if (!json_is_string(iss)) {
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_UNKNOWN_KEY);
        goto out;
    }
    if (!mac_ok(vc, json_string_value(iss), jwt.tok, (size_t)(jwt.dot2 - jwt.tok), jwt.mac, out) ||
        !claims_ok(claims, req, out))
        goto out;
    hp_sig_succeed(out);
out:
    json_decref(claims);
    json_decref(hdr);
}

void hp_sig_precheck_livekit(const hp_sig_req *req, hp_sig_outcome *out)
{
    struct jwt jwt;

    if (jwt_split(req, &jwt, out) && jwt_mac(&jwt, out))
        hp_sig_succeed(out);
}

/* Appends the base64url of data[0..len) and, if dot, a '.' to tok. */
static size_t append_part(char *tok, size_t at, const void *data, size_t len, bool dot)
{
    at += hp_base64_encode(data, len, HP_BASE64_URL_NOPAD, tok + at);
    if (dot)
        tok[at++] = '.';
    tok[at] = '\0';
    return at;
}

hp_err hp_sig_sign_livekit(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_headers *hs)
{
    const hp_livekit_key *key = &vc->keys[0];
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char body_hash[HP_BASE64_LEN(SHA256_DIGEST_LENGTH) + 1];
    unsigned char mac[HP_SIG_MAC_MAX];
    char *claims_text = NULL;
    char *tok = NULL;
    hp_err rc = HP_OK;

    SHA256(req->body ? req->body : (const unsigned char *)"", req->len, digest);
    hp_base64_encode(digest, sizeof digest, HP_BASE64_STD, body_hash);
    json_t *claims =
        json_pack("{s:s, s:I, s:I, s:s}", "iss", key->api_key, "nbf", (json_int_t)req->now_s, "exp",
                  (json_int_t)(req->now_s + HP_SIG_JWT_LIFETIME_S), "sha256", body_hash);
    if (!claims) {
        rc = HP_ERR_INVALID; /* an api_key that is not UTF-8 */
        goto out;
    }
    claims_text = json_dumps(claims, JSON_COMPACT);
    if (!claims_text)
        abort(); /* only allocation can fail here */
    size_t clen = strlen(claims_text);
    size_t tsize =
        HP_BASE64_LEN(sizeof jwt_header) + HP_BASE64_LEN(clen) + HP_BASE64_LEN(MAC_LEN) + 3;
    tok = hp_xmalloc(tsize);
    size_t at = append_part(tok, 0, jwt_header, sizeof jwt_header - 1, true);
    at = append_part(tok, at, claims_text, clen, true);
    hp_sig_part part = {tok, at - 1};
    hp_sig_hmac("SHA256", key->secret.bytes, key->secret.len, &part, 1, mac);
    append_part(tok, at, mac, MAC_LEN, false);
    hp_sig_headers_add(hs, "Authorization", tok);
out:
    free(tok);
    free(claims_text);
    json_decref(claims);
    return rc;
}
