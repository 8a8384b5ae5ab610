/*
 * Unit tests for hp_config: defaults, every kind of error and its exact
 * message, env:/file: resolution, the HOOKPIPE_* overrides, the example of
 * DESIGN.md, and that no message ever carries a secret.
 *
 * JSON is written with single quotes (turned into double quotes by j()) so
 * that the configurations stay readable. Check runs each test in its own
 * process, so setenv() in one test does not leak into the next.
 */
#include "hp_config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "TOPSECRET-7f3a9"

static hp_config cfg;
static char err[1024];
static char tmpdir[64];
static char tmpfiles[8][128];
static int ntmpfiles;

static void setup(void)
{
    /* The overrides of the developer's shell (or of a test run without
     * fork) must not change what a test loads. */
    static const char *const vars[] = {"HOOKPIPE_KAFKA_BROKERS", "HOOKPIPE_POSTGRES_DSN",
                                       "HOOKPIPE_LISTEN", "HOOKPIPE_ADMIN_LISTEN",
                                       "HOOKPIPE_LOG_LEVEL"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    memset(&cfg, 0, sizeof cfg);
    err[0] = '\0';
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hp_test_config.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    ntmpfiles = 0;
}

static void teardown(void)
{
    hp_config_deinit(&cfg);
    for (int i = 0; i < ntmpfiles; i++)
        unlink(tmpfiles[i]);
    rmdir(tmpdir);
}

/* Writes content to a new file in the test's directory; returns its path. */
static const char *tmpfile_with(const char *name, const char *content, size_t len)
{
    ck_assert_int_lt(ntmpfiles, 8);
    char *path = tmpfiles[ntmpfiles++];
    snprintf(path, sizeof tmpfiles[0], "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(content, 1, len, f), len);
    fclose(f);
    return path;
}

static const char *tmpfile_str(const char *name, const char *content)
{
    return tmpfile_with(name, content, strlen(content));
}

/* The text with every ' turned into ". Returns a static buffer. */
static const char *j(const char *text)
{
    static char buf[8192];
    size_t n = strlen(text);
    ck_assert_uint_lt(n, sizeof buf);
    for (size_t i = 0; i <= n; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    return buf;
}

static void load_ok(const char *json_sq)
{
    hp_err rc = hp_config_load_string(&cfg, j(json_sq), "config.json", err, sizeof err);
    ck_assert_msg(rc == HP_OK, "load failed: %s", err);
}

/* Loads json, expecting it to fail; returns the message. */
static const char *load_fail(const char *json_sq)
{
    hp_err rc = hp_config_load_string(&cfg, j(json_sq), "config.json", err, sizeof err);
    ck_assert_msg(rc == HP_ERR_INVALID, "loaded, expected a failure: %s", json_sq);
    /* A failed load leaves nothing behind. */
    ck_assert_ptr_null(cfg.gateway.listen);
    ck_assert_ptr_null(cfg.sources);
    ck_assert_uint_eq(cfg.nsources, 0);
    return err;
}

#define ck_assert_fails(json_sq, expected) ck_assert_str_eq(load_fail(json_sq), expected)

/* One source named "s" with the given verify object (single-quoted JSON). */
static const char *with_verify(const char *verify)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "{'sources': [{'name': 's', 'verify': %s}]}", verify);
    return buf;
}

/* One source named "s" (scheme github, secret "x") with more members. */
static const char *with_source(const char *members)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['x']}, %s}]}",
             members);
    return buf;
}

/* ---- defaults, files, syntax ---- */

START_TEST(test_defaults)
{
    load_ok("{}");
    ck_assert_str_eq(cfg.gateway.listen, "0.0.0.0:8080");
    ck_assert_str_eq(cfg.gateway.admin_listen, "127.0.0.1:9090");
    ck_assert_int_eq(cfg.gateway.threads, 0);
    ck_assert_uint_eq(cfg.gateway.max_body_bytes, 1048576);
    ck_assert_int_eq(cfg.gateway.ack_timeout_ms, 2500);
    ck_assert_int_eq(cfg.gateway.max_inflight, 10000);
    ck_assert_uint_eq(cfg.gateway.ntrusted_proxies, 0);
    ck_assert_ptr_null(cfg.gateway.tls.cert_file);
    ck_assert_ptr_null(cfg.gateway.tls.key_file);
    ck_assert_int_eq(cfg.gateway.connection_timeout_s, 10);
    ck_assert_int_eq(cfg.gateway.max_connections, 10000);
    ck_assert_int_eq(cfg.gateway.max_connections_per_ip, 1024);
    ck_assert_ptr_null(cfg.gateway.instance_id);
    ck_assert_int_eq(cfg.gateway.header_timeout_s, 10);
    ck_assert_int_eq(cfg.gateway.body_timeout_s, 10);
    ck_assert_int_eq(cfg.gateway.body_min_bytes_per_s, 16384);
    /* Sized for the machine: between 64 MiB and 1 GiB, an eighth per client. */
    ck_assert_uint_ge(cfg.gateway.max_buffered_bytes, (size_t)64 << 20);
    ck_assert_uint_le(cfg.gateway.max_buffered_bytes, (size_t)1 << 30);
    ck_assert_uint_eq(cfg.gateway.max_buffered_bytes_per_client,
                      cfg.gateway.max_buffered_bytes / 8);
    ck_assert(cfg.gateway.unverified_rate_limit.per_second == 10);
    ck_assert_int_eq(cfg.gateway.unverified_rate_limit.burst, 20);
    ck_assert_int_eq(cfg.gateway.refusal_log_interval_s, 10);
    ck_assert_ptr_null(cfg.kafka.brokers);
    ck_assert_str_eq(cfg.kafka.topic, "webhooks.raw");
    ck_assert_str_eq(cfg.kafka.dlq_topic, "webhooks.dlq");
    ck_assert_uint_eq(cfg.kafka.nproperties, 0);
    ck_assert_ptr_null(cfg.postgres.dsn);
    ck_assert_int_eq(cfg.postgres.statement_timeout_ms, 10000);
    ck_assert_int_eq(cfg.postgres.connect_timeout_s, 5);
    ck_assert_str_eq(cfg.worker.group_id, "hookpipe-worker");
    ck_assert_int_eq(cfg.worker.batch_max, 500);
    ck_assert_int_eq(cfg.worker.batch_wait_ms, 20);
    ck_assert_int_eq(cfg.worker.retry_initial_ms, 100);
    ck_assert_int_eq(cfg.worker.retry_max_ms, 30000);
    ck_assert_int_eq(cfg.worker.max_attempts, 0);
    ck_assert_int_eq(cfg.worker.lanes, 1);
    ck_assert_int_eq(cfg.worker.stall_timeout_s, 300);
    ck_assert_str_eq(cfg.worker.admin_listen, "127.0.0.1:9091");
    ck_assert_int_eq(cfg.log.level, HP_LOG_INFO);
    ck_assert_uint_eq(cfg.nsources, 0);
    ck_assert_ptr_null(hp_config_find_source(&cfg, "x"));
}
END_TEST

START_TEST(test_source_defaults)
{
    load_ok(with_verify("{'scheme': 'github', 'secrets': ['x']}"));
    ck_assert_uint_eq(cfg.nsources, 1);
    const hp_source *src = hp_config_find_source(&cfg, "s");
    ck_assert_ptr_eq(src, &cfg.sources[0]);
    ck_assert_int_eq(src->event_id.kind, HP_EXTRACT_BODY_SHA256);
    ck_assert_ptr_null(src->event_id.arg);
    ck_assert_int_eq(src->event_type.kind, HP_EXTRACT_NONE);
    ck_assert_int_eq(src->key.kind, HP_EXTRACT_NONE);
    ck_assert_int_eq(src->event_time.kind, HP_EXTRACT_NONE);
    ck_assert_int_eq(src->entity_type.kind, HP_EXTRACT_NONE);
    ck_assert_uint_eq(src->nevents, 1);
    ck_assert_str_eq(src->events[0], "*");
    ck_assert(hp_source_accepts_event(src, "anything"));
    ck_assert(hp_source_accepts_event(src, NULL));
    ck_assert_int_eq(src->handler, HP_HANDLER_STORE);
    ck_assert_uint_eq(src->nallow_ips, 0);
    ck_assert(src->rate_limit.per_second == 0);
    ck_assert(!src->insecure);
    ck_assert_int_eq(src->verify.scheme, HP_VERIFY_GITHUB);
    ck_assert_uint_eq(src->verify.nsecrets, 1);
    ck_assert_uint_eq(src->verify.secrets[0].len, 1);
    ck_assert_str_eq((const char *)src->verify.secrets[0].bytes, "x");
    ck_assert_ptr_null(src->verify.header);
    ck_assert_int_eq(src->verify.tolerance_s, 0);
}
END_TEST

START_TEST(test_load_file)
{
    const char *path = tmpfile_str("hookpipe.json", "{\"gateway\": {\"threads\": 4}}\n");
    ck_assert_int_eq(hp_config_load(&cfg, path, err, sizeof err), HP_OK);
    ck_assert_int_eq(cfg.gateway.threads, 4);
    hp_config_deinit(&cfg);

    path = tmpfile_str("bad.json", "{\"gateway\": {\"lisen\": 1}}");
    ck_assert_int_eq(hp_config_load(&cfg, path, err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "bad.json: gateway.lisen: unknown key");
}
END_TEST

START_TEST(test_unreadable_file)
{
    ck_assert_int_eq(hp_config_load(&cfg, "/nonexistent/dir/config.json", err, sizeof err),
                     HP_ERR_IO);
    ck_assert_str_eq(err, "config.json: cannot read: No such file or directory");
    ck_assert_int_eq(hp_config_load(&cfg, tmpdir, err, sizeof err), HP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, ": cannot read: Is a directory"));
}
END_TEST

