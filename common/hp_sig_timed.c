/*
 * hp_sig_timed: the schemes that sign a timestamp with the body, and so
 * defend against replays — Stripe, Standard Webhooks (and Svix), Slack.
 *
 * Each verifier reads its headers (all present and non-empty, else
 * HP_SIG_MISSING), parses them strictly (else bad_format), checks the MAC
 * against every signature the request carries under every secret, and only
 * then the timestamp window, so that HP_SIG_STALE is said only of an
 * authentic request. The parsing is one function per scheme, shared by the
 * verifier and the precheck (hp_sig_precheck: the headers alone), so the
 * precheck can never refuse what the verifier would accept. The timestamp is MACed as the text
 * received, which hp_sig_parse_ts() has limited to decimal digits.
 */
#include "hp_alloc.h"
#include "hp_codec.h"
#include "hp_sig_int.h"

#include <inttypes.h> /* PRId64 */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* A UNIX time as decimal text: at most 19 digits, a sign and a NUL. */
#define TS_SIZE 24

/* SHA-256 MACs, the only kind these schemes use. */
#define MAC_LEN 32

static void format_ts(int64_t now_s, char ts[TS_SIZE])
{
    snprintf(ts, TS_SIZE, "%" PRId64, now_s);
}

/* ---- Stripe ---- */

/*
 * Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>…][,v0=…]. Items split on ','
 * and each on its first '=' (as the SDKs do, without trimming); exactly one
 * t; every v1 is a candidate; v0 (a test-mode scheme) and unknown keys are
 * ignored.
 */
/* A Stripe-Signature header, parsed: the t item and the v1 candidates. */
struct stripe_sig {
    const char *t;
    size_t tlen;
    int64_t ts;
    hp_sig_cands cands;
};

/* Reads and parses Stripe-Signature; false with out set if it is missing
 * or malformed. */
static bool stripe_parse(const hp_sig_req *req, struct stripe_sig *ss, hp_sig_outcome *out)
{
    const char *val;
    size_t vlen;
    int nt = 0;
    size_t nv1 = 0;

    if (!hp_sig_get_header(req, "Stripe-Signature", out, &val, &vlen))
        return false;
    ss->t = NULL;
    ss->tlen = 0;
    ss->cands.n = 0;
    ss->cands.len = MAC_LEN;
    const char *end = val + vlen;
    for (const char *p = val; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        if (eq) {
            size_t klen = (size_t)(eq - p);
            const char *v = eq + 1;
            size_t n = (size_t)(item_end - v);
            size_t declen = 0;
            hp_sig_cands *c = &ss->cands;
            if (klen == 1 && p[0] == 't') {
                nt++;
                ss->t = v;
                ss->tlen = n;
            } else if (klen == 2 && p[0] == 'v' && p[1] == '1') {
                nv1++;
                if (c->n < HP_SIG_MAX_CANDS &&
                    hp_hex_decode(v, n, c->sig[c->n], MAC_LEN, &declen) == HP_OK &&
                    declen == MAC_LEN)
                    c->n++;
            }
        }
        p = comma ? comma + 1 : end;
    }
    if (nt != 1 || !hp_sig_parse_ts(ss->t, ss->tlen, &ss->ts) || nv1 == 0 || ss->cands.n == 0)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    return true;
}

void hp_sig_verify_stripe(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out)
{
    struct stripe_sig ss;

    if (!stripe_parse(req, &ss, out))
        return;
    hp_sig_part parts[] = {{ss.t, ss.tlen}, {".", 1}, {req->body, req->len}};
    if (!hp_sig_match(vc, "SHA256", parts, 3, &ss.cands)) {
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_MISMATCH);
        return;
    }
    if (hp_sig_check_window(ss.ts, req->now_s, vc->tolerance_s, out))
        hp_sig_succeed(out);
}

void hp_sig_precheck_stripe(const hp_sig_req *req, hp_sig_outcome *out)
{
    struct stripe_sig ss;

    if (stripe_parse(req, &ss, out))
        hp_sig_succeed(out);
}

hp_err hp_sig_sign_stripe(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_headers *hs)
{
    char ts[TS_SIZE];
    unsigned char mac[HP_SIG_MAC_MAX];
    char value[TS_SIZE + 8 + HP_HEX_LEN(MAC_LEN)];
    char hex[HP_HEX_LEN(MAC_LEN) + 1];

    format_ts(req->now_s, ts);
    hp_sig_part parts[] = {{ts, strlen(ts)}, {".", 1}, {req->body, req->len}};
    hp_sig_hmac("SHA256", vc->secrets[0].bytes, vc->secrets[0].len, parts, 3, mac);
    hp_hex_encode(mac, MAC_LEN, hex);
    snprintf(value, sizeof value, "t=%s,v1=%s", ts, hex);
    hp_sig_headers_add(hs, "Stripe-Signature", value);
    return HP_OK;
}

