/*
 * Unit tests for hp_sig_precheck, the look at a request's signature headers
 * before its body is read: per scheme, a signed request passes (with the
 * right secret or a wrong one: the precheck reads no secret), a missing
 * header is HP_SIG_MISSING, a malformed one HP_SIG_INVALID bad_format. And
 * the property the gateway relies on, over many mutations of every signed
 * header: whatever the precheck refuses, hp_sig_verify() refuses with the
 * same result, and whatever the verifier accepts, the precheck passes.
 */
#include "hp_sig.h"
#include "sig_test.h"

#include <check.h>
#include <string.h>

#define NOW INT64_C(1700000000)
#define GOOD "whsec_Z29vZC1zZWNyZXQtZm9yLXRlc3Rz"
#define WRONG "whsec_d3Jvbmctc2VjcmV0LW9mLXRlc3Rz"
#define BODY "{\"id\":\"evt_1\",\"type\":\"t\"}"

static hp_sig_outcome precheck(const hp_verify_config *vc)
{
    hp_sig_outcome o;
    hp_sig_precheck(vc, st_get, NULL, &o);
    return o;
}

#define PRE_EXPECT(vc, res, why)                                                                   \
    do {                                                                                           \
        hp_sig_outcome p_ = precheck(vc);                                                          \
        ck_assert_msg(p_.result == (res) && strcmp(p_.reason, why) == 0,                           \
                      "%s: precheck got %s/%s, want %s/%s", st_case_name(_i),                      \
                      hp_sig_result_name(p_.result), p_.reason, hp_sig_result_name(res), why);     \
    } while (0)

START_TEST(test_precheck_signed)
{
    hp_verify_config vc = st_case_vc(_i, GOOD, NULL);
    hp_verify_config wrong = st_case_vc(_i, WRONG, NULL);
    hp_sig_headers hs;

    st_sign(&vc, BODY, NOW, &hs);
    PRE_EXPECT(&vc, HP_SIG_OK, "ok");
    hp_sig_outcome p = precheck(&vc);
    ck_assert_ptr_nonnull(p.headers_used[0]);
    /* Well formed, signed with another secret: for the verifier to refuse. */
    hp_sig_headers_deinit(&hs);
    st_sign(&wrong, BODY, NOW, &hs);
    PRE_EXPECT(&vc, HP_SIG_OK, "ok");
    ST_EXPECT(&vc, BODY, NOW, HP_SIG_INVALID, "mismatch");
    /* Stale but well formed: the window is the verifier's to judge. */
    hp_sig_headers_deinit(&hs);
    st_sign(&vc, BODY, NOW - 100000, &hs);
    PRE_EXPECT(&vc, HP_SIG_OK, "ok");
    hp_sig_headers_deinit(&hs);
}
END_TEST

START_TEST(test_precheck_missing)
{
    hp_verify_config vc = st_case_vc(_i, GOOD, NULL);
    hp_sig_headers hs;

    PRE_EXPECT(&vc, HP_SIG_MISSING, "missing_header");
    /* Each header of a signed request, taken away or emptied, in turn. */
    st_sign(&vc, BODY, NOW, &hs);
    for (size_t h = 0; h < hs.n; h++) {
        for (size_t k = 0; k < hs.n; k++)
            st_set(hs.h[k].name, hs.h[k].value);
        st_set(hs.h[h].name, NULL);
        PRE_EXPECT(&vc, HP_SIG_MISSING, "missing_header");
        st_set(hs.h[h].name, "");
        PRE_EXPECT(&vc, HP_SIG_MISSING, "missing_header");
    }
    hp_sig_headers_deinit(&hs);
}
END_TEST

/* Per case of sig_test.h: a malformed value of its signature header. */
static const char *const malformed[ST_NCASES] = {
    "sha256=zz",             /* hmac-sha256 hex: not hex */
    "!!!!",                  /* base64 */
    "***",                   /* base64url */
    "abcd",                  /* hmac-sha1 hex: too short */
    "sha1=0123456789abcdef", /* github: wrong prefix */
    "t=yesterday,v1=00",     /* stripe */
    "v2,AAAA",               /* standard-webhooks: no v1 */
    "v0=xyz",                /* slack */
    "not base64!",           /* shopify */
    "not-a-jwt",             /* livekit */
    "Bearer abc",            /* basic: another scheme */
    "Basic",                 /* bearer: another scheme, no credentials */
};

