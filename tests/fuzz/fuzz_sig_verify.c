/*
 * Fuzzes hp_sig_verify for every verify.scheme (and every hmac-* encoding)
 * with fuzzed headers and body, against fixed configurations and secrets,
 * and hp_sig_sign with the fuzzed body.
 *
 * Input: a request as fuzz_util.h reads it, whose first header line names
 * the case ("stripe", "hmac-sha256 base64", ...; an unknown name picks a
 * case from its first byte). A header "X-Fuzz-Now: <seconds>" sets the
 * verifier's clock (default 1700000000), so seeds from signature-vectors.md
 * can verify. FUZZ_VERBOSE=1 prints each input's outcome (for seeds).
 *
 * Beyond "no crash, no leak, no undefined behaviour" it asserts:
 *  - determinism: the same request verifies the same way twice;
 *  - the outcome is coherent: a known reason that fits the result, and the
 *    scheme's signature headers listed in headers_used;
 *  - a request that verifies still verifies when a second secret (or key)
 *    is configured before the first (rotation never rejects what one secret
 *    accepted), and no longer verifies once one body byte changes (every
 *    scheme but basic/bearer/none covers the body);
 *  - round trip: what hp_sig_sign makes for the fuzzed body at the fuzzed
 *    time verifies, under the one-secret and the rotation configuration.
 */
#include "fuzz_util.h"
#include "gw_headers.h"
#include "hp_codec.h"
#include "hp_sig.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOW INT64_C(1700000000)

typedef struct fz_case {
    const char *name;
    hp_verify_scheme scheme;
    const char *header; /* hmac-* */
    const char *prefix; /* hmac-* */
    hp_verify_encoding encoding;
    const char *secret; /* as the config leaves it (standard-webhooks: decoded below) */
    bool covers_body;
} fz_case;