/* ---- Standard Webhooks / Svix ---- */

enum { SW_ID, SW_TIMESTAMP, SW_SIGNATURE };

/* Svix's names first: its libraries read them before the webhook-* ones. */
static const char *const sw_names[2][3] = {
    {"svix-id", "svix-timestamp", "svix-signature"},
    {"webhook-id", "webhook-timestamp", "webhook-signature"},
};

/*
 * Collects the v1 entries of a signature header, space-separated
 * "<version>,<base64>" items; other versions (v1a, Ed25519) are skipped.
 * Returns the number of v1 entries, decodable or not.
 */
static size_t sw_collect(const char *val, size_t vlen, hp_sig_cands *cands)
{
    const char *end = val + vlen;
    size_t nv1 = 0;

    for (const char *p = val; p < end;) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *item_end = sp ? sp : end;
        const char *comma = memchr(p, ',', (size_t)(item_end - p));
        size_t declen = 0;
        if (comma && comma - p == 2 && p[0] == 'v' && p[1] == '1') {
            nv1++;
            if (cands->n < HP_SIG_MAX_CANDS &&
                hp_base64_decode(comma + 1, (size_t)(item_end - comma - 1), HP_BASE64_STD,
                                 cands->sig[cands->n], MAC_LEN, &declen) == HP_OK &&
                declen == MAC_LEN)
                cands->n++;
        }
        p = sp ? sp + 1 : end;
    }
    return nv1;
}

/* The headers of a Standard Webhooks request, parsed. */
struct sw_sig {
    const char *val[3];
    size_t vlen[3];
    int64_t ts;
    hp_sig_cands cands;
};

/* Reads and parses the id, timestamp and signature headers (one family);
 * false with out set if one is missing or malformed. */
static bool sw_parse(const hp_sig_req *req, struct sw_sig *sw, hp_sig_outcome *out)
{
    size_t family = 1;

    /* One family per request: svix-* if it has any of them. */
    for (size_t i = 0; i < 3; i++) {
        if (req->get(req->ctx, sw_names[0][i]))
            family = 0;
    }
    for (size_t i = 0; i < 3; i++) {
        if (!hp_sig_get_header(req, sw_names[family][i], out, &sw->val[i], &sw->vlen[i]))
            return false;
    }
    sw->cands.n = 0;
    sw->cands.len = MAC_LEN;
    size_t nv1 = sw_collect(sw->val[SW_SIGNATURE], sw->vlen[SW_SIGNATURE], &sw->cands);
    if (!hp_sig_parse_ts(sw->val[SW_TIMESTAMP], sw->vlen[SW_TIMESTAMP], &sw->ts) || nv1 == 0 ||
        sw->cands.n == 0)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    return true;
}

void hp_sig_verify_standard(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out)
{
    struct sw_sig sw;

    if (!sw_parse(req, &sw, out))
        return;
    hp_sig_part parts[] = {{sw.val[SW_ID], sw.vlen[SW_ID]},
                           {".", 1},
                           {sw.val[SW_TIMESTAMP], sw.vlen[SW_TIMESTAMP]},
                           {".", 1},
                           {req->body, req->len}};
    if (!hp_sig_match(vc, "SHA256", parts, 5, &sw.cands)) {
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_MISMATCH);
        return;
    }
    if (hp_sig_check_window(sw.ts, req->now_s, vc->tolerance_s, out))
        hp_sig_succeed(out);
}

void hp_sig_precheck_standard(const hp_sig_req *req, hp_sig_outcome *out)
{
    struct sw_sig sw;

    if (sw_parse(req, &sw, out))
        hp_sig_succeed(out);
}

#define SW_ID_MAX 255
#define SW_RANDOM_CHARS 24

/* "msg_" and SW_RANDOM_CHARS base62 characters, like Svix's message ids. */
static hp_err random_msg_id(char *id, size_t idsize)
{
    static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char rnd[64];
    size_t n = 0;

    snprintf(id, idsize, "msg_");
    while (n < SW_RANDOM_CHARS) {
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return HP_ERR_FATAL;
        /* Only bytes below 248 = 4 * 62, so every character is as likely. */
        for (size_t i = 0; i < sizeof rnd && n < SW_RANDOM_CHARS; i++) {
            if (rnd[i] < 248)
                id[4 + n++] = base62[rnd[i] % 62];
        }
    }
    id[4 + n] = '\0';
    return HP_OK;
}

