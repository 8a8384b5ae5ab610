/*
 * hookpipe-gateway over HTTPS (gateway.tls): with a self-signed certificate
 * made by openssl(1) for the test, a signed webhook sent by curl(1) is
 * accepted and its record is in Kafka, byte for byte; plain HTTP on the TLS
 * port is never accepted.
 */
#include "hp_envelope.h"
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCES                                                                                    \
    "[{\"name\": \"secure\", \"verify\": {\"scheme\": \"github\", \"secrets\": "                   \
    "[\"tls-secret\"]}, "                                                                          \
    "\"event_id\": {\"json\": \"/id\"}}]"

/* A self-signed certificate for localhost in dir: cert.pem and key.pem. */
static void make_certificate(const char *dir, char *cert, char *key, size_t sz)
{
    snprintf(cert, sz, "%s/cert.pem", dir);
    snprintf(key, sz, "%s/key.pem", dir);
    const char *argv[] = {"openssl", "req",   "-x509",         "-newkey", "rsa:2048",
                          "-nodes",  "-subj", "/CN=localhost", "-days",   "1",
                          "-keyout", key,     "-out",          cert,      NULL};
    it_run_result res;
    ck_assert_int_eq(it_run(argv, 60000, &res), 0);
    ck_assert_msg(res.exit_code == 0, "openssl req: exit %d: %s", res.exit_code, res.err);
    it_run_result_deinit(&res);
}

/* The headers curl sends: the signature's and a Content-Type. */
static size_t signed_headers(const it_gw *gw, const char *body, size_t len, hp_sig_headers *sig,
                             it_http_header *out)
{
    hp_err rc = hp_sig_sign(it_gw_verify(gw, "secure"), (const unsigned char *)body, len,
                            hp_time_now_ms() / 1000, NULL, sig);
    ck_assert_int_eq(rc, HP_OK);
    size_t n = 0;
    out[n++] = (it_http_header){"Content-Type", "application/json"};
    for (size_t i = 0; i < sig->n; i++)
        out[n++] = (it_http_header){sig->h[i].name, sig->h[i].value};
    return n;
}

START_TEST(test_https_accepted)
{
    char dir[256], cert[300], key[300], extra[1024];
    ck_assert_int_eq(it_tempdir(dir, sizeof dir, "hookpipe-it-tls"), 0);
    make_certificate(dir, cert, key, sizeof cert);
    snprintf(extra, sizeof extra, "\"tls\": {\"cert_file\": \"%s\", \"key_file\": \"%s\"}", cert,
             key);
    it_gw gw;
    it_gw_start(&gw, extra, SOURCES);

    char id[64], body[256], url[128], err[512];
    it_unique(id, sizeof id, "tls");
    int len =
        snprintf(body, sizeof body, "{\"id\": \"%s\", \"note\": \"\xc3\xa9t\xc3\xa9\"}\n", id);
    hp_sig_headers sig;
    it_http_header hs[HP_SIG_MAX_HEADERS + 1];
    size_t nhs = signed_headers(&gw, body, (size_t)len, &sig, hs);
    it_kafka_snapshot snap;
    it_snapshot(&snap);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/webhooks/secure", gw.port);
    it_http_response resp;
    int rc = it_http_curl(url, hs, nhs, body, (size_t)len, 20, &resp, err, sizeof err);
    hp_sig_headers_deinit(&sig);
    IT_CHECK(rc == 0, "%s", err);
    IT_CHECK(resp.status == 200, "HTTPS: want 200, got %d: %s", resp.status, resp.body);
    json_t *j = it_json_body(&resp);
    const char *got = json_string_value(json_object_get(j, "event_id"));
    IT_CHECK(got && strcmp(got, id) == 0, "HTTPS answer %s, want event_id %s", resp.body, id);
    json_decref(j);
    it_http_response_deinit(&resp);

    it_kafka_record rec;
    it_find_record(&snap, id, &rec);
    IT_CHECK(rec.value_len == (size_t)len && memcmp(rec.value, body, rec.value_len) == 0,
             "value is not the body byte for byte");
    IT_CHECK(strcmp(it_record_header(&rec, HP_HDR_REMOTE_ADDR), "127.0.0.1") == 0, "remote addr");
    it_kafka_record_deinit(&rec);
    it_kafka_snapshot_deinit(&snap);

    /* Plain HTTP on the TLS port: a refusal or a closed connection, never a 200. */
    it_http_request req = {
        .method = "POST", .path = "/webhooks/secure", .body = body, .body_len = (size_t)len};
    if (it_http_once("127.0.0.1", gw.port, 5000, &req, &resp, err, sizeof err) == 0) {
        IT_CHECK(resp.status != 200, "plain HTTP accepted on the TLS port");
        it_http_response_deinit(&resp);
    }
    IT_CHECK(it_gw_stop(&gw, 15000) == 0, "the gateway did not exit 0 on SIGTERM");
    it_gw_free(&gw);
    it_tempdir_remove(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gateway_tls");
    TCase *tc = tcase_create("tls");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_https_accepted);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