START_TEST(test_syntax_error)
{
    ck_assert_fails("{\n  'gateway': {\n    'listen' 'x'\n  }\n}",
                    "config.json:3:16: ':' expected near a string");
    ck_assert_fails("{'a': tru}", "config.json:1:9: invalid token near 'tru'");
    ck_assert_fails("", "config.json:1:0: '[' or '{' expected near end of file");
    ck_assert_fails("{'gateway': {}, 'gateway': {}}",
                    "config.json:1:25: duplicate object key near a string");
    ck_assert_fails("[]", "config.json: must be a JSON object");
}
END_TEST

START_TEST(test_syntax_error_hides_strings)
{
    const char *msg = load_fail("{'sources': [{'verify': {'secrets': ['" SECRET "' 'x']}}]}");
    ck_assert_ptr_null(strstr(msg, SECRET));
    msg = load_fail("{'postgres': {'dsn': 'postgresql://u:" SECRET);
    ck_assert_str_eq(msg, "config.json:1:52: premature end of input");
    msg = load_fail("{'postgres': {'dsn': 'x' '" SECRET "'}}");
    ck_assert_str_eq(msg, "config.json:1:42: '}' expected near a string");
}
END_TEST

START_TEST(test_errstr_small_or_absent)
{
    char small[12];
    ck_assert_int_eq(hp_config_load_string(&cfg, "{\"x\": 1}", "config.json", small, sizeof small),
                     HP_ERR_INVALID);
    ck_assert_str_eq(small, "config.json");
    ck_assert_int_eq(hp_config_load_string(&cfg, "{\"x\": 1}", "config.json", NULL, 0),
                     HP_ERR_INVALID);
    ck_assert_int_eq(hp_config_load_string(&cfg, "{", "config.json", NULL, 0), HP_ERR_INVALID);
}
END_TEST

/* ---- unknown keys and types ---- */

START_TEST(test_unknown_keys)
{
    ck_assert_fails("{'gatway': {}}", "config.json: gatway: unknown key");
    ck_assert_fails("{'gateway': {'lisen': ':1'}}", "config.json: gateway.lisen: unknown key");
    ck_assert_fails("{'gateway': {'tls': {'cert': 'x'}}}",
                    "config.json: gateway.tls.cert: unknown key");
    ck_assert_fails("{'kafka': {'broker': 'x'}}", "config.json: kafka.broker: unknown key");
    ck_assert_fails("{'postgres': {'url': 'x'}}", "config.json: postgres.url: unknown key");
    ck_assert_fails("{'worker': {'batch': 1}}", "config.json: worker.batch: unknown key");
    ck_assert_fails("{'log': {'lvl': 'info'}}", "config.json: log.lvl: unknown key");
    ck_assert_fails(with_source("'handlr': 'store'"),
                    "config.json: sources[0].handlr: unknown key");
    ck_assert_fails(with_verify("{'scheme': 'github', 'secret': ['x']}"),
                    "config.json: sources[0].verify.secret: unknown key");
    ck_assert_fails(with_source("'rate_limit': {'per_second': 1, 'burts': 2}"),
                    "config.json: sources[0].rate_limit.burts: unknown key");
    ck_assert_fails(with_source("'event_id': {'jsn': '/id'}"),
                    "config.json: sources[0].event_id.jsn: unknown key");
}
END_TEST

START_TEST(test_wrong_types)
{
    ck_assert_fails("{'gateway': 'x'}", "config.json: gateway: must be an object");
    ck_assert_fails("{'gateway': {'listen': 8080}}",
                    "config.json: gateway.listen: must be a string");
    ck_assert_fails("{'gateway': {'threads': '4'}}",
                    "config.json: gateway.threads: must be an integer between 0 and 256");
    ck_assert_fails("{'gateway': {'threads': 1.5}}",
                    "config.json: gateway.threads: must be an integer between 0 and 256");
    ck_assert_fails("{'gateway': {'threads': null}}",
                    "config.json: gateway.threads: must be an integer between 0 and 256");
    ck_assert_fails("{'gateway': {'trusted_proxies': '10.0.0.0/8'}}",
                    "config.json: gateway.trusted_proxies: must be an array");
    ck_assert_fails("{'gateway': {'trusted_proxies': [10]}}",
                    "config.json: gateway.trusted_proxies[0]: must be a string");
    ck_assert_fails("{'kafka': {'properties': []}}",
                    "config.json: kafka.properties: must be an object");
    ck_assert_fails("{'sources': {}}", "config.json: sources: must be an array");
    ck_assert_fails("{'sources': ['stripe']}", "config.json: sources[0]: must be an object");
    ck_assert_fails(with_source("'insecure': 'yes'"),
                    "config.json: sources[0].insecure: must be true or false");
    ck_assert_fails(with_source("'events': '*'"),
                    "config.json: sources[0].events: must be an array");
    ck_assert_fails(with_source("'events': [1]"),
                    "config.json: sources[0].events[0]: must be a string");
    ck_assert_fails(with_verify("{'scheme': 1}"),
                    "config.json: sources[0].verify.scheme: must be a string");
    ck_assert_fails(with_verify("{'scheme': 'github', 'secrets': 'x'}"),
                    "config.json: sources[0].verify.secrets: must be an array");
    ck_assert_fails(with_verify("{'scheme': 'github', 'secrets': [true]}"),
                    "config.json: sources[0].verify.secrets[0]: must be a string");
    ck_assert_fails(with_source("'rate_limit': 5"),
                    "config.json: sources[0].rate_limit: must be an object");
    ck_assert_fails("{'sources': [{'name': 's', 'verify': 'github'}]}",
                    "config.json: sources[0].verify: must be an object");
}
END_TEST

/* ---- ranges ---- */

static const struct {
    const char *json;
    const char *msg;
} range_cases[] = {
    {"{'gateway': {'threads': -1}}", "gateway.threads: must be an integer between 0 and 256"},
    {"{'gateway': {'threads': 257}}", "gateway.threads: must be an integer between 0 and 256"},
    {"{'gateway': {'max_body_bytes': 0}}",
     "gateway.max_body_bytes: must be an integer between 1 and 104857600"},
    {"{'gateway': {'max_body_bytes': 104857601}}",
     "gateway.max_body_bytes: must be an integer between 1 and 104857600"},
    {"{'gateway': {'max_body_bytes': 99999999999999999}}",
     "gateway.max_body_bytes: must be an integer between 1 and 104857600"},
    {"{'gateway': {'ack_timeout_ms': 99}}",
     "gateway.ack_timeout_ms: must be an integer between 100 and 120000"},
    {"{'gateway': {'ack_timeout_ms': 120001}}",
     "gateway.ack_timeout_ms: must be an integer between 100 and 120000"},
    {"{'gateway': {'max_inflight': 0}}",
     "gateway.max_inflight: must be an integer between 1 and 1000000"},
    {"{'gateway': {'connection_timeout_s': 0}}",
     "gateway.connection_timeout_s: must be an integer between 1 and 3600"},
    {"{'gateway': {'max_connections': 1000001}}",
     "gateway.max_connections: must be an integer between 1 and 1000000"},
    {"{'gateway': {'max_connections_per_ip': -1}}",
     "gateway.max_connections_per_ip: must be an integer between 0 and 1000000"},
    {"{'gateway': {'header_timeout_s': 0}}",
     "gateway.header_timeout_s: must be an integer between 1 and 3600"},
    {"{'gateway': {'body_timeout_s': 3601}}",
     "gateway.body_timeout_s: must be an integer between 1 and 3600"},
    {"{'gateway': {'body_min_bytes_per_s': 0}}",
     "gateway.body_min_bytes_per_s: must be an integer between 1 and 1073741824"},
    {"{'gateway': {'max_buffered_bytes': -1}}",
     "gateway.max_buffered_bytes: must be an integer between 0 and 1099511627776"},
    {"{'gateway': {'max_buffered_bytes_per_client': 1099511627777}}",
     "gateway.max_buffered_bytes_per_client: must be an integer between 0 and 1099511627776"},
    {"{'gateway': {'unverified_rate_limit': {'per_second': 0}}}",
     "gateway.unverified_rate_limit.per_second: must be a number greater than 0 and at most "
     "1000000"},
    {"{'gateway': {'refusal_log_interval_s': 0}}",
     "gateway.refusal_log_interval_s: must be an integer between 1 and 3600"},
    {"{'postgres': {'statement_timeout_ms': 99}}",
     "postgres.statement_timeout_ms: must be an integer between 100 and 3600000"},
    {"{'postgres': {'connect_timeout_s': 0}}",
     "postgres.connect_timeout_s: must be an integer between 1 and 300"},
    {"{'worker': {'stall_timeout_s': 9}}",
     "worker.stall_timeout_s: must be an integer between 10 and 86400"},
    {"{'worker': {'batch_max': 0}}", "worker.batch_max: must be an integer between 1 and 10000"},
    {"{'worker': {'lanes': 0}}", "worker.lanes: must be an integer between 1 and 64"},
    {"{'worker': {'lanes': 65}}", "worker.lanes: must be an integer between 1 and 64"},
    {"{'worker': {'batch_max': 10001}}",
     "worker.batch_max: must be an integer between 1 and 10000"},
    {"{'worker': {'batch_wait_ms': -1}}",
     "worker.batch_wait_ms: must be an integer between 0 and 10000"},
    {"{'worker': {'retry_initial_ms': 0}}",
     "worker.retry_initial_ms: must be an integer between 1 and 600000"},
    {"{'worker': {'retry_max_ms': 3600001}}",
     "worker.retry_max_ms: must be an integer between 1 and 3600000"},
    {"{'worker': {'retry_initial_ms': 500, 'retry_max_ms': 499}}",
     "worker.retry_max_ms: must not be less than retry_initial_ms (500)"},
    {"{'worker': {'retry_initial_ms': 60000}}",
     "worker.retry_max_ms: must not be less than retry_initial_ms (60000)"},
    {"{'worker': {'max_attempts': -1}}",
     "worker.max_attempts: must be an integer between 0 and 1000000"},
    {"{'sources': [{'name': 's', 'verify': {'scheme': 'stripe', 'secrets': ['x'], "
     "'tolerance_s': 86401}}]}",
     "sources[0].verify.tolerance_s: must be an integer between 0 and 86400"},
    {"{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['x']}, "
     "'rate_limit': {'per_second': 0}}]}",
     "sources[0].rate_limit.per_second: must be a number greater than 0 and at most 1000000"},
    {"{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['x']}, "
     "'rate_limit': {'per_second': 1000000.5}}]}",
     "sources[0].rate_limit.per_second: must be a number greater than 0 and at most 1000000"},
    {"{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['x']}, "
     "'rate_limit': {'per_second': '5'}}]}",
     "sources[0].rate_limit.per_second: must be a number greater than 0 and at most 1000000"},
    {"{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['x']}, "
     "'rate_limit': {'burst': 5}}]}",
     "sources[0].rate_limit.per_second: required: a number greater than 0 and at most 1000000"},
    {"{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['x']}, "
     "'rate_limit': {'per_second': 5, 'burst': 0}}]}",
     "sources[0].rate_limit.burst: must be an integer between 1 and 10000000"},
};

