/*
 * adversarial.regressions (issue 11, Tests): what the hardening must not
 * break, on a gateway with one source per verification scheme.
 *
 *  - every scheme: a signed request is 200, a wrong signature 401
 *    invalid_signature, no signature 401 missing_signature (refused on the
 *    head by the precheck, answered as the verifier would);
 *  - after that mix of good and bad requests, no secret of the
 *    configuration (nor a credential as sent) appears in the gateway's log,
 *    at debug level, or in /metrics;
 *  - RSS stays flat under honest load: 20,000 signed requests on keep-alive
 *    connections, VmRSS after the last batch within a few MiB of after the
 *    first.
 */
#include "adv_admit.h"
#include "it_env.h"

#include <check.h>
#include <pthread.h>

#define MiB ((size_t)1024 * 1024)

/* Each secret is a distinctive text, so finding it anywhere is a leak. */
#define S_HMAC256 "reg-secret-hmac256-Q1"
#define S_HMAC1 "reg-secret-hmac1-Q2"
#define S_GITHUB "reg-secret-github-Q3"
#define S_STRIPE "whsec_reg-secret-stripe-Q4"
#define S_STANDARD_B64 "cmVnLXNlY3JldC1zdGFuZGFyZC1RNQ==" /* "reg-secret-standard-Q5" */
#define S_STANDARD "reg-secret-standard-Q5"
#define S_SLACK "reg-secret-slack-Q6"
#define S_SHOPIFY "reg-secret-shopify-Q7"
#define S_LIVEKIT "reg-secret-livekit-Q8"
#define S_BASIC "reguser:reg-secret-basic-Q9"
#define S_BEARER "reg-secret-bearer-Q10"

#define ID "\"event_id\": {\"json\": \"/id\"}"
/* The sources, then (inside the same top-level object) a debug log level. */
#define SOURCES                                                                                    \
    "[{\"name\": \"hmac256\", \"verify\": {\"scheme\": \"hmac-sha256\", \"header\": \"X-Sig\", "   \
    "\"prefix\": \"sha256=\", \"secrets\": [\"" S_HMAC256 "\"]}, " ID "},\n"                       \
    "{\"name\": \"hmac1\", \"verify\": {\"scheme\": \"hmac-sha1\", \"header\": \"X-Sig1\", "       \
    "\"encoding\": \"base64\", \"secrets\": [\"" S_HMAC1 "\"]}, " ID "},\n"                        \
    "{\"name\": \"github\", \"verify\": {\"scheme\": \"github\", \"secrets\": [\"" S_GITHUB        \
    "\"]}, " ID "},\n"                                                                             \
    "{\"name\": \"stripe\", \"verify\": {\"scheme\": \"stripe\", \"secrets\": [\"" S_STRIPE        \
    "\"]}, " ID "},\n"                                                                             \
    "{\"name\": \"standard\", \"verify\": {\"scheme\": \"standard-webhooks\", \"secrets\": "       \
    "[\"whsec_" S_STANDARD_B64 "\"]}, " ID "},\n"                                                  \
    "{\"name\": \"slack\", \"verify\": {\"scheme\": \"slack\", \"secrets\": [\"" S_SLACK           \
    "\"]}, " ID "},\n"                                                                             \
    "{\"name\": \"shopify\", \"verify\": {\"scheme\": \"shopify\", \"secrets\": [\"" S_SHOPIFY     \
    "\"]}, " ID "},\n"                                                                             \
    "{\"name\": \"livekit\", \"verify\": {\"scheme\": \"livekit\", \"keys\": {\"regkey\": "        \
    "\"" S_LIVEKIT "\"}}, " ID "},\n"                                                              \
    "{\"name\": \"basic\", \"verify\": {\"scheme\": \"basic\", \"secrets\": [\"" S_BASIC           \
    "\"]}, " ID "},\n"                                                                             \
    "{\"name\": \"bearer\", \"verify\": {\"scheme\": \"bearer\", \"secrets\": [\"" S_BEARER        \
    "\"]}, " ID "}],\n"                                                                            \
    "  \"log\": {\"level\": \"debug\"}"

/* Failures of this test's own making must not be limited. */
#define GATEWAY "\"unverified_rate_limit\": {\"per_second\": 1000, \"burst\": 1000}"

static const char *const schemes[] = {"hmac256", "hmac1",   "github",  "stripe", "standard",
                                      "slack",   "shopify", "livekit", "basic",  "bearer"};
#define NSCHEMES (sizeof schemes / sizeof schemes[0])

static void post_event(it_gw *gw, it_post *post, const char *id, it_http_response *resp)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"id\": \"%s\", \"type\": \"t\"}", id);
    post->body = body;
    post->len = (size_t)n;
    it_gw_post(gw, post, resp);
    post->body = NULL;
}

/* Whether the n bytes of text hold needle. */
static bool holds(const char *text, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(text + i, needle, k) == 0)
            return true;
    return false;
}

