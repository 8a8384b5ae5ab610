/*
 * hp_sig: webhook signatures, verified and made, for every verify.scheme.
 *
 * hp_sig_verify() checks a request the way the provider's own SDK does,
 * byte for byte (DESIGN.md §Verification schemes; the rules and vectors are
 * in signature-vectors.md): the MAC is taken over the raw body as received,
 * received signatures are decoded to bytes and compared with CRYPTO_memcmp,
 * and a request is valid if any configured secret matches any signature it
 * carries (secret rotation, provider-side key rolls). hp_sig_sign() makes
 * the headers the provider would send, for hookpipectl and the tests; what
 * it makes, hp_sig_verify() accepts.
 *
 * Policies of our own, where the providers' SDKs differ or are silent:
 *  - Timestamps (stripe, standard-webhooks, slack) must lie within
 *    tolerance_s of now in both directions: too old is a replay, too new a
 *    forged or badly skewed clock. Stripe's SDKs check only the old side.
 *    tolerance_s 0 turns the check off. The signature is checked first, so
 *    HP_SIG_STALE always means "authentic, but outside the window".
 *  - github verifies X-Hub-Signature-256 only. The legacy X-Hub-Signature
 *    (HMAC-SHA1) is not accepted: GitHub sends both, and taking the SHA-1
 *    one would let the weaker MAC stand in for the stronger.
 *  - standard-webhooks reads svix-id/-timestamp/-signature if any of them is
 *    present, else webhook-*; one request never mixes the two families.
 *  - livekit: exp is required; exp and nbf allow 60 s of clock skew; expiry
 *    is HP_SIG_STALE like an old timestamp.
 *  - basic and bearer compare SHA-256 digests of the received and the
 *    configured credentials, so the comparison takes the same time whatever
 *    the lengths and contents.
 *  - Every header value is capped at HP_SIG_MAX_HEADER_LEN bytes; a longer
 *    one is HP_SIG_INVALID (bad_format) before any other work.
 *
 * Outcomes never say which secret or which byte was wrong.
 */
#ifndef HP_SIG_H
#define HP_SIG_H

#include "hp_config.h" /* hp_verify_config */
#include "hp_err.h"

#include <stddef.h>
#include <stdint.h>

/* Longest header value any scheme looks at; longer ones are rejected. */
#define HP_SIG_MAX_HEADER_LEN 4096

/* Most headers hp_sig_sign() makes, and most names in headers_used. */
#define HP_SIG_MAX_HEADERS 4

/* Leeway for a LiveKit JWT's exp and nbf, in seconds. */
#define HP_SIG_JWT_LEEWAY_S 60

/* Lifetime of the LiveKit JWTs hp_sig_sign() makes (exp - nbf), as LiveKit's. */
#define HP_SIG_JWT_LIFETIME_S 300

/*
 * Looks up a request header by name, case-insensitively. Returns its
 * NUL-terminated value, or NULL if the request has none. ctx is the
 * caller's; the value must stay valid during the hp_sig_verify() call.
 */
typedef const char *hp_sig_header_fn(void *ctx, const char *name);

typedef enum {
    HP_SIG_OK,      /* authentic */
    HP_SIG_MISSING, /* a required header is absent or empty: 401 missing_signature */
    HP_SIG_INVALID, /* malformed, or no secret matches: 401 invalid_signature */
    HP_SIG_STALE    /* authentic, but its time is outside the tolerance:
                       401 timestamp_out_of_tolerance */
} hp_sig_result;

/*
 * The reasons, for the metric label and logs (a small fixed set):
 *   ok, missing_header, bad_format, mismatch, timestamp_too_old,
 *   timestamp_in_future, unknown_key, bad_alg, expired, not_yet_valid,
 *   body_hash_mismatch.
 */
typedef struct hp_sig_outcome {
    hp_sig_result result;
    const char *reason; /* a constant from the list above; never NULL */
    /* The scheme's signature headers (the ones carrying a MAC or a
     * credential), canonical names, NULL-terminated, for leaving them out of
     * the recorded headers: constants, or vc->header for hmac-* (valid as
     * long as vc). Set whatever the result; every name the scheme knows
     * (github: the legacy X-Hub-Signature too; shopify and standard-webhooks:
     * both spellings), whether the request had it or not. Ids and timestamps
     * (webhook-id, X-Slack-Request-Timestamp) are not listed: they are event
     * data, not secrets. Empty for none. */
    const char *headers_used[HP_SIG_MAX_HEADERS + 1];
} hp_sig_outcome;