START_TEST(test_ranges)
{
    char expected[512];
    snprintf(expected, sizeof expected, "config.json: %s", range_cases[_i].msg);
    ck_assert_fails(range_cases[_i].json, expected);
}
END_TEST

START_TEST(test_range_limits_accepted)
{
    load_ok("{'gateway': {'threads': 256, 'max_body_bytes': 104857600, 'ack_timeout_ms': 100, "
            "'max_inflight': 1000000, 'connection_timeout_s': 3600, 'max_connections': 1, "
            "'max_connections_per_ip': 0, 'instance_id': 'gw-1:42'}, "
            "'worker': {'batch_max': 10000, 'batch_wait_ms': 0, 'retry_initial_ms': 5, "
            "'retry_max_ms': 5, 'max_attempts': 7, 'lanes': 64, 'group_id': 'g1'}}");
    ck_assert_int_eq(cfg.gateway.threads, 256);
    ck_assert_uint_eq(cfg.gateway.max_body_bytes, 104857600);
    ck_assert_int_eq(cfg.gateway.max_connections_per_ip, 0);
    ck_assert_str_eq(cfg.gateway.instance_id, "gw-1:42");
    ck_assert_int_eq(cfg.worker.retry_max_ms, 5);
    ck_assert_int_eq(cfg.worker.max_attempts, 7);
    ck_assert_int_eq(cfg.worker.lanes, 64);
    ck_assert_str_eq(cfg.worker.group_id, "g1");
}
END_TEST

START_TEST(test_buffered_bytes)
{
    /* Explicit caps are kept; never below one largest body; the share never above the whole. */
    load_ok("{'gateway': {'max_buffered_bytes': 50000000, 'max_buffered_bytes_per_client': "
            "2000000, 'unverified_rate_limit': {'per_second': 2.5, 'burst': 7}}}");
    ck_assert_uint_eq(cfg.gateway.max_buffered_bytes, 50000000);
    ck_assert_uint_eq(cfg.gateway.max_buffered_bytes_per_client, 2000000);
    ck_assert(cfg.gateway.unverified_rate_limit.per_second == 2.5);
    ck_assert_int_eq(cfg.gateway.unverified_rate_limit.burst, 7);
    hp_config_deinit(&cfg);
    load_ok("{'gateway': {'max_body_bytes': 3000000, 'max_buffered_bytes': 1000, "
            "'max_buffered_bytes_per_client': 500}}");
    ck_assert_uint_eq(cfg.gateway.max_buffered_bytes, 3000000);
    ck_assert_uint_eq(cfg.gateway.max_buffered_bytes_per_client, 3000000);
    hp_config_deinit(&cfg);
    load_ok("{'gateway': {'max_buffered_bytes': 80000000, 'max_buffered_bytes_per_client': "
            "90000000}}");
    ck_assert_uint_eq(cfg.gateway.max_buffered_bytes_per_client, 80000000);
}
END_TEST

/* ---- gateway, kafka, worker, log ---- */

START_TEST(test_listen_addresses)
{
    load_ok("{'gateway': {'listen': '[::1]:8443', 'admin_listen': ':9000'}, "
            "'worker': {'admin_listen': 'localhost:1'}}");
    ck_assert_str_eq(cfg.gateway.listen, "[::1]:8443");
    ck_assert_str_eq(cfg.gateway.admin_listen, ":9000");
    ck_assert_str_eq(cfg.worker.admin_listen, "localhost:1");
    hp_config_deinit(&cfg);

    ck_assert_fails("{'gateway': {'listen': '8080'}}",
                    "config.json: gateway.listen: \"8080\" is not host:port, [ipv6]:port or "
                    ":port with a port between 0 and 65535");
    ck_assert_fails("{'worker': {'admin_listen': '::1:9091'}}",
                    "config.json: worker.admin_listen: \"::1:9091\" is not host:port, "
                    "[ipv6]:port or :port with a port between 0 and 65535");
    ck_assert_fails("{'gateway': {'admin_listen': 'h:65536'}}",
                    "config.json: gateway.admin_listen: \"h:65536\" is not host:port, "
                    "[ipv6]:port or :port with a port between 0 and 65535");
}
END_TEST

START_TEST(test_parse_hostport)
{
    char host[64];
    int port = 0;

    ck_assert_int_eq(hp_config_parse_hostport("0.0.0.0:8080", host, sizeof host, &port), HP_OK);
    ck_assert_str_eq(host, "0.0.0.0");
    ck_assert_int_eq(port, 8080);
    ck_assert_int_eq(hp_config_parse_hostport("[2001:db8::1]:443", host, sizeof host, &port),
                     HP_OK);
    ck_assert_str_eq(host, "2001:db8::1");
    ck_assert_int_eq(port, 443);
    ck_assert_int_eq(hp_config_parse_hostport(":65535", host, sizeof host, &port), HP_OK);
    ck_assert_str_eq(host, "");
    ck_assert_int_eq(port, 65535);
    ck_assert_int_eq(hp_config_parse_hostport("kafka-0.kafka:1", host, sizeof host, &port), HP_OK);
    ck_assert_str_eq(host, "kafka-0.kafka");
    /* Port 0: the kernel picks a free one (tests listen this way). */
    ck_assert_int_eq(hp_config_parse_hostport("127.0.0.1:0", host, sizeof host, &port), HP_OK);
    ck_assert_int_eq(port, 0);

    static const char *const bad[] = {
        "",        "8080",   ":",       "h:",           "h:00000a", "h:65536", "h:123456",
        "h:80x",   "h:-1",   "h: 80",   "::1:80",       "[::1]80",  "[::1]:",  "[zz]:80",
        "[::1:80", "a b:80", "h:80:90", "[1.2.3.4]:80", "h:+80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(hp_config_parse_hostport(bad[i], host, sizeof host, &port) == HP_ERR_INVALID,
                      "accepted \"%s\"", bad[i]);
    char tiny[4];
    ck_assert_int_eq(hp_config_parse_hostport("abcd:80", tiny, sizeof tiny, &port), HP_ERR_INVALID);
    ck_assert_int_eq(hp_config_parse_hostport("abc:80", tiny, sizeof tiny, &port), HP_OK);
}
END_TEST

START_TEST(test_tls)
{
    char json[1024];
    const char *cert = tmpfile_with("cert.pem", "CERT", 4);
    const char *key = tmpfile_with("key.pem", "KEY", 3);

    snprintf(json, sizeof json, "{'gateway': {'tls': {'cert_file': '%s', 'key_file': '%s'}}}", cert,
             key);
    load_ok(json);
    ck_assert_str_eq(cfg.gateway.tls.cert_file, cert);
    ck_assert_str_eq(cfg.gateway.tls.key_file, key);
    hp_config_deinit(&cfg);

    load_ok("{'gateway': {'tls': {}}}");
    ck_assert_ptr_null(cfg.gateway.tls.cert_file);
    hp_config_deinit(&cfg);

    snprintf(json, sizeof json, "{'gateway': {'tls': {'cert_file': '%s'}}}", cert);
    ck_assert_fails(json, "config.json: gateway.tls.key_file: required with cert_file");
    snprintf(json, sizeof json, "{'gateway': {'tls': {'key_file': '%s'}}}", key);
    ck_assert_fails(json, "config.json: gateway.tls.cert_file: required with key_file");
    snprintf(json, sizeof json,
             "{'gateway': {'tls': {'cert_file': '%s', 'key_file': '/nonexistent/key.pem'}}}", cert);
    ck_assert_fails(json, "config.json: gateway.tls.key_file: cannot read "
                          "\"/nonexistent/key.pem\": No such file or directory");
}
END_TEST

