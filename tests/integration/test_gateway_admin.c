/*
 * hookpipe-gateway as operators see it: the admin listener (/healthz,
 * /readyz, /metrics with the counters of DESIGN.md §Metrics counting what
 * happened), the command line (--check-config exit codes and messages,
 * --version, --help, usage errors), and a clean exit on SIGTERM and SIGINT.
 */
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORDERS                                                                                     \
    "[{\"name\": \"orders\", \"verify\": {\"scheme\": \"hmac-sha256\", "                           \
    "\"header\": \"X-Webhook-Signature\", \"secrets\": [\"s3cret\"]}, "                            \
    "\"event_id\": {\"json\": \"/id\"}}]"

/* Posts one event with a new id; signed with wrong when it is not NULL. */
static int post_one(it_gw *gw, const hp_verify_config *wrong)
{
    char id[64], body[256];
    it_unique(id, sizeof id, "admin");
    int n = snprintf(body, sizeof body, "{\"id\": \"%s\"}", id);
    it_post post = {.source = "orders", .body = body, .len = (size_t)n, .sign_with = wrong};
    it_http_response resp;
    it_gw_post(gw, &post, &resp);
    int status = resp.status;
    it_http_response_deinit(&resp);
    return status;
}

/* The value of one metric sample; fails the test if there is none. */
static double metric(const char *text, const char *name, const char *labels)
{
    double v;
    IT_CHECK(it_metric(text, name, labels, &v), "/metrics has no %s{%s}:\n%s", name, labels, text);
    return v;
}

START_TEST(test_admin_endpoints_and_metrics)
{
    it_gw gw;
    it_gw_start(&gw, "", ORDERS);
    it_http_response resp;
    it_gw_get(&gw, true, "/healthz", &resp);
    IT_CHECK(resp.status == 200, "/healthz %d", resp.status);
    it_http_response_deinit(&resp);
    it_gw_get(&gw, true, "/readyz", &resp);
    IT_CHECK(resp.status == 200, "/readyz %d", resp.status);
    it_http_response_deinit(&resp);

    for (int i = 0; i < 3; i++)
        IT_CHECK(post_one(&gw, NULL) == 200, "request %d not accepted", i + 1);
    hp_verify_config wrong = *it_gw_verify(&gw, "orders");
    hp_secret secret = {(unsigned char *)"wrong", 5};
    wrong.secrets = &secret;
    wrong.nsecrets = 1;
    IT_CHECK(post_one(&gw, &wrong) == 401, "a bad signature was not refused");

    it_gw_get(&gw, true, "/metrics", &resp);
    IT_CHECK(resp.status == 200, "/metrics %d", resp.status);
    const char *ct = it_http_response_header(&resp, "Content-Type");
    IT_CHECK(ct && strncmp(ct, "text/plain", 10) == 0 && strstr(ct, "0.0.4"),
             "/metrics Content-Type %s, want text/plain; version=0.0.4", ct ? ct : "(none)");
    const char *m = resp.body;
    IT_CHECK(metric(m, "hookpipe_gateway_requests_total", "source=\"orders\",code=\"200\"") == 3,
             "requests_total{code=200} is not 3:\n%s", m);
    IT_CHECK(metric(m, "hookpipe_gateway_requests_total", "source=\"orders\",code=\"401\"") == 1,
             "requests_total{code=401} is not 1:\n%s", m);
    IT_CHECK(metric(m, "hookpipe_gateway_signature_failures_total", "source=\"orders\"") == 1,
             "signature_failures_total{source=orders} is not 1:\n%s", m);
    IT_CHECK(metric(m, "hookpipe_gateway_request_duration_seconds_count", "") >= 4,
             "request_duration_seconds counts fewer than 4 requests");
    IT_CHECK(metric(m, "hookpipe_gateway_kafka_ack_duration_seconds_count", "") >= 3,
             "kafka_ack_duration_seconds counts fewer than 3 acks");
    IT_CHECK(metric(m, "hookpipe_gateway_inflight_requests", "") == 0, "requests still in flight");
    it_http_response_deinit(&resp);
    IT_CHECK(it_gw_stop(&gw, 15000) == 0, "the gateway did not exit 0 on SIGTERM");
    it_gw_free(&gw);
}
END_TEST

START_TEST(test_sigint_exits_cleanly)
{
    it_gw gw;
    it_gw_start(&gw, "", ORDERS);
    IT_CHECK(post_one(&gw, NULL) == 200, "request not accepted");
    int rc = it_proc_stop(&gw.proc, SIGINT, 15000);
    IT_CHECK(rc == 0, "exit status %d on SIGINT, want 0", rc);
    it_gw_free(&gw);
}
END_TEST