/* The secrets of signature-vectors.md, so that its vectors verify. */
static const fz_case cases[] = {
    {"hmac-sha256 hex", HP_VERIFY_HMAC_SHA256, "X-Signature", "sha256=", HP_VERIFY_ENC_HEX,
     "convoy-webhook-secret", true},
    {"hmac-sha256 base64", HP_VERIFY_HMAC_SHA256, "X-Signature", "", HP_VERIFY_ENC_BASE64,
     "convoy-webhook-secret", true},
    {"hmac-sha256 base64url", HP_VERIFY_HMAC_SHA256, "X-Signature", NULL, HP_VERIFY_ENC_BASE64URL,
     "convoy-webhook-secret", true},
    {"hmac-sha1 hex", HP_VERIFY_HMAC_SHA1, "X-Hub-Signature", "sha1=", HP_VERIFY_ENC_HEX,
     "It's a Secret to Everybody", true},
    {"github", HP_VERIFY_GITHUB, NULL, NULL, 0, "It's a Secret to Everybody", true},
    {"stripe", HP_VERIFY_STRIPE, NULL, NULL, 0, "whsec_test_secret", true},
    {"standard-webhooks", HP_VERIFY_STANDARD_WEBHOOKS, NULL, NULL, 0,
     "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true},
    {"slack", HP_VERIFY_SLACK, NULL, NULL, 0, "8f742231b10e8888abcd99yyyzzz85a5", true},
    {"shopify", HP_VERIFY_SHOPIFY, NULL, NULL, 0, "hush", true},
    {"livekit", HP_VERIFY_LIVEKIT, NULL, NULL, 0, "lk-api-secret-0123456789abcdefghijklmnopqrstuv",
     true},
    {"basic", HP_VERIFY_BASIC, NULL, NULL, 0, "user:pass word", false},
    {"bearer", HP_VERIFY_BEARER, NULL, NULL, 0, "token-0123456789", false},
    {"none", HP_VERIFY_NONE, NULL, NULL, 0, NULL, false},
};
#define NCASES (sizeof cases / sizeof cases[0])

static const char other_secret[] = "another-secret-for-rotation";

/* Per case: one-secret and rotation (other secret first) configurations. */
static hp_verify_config vc_one[NCASES];
static hp_verify_config vc_rot[NCASES];
static hp_secret secrets[NCASES][2];
static hp_livekit_key lk_one[1];
static hp_livekit_key lk_rot[2];
static bool verbose;

static hp_secret make_secret(const char *text, bool b64)
{
    hp_secret s;
    size_t n = strlen(text);

    s.bytes = malloc(n + 1);
    if (b64) {
        if (hp_base64_decode(text, n, HP_BASE64_STD, s.bytes, n, &n) != HP_OK)
            abort();
    } else {
        memcpy(s.bytes, text, n);
    }
    s.bytes[n] = '\0';
    s.len = n;
    return s;
}

static void setup(void)
{
    for (size_t i = 0; i < NCASES; i++) {
        const fz_case *c = &cases[i];
        hp_verify_config vc;

        memset(&vc, 0, sizeof vc);
        vc.scheme = c->scheme;
        vc.header = (char *)c->header;
        vc.prefix = (char *)c->prefix;
        vc.encoding = c->encoding;
        if (c->scheme == HP_VERIFY_STRIPE || c->scheme == HP_VERIFY_STANDARD_WEBHOOKS ||
            c->scheme == HP_VERIFY_SLACK)
            vc.tolerance_s = 300;
        vc_one[i] = vc;
        vc_rot[i] = vc;
        if (!c->secret)
            continue;
        bool b64 = c->scheme == HP_VERIFY_STANDARD_WEBHOOKS;
        secrets[i][0] = make_secret(other_secret, false);
        secrets[i][1] = make_secret(c->secret, b64);
        if (c->scheme == HP_VERIFY_LIVEKIT) {
            lk_one[0] = (hp_livekit_key){"APIkey", secrets[i][1]};
            lk_rot[0] = (hp_livekit_key){"APIkey", secrets[i][0]};
            lk_rot[1] = (hp_livekit_key){"APIkey", secrets[i][1]};
            vc_one[i].keys = lk_one;
            vc_one[i].nkeys = 1;
            vc_rot[i].keys = lk_rot;
            vc_rot[i].nkeys = 2;
        } else {
            vc_one[i].secrets = &secrets[i][1];
            vc_one[i].nsecrets = 1;
            vc_rot[i].secrets = secrets[i];
            vc_rot[i].nsecrets = 2;
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    setup();
    return 0;
}

/* The case the first header line names, else one picked by its first byte. */
static size_t pick_case(const gw_headers *hs)
{
    if (hs->n == 0)
        return 0;
    for (size_t i = 0; i < NCASES; i++) {
        if (strcmp(hs->items[0].name, cases[i].name) == 0)
            return i;
    }
    return (unsigned char)hs->items[0].name[0] % NCASES;
}

static bool reason_known(const char *r)
{
    static const char *const reasons[] = {"ok",
                                          "missing_header",
                                          "bad_format",
                                          "mismatch",
                                          "timestamp_too_old",
                                          "timestamp_in_future",
                                          "unknown_key",
                                          "bad_alg",
                                          "expired",
                                          "not_yet_valid",
                                          "body_hash_mismatch"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (strcmp(r, reasons[i]) == 0)
            return true;
    }
    return false;
}

static void check_outcome(const hp_sig_outcome *o, const fz_case *c)
{
    FZ_CHECK(o->reason && reason_known(o->reason), "%s: reason %s", c->name,
             o->reason ? o->reason : "NULL");
    FZ_CHECK((o->result == HP_SIG_OK) == (strcmp(o->reason, "ok") == 0), "%s: %s/%s", c->name,
             hp_sig_result_name(o->result), o->reason);
    FZ_CHECK((o->result == HP_SIG_MISSING) == (strcmp(o->reason, "missing_header") == 0),
             "%s: %s/%s", c->name, hp_sig_result_name(o->result), o->reason);
    if (o->result == HP_SIG_STALE)
        FZ_CHECK(strstr("timestamp_too_old timestamp_in_future expired not_yet_valid", o->reason),
                 "%s: stale but %s", c->name, o->reason);
    FZ_CHECK((o->headers_used[0] == NULL) == (c->scheme == HP_VERIFY_NONE), "%s: headers_used",
             c->name);
}

static hp_sig_outcome verify(const hp_verify_config *vc, const unsigned char *body, size_t len,
                             gw_headers *hs, int64_t now)
{
    hp_sig_outcome o;
    hp_sig_verify(vc, body, len, gw_headers_get, hs, now, &o);
    return o;
}

/* hp_sig_sign for body at now must verify under vc_one and vc_rot. */
static void round_trip(size_t ci, const unsigned char *body, size_t len, int64_t now)
{
    const fz_case *c = &cases[ci];
    hp_sig_headers signed_hs;
    gw_header items[HP_SIG_MAX_HEADERS];
    gw_headers hs = {items, 0};

    hp_err rc = hp_sig_sign(&vc_one[ci], body, len, now, "msg_fuzz", &signed_hs);
    FZ_CHECK(rc == HP_OK, "%s: sign failed (%d)", c->name, (int)rc);
    for (size_t i = 0; i < signed_hs.n; i++) {
        items[i].name = signed_hs.h[i].name;
        items[i].value = signed_hs.h[i].value;
    }
    hs.n = signed_hs.n;
    hp_sig_outcome o = verify(&vc_one[ci], body, len, &hs, now);
    FZ_CHECK(o.result == HP_SIG_OK, "%s: signed request does not verify: %s", c->name, o.reason);
    /* Every header carrying a MAC or credential is one the gateway leaves
     * out of the record: listed in headers_used (ids and times are not). */
    for (size_t i = 0; i < hs.n; i++) {
        bool listed = strcasecmp(items[i].name, "webhook-id") == 0 ||
                      strcasecmp(items[i].name, "webhook-timestamp") == 0 ||
                      strcasecmp(items[i].name, "X-Slack-Request-Timestamp") == 0;
        for (size_t k = 0; !listed && o.headers_used[k]; k++)
            listed = strcasecmp(items[i].name, o.headers_used[k]) == 0;
        FZ_CHECK(listed, "%s: signed header %s not in headers_used", c->name, items[i].name);
    }
    o = verify(&vc_rot[ci], body, len, &hs, now);
    FZ_CHECK(o.result == HP_SIG_OK, "%s: signed request does not verify with rotation: %s", c->name,
             o.reason);
    hp_sig_headers_deinit(&signed_hs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_request r;
    int64_t now = NOW;

    fz_request_parse(&r, data, size);
    size_t ci = pick_case(&r.headers);
    const fz_case *c = &cases[ci];
    const char *now_text = gw_headers_get(&r.headers, "X-Fuzz-Now");
    if (now_text) {
        char *end;
        long long v = strtoll(now_text, &end, 10);
        /* A real clock: the verifiers may assume it is not near INT64_MIN/MAX. */
        if (end != now_text && v >= 0 && v <= INT64_C(999999999999))
            now = v;
    }

    hp_sig_outcome first = verify(&vc_one[ci], r.body, r.len, &r.headers, now);
    check_outcome(&first, c);
    if (verbose) /* FUZZ_VERBOSE=1: what each input verifies as, for writing seeds */
        fprintf(stderr, "%s: %s/%s\n", c->name, hp_sig_result_name(first.result), first.reason);
    hp_sig_outcome again = verify(&vc_one[ci], r.body, r.len, &r.headers, now);
    FZ_CHECK(again.result == first.result && strcmp(again.reason, first.reason) == 0,
             "%s: not deterministic: %s then %s", c->name, first.reason, again.reason);
    hp_sig_outcome rot = verify(&vc_rot[ci], r.body, r.len, &r.headers, now);
    check_outcome(&rot, c);
    if (first.result == HP_SIG_OK) {
        FZ_CHECK(rot.result == HP_SIG_OK, "%s: rotation rejects what one secret accepts: %s",
                 c->name, rot.reason);
        if (c->covers_body) {
            /* The same headers with one body byte changed (or one added). */
            size_t len = r.len > 0 ? r.len : 1;
            unsigned char *changed = malloc(len);
            if (r.len > 0)
                memcpy(changed, r.body, r.len);
            changed[len - 1] ^= r.len > 0 ? 0x01 : 'x';
            hp_sig_outcome o = verify(&vc_one[ci], changed, len, &r.headers, now);
            FZ_CHECK(o.result != HP_SIG_OK, "%s: verifies with a changed body", c->name);
            free(changed);
        }
    }
    round_trip(ci, r.body, r.len, now);
    fz_request_free(&r);
    return 0;
}