/*
 * Verifies a request for vc: body is the raw body (len bytes; NULL if len is
 * 0), get(ctx, name) looks up its headers, now_s is the current UNIX time in
 * seconds (a parameter, for the tests). Fills *out; nothing it points to
 * needs freeing. Allocates nothing that outlives the call; compares every
 * secret-derived byte in constant time. @thread any
 */
void hp_sig_verify(const hp_verify_config *vc, const unsigned char *body, size_t len,
                   hp_sig_header_fn *get, void *ctx, int64_t now_s, hp_sig_outcome *out);

/*
 * The precheck: what can be told of a request for vc from its headers
 * alone, before its body is read. Fills *out like hp_sig_verify(): HP_SIG_OK
 * when the scheme's signature headers are present and well formed (the
 * request may still fail hp_sig_verify(), which stays the authority);
 * HP_SIG_MISSING or HP_SIG_INVALID (bad_format) when hp_sig_verify() would
 * refuse those headers whatever the body, with the same result (livekit may
 * say bad_format where the verifier, which parses the token's JSON first,
 * says bad_alg). Per scheme:
 *
 *   hmac-*             vc->header present, its prefix, the MAC decodable to its length
 *   github             X-Hub-Signature-256: sha256= and 64 hex digits
 *   stripe             Stripe-Signature: one t=<digits>, at least one v1=<64 hex>
 *   standard-webhooks  id, timestamp (digits) and a decodable v1 signature, one family
 *   slack              X-Slack-Signature: v0=<64 hex>; X-Slack-Request-Timestamp digits
 *   shopify            either header, base64 of 32 bytes
 *   livekit            Authorization: a JWT's shape (three base64url parts, a 32-byte MAC)
 *   basic / bearer     Authorization: Basic <base64> / Bearer <token>
 *   none               always HP_SIG_OK
 *
 * Each scheme shares its parsing with its verifier, so the precheck never
 * refuses what hp_sig_verify() would accept. Reads no secret. @thread any
 */
void hp_sig_precheck(const hp_verify_config *vc, hp_sig_header_fn *get, void *ctx,
                     hp_sig_outcome *out);

/* A constant name for result ("ok", "missing", "invalid", "stale"). @thread any */
const char *hp_sig_result_name(hp_sig_result result);

/* One header of a signed request; both strings owned by the hp_sig_headers. */
typedef struct hp_sig_header {
    char *name;
    char *value;
} hp_sig_header;

/* The headers hp_sig_sign() makes, in the order a provider sends them. */
typedef struct hp_sig_headers {
    hp_sig_header h[HP_SIG_MAX_HEADERS];
    size_t n;
} hp_sig_headers;

/*
 * Makes the headers the provider of vc->scheme would send with body at time
 * now_s (UNIX seconds, 0 to 999999999999), signed with the first secret (livekit: the
 * first key). msg_id is the standard-webhooks webhook-id (printable ASCII,
 * at most 255 bytes); NULL makes a random "msg_" + 24 base62 characters.
 * Other schemes ignore it.
 *
 *   stripe             Stripe-Signature: t=<now>,v1=<hex>
 *   standard-webhooks  webhook-id, webhook-timestamp, webhook-signature: v1,<b64>
 *   slack              X-Slack-Request-Timestamp, X-Slack-Signature: v0=<hex>
 *   github             X-Hub-Signature-256: sha256=<hex>
 *   shopify            X-Shopify-Hmac-Sha256: <b64>
 *   hmac-sha256/-sha1  <vc->header>: <vc->prefix><encoded MAC> (base64url unpadded)
 *   livekit            Authorization: <JWT, iss = key, nbf = now,
 *                      exp = now + HP_SIG_JWT_LIFETIME_S, sha256 = b64(SHA-256(body))>
 *   basic / bearer     Authorization: Basic <b64(secret)> / Bearer <secret>
 *   none               no headers
 *
 * On HP_OK the caller owns *out and frees it with hp_sig_headers_deinit()
 * (values may hold a credential: they are zeroed). HP_ERR_INVALID if vc has
 * no secret (key), now_s is out of range or msg_id is unusable; HP_ERR_FATAL if the
 * random generator fails. On error *out is empty. @thread any
 */
hp_err hp_sig_sign(const hp_verify_config *vc, const unsigned char *body, size_t len, int64_t now_s,
                   const char *msg_id, hp_sig_headers *out) HP_WARN_UNUSED;

/* The value of the header called name (case-insensitive) in hs, or NULL. @thread any */
const char *hp_sig_headers_get(const hp_sig_headers *hs, const char *name);

/* Frees what hs holds, zeroing the values, and leaves it empty. @thread owner */
void hp_sig_headers_deinit(hp_sig_headers *hs);

#endif /* HP_SIG_H */