/* Runs the gateway binary with args (NULL-terminated) to completion. */
static void run_gateway(const char *const *args, it_run_result *res)
{
    const char *argv[8] = {IT_GW_BIN};
    for (int i = 0; args[i] && i < 6; i++)
        argv[i + 1] = args[i];
    ck_assert_int_eq(it_run(argv, 20000, res), 0);
}

/* Writes a configuration file into dir and returns its path in out. */
static void write_config(const char *dir, const char *name, const char *text, char *out,
                         size_t outsz)
{
    snprintf(out, outsz, "%s/%s", dir, name);
    ck_assert_msg(it_write_file(out, text, strlen(text)) == 0, "%s: %s", out, strerror(errno));
}

START_TEST(test_check_config)
{
    char dir[256], path[512];
    ck_assert_int_eq(it_tempdir(dir, sizeof dir, "hookpipe-it-cli"), 0);
    char *good = it_gw_config_text(it_free_port(), it_free_port(), "", ORDERS);
    write_config(dir, "good.json", good, path, sizeof path);
    it_run_result res;
    run_gateway((const char *[]){"--check-config", "-c", path, NULL}, &res);
    ck_assert_msg(res.exit_code == 0, "good config: exit %d: %s", res.exit_code, res.err);
    it_run_result_deinit(&res);

    char *bad = it_gw_config_text(it_free_port(), it_free_port(), "\"lisen\": \":1\"", ORDERS);
    write_config(dir, "bad.json", bad, path, sizeof path);
    run_gateway((const char *[]){"--check-config", "-c", path, NULL}, &res);
    ck_assert_msg(res.exit_code == 2, "unknown key: exit %d, want 2", res.exit_code);
    ck_assert_msg(strstr(res.err, "gateway.lisen") != NULL,
                  "stderr does not name gateway.lisen: %s", res.err);
    it_run_result_deinit(&res);

    /* Started without --check-config, a bad file stops it at once with 2 too. */
    run_gateway((const char *[]){"-c", path, NULL}, &res);
    ck_assert_msg(res.exit_code == 2, "bad config at start: exit %d, want 2", res.exit_code);
    it_run_result_deinit(&res);

    char *none = it_gw_config_text(it_free_port(), it_free_port(), "",
                                   "[{\"name\": \"open\", \"verify\": {\"scheme\": \"none\"}}]");
    write_config(dir, "none.json", none, path, sizeof path);
    run_gateway((const char *[]){"--check-config", "-c", path, NULL}, &res);
    ck_assert_msg(res.exit_code == 2, "scheme none without insecure: exit %d", res.exit_code);
    ck_assert_msg(strstr(res.err, "sources[0]") != NULL, "stderr does not name sources[0]: %s",
                  res.err);
    it_run_result_deinit(&res);
    free(good);
    free(bad);
    free(none);
    it_tempdir_remove(dir);
}
END_TEST

START_TEST(test_version_help_usage)
{
    it_run_result res;
    run_gateway((const char *[]){"--version", NULL}, &res);
    ck_assert_msg(res.exit_code == 0, "--version: exit %d", res.exit_code);
    ck_assert_msg(strstr(res.out, HP_VERSION) != NULL, "--version prints %s", res.out);
    it_run_result_deinit(&res);

    run_gateway((const char *[]){"--help", NULL}, &res);
    ck_assert_msg(res.exit_code == 0, "--help: exit %d", res.exit_code);
    ck_assert_msg(strstr(res.out, "-c") != NULL, "--help does not mention -c: %s", res.out);
    it_run_result_deinit(&res);

    run_gateway((const char *[]){NULL}, &res);
    ck_assert_msg(res.exit_code == 2, "no arguments: exit %d, want 2", res.exit_code);
    it_run_result_deinit(&res);
    run_gateway((const char *[]){"--no-such-option", NULL}, &res);
    ck_assert_msg(res.exit_code == 2, "unknown option: exit %d, want 2", res.exit_code);
    it_run_result_deinit(&res);
    run_gateway((const char *[]){"-c", "/nonexistent/hookpipe.json", NULL}, &res);
    ck_assert_msg(res.exit_code == 2, "missing file: exit %d, want 2", res.exit_code);
    ck_assert_msg(strstr(res.err, "hookpipe.json") != NULL, "stderr does not name the file: %s",
                  res.err);
    it_run_result_deinit(&res);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gateway_admin");
    TCase *tc = tcase_create("admin");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_admin_endpoints_and_metrics);
    tcase_add_test(tc, test_sigint_exits_cleanly);
    tcase_add_test(tc, test_check_config);
    tcase_add_test(tc, test_version_help_usage);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