START_TEST(test_every_scheme_and_no_secret)
{
    static const char *const secrets[] = {S_HMAC256,
                                          S_HMAC1,
                                          S_GITHUB,
                                          S_STRIPE,
                                          S_STANDARD_B64,
                                          S_STANDARD,
                                          S_SLACK,
                                          S_SHOPIFY,
                                          S_LIVEKIT,
                                          S_BASIC,
                                          "cmVndXNlcjpyZWctc2VjcmV0LWJhc2ljLVE5",
                                          S_BEARER};
    it_gw gw;
    it_gw_start(&gw, GATEWAY, SOURCES);
    for (size_t i = 0; i < NSCHEMES; i++) {
        const hp_verify_config *vc = it_gw_verify(&gw, schemes[i]);
        hp_verify_config forger = adv_forger(vc);
        char id[64];
        it_http_response resp;
        it_unique(id, sizeof id, schemes[i]);
        it_post good = {.source = schemes[i]};
        post_event(&gw, &good, id, &resp);
        IT_CHECK(resp.status == 200, "%s signed: %d %.300s", schemes[i], resp.status, resp.body);
        it_http_response_deinit(&resp);
        it_post bad = {.source = schemes[i], .sign_with = &forger};
        post_event(&gw, &bad, "wrong", &resp);
        IT_CHECK(resp.status == 401, "%s wrong signature: %d", schemes[i], resp.status);
        it_assert_error(&resp, 401, "invalid_signature", NULL);
        it_http_response_deinit(&resp);
        it_post none = {.source = schemes[i], .no_signature = true};
        post_event(&gw, &none, "unsigned", &resp);
        it_assert_error(&resp, 401, "missing_signature", NULL);
        it_http_response_deinit(&resp);
    }
    it_http_response metrics;
    it_gw_get(&gw, true, "/metrics", &metrics);
    it_sleep_ms(200); /* the last lines reach the log */
    size_t loglen = 0;
    char *log = it_read_file(gw.log_path, 64 * MiB, false, &loglen);
    IT_CHECK(log != NULL && loglen > 0, "no gateway log at %s", gw.log_path);
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        IT_CHECK(!holds(log, loglen, secrets[i]), "the log holds the secret %s", secrets[i]);
        IT_CHECK(!holds(metrics.body, metrics.body_len, secrets[i]), "/metrics holds %s",
                 secrets[i]);
    }
    double fails = 0;
    IT_CHECK(it_metric(metrics.body, "hookpipe_gateway_signature_failures_total", "", &fails) &&
                 fails >= 2 * NSCHEMES,
             "%.0f signature failures counted, %zu made", fails, 2 * NSCHEMES);
    free(log);
    it_http_response_deinit(&metrics);
    it_gw_free(&gw);
}
END_TEST

#define LOAD_THREADS 4
#define BATCHES 10
#define PER_BATCH 500 /* per thread: 4 x 500 x 10 = 20,000 */

typedef struct load {
    it_gw *gw;
    it_http_conn conn;
    int batch;
    int failures;
    char err[512];
} load;

/* One batch of signed requests on the thread's keep-alive connection. */
static void *load_batch(void *arg)
{
    load *l = arg;
    const hp_verify_config *vc = it_gw_verify(l->gw, "hmac256");
    for (int i = 0; i < PER_BATCH; i++) {
        char body[128];
        int n = snprintf(body, sizeof body, "{\"id\": \"load-%d-%d-%p\"}", l->batch, i, arg);
        it_post post = {.source = "hmac256", .body = body, .len = (size_t)n, .sign_with = vc};
        it_http_response resp;
        if (l->conn.fd < 0 && it_http_connect(&l->conn, "127.0.0.1", l->gw->port, 10000) < 0) {
            snprintf(l->err, sizeof l->err, "connect: %s", l->conn.err);
            l->failures++;
            continue;
        }
        if (it_gw_send(l->gw, &l->conn, &post, &resp, l->err, sizeof l->err) < 0) {
            l->failures++;
            it_http_close(&l->conn);
            continue;
        }
        if (resp.status != 200) {
            snprintf(l->err, sizeof l->err, "status %d: %.200s", resp.status, resp.body);
            l->failures++;
        }
        it_http_response_deinit(&resp);
    }
    return NULL;
}

START_TEST(test_rss_flat_under_honest_load)
{
    it_gw gw;
    it_gw_start(&gw, GATEWAY, SOURCES);
    load loads[LOAD_THREADS];
    memset(loads, 0, sizeof loads);
    for (int t = 0; t < LOAD_THREADS; t++) {
        loads[t].gw = &gw;
        loads[t].conn.fd = -1;
    }
    size_t first = 0, last = 0;
    for (int b = 0; b < BATCHES; b++) {
        pthread_t th[LOAD_THREADS];
        for (int t = 0; t < LOAD_THREADS; t++) {
            loads[t].batch = b;
            ck_assert_int_eq(pthread_create(&th[t], NULL, load_batch, &loads[t]), 0);
        }
        for (int t = 0; t < LOAD_THREADS; t++)
            pthread_join(th[t], NULL);
        for (int t = 0; t < LOAD_THREADS; t++)
            IT_CHECK(loads[t].failures == 0, "batch %d: %d failures, last: %s", b,
                     loads[t].failures, loads[t].err);
        size_t rss = adv_proc_mem(gw.proc.pid, "VmRSS");
        if (b == 0)
            first = rss;
        last = rss;
    }
    fprintf(stderr, "regressions: VmRSS %.1f MiB after the first batch, %.1f MiB after the last\n",
            (double)first / MiB, (double)last / MiB);
    IT_CHECK(!ADV_RSS_MEANINGFUL || last <= first + 8 * MiB,
             "RSS grew by %.1f MiB over %d signed requests", ((double)last - (double)first) / MiB,
             LOAD_THREADS * PER_BATCH * BATCHES);
    for (int t = 0; t < LOAD_THREADS; t++)
        it_http_close(&loads[t].conn);
    it_gw_free(&gw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("adversarial.regressions");
    TCase *tc = tcase_create("regressions");
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, test_every_scheme_and_no_secret);
    tcase_add_test(tc, test_rss_flat_under_honest_load);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