START_TEST(test_gateway_misc)
{
    load_ok("{'gateway': {'trusted_proxies': ['10.0.0.0/8', '::1']}}");
    ck_assert_uint_eq(cfg.gateway.ntrusted_proxies, 2);
    hp_ip ip;
    ck_assert_int_eq(hp_ip_parse(&ip, "10.3.2.1"), HP_OK);
    ck_assert(hp_cidr_list_contains(cfg.gateway.trusted_proxies, 2, &ip));
    hp_config_deinit(&cfg);

    ck_assert_fails("{'gateway': {'trusted_proxies': ['10.0.0.0/8', '10.0.0.0/33']}}",
                    "config.json: gateway.trusted_proxies[1]: \"10.0.0.0/33\" has a bad prefix "
                    "length (0..32)");
    ck_assert_fails("{'gateway': {'instance_id': 'gw 1'}}",
                    "config.json: gateway.instance_id: must be 1 to 255 visible ASCII "
                    "characters (no spaces)");
    ck_assert_fails("{'gateway': {'instance_id': ''}}",
                    "config.json: gateway.instance_id: must be 1 to 255 visible ASCII "
                    "characters (no spaces)");
}
END_TEST

START_TEST(test_kafka)
{
    setenv("SASL_PW", SECRET, 1);
    load_ok("{'kafka': {'brokers': 'k1:9092,k2:9092', 'topic': 'in', 'dlq_topic': 'in.dlq', "
            "'properties': {'compression.type': 'lz4', 'linger.ms': 5, 'enable.idempotence': "
            "true, 'batch.num.messages': 1e3, 'x.ratio': 0.1, 'sasl.password': 'env:SASL_PW'}}}");
    ck_assert_str_eq(cfg.kafka.brokers, "k1:9092,k2:9092");
    ck_assert_str_eq(cfg.kafka.topic, "in");
    ck_assert_str_eq(cfg.kafka.dlq_topic, "in.dlq");
    ck_assert_uint_eq(cfg.kafka.nproperties, 6);
    static const char *const want[][2] = {
        {"compression.type", "lz4"},    {"linger.ms", "5"}, {"enable.idempotence", "true"},
        {"batch.num.messages", "1000"}, {"x.ratio", "0.1"}, {"sasl.password", SECRET}};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_str_eq(cfg.kafka.properties[i].name, want[i][0]);
        ck_assert_str_eq(cfg.kafka.properties[i].value, want[i][1]);
    }
    hp_config_deinit(&cfg);

    ck_assert_fails("{'kafka': {'properties': {'a': {'b': 1}}}}",
                    "config.json: kafka.properties.a: must be a string, a number or a boolean");
    ck_assert_fails("{'kafka': {'properties': {'a': [1]}}}",
                    "config.json: kafka.properties.a: must be a string, a number or a boolean");
    ck_assert_fails("{'kafka': {'properties': {'a': null}}}",
                    "config.json: kafka.properties.a: must be a string, a number or a boolean");
    ck_assert_fails("{'kafka': {'brokers': ''}}", "config.json: kafka.brokers: must not be empty");
    ck_assert_fails("{'kafka': {'topic': 'a b'}}",
                    "config.json: kafka.topic: must be 1 to 249 of the characters [A-Za-z0-9._-]");
    ck_assert_fails("{'kafka': {'dlq_topic': ''}}",
                    "config.json: kafka.dlq_topic: must be 1 to 249 of the characters "
                    "[A-Za-z0-9._-]");
    ck_assert_fails("{'kafka': {'dlq_topic': 'webhooks.raw'}}",
                    "config.json: kafka.dlq_topic: must differ from topic");
}
END_TEST

START_TEST(test_postgres_worker_log)
{
    load_ok("{'postgres': {'dsn': 'postgresql://h/db'}, 'log': {'level': 'debug'}}");
    ck_assert_str_eq(cfg.postgres.dsn, "postgresql://h/db");
    ck_assert_int_eq(cfg.log.level, HP_LOG_DEBUG);
    hp_config_deinit(&cfg);

    ck_assert_fails("{'postgres': {'dsn': ''}}", "config.json: postgres.dsn: must not be empty");
    ck_assert_fails("{'log': {'level': 'verbose'}}",
                    "config.json: log.level: unknown level \"verbose\" (known: debug, info, "
                    "warn, error)");
    ck_assert_fails("{'worker': {'group_id': ''}}",
                    "config.json: worker.group_id: must be 1 to 255 visible ASCII characters "
                    "(no spaces)");
}
END_TEST

/* ---- env: and file: ---- */

START_TEST(test_env_values)
{
    setenv("HP_TEST_DSN", "postgresql://u:" SECRET "@h/db", 1);
    setenv("HP_TEST_THREADS_LISTEN", "127.0.0.1:81", 1);
    load_ok("{'postgres': {'dsn': 'env:HP_TEST_DSN'}, "
            "'gateway': {'listen': 'env:HP_TEST_THREADS_LISTEN'}}");
    ck_assert_str_eq(cfg.postgres.dsn, "postgresql://u:" SECRET "@h/db");
    ck_assert_str_eq(cfg.gateway.listen, "127.0.0.1:81");
    hp_config_deinit(&cfg);

    unsetenv("STRIPE_WHSEC");
    ck_assert_fails(with_verify("{'scheme': 'stripe', 'secrets': ['env:STRIPE_WHSEC']}"),
                    "config.json: sources[0].verify.secrets[0]: environment variable "
                    "STRIPE_WHSEC is not set");
    ck_assert_fails("{'postgres': {'dsn': 'env:'}}",
                    "config.json: postgres.dsn: \"env:\" must be followed by an environment "
                    "variable name");
    ck_assert_fails("{'postgres': {'dsn': 'env:A-B'}}",
                    "config.json: postgres.dsn: \"env:\" must be followed by an environment "
                    "variable name");
    setenv("HP_TEST_EMPTY", "", 1);
    ck_assert_fails(with_verify("{'scheme': 'github', 'secrets': ['env:HP_TEST_EMPTY']}"),
                    "config.json: sources[0].verify.secrets[0]: must not be empty");
}
END_TEST

START_TEST(test_file_values)
{
    char json[1024];
    const char *lf = tmpfile_with("lf", SECRET "\n", strlen(SECRET) + 1);
    const char *crlf = tmpfile_with("crlf", "a\r\n", 3);
    const char *two = tmpfile_with("two", "b\n\n", 3);
    const char *none = tmpfile_with("none", "c", 1);

    snprintf(json, sizeof json,
             "{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['file:%s', "
             "'file:%s', 'file:%s', 'file:%s']}}]}",
             lf, crlf, two, none);
    load_ok(json);
    const hp_verify_config *v = &cfg.sources[0].verify;
    ck_assert_uint_eq(v->nsecrets, 4);
    ck_assert_str_eq((const char *)v->secrets[0].bytes, SECRET);
    ck_assert_uint_eq(v->secrets[0].len, strlen(SECRET));
    ck_assert_str_eq((const char *)v->secrets[1].bytes, "a");
    ck_assert_str_eq((const char *)v->secrets[2].bytes, "b\n");
    ck_assert_str_eq((const char *)v->secrets[3].bytes, "c");
    hp_config_deinit(&cfg);

    const char *msg = load_fail("{'postgres': {'dsn': 'file:/nonexistent/dsn'}}");
    ck_assert_str_eq(msg, "config.json: postgres.dsn: cannot read \"/nonexistent/dsn\": No such "
                          "file or directory");
    ck_assert_fails("{'postgres': {'dsn': 'file:'}}",
                    "config.json: postgres.dsn: \"file:\" must be followed by a path");
    const char *nul = tmpfile_with("nul", "a\0b", 3);
    snprintf(json, sizeof json, "{'postgres': {'dsn': 'file:%s'}}", nul);
    ck_assert_ptr_nonnull(strstr(load_fail(json), "contains a NUL byte"));
}
END_TEST

START_TEST(test_file_value_too_large)
{
    char json[1024];
    size_t len = 64 * 1024 + 1;
    char *big = malloc(len);
    memset(big, 'x', len);
    const char *path = tmpfile_with("big", big, len);
    free(big);

    snprintf(json, sizeof json, "{'postgres': {'dsn': 'file:%s'}}", path);
    ck_assert_ptr_nonnull(strstr(load_fail(json), "is larger than 65536 bytes"));
    big = malloc(len - 1);
    memset(big, 'y', len - 1);
    path = tmpfile_with("fits", big, len - 1);
    free(big);
    snprintf(json, sizeof json, "{'postgres': {'dsn': 'file:%s'}}", path);
    load_ok(json);
    ck_assert_uint_eq(strlen(cfg.postgres.dsn), len - 1);
}
END_TEST

/* ---- HOOKPIPE_* overrides ---- */

START_TEST(test_overrides)
{
    setenv("HOOKPIPE_KAFKA_BROKERS", "env-kafka:9092", 1);
    setenv("HOOKPIPE_POSTGRES_DSN", "postgresql://env/db", 1);
    setenv("HOOKPIPE_LISTEN", "[::]:8081", 1);
    setenv("HOOKPIPE_ADMIN_LISTEN", "127.0.0.1:9999", 1);
    setenv("HOOKPIPE_LOG_LEVEL", "warn", 1);
    load_ok("{'kafka': {'brokers': 'file-kafka:9092'}, 'postgres': {'dsn': 'x'}, "
            "'gateway': {'listen': ':1'}, 'log': {'level': 'debug'}}");
    ck_assert_str_eq(cfg.kafka.brokers, "env-kafka:9092");
    ck_assert_str_eq(cfg.postgres.dsn, "postgresql://env/db");
    ck_assert_str_eq(cfg.gateway.listen, "[::]:8081");
    ck_assert_str_eq(cfg.gateway.admin_listen, "127.0.0.1:9999");
    ck_assert_int_eq(cfg.log.level, HP_LOG_WARN);
}
END_TEST

START_TEST(test_overrides_empty_ignored)
{
    setenv("HOOKPIPE_KAFKA_BROKERS", "", 1);
    setenv("HOOKPIPE_LISTEN", "", 1);
    load_ok("{'kafka': {'brokers': 'k:1'}}");
    ck_assert_str_eq(cfg.kafka.brokers, "k:1");
    ck_assert_str_eq(cfg.gateway.listen, "0.0.0.0:8080");
}
END_TEST