START_TEST(test_precheck_malformed)
{
    hp_verify_config vc = st_case_vc(_i, GOOD, NULL);
    hp_sig_headers hs;

    st_sign(&vc, BODY, NOW, &hs);
    const char *h = st_run(&vc, BODY, NOW).headers_used[0];
    st_set(h, malformed[_i]);
    PRE_EXPECT(&vc, HP_SIG_INVALID, "bad_format");
    ST_EXPECT_RESULT(&vc, BODY, NOW, HP_SIG_INVALID);
    /* Longer than any scheme reads. */
    static char big[HP_SIG_MAX_HEADER_LEN + 2];
    memset(big, 'a', sizeof big - 1);
    st_set(h, big);
    PRE_EXPECT(&vc, HP_SIG_INVALID, "bad_format");
    hp_sig_headers_deinit(&hs);
}
END_TEST

/* The precheck's promise for one request: it refuses only what the
 * verifier refuses, with the same result. */
static void assert_consistent(const hp_verify_config *vc, const char *what, size_t at)
{
    hp_sig_outcome p = precheck(vc);
    hp_sig_outcome v = st_run(vc, BODY, NOW);
    if (v.result == HP_SIG_OK)
        ck_assert_msg(p.result == HP_SIG_OK, "%s at %zu: verified but precheck says %s/%s", what,
                      at, hp_sig_result_name(p.result), p.reason);
    if (p.result != HP_SIG_OK)
        ck_assert_msg(v.result == p.result, "%s at %zu: precheck %s/%s, verify %s/%s", what, at,
                      hp_sig_result_name(p.result), p.reason, hp_sig_result_name(v.result),
                      v.reason);
}

START_TEST(test_precheck_never_refuses_what_verifies)
{
    static const char subst[] = {'!', '0', 'a', 'F', '=', ',', ' ', '.', '/', '+', '-', '_'};
    hp_verify_config vc = st_case_vc(_i, GOOD, NULL);
    hp_sig_headers hs;
    char v[HP_SIG_MAX_HEADER_LEN + 1];

    st_sign(&vc, BODY, NOW, &hs);
    assert_consistent(&vc, "signed", 0);
    for (size_t h = 0; h < hs.n; h++) {
        const char *orig = hs.h[h].value;
        size_t len = strlen(orig);
        ck_assert_uint_lt(len, sizeof v);
        /* Every truncation, every byte replaced by each of subst. */
        for (size_t cut = 0; cut <= len; cut++) {
            memcpy(v, orig, cut);
            v[cut] = '\0';
            st_set(hs.h[h].name, v);
            assert_consistent(&vc, hs.h[h].name, cut);
        }
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof subst; k++) {
                memcpy(v, orig, len + 1);
                v[at] = subst[k];
                st_set(hs.h[h].name, v);
                assert_consistent(&vc, hs.h[h].name, at);
            }
        }
        st_set(hs.h[h].name, orig);
    }
    hp_sig_headers_deinit(&hs);
}
END_TEST

START_TEST(test_precheck_none)
{
    hp_verify_config vc = {.scheme = HP_VERIFY_NONE};
    hp_sig_outcome o = precheck(&vc);
    ck_assert_int_eq(o.result, HP_SIG_OK);
}
END_TEST

static Suite *precheck_suite(void)
{
    Suite *s = suite_create("sig_precheck");
    TCase *tc = tcase_create("schemes");

    tcase_add_checked_fixture(tc, st_setup, st_teardown);
    tcase_add_loop_test(tc, test_precheck_signed, 0, ST_NCASES);
    tcase_add_loop_test(tc, test_precheck_missing, 0, ST_NCASES);
    tcase_add_loop_test(tc, test_precheck_malformed, 0, ST_NCASES);
    tcase_add_loop_test(tc, test_precheck_never_refuses_what_verifies, 0, ST_NCASES);
    tcase_add_test(tc, test_precheck_none);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(precheck_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
