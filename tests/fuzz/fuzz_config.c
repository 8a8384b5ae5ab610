/*
 * Fuzzes the configuration loader: hp_config_load_string with the input as
 * the file's text, and, when the input has no NUL byte, hp_config_load
 * reading the same text from a file (written once per run).
 *
 * Input: the configuration text. The environment is fixed: no HOOKPIPE_*
 * overrides, FUZZ_SECRET set (for "env:FUZZ_SECRET"), standard input
 * /dev/null (so a "file:/dev/stdin" value cannot block).
 *
 * Beyond "no crash, no leak", it asserts: the loader returns HP_OK or
 * HP_ERR_INVALID, never anything else; a failure comes with a message that
 * starts with the file name and leaves the configuration zeroed; a success
 * is consistent (unique, well-formed source names that hp_config_find_source
 * finds, every scheme with what it needs to verify, ranges as documented);
 * loading the same text twice, or from the file, gives the same result and
 * message; hp_config_deinit leaves the configuration zeroed.
 */
#include "fuzz_util.h"
#include "hp_config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const vars[] = {"HOOKPIPE_KAFKA_BROKERS", "HOOKPIPE_POSTGRES_DSN",
                                       "HOOKPIPE_LISTEN", "HOOKPIPE_ADMIN_LISTEN",
                                       "HOOKPIPE_LOG_LEVEL"};
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    setenv("FUZZ_SECRET", "fuzz-secret-value", 1);
    if (!freopen("/dev/null", "r", stdin))
        abort();
    snprintf(path, sizeof path, "/tmp/hp_fuzz_config.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        abort();
    return 0;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i])
            return false;
    }
    return true;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static void check_loaded(const hp_config *cfg)
{
    const hp_gateway_config *gw = &cfg->gateway;

    FZ_CHECK(gw->listen && gw->admin_listen, "listen addresses");
    FZ_CHECK(gw->max_body_bytes >= 1 && gw->max_body_bytes <= 104857600, "max_body_bytes %zu",
             gw->max_body_bytes);
    FZ_CHECK(gw->threads >= 0 && gw->threads <= 256, "threads %d", gw->threads);
    FZ_CHECK((gw->tls.cert_file == NULL) == (gw->tls.key_file == NULL), "tls: both or neither");
    FZ_CHECK(cfg->kafka.topic && cfg->kafka.dlq_topic, "topics");
    FZ_CHECK(cfg->worker.retry_initial_ms <= cfg->worker.retry_max_ms, "retry range");
    for (size_t i = 0; i < cfg->nsources; i++) {
        const hp_source *src = &cfg->sources[i];
        const hp_verify_config *vc = &src->verify;
        FZ_CHECK(name_ok(src->name), "source name");
        FZ_CHECK(hp_config_find_source(cfg, src->name) == src, "source %zu: name not unique", i);
        FZ_CHECK(src->nevents >= 1 && src->events, "source %zu: events", i);
        FZ_CHECK(vc->tolerance_s >= 0, "source %zu: tolerance", i);
        switch (vc->scheme) {
        case HP_VERIFY_NONE:
            FZ_CHECK(src->insecure, "source %zu: scheme none without insecure", i);
            break;
        case HP_VERIFY_LIVEKIT:
            FZ_CHECK(vc->nkeys >= 1 && vc->keys, "source %zu: livekit without keys", i);
            for (size_t k = 0; k < vc->nkeys; k++)
                FZ_CHECK(vc->keys[k].api_key && vc->keys[k].secret.bytes, "source %zu: key", i);
            break;
        case HP_VERIFY_HMAC_SHA256:
        case HP_VERIFY_HMAC_SHA1:
            FZ_CHECK(vc->header && vc->header[0], "source %zu: hmac without header", i);
            /* fall through */
        default:
            FZ_CHECK(vc->nsecrets >= 1 && vc->secrets, "source %zu: no secret", i);
            for (size_t s = 0; s < vc->nsecrets; s++)
                FZ_CHECK(vc->secrets[s].bytes && vc->secrets[s].bytes[vc->secrets[s].len] == '\0',
                         "source %zu: secret %zu not terminated", i, s);
        }
        FZ_CHECK(src->event_id.kind != HP_EXTRACT_NONE && src->event_id.kind != HP_EXTRACT_CONST,
                 "source %zu: event_id kind %d", i, (int)src->event_id.kind);
        FZ_CHECK(src->rate_limit.per_second >= 0 && src->rate_limit.per_second <= 1e6,
                 "source %zu: rate", i);
    }
}

/* Loads text (or, if from_file, the file holding it); checks the contract.
 * The message goes to err. */
static hp_err load(const char *text, bool from_file, char *err, size_t errsz)
{
    hp_config cfg;
    hp_err rc;

    err[0] = '\0';
    if (from_file)
        rc = hp_config_load(&cfg, path, err, errsz);
    else
        rc = hp_config_load_string(&cfg, text, "fuzz.json", err, errsz);
    FZ_CHECK(rc == HP_OK || rc == HP_ERR_INVALID, "rc %d: %s", (int)rc, err);
    if (rc == HP_OK) {
        check_loaded(&cfg);
    } else {
        const char *name = from_file ? strrchr(path, '/') + 1 : "fuzz.json";
        FZ_CHECK(strncmp(err, name, strlen(name)) == 0 && strlen(err) > strlen(name) + 2,
                 "message \"%s\"", err);
        FZ_CHECK(all_zero(&cfg, sizeof cfg), "a failed load left something behind");
    }
    hp_config_deinit(&cfg);
    FZ_CHECK(all_zero(&cfg, sizeof cfg), "deinit left something behind");
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    char err1[512], err2[512];

    hp_err rc = load(text, false, err1, sizeof err1);
    hp_err again = load(text, false, err2, sizeof err2);
    FZ_CHECK(rc == again && strcmp(err1, err2) == 0, "not deterministic: \"%s\" then \"%s\"", err1,
             err2);
    if (!memchr(data, '\0', size)) {
        FZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size,
                 "cannot write %s", path);
        hp_err from_file = load(text, true, err2, sizeof err2);
        FZ_CHECK(from_file == rc, "file and string differ: \"%s\" / \"%s\"", err1, err2);
    }
    free(text);
    return 0;
}