START_TEST(test_overrides_resolve_and_fail)
{
    const char *dsn = tmpfile_str("dsn", "postgresql://u:" SECRET "@h/db\n");
    char value[256];
    snprintf(value, sizeof value, "file:%s", dsn);
    setenv("HOOKPIPE_POSTGRES_DSN", value, 1);
    load_ok("{}");
    ck_assert_str_eq(cfg.postgres.dsn, "postgresql://u:" SECRET "@h/db");
    hp_config_deinit(&cfg);

    setenv("HOOKPIPE_LISTEN", "nowhere", 1);
    ck_assert_fails("{}", "HOOKPIPE_LISTEN: \"nowhere\" is not host:port, [ipv6]:port or :port "
                          "with a port between 0 and 65535");
    unsetenv("HOOKPIPE_LISTEN");
    setenv("HOOKPIPE_ADMIN_LISTEN", "localhost", 1);
    ck_assert_str_eq(load_fail("{}"), "HOOKPIPE_ADMIN_LISTEN: \"localhost\" is not host:port, "
                                      "[ipv6]:port or :port with a port between 0 and 65535");
    unsetenv("HOOKPIPE_ADMIN_LISTEN");
    setenv("HOOKPIPE_LOG_LEVEL", "loud", 1);
    ck_assert_fails("{}", "HOOKPIPE_LOG_LEVEL: unknown level \"loud\" (known: debug, info, warn, "
                          "error)");
    unsetenv("HOOKPIPE_LOG_LEVEL");
    setenv("HOOKPIPE_KAFKA_BROKERS", "env:HP_TEST_UNSET", 1);
    unsetenv("HP_TEST_UNSET");
    ck_assert_fails("{}", "HOOKPIPE_KAFKA_BROKERS: environment variable HP_TEST_UNSET is not set");
}
END_TEST

/* ---- verify ---- */

START_TEST(test_unknown_scheme)
{
    ck_assert_fails("{'sources': ["
                    "{'name': 'a', 'verify': {'scheme': 'github', 'secrets': ['x']}},"
                    "{'name': 'b', 'verify': {'scheme': 'github', 'secrets': ['x']}},"
                    "{'name': 'c', 'verify': {'scheme': 'stipe', 'secrets': ['x']}}]}",
                    "config.json: sources[2].verify.scheme: unknown scheme \"stipe\" (known: "
                    "hmac-sha256, hmac-sha1, github, stripe, standard-webhooks, slack, shopify, "
                    "livekit, basic, bearer, none)");
    ck_assert_fails("{'sources': [{'name': 's', 'verify': {'secrets': ['x']}}]}",
                    "config.json: sources[0].verify.scheme: required");
    ck_assert_fails("{'sources': [{'name': 's'}]}",
                    "config.json: sources[0].verify: required (use \"scheme\": \"none\" with "
                    "\"insecure\": true for none)");
}
END_TEST

START_TEST(test_hmac)
{
    load_ok(with_verify("{'scheme': 'hmac-sha1', 'header': 'X-Sig', 'encoding': 'base64url', "
                        "'prefix': 'sha1=', 'secrets': ['k1', 'k2']}"));
    const hp_verify_config *v = &cfg.sources[0].verify;
    ck_assert_int_eq(v->scheme, HP_VERIFY_HMAC_SHA1);
    ck_assert_str_eq(v->header, "X-Sig");
    ck_assert_int_eq(v->encoding, HP_VERIFY_ENC_BASE64URL);
    ck_assert_str_eq(v->prefix, "sha1=");
    ck_assert_uint_eq(v->nsecrets, 2);
    ck_assert_str_eq((const char *)v->secrets[1].bytes, "k2");
    hp_config_deinit(&cfg);

    load_ok(with_verify("{'scheme': 'hmac-sha256', 'header': 'X-Sig', 'secrets': ['k']}"));
    ck_assert_int_eq(cfg.sources[0].verify.encoding, HP_VERIFY_ENC_HEX);
    ck_assert_str_eq(cfg.sources[0].verify.prefix, "");
    hp_config_deinit(&cfg);

    ck_assert_fails(with_verify("{'scheme': 'hmac-sha256', 'secrets': ['k']}"),
                    "config.json: sources[0].verify.header: required by scheme \"hmac-sha256\"");
    ck_assert_fails(with_verify("{'scheme': 'hmac-sha256', 'header': 'X Sig', 'secrets': ['k']}"),
                    "config.json: sources[0].verify.header: must be an HTTP header name");
    ck_assert_fails(with_verify("{'scheme': 'hmac-sha256', 'header': 'X', 'encoding': 'b64', "
                                "'secrets': ['k']}"),
                    "config.json: sources[0].verify.encoding: unknown encoding \"b64\" (known: "
                    "hex, base64, base64url)");
    ck_assert_fails(with_verify("{'scheme': 'hmac-sha256', 'header': 'X'}"),
                    "config.json: sources[0].verify.secrets: required: an array of at least one "
                    "secret");
}
END_TEST

START_TEST(test_missing_secrets)
{
    static const char *const schemes[] = {
        "hmac-sha256", "hmac-sha1", "github", "stripe", "standard-webhooks",
        "slack",       "shopify",   "basic",  "bearer"};
    char verify[256];
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        bool hmac = strncmp(schemes[i], "hmac", 4) == 0;
        snprintf(verify, sizeof verify, "{'scheme': '%s'%s}", schemes[i],
                 hmac ? ", 'header': 'X'" : "");
        ck_assert_fails(with_verify(verify), "config.json: sources[0].verify.secrets: required: "
                                             "an array of at least one secret");
        snprintf(verify, sizeof verify, "{'scheme': '%s'%s, 'secrets': []}", schemes[i],
                 hmac ? ", 'header': 'X'" : "");
        ck_assert_fails(with_verify(verify), "config.json: sources[0].verify.secrets: required: "
                                             "an array of at least one secret");
    }
    ck_assert_fails(with_verify("{'scheme': 'github', 'secrets': ['a', '']}"),
                    "config.json: sources[0].verify.secrets[1]: must not be empty");
}
END_TEST

START_TEST(test_keys_of_other_schemes)
{
    ck_assert_fails(with_verify("{'scheme': 'stripe', 'header': 'X', 'secrets': ['x']}"),
                    "config.json: sources[0].verify.header: not used by scheme \"stripe\"");
    ck_assert_fails(with_verify("{'scheme': 'github', 'tolerance_s': 5, 'secrets': ['x']}"),
                    "config.json: sources[0].verify.tolerance_s: not used by scheme \"github\"");
    ck_assert_fails(with_verify("{'scheme': 'shopify', 'api_key': 'k', 'secrets': ['x']}"),
                    "config.json: sources[0].verify.api_key: not used by scheme \"shopify\"");
    ck_assert_fails(with_verify("{'scheme': 'none', 'secrets': ['x']}"),
                    "config.json: sources[0].verify.secrets: not used by scheme \"none\"");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'encoding': 'hex', 'keys': {'k': 's'}}"),
                    "config.json: sources[0].verify.encoding: not used by scheme \"livekit\"");
}
END_TEST

START_TEST(test_timestamped_schemes)
{
    load_ok("{'sources': ["
            "{'name': 'a', 'verify': {'scheme': 'stripe', 'secrets': ['whsec_abc']}},"
            "{'name': 'b', 'verify': {'scheme': 'slack', 'secrets': ['x'], 'tolerance_s': 0}},"
            "{'name': 'c', 'verify': {'scheme': 'standard-webhooks', 'secrets': ['whsec_dGVzdA'],"
            " 'tolerance_s': 86400}}]}");
    ck_assert_int_eq(cfg.sources[0].verify.tolerance_s, 300);
    /* Stripe's key is the whole string, not decoded. */
    ck_assert_str_eq((const char *)cfg.sources[0].verify.secrets[0].bytes, "whsec_abc");
    ck_assert_int_eq(cfg.sources[1].verify.tolerance_s, 0);
    ck_assert_int_eq(cfg.sources[2].verify.tolerance_s, 86400);
}
END_TEST

START_TEST(test_standard_webhooks_secret)
{
    load_ok(with_verify("{'scheme': 'standard-webhooks', 'secrets': ["
                        "'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'dGVzdA==', 'whsec_dGVzdA', "
                        "'whsec_dGVzdDE']}"));
    const hp_verify_config *v = &cfg.sources[0].verify;
    /* base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") in Python. */
    static const unsigned char official[] = {0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a,
                                             0xab, 0x4f, 0x08, 0xd4, 0x3c, 0x3f, 0x08, 0x2c,
                                             0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0};
    ck_assert_uint_eq(v->nsecrets, 4);
    ck_assert_uint_eq(v->secrets[0].len, sizeof official);
    ck_assert_mem_eq(v->secrets[0].bytes, official, sizeof official);
    ck_assert_uint_eq(v->secrets[1].len, 4);
    ck_assert_mem_eq(v->secrets[1].bytes, "test", 4);
    ck_assert_uint_eq(v->secrets[2].len, 4);
    ck_assert_mem_eq(v->secrets[2].bytes, "test", 4);
    ck_assert_uint_eq(v->secrets[3].len, 5);
    ck_assert_mem_eq(v->secrets[3].bytes, "test1", 5);
    hp_config_deinit(&cfg);

    static const char *const bad[] = {"whsec_",          "whsec_a",       "whsec_!!!!",
                                      "whsec_dGVzdA===", "whsec_dG=VzdA", "whsec_dGVzdA=",
                                      "whsec_dGVz dA"};
    char verify[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(verify, sizeof verify, "{'scheme': 'standard-webhooks', 'secrets': ['%s']}",
                 bad[i]);
        ck_assert_fails(with_verify(verify), "config.json: sources[0].verify.secrets[0]: must be "
                                             "\"whsec_\" followed by a base64 key");
    }
}
END_TEST

