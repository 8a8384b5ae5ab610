/*
 * hp_sig internals: what hp_sig.c (dispatch, the schemes without a
 * timestamp), hp_sig_timed.c (stripe, standard-webhooks, slack) and
 * hp_sig_livekit.c share. Not for use outside hp_sig*.c.
 */
#ifndef HP_SIG_INT_H
#define HP_SIG_INT_H

#include "hp_sig.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest MAC of any scheme (SHA-256). */
#define HP_SIG_MAC_MAX 32

/* Most well-formed signatures one header can carry within
 * HP_SIG_MAX_HEADER_LEN (the shortest, "v1," + 43 base64 + a space, is 47
 * bytes long). */
#define HP_SIG_MAX_CANDS 128

/* The largest timestamp hp_sig_parse_ts() takes: 12 digits. */
#define HP_SIG_TS_MAX INT64_C(999999999999)

/* The request being verified. */
typedef struct hp_sig_req {
    const unsigned char *body;
    size_t len;
    hp_sig_header_fn *get;
    void *ctx;
    int64_t now_s;
} hp_sig_req;

/* One piece of the signed bytes; the MAC is over the pieces in order. */
typedef struct hp_sig_part {
    const void *data;
    size_t len;
} hp_sig_part;

/* The decoded signatures a request carries, each len bytes long. */
typedef struct hp_sig_cands {
    unsigned char sig[HP_SIG_MAX_CANDS][HP_SIG_MAC_MAX];
    size_t n;
    size_t len;
} hp_sig_cands;

/* Reasons (see hp_sig.h). */
#define HP_SIG_R_OK "ok"
#define HP_SIG_R_MISSING "missing_header"
#define HP_SIG_R_FORMAT "bad_format"
#define HP_SIG_R_MISMATCH "mismatch"
#define HP_SIG_R_TOO_OLD "timestamp_too_old"
#define HP_SIG_R_FUTURE "timestamp_in_future"
#define HP_SIG_R_UNKNOWN_KEY "unknown_key"
#define HP_SIG_R_BAD_ALG "bad_alg"
#define HP_SIG_R_EXPIRED "expired"
#define HP_SIG_R_NOT_YET_VALID "not_yet_valid"
#define HP_SIG_R_BODY_HASH "body_hash_mismatch"

/* Sets the result and reason of out; returns false, for "return fail(…)". */
bool hp_sig_fail(hp_sig_outcome *out, hp_sig_result result, const char *reason);

/* Sets out to HP_SIG_OK. */
void hp_sig_succeed(hp_sig_outcome *out);

/*
 * Looks up header name. True with *val and *len set if it is present,
 * non-empty and at most HP_SIG_MAX_HEADER_LEN bytes; else sets out
 * (HP_SIG_MISSING, or HP_SIG_INVALID bad_format when too long) and returns
 * false.
 */
bool hp_sig_get_header(const hp_sig_req *req, const char *name, hp_sig_outcome *out,
                       const char **val, size_t *len);

/* Parses a timestamp: 1 to 12 decimal digits, nothing else. */
bool hp_sig_parse_ts(const char *s, size_t len, int64_t *ts);

/* Whether ts lies within tolerance_s of now (always, if tolerance_s is 0);
 * if not, sets out to HP_SIG_STALE with the direction as the reason. */
bool hp_sig_check_window(int64_t ts, int64_t now, int tolerance_s, hp_sig_outcome *out);

/*
 * HMAC with digest md ("SHA256" or "SHA1") keyed with key[0..keylen) over
 * the parts, into mac (HP_SIG_MAC_MAX bytes). Returns the MAC length.
 * Aborts if libcrypto fails, which with these inputs only running out of
 * memory can cause.
 */
size_t hp_sig_hmac(const char *md, const unsigned char *key, size_t keylen,
                   const hp_sig_part *parts, size_t nparts, unsigned char *mac);

/*
 * Whether the HMAC (md) over parts under any secret of vc equals any of
 * cands. Compares every pair in constant time, without an early exit.
 */
bool hp_sig_match(const hp_verify_config *vc, const char *md, const hp_sig_part *parts,
                  size_t nparts, const hp_sig_cands *cands);

/* Appends a copy of name and value to hs (which has room). */
void hp_sig_headers_add(hp_sig_headers *hs, const char *name, const char *value);

/* The schemes in their own files. Same contract as hp_sig_verify() and
 * hp_sig_sign(); sign functions may assume vc->nsecrets > 0 (livekit:
 * vc->nkeys > 0) and now_s >= 0. */
void hp_sig_verify_stripe(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out);
void hp_sig_verify_standard(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out);
void hp_sig_verify_slack(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out);
void hp_sig_verify_livekit(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out);

/* The prechecks of the schemes in their own files: hp_sig_precheck()'s
 * contract, req without a body. */
void hp_sig_precheck_stripe(const hp_sig_req *req, hp_sig_outcome *out);
void hp_sig_precheck_standard(const hp_sig_req *req, hp_sig_outcome *out);
void hp_sig_precheck_slack(const hp_sig_req *req, hp_sig_outcome *out);
void hp_sig_precheck_livekit(const hp_sig_req *req, hp_sig_outcome *out);

hp_err hp_sig_sign_stripe(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_headers *hs);
hp_err hp_sig_sign_standard(const hp_verify_config *vc, const hp_sig_req *req, const char *msg_id,
                            hp_sig_headers *hs);
hp_err hp_sig_sign_slack(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_headers *hs);
hp_err hp_sig_sign_livekit(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_headers *hs);

#endif /* HP_SIG_INT_H */