/* Whether a caller's message id can go in a header unchanged. */
static bool msg_id_ok(const char *id)
{
    size_t n = strnlen(id, SW_ID_MAX + 1);

    if (n == 0 || n > SW_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (id[i] < 0x21 || id[i] > 0x7e)
            return false;
    }
    return true;
}

hp_err hp_sig_sign_standard(const hp_verify_config *vc, const hp_sig_req *req, const char *msg_id,
                            hp_sig_headers *hs)
{
    char id[SW_ID_MAX + 1];
    char ts[TS_SIZE];
    unsigned char mac[HP_SIG_MAC_MAX];
    char value[3 + HP_BASE64_LEN(MAC_LEN) + 1];

    if (msg_id) {
        if (!msg_id_ok(msg_id))
            return HP_ERR_INVALID;
        snprintf(id, sizeof id, "%s", msg_id);
    } else if (random_msg_id(id, sizeof id) != HP_OK) {
        return HP_ERR_FATAL;
    }
    format_ts(req->now_s, ts);
    hp_sig_part parts[] = {
        {id, strlen(id)}, {".", 1}, {ts, strlen(ts)}, {".", 1}, {req->body, req->len}};
    hp_sig_hmac("SHA256", vc->secrets[0].bytes, vc->secrets[0].len, parts, 5, mac);
    memcpy(value, "v1,", 3);
    hp_base64_encode(mac, MAC_LEN, HP_BASE64_STD, value + 3);
    hp_sig_headers_add(hs, sw_names[1][SW_ID], id);
    hp_sig_headers_add(hs, sw_names[1][SW_TIMESTAMP], ts);
    hp_sig_headers_add(hs, sw_names[1][SW_SIGNATURE], value);
    return HP_OK;
}

/* ---- Slack ---- */

/* The headers of a Slack request, parsed. */
struct slack_sig {
    const char *t;
    size_t tlen;
    int64_t ts;
    hp_sig_cands cands;
};

/* Reads and parses X-Slack-Signature and X-Slack-Request-Timestamp; false
 * with out set if one is missing or malformed. */
static bool slack_parse(const hp_sig_req *req, struct slack_sig *sl, hp_sig_outcome *out)
{
    const char *sig;
    size_t siglen;
    size_t declen = 0;

    if (!hp_sig_get_header(req, "X-Slack-Signature", out, &sig, &siglen) ||
        !hp_sig_get_header(req, "X-Slack-Request-Timestamp", out, &sl->t, &sl->tlen))
        return false;
    sl->cands.n = 1;
    sl->cands.len = MAC_LEN;
    if (!hp_sig_parse_ts(sl->t, sl->tlen, &sl->ts) || siglen < 3 || memcmp(sig, "v0=", 3) != 0 ||
        hp_hex_decode(sig + 3, siglen - 3, sl->cands.sig[0], MAC_LEN, &declen) != HP_OK ||
        declen != MAC_LEN)
        return hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_FORMAT);
    return true;
}

void hp_sig_verify_slack(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_outcome *out)
{
    struct slack_sig sl;

    if (!slack_parse(req, &sl, out))
        return;
    hp_sig_part parts[] = {{"v0:", 3}, {sl.t, sl.tlen}, {":", 1}, {req->body, req->len}};
    if (!hp_sig_match(vc, "SHA256", parts, 4, &sl.cands)) {
        hp_sig_fail(out, HP_SIG_INVALID, HP_SIG_R_MISMATCH);
        return;
    }
    if (hp_sig_check_window(sl.ts, req->now_s, vc->tolerance_s, out))
        hp_sig_succeed(out);
}

void hp_sig_precheck_slack(const hp_sig_req *req, hp_sig_outcome *out)
{
    struct slack_sig sl;

    if (slack_parse(req, &sl, out))
        hp_sig_succeed(out);
}

hp_err hp_sig_sign_slack(const hp_verify_config *vc, const hp_sig_req *req, hp_sig_headers *hs)
{
    char ts[TS_SIZE];
    unsigned char mac[HP_SIG_MAC_MAX];
    char value[3 + HP_HEX_LEN(MAC_LEN) + 1];

    format_ts(req->now_s, ts);
    hp_sig_part parts[] = {{"v0:", 3}, {ts, strlen(ts)}, {":", 1}, {req->body, req->len}};
    hp_sig_hmac("SHA256", vc->secrets[0].bytes, vc->secrets[0].len, parts, 4, mac);
    memcpy(value, "v0=", 3);
    hp_hex_encode(mac, MAC_LEN, value + 3);
    hp_sig_headers_add(hs, "X-Slack-Request-Timestamp", ts);
    hp_sig_headers_add(hs, "X-Slack-Signature", value);
    return HP_OK;
}