START_TEST(test_basic_bearer)
{
    load_ok("{'sources': ["
            "{'name': 'a', 'verify': {'scheme': 'basic', 'secrets': ['user:pa:ss', ':x']}},"
            "{'name': 'b', 'verify': {'scheme': 'bearer', 'secrets': ['tok-1']}}]}");
    ck_assert_str_eq((const char *)cfg.sources[0].verify.secrets[0].bytes, "user:pa:ss");
    ck_assert_str_eq((const char *)cfg.sources[1].verify.secrets[0].bytes, "tok-1");
    hp_config_deinit(&cfg);

    ck_assert_fails(with_verify("{'scheme': 'basic', 'secrets': ['" SECRET "']}"),
                    "config.json: sources[0].verify.secrets[0]: must be \"user:password\"");
    ck_assert_fails(with_verify("{'scheme': 'bearer', 'secrets': ['a " SECRET "']}"),
                    "config.json: sources[0].verify.secrets[0]: must be a token without white "
                    "space");
}
END_TEST

START_TEST(test_livekit)
{
    setenv("LK_SECRET_2", "s2", 1);
    load_ok(
        with_verify("{'scheme': 'livekit', 'keys': {'APIa': 's1', 'APIb': 'env:LK_SECRET_2'}}"));
    const hp_verify_config *v = &cfg.sources[0].verify;
    ck_assert_int_eq(v->scheme, HP_VERIFY_LIVEKIT);
    ck_assert_uint_eq(v->nsecrets, 0);
    ck_assert_uint_eq(v->nkeys, 2);
    ck_assert_str_eq(v->keys[0].api_key, "APIa");
    ck_assert_str_eq((const char *)v->keys[0].secret.bytes, "s1");
    ck_assert_str_eq(v->keys[1].api_key, "APIb");
    ck_assert_str_eq((const char *)v->keys[1].secret.bytes, "s2");
    ck_assert_uint_eq(v->keys[1].secret.len, 2);
    hp_config_deinit(&cfg);

    load_ok(with_verify("{'scheme': 'livekit', 'api_key': 'APIk', 'secrets': ['old', 'new']}"));
    v = &cfg.sources[0].verify;
    ck_assert_uint_eq(v->nkeys, 2);
    ck_assert_uint_eq(v->nsecrets, 0);
    ck_assert_str_eq(v->keys[0].api_key, "APIk");
    ck_assert_str_eq((const char *)v->keys[0].secret.bytes, "old");
    ck_assert_str_eq(v->keys[1].api_key, "APIk");
    ck_assert_str_eq((const char *)v->keys[1].secret.bytes, "new");
    hp_config_deinit(&cfg);

    ck_assert_fails(with_verify("{'scheme': 'livekit'}"),
                    "config.json: sources[0].verify.keys: required: \"keys\", or \"api_key\" "
                    "with \"secrets\"");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'keys': {'a': 'b'}, 'api_key': 'x'}"),
                    "config.json: sources[0].verify.keys: use either \"keys\" or \"api_key\" "
                    "with \"secrets\", not both");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'secrets': ['x']}"),
                    "config.json: sources[0].verify.api_key: required with \"secrets\"");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'api_key': 'APIk'}"),
                    "config.json: sources[0].verify.secrets: required: an array of at least one "
                    "secret");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'keys': {}}"),
                    "config.json: sources[0].verify.keys: must be an object of at least one "
                    "\"API key\": \"secret\"");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'keys': ['x']}"),
                    "config.json: sources[0].verify.keys: must be an object of at least one "
                    "\"API key\": \"secret\"");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'keys': {'APIa': ''}}"),
                    "config.json: sources[0].verify.keys.APIa: must not be empty");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'keys': {'APIa': 5}}"),
                    "config.json: sources[0].verify.keys.APIa: must be a string");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'keys': {'API a': 's'}}"),
                    "config.json: sources[0].verify.keys.API a: an API key must be 1 to 256 "
                    "visible ASCII characters");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'api_key': '', 'secrets': ['s']}"),
                    "config.json: sources[0].verify.api_key: an API key must be 1 to 256 visible "
                    "ASCII characters");
}
END_TEST

START_TEST(test_none_scheme)
{
    ck_assert_fails(with_verify("{'scheme': 'none'}"),
                    "config.json: sources[0].verify.scheme: \"none\" requires \"insecure\": true "
                    "on the source");
    ck_assert_fails("{'sources': [{'name': 's', 'insecure': false, 'verify': {'scheme': 'none'}}]}",
                    "config.json: sources[0].verify.scheme: \"none\" requires \"insecure\": true "
                    "on the source");
    load_ok("{'sources': [{'name': 's', 'verify': {'scheme': 'none'}, 'insecure': true}]}");
    ck_assert_int_eq(cfg.sources[0].verify.scheme, HP_VERIFY_NONE);
    ck_assert(cfg.sources[0].insecure);
}
END_TEST

START_TEST(test_scheme_names)
{
    ck_assert_str_eq(hp_verify_scheme_name(HP_VERIFY_STANDARD_WEBHOOKS), "standard-webhooks");
    ck_assert_str_eq(hp_verify_scheme_name(HP_VERIFY_NONE), "none");
    ck_assert_str_eq(hp_verify_encoding_name(HP_VERIFY_ENC_BASE64URL), "base64url");
    ck_assert_str_eq(hp_handler_name(HP_HANDLER_ENTITY), "entity");
}
END_TEST

/* ---- sources ---- */

START_TEST(test_source_names)
{
    ck_assert_fails("{'sources': [{'name': 'a', 'verify': {'scheme': 'github', 'secrets': ['x']}},"
                    "{'name': 'b', 'verify': {'scheme': 'github', 'secrets': ['x']}},"
                    "{'name': 'a', 'verify': {'scheme': 'github', 'secrets': ['x']}}]}",
                    "config.json: sources[2].name: duplicate source name \"a\" (also sources[0])");
    ck_assert_fails("{'sources': [{'verify': {'scheme': 'github', 'secrets': ['x']}}]}",
                    "config.json: sources[0].name: required");

    static const char *const bad[] = {"",
                                      "Stripe",
                                      "a b",
                                      "a/b",
                                      ".",
                                      "..",
                                      "\\u00e9",
                                      "01234567890123456789012345678901234567890123456789"
                                      "012345678901234"};
    char json[512];
    char expected[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json,
                 "{'sources': [{'name': '%s', 'verify': {'scheme': 'github', 'secrets': ['x']}}]}",
                 bad[i]);
        load_fail(json);
        snprintf(expected, sizeof expected, "config.json: sources[0].name: ");
        ck_assert_msg(strncmp(err, expected, strlen(expected)) == 0, "%s", err);
        ck_assert_ptr_nonnull(strstr(err, "must be 1 to 64 of the characters [a-z0-9_.-]"));
    }
    load_ok("{'sources': [{'name': 'a.b-c_9', 'verify': {'scheme': 'github', 'secrets': ['x']}},"
            "{'name': '0123456789012345678901234567890123456789012345678901234567890123', "
            "'verify': {'scheme': 'github', 'secrets': ['x']}}]}");
    ck_assert_ptr_eq(hp_config_find_source(&cfg, "a.b-c_9"), &cfg.sources[0]);
    ck_assert_ptr_null(hp_config_find_source(&cfg, "a.b"));
}
END_TEST

START_TEST(test_extractors)
{
    load_ok(with_source("'event_id': {'header': 'X-GitHub-Delivery'}, 'event_type': {'json': "
                        "'/a~0b~1c/0'}, 'key': {'json': ''}, 'event_time': {'header': 'Date'}, "
                        "'entity_type': 'order'"));
    const hp_source *src = &cfg.sources[0];
    ck_assert_int_eq(src->event_id.kind, HP_EXTRACT_HEADER);
    ck_assert_str_eq(src->event_id.arg, "X-GitHub-Delivery");
    ck_assert_int_eq(src->event_type.kind, HP_EXTRACT_JSON);
    ck_assert_str_eq(src->event_type.arg, "/a~0b~1c/0");
    ck_assert_int_eq(src->key.kind, HP_EXTRACT_JSON);
    ck_assert_str_eq(src->key.arg, "");
    ck_assert_int_eq(src->event_time.kind, HP_EXTRACT_HEADER);
    ck_assert_int_eq(src->entity_type.kind, HP_EXTRACT_CONST);
    ck_assert_str_eq(src->entity_type.arg, "order");
    hp_config_deinit(&cfg);

    load_ok(with_source("'event_id': {'body_sha256': true}, 'entity_type': {'json': '/object'}"));
    ck_assert_int_eq(cfg.sources[0].event_id.kind, HP_EXTRACT_BODY_SHA256);
    ck_assert_int_eq(cfg.sources[0].entity_type.kind, HP_EXTRACT_JSON);
}
END_TEST

START_TEST(test_extractor_errors)
{
    ck_assert_fails(with_source("'event_id': {'json': 'id'}"),
                    "config.json: sources[0].event_id.json: \"id\" is not a JSON pointer (RFC "
                    "6901: \"\" or \"/a/b\", with \"~\" only in \"~0\" and \"~1\")");
    ck_assert_fails(with_source("'key': {'json': '/a~2'}"),
                    "config.json: sources[0].key.json: \"/a~2\" is not a JSON pointer (RFC "
                    "6901: \"\" or \"/a/b\", with \"~\" only in \"~0\" and \"~1\")");
    ck_assert_ptr_nonnull(
        strstr(load_fail(with_source("'key': {'json': '/a~'}")), "is not a JSON pointer"));
    ck_assert_fails(with_source("'event_id': {'json': '/id', 'header': 'X-Id'}"),
                    "config.json: sources[0].event_id: must be an object with exactly one of "
                    "\"json\", \"header\", \"body_sha256\"");
    ck_assert_fails(with_source("'event_type': {}"),
                    "config.json: sources[0].event_type: must be an object with exactly one of "
                    "\"json\", \"header\"");
    ck_assert_fails(with_source("'event_type': '/type'"),
                    "config.json: sources[0].event_type: must be an object with exactly one of "
                    "\"json\", \"header\"");
    ck_assert_fails(with_source("'entity_type': 5"),
                    "config.json: sources[0].entity_type: must be an object with exactly one of "
                    "\"json\", \"header\", or a string");
    ck_assert_fails(with_source("'entity_type': ''"),
                    "config.json: sources[0].entity_type: must not be empty");
    ck_assert_fails(with_source("'key': {'body_sha256': true}"),
                    "config.json: sources[0].key.body_sha256: only event_id can be body_sha256");
    ck_assert_fails(with_source("'event_id': {'body_sha256': false}"),
                    "config.json: sources[0].event_id.body_sha256: must be true");
    ck_assert_fails(with_source("'event_id': {'header': 'X Id'}"),
                    "config.json: sources[0].event_id.header: \"X Id\" is not an HTTP header name");
    ck_assert_fails(with_source("'event_id': {'header': ''}"),
                    "config.json: sources[0].event_id.header: \"\" is not an HTTP header name");
    ck_assert_fails(with_source("'event_id': {'json': 5}"),
                    "config.json: sources[0].event_id.json: must be a string");
}
END_TEST

START_TEST(test_events_handler)
{
    load_ok(with_source("'event_type': {'header': 'X-Event'}, 'events': ['push', 'ping'], "
                        "'handler': 'entity'"));
    const hp_source *src = &cfg.sources[0];
    ck_assert_uint_eq(src->nevents, 2);
    ck_assert(hp_source_accepts_event(src, "ping"));
    ck_assert(!hp_source_accepts_event(src, "issues"));
    ck_assert(!hp_source_accepts_event(src, NULL));
    ck_assert_int_eq(src->handler, HP_HANDLER_ENTITY);
    hp_config_deinit(&cfg);

    load_ok(with_source("'events': ['*'], 'handler': 'livekit'"));
    ck_assert_int_eq(cfg.sources[0].handler, HP_HANDLER_LIVEKIT);
    hp_config_deinit(&cfg);

    ck_assert_fails(with_source("'handler': 'upsert'"),
                    "config.json: sources[0].handler: unknown handler \"upsert\" (known: store, "
                    "entity, livekit)");
    ck_assert_fails(with_source("'events': []"),
                    "config.json: sources[0].events: must not be empty ([\"*\"] accepts every "
                    "event)");
    ck_assert_fails(with_source("'event_type': {'header': 'X-Event'}, 'events': ['a', '']"),
                    "config.json: sources[0].events[1]: must be an event type of 1 to 256 bytes, "
                    "or \"*\"");
    ck_assert_fails(with_source("'events': ['push']"),
                    "config.json: sources[0].events: filtering by event type needs an "
                    "event_type");
}
END_TEST

START_TEST(test_allow_ips_rate_limit)
{
    load_ok(with_source("'allow_ips': ['203.0.113.0/24', '2001:db8::/32'], "
                        "'rate_limit': {'per_second': 2.5}"));
    const hp_source *src = &cfg.sources[0];
    ck_assert_uint_eq(src->nallow_ips, 2);
    hp_ip ip;
    ck_assert_int_eq(hp_ip_parse(&ip, "::ffff:203.0.113.9"), HP_OK);
    ck_assert(hp_cidr_list_contains(src->allow_ips, src->nallow_ips, &ip));
    ck_assert(src->rate_limit.per_second == 2.5);
    ck_assert_int_eq(src->rate_limit.burst, 3);
    hp_config_deinit(&cfg);

    load_ok(with_source("'rate_limit': {'per_second': 0.1}"));
    ck_assert_int_eq(cfg.sources[0].rate_limit.burst, 1);
    hp_config_deinit(&cfg);
    load_ok(with_source("'rate_limit': {'per_second': 500, 'burst': 1000}"));
    ck_assert_int_eq(cfg.sources[0].rate_limit.burst, 1000);
    hp_config_deinit(&cfg);

    ck_assert_fails(with_source("'allow_ips': ['203.0.113.0/24', 'office']"),
                    "config.json: sources[0].allow_ips[1]: \"office\" is not an IP address or "
                    "CIDR range");
    ck_assert_fails(with_source("'allow_ips': ['203.0.113.1/24']"),
                    "config.json: sources[0].allow_ips[0]: \"203.0.113.1/24\" has bits set after "
                    "the prefix (the network is 203.0.113.0/24)");
}
END_TEST

/* ---- the example of DESIGN.md ---- */

/* DESIGN.md §Configuration, verbatim but for the TLS paths ("…" there),
 * which must name readable files: %s and %s. */
static const char design_example[] =
    "{\n"
    "  \"gateway\": {\n"
    "    \"listen\": \"0.0.0.0:8080\",\n"
    "    \"admin_listen\": \"127.0.0.1:9090\",\n"
    "    \"threads\": 0,\n"
    "    \"max_body_bytes\": 1048576,\n"
    "    \"ack_timeout_ms\": 2500,\n"
    "    \"max_inflight\": 10000,\n"
    "    \"trusted_proxies\": [\"10.0.0.0/8\"],\n"
    "    \"tls\": { \"cert_file\": \"%s\", \"key_file\": \"%s\" }\n"
    "  },\n"
    "  \"kafka\": {\n"
    "    \"brokers\": \"127.0.0.1:9092\",\n"
    "    \"topic\": \"webhooks.raw\",\n"
    "    \"dlq_topic\": \"webhooks.dlq\",\n"
    "    \"properties\": { \"compression.type\": \"lz4\" }\n"
    "  },\n"
    "  \"postgres\": { \"dsn\": \"postgresql://hookpipe@127.0.0.1:5432/hookpipe\" },\n"
    "  \"worker\": { \"group_id\": \"hookpipe-worker\", \"batch_max\": 500, \"batch_wait_ms\": "
    "20,\n"
    "              \"retry_initial_ms\": 100, \"retry_max_ms\": 30000, \"admin_listen\": "
    "\"127.0.0.1:9091\" },\n"
    "  \"sources\": [\n"
    "    { \"name\": \"livekit\", \"verify\": { \"scheme\": \"livekit\", \"api_key\": \"APIkey\", "
    "\"secrets\": [\"env:LIVEKIT_API_SECRET\"] },\n"
    "      \"event_id\": { \"json\": \"/id\" }, \"event_type\": { \"json\": \"/event\" }, \"key\": "
    "{ \"json\": \"/room/sid\" },\n"
    "      \"event_time\": { \"json\": \"/createdAt\" }, \"events\": [\"*\"], \"handler\": "
    "\"livekit\" },\n"
    "    { \"name\": \"stripe\", \"verify\": { \"scheme\": \"stripe\", \"secrets\": "
    "[\"env:STRIPE_WHSEC\"], \"tolerance_s\": 300 },\n"
    "      \"event_id\": { \"json\": \"/id\" }, \"event_type\": { \"json\": \"/type\" }, \"key\": "
    "{ "
    "\"json\": \"/data/object/id\" },\n"
    "      \"event_time\": { \"json\": \"/created\" }, \"handler\": \"entity\" },\n"
    "    { \"name\": \"github\", \"verify\": { \"scheme\": \"github\", \"secrets\": "
    "[\"env:GITHUB_SECRET\"] },\n"
    "      \"event_id\": { \"header\": \"X-GitHub-Delivery\" }, \"event_type\": { \"header\": "
    "\"X-GitHub-Event\" } },\n"
    "    { \"name\": \"orders\", \"verify\": { \"scheme\": \"hmac-sha256\", \"header\": "
    "\"X-Webhook-Signature\",\n"
    "      \"encoding\": \"hex\", \"prefix\": \"\", \"secrets\": [\"env:ORDERS_SECRET\"] },\n"
    "      \"allow_ips\": [\"203.0.113.0/24\"], \"rate_limit\": { \"per_second\": 500, \"burst\": "
    "1000 } }\n"
    "  ]\n"
    "}\n";

static const char *design_config(void)
{
    static char buf[sizeof design_example + 512];
    const char *cert = tmpfile_with("cert.pem", "C", 1);
    const char *key = tmpfile_with("key.pem", "K", 1);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, sizeof buf, design_example, cert, key);
#pragma GCC diagnostic pop
    return tmpfile_with("config.json", buf, strlen(buf));
}

START_TEST(test_design_example)
{
    setenv("LIVEKIT_API_SECRET", "lk-" SECRET, 1);
    setenv("STRIPE_WHSEC", "whsec_" SECRET, 1);
    setenv("GITHUB_SECRET", "gh-" SECRET, 1);
    setenv("ORDERS_SECRET", "orders-" SECRET, 1);
    ck_assert_msg(hp_config_load(&cfg, design_config(), err, sizeof err) == HP_OK, "%s", err);

    ck_assert_str_eq(cfg.kafka.brokers, "127.0.0.1:9092");
    ck_assert_uint_eq(cfg.kafka.nproperties, 1);
    ck_assert_str_eq(cfg.kafka.properties[0].value, "lz4");
    ck_assert_str_eq(cfg.postgres.dsn, "postgresql://hookpipe@127.0.0.1:5432/hookpipe");
    ck_assert_uint_eq(cfg.gateway.ntrusted_proxies, 1);
    ck_assert_ptr_nonnull(cfg.gateway.tls.cert_file);
    ck_assert_uint_eq(cfg.nsources, 4);

    const hp_source *lk = hp_config_find_source(&cfg, "livekit");
    ck_assert_int_eq(lk->verify.scheme, HP_VERIFY_LIVEKIT);
    ck_assert_uint_eq(lk->verify.nkeys, 1);
    ck_assert_str_eq(lk->verify.keys[0].api_key, "APIkey");
    ck_assert_str_eq((const char *)lk->verify.keys[0].secret.bytes, "lk-" SECRET);
    ck_assert_int_eq(lk->handler, HP_HANDLER_LIVEKIT);
    ck_assert_str_eq(lk->key.arg, "/room/sid");

    const hp_source *st = hp_config_find_source(&cfg, "stripe");
    ck_assert_str_eq((const char *)st->verify.secrets[0].bytes, "whsec_" SECRET);
    ck_assert_int_eq(st->verify.tolerance_s, 300);
    ck_assert_int_eq(st->handler, HP_HANDLER_ENTITY);

    const hp_source *gh = hp_config_find_source(&cfg, "github");
    ck_assert_int_eq(gh->event_id.kind, HP_EXTRACT_HEADER);
    ck_assert_str_eq(gh->event_type.arg, "X-GitHub-Event");

    const hp_source *orders = hp_config_find_source(&cfg, "orders");
    ck_assert_int_eq(orders->verify.scheme, HP_VERIFY_HMAC_SHA256);
    ck_assert_str_eq(orders->verify.header, "X-Webhook-Signature");
    ck_assert_int_eq(orders->event_id.kind, HP_EXTRACT_BODY_SHA256);
    ck_assert_uint_eq(orders->nallow_ips, 1);
    ck_assert(orders->rate_limit.per_second == 500);
    ck_assert_int_eq(orders->rate_limit.burst, 1000);
}
END_TEST

START_TEST(test_design_example_missing_env)
{
    setenv("LIVEKIT_API_SECRET", "x", 1);
    unsetenv("STRIPE_WHSEC");
    ck_assert_int_eq(hp_config_load(&cfg, design_config(), err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "config.json: sources[1].verify.secrets[0]: environment variable "
                          "STRIPE_WHSEC is not set");
}
END_TEST

/* ---- secrets stay out of messages ---- */

static const char *const leak_cases[] = {
    /* A later error, after secrets were read. */
    "{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['" SECRET "']}, "
    "'handler': 'x'}]}",
    "{'sources': [{'name': 's', 'verify': {'scheme': 'basic', 'secrets': ['" SECRET "']}}]}",
    "{'sources': [{'name': 's', 'verify': {'scheme': 'bearer', 'secrets': ['a " SECRET "']}}]}",
    "{'sources': [{'name': 's', 'verify': {'scheme': 'standard-webhooks', 'secrets': "
    "['whsec_" SECRET "']}}]}",
    "{'sources': [{'name': 's', 'verify': {'scheme': 'livekit', 'keys': {'k': '" SECRET "'}, "
    "'api_key': 'x'}}]}",
    "{'sources': [{'name': 's', 'verify': {'scheme': 'stripe', 'secrets': ['" SECRET "'], "
    "'header': 'x'}}]}",
    "{'postgres': {'dsn': 'postgresql://u:" SECRET "@h/db', 'x': 1}}",
    "{'kafka': {'properties': {'sasl.password': '" SECRET "', 'x': {}}}}",
    "{'postgres': {'dsn': 'env:HP_LEAK'}, 'gateway': {'threads': -1}}",
    "{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['" SECRET "' ]}}}",
    "{'sources': [{'name': 's', 'verify': {'scheme': 'github', 'secrets': ['" SECRET "\\x']}}]}",
};

START_TEST(test_no_secret_in_messages)
{
    setenv("HP_LEAK", SECRET, 1);
    const char *msg = load_fail(leak_cases[_i]);
    ck_assert_msg(strstr(msg, SECRET) == NULL, "leaked: %s", msg);
    ck_assert_msg(strstr(msg, "7f3a9") == NULL, "leaked: %s", msg);
}
END_TEST

START_TEST(test_deinit_zeroes)
{
    load_ok(with_verify("{'scheme': 'github', 'secrets': ['x']}"));
    hp_config_deinit(&cfg);
    static const hp_config zero;
    ck_assert_mem_eq(&cfg, &zero, sizeof cfg);
    hp_config_deinit(&cfg);
}
END_TEST

/* ---- limits of messages and files ---- */

START_TEST(test_long_paths_and_values)
{
    char json[2048];
    char key[600];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    snprintf(json, sizeof json, "{'gateway': {'%s': 1}}", key);
    const char *msg = load_fail(json);
    ck_assert_ptr_nonnull(strstr(msg, "config.json: gateway.kkkk"));
    ck_assert_uint_lt(strlen(msg), 300);

    snprintf(json, sizeof json, "{'sources': [{'name': 's', 'verify': {'scheme': '%s'}}]}", key);
    msg = load_fail(json);
    ck_assert_ptr_nonnull(strstr(msg, "kkk...\" (known: hmac-sha256"));
    ck_assert_fails("{'gateway': {'listen': 'a\\tb'}}",
                    "config.json: gateway.listen: \"a?b\" is not host:port, [ipv6]:port or :port "
                    "with a port between 0 and 65535");
}
END_TEST

START_TEST(test_config_file_too_large)
{
    size_t len = 4 * 1024 * 1024 + 1;
    char *big = malloc(len);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    const char *path = tmpfile_with("huge.json", big, len);
    free(big);
    ck_assert_int_eq(hp_config_load(&cfg, path, err, sizeof err), HP_ERR_INVALID);
    ck_assert_str_eq(err, "huge.json: larger than 4194304 bytes");
}
END_TEST

START_TEST(test_misc_edges)
{
    load_ok("{'kafka': {'properties': {'a': 0.30000000000000004, 'b': -2}}}");
    ck_assert_str_eq(cfg.kafka.properties[0].value, "0.30000000000000004");
    ck_assert_str_eq(cfg.kafka.properties[1].value, "-2");
    hp_config_deinit(&cfg);

    load_ok(with_verify("{'scheme': 'standard-webhooks', 'secrets': ['whsec_+/+/']}"));
    ck_assert_uint_eq(cfg.sources[0].verify.secrets[0].len, 3);
    ck_assert_mem_eq(cfg.sources[0].verify.secrets[0].bytes, "\xfb\xff\xbf", 3);
    hp_config_deinit(&cfg);

    ck_assert_fails("{'gateway': {'tls': {'cert_file': '', 'key_file': ''}}}",
                    "config.json: gateway.tls.cert_file: must not be empty");
    ck_assert_fails(with_verify("{'scheme': 'hmac-sha256', 'header': 'X', 'prefix': "
                                "'0123456789012345678901234567890123456789012345678901234567890123"
                                "4', 'secrets': ['k']}"),
                    "config.json: sources[0].verify.prefix: must be at most 64 bytes");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'api_key': 'k', 'secrets': ['a', '']}"),
                    "config.json: sources[0].verify.secrets[1]: must not be empty");
    ck_assert_fails(with_verify("{'scheme': 'livekit', 'api_key': 5, 'secrets': ['a']}"),
                    "config.json: sources[0].verify.api_key: must be a string");
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_source_defaults);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_unreadable_file);
    tcase_add_test(tc, test_syntax_error);
    tcase_add_test(tc, test_syntax_error_hides_strings);
    tcase_add_test(tc, test_errstr_small_or_absent);
    tcase_add_test(tc, test_unknown_keys);
    tcase_add_test(tc, test_wrong_types);
    tcase_add_loop_test(tc, test_ranges, 0, (int)(sizeof range_cases / sizeof range_cases[0]));
    tcase_add_test(tc, test_range_limits_accepted);
    tcase_add_test(tc, test_buffered_bytes);
    tcase_add_test(tc, test_listen_addresses);
    tcase_add_test(tc, test_parse_hostport);
    tcase_add_test(tc, test_tls);
    tcase_add_test(tc, test_gateway_misc);
    tcase_add_test(tc, test_kafka);
    tcase_add_test(tc, test_postgres_worker_log);
    tcase_add_test(tc, test_env_values);
    tcase_add_test(tc, test_file_values);
    tcase_add_test(tc, test_file_value_too_large);
    tcase_add_test(tc, test_overrides);
    tcase_add_test(tc, test_overrides_empty_ignored);
    tcase_add_test(tc, test_overrides_resolve_and_fail);
    tcase_add_test(tc, test_unknown_scheme);
    tcase_add_test(tc, test_hmac);
    tcase_add_test(tc, test_missing_secrets);
    tcase_add_test(tc, test_keys_of_other_schemes);
    tcase_add_test(tc, test_timestamped_schemes);
    tcase_add_test(tc, test_standard_webhooks_secret);
    tcase_add_test(tc, test_basic_bearer);
    tcase_add_test(tc, test_livekit);
    tcase_add_test(tc, test_none_scheme);
    tcase_add_test(tc, test_scheme_names);
    tcase_add_test(tc, test_source_names);
    tcase_add_test(tc, test_extractors);
    tcase_add_test(tc, test_extractor_errors);
    tcase_add_test(tc, test_events_handler);
    tcase_add_test(tc, test_allow_ips_rate_limit);
    tcase_add_test(tc, test_design_example);
    tcase_add_test(tc, test_design_example_missing_env);
    tcase_add_loop_test(tc, test_no_secret_in_messages, 0,
                        (int)(sizeof leak_cases / sizeof leak_cases[0]));
    tcase_add_test(tc, test_deinit_zeroes);
    tcase_add_test(tc, test_long_paths_and_values);
    tcase_add_test(tc, test_config_file_too_large);
    tcase_add_test(tc, test_misc_edges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
