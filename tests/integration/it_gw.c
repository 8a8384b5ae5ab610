/*
 * it_gw: a hookpipe-gateway under test. See it_gw.h.
 */
#include "it_gw.h"

#include "hp_alloc.h"
#include "hp_buf.h"
#include "hp_time.h"
#include "it_env.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */
#include <time.h>
#include <unistd.h>

/* Longest wait for a new gateway's /readyz. */
#define READY_TIMEOUT_MS 30000
/* How much of the log a failure prints. */
#define LOG_TAIL_BYTES 6000

/* The gateway IT_CHECK prints the log of: the one started last in this test. */
static const it_gw *current;

void it_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

char *it_gw_config_text(int port, int admin_port, const char *gateway_extra, const char *sources)
{
    return it_gw_config_text_for(IT_GW_TOPIC, port, admin_port, gateway_extra, sources);
}

char *it_gw_config_text_for(const char *topic, int port, int admin_port, const char *gateway_extra,
                            const char *sources)
{
    hp_buf buf;
    hp_buf_init(&buf, 1024 * 1024);
    hp_err rc = hp_buf_printf(&buf,
                              "{\n  \"gateway\": {\"listen\": \"127.0.0.1:%d\", "
                              "\"admin_listen\": \"127.0.0.1:%d\", \"threads\": 2%s%s},\n"
                              "  \"kafka\": {\"brokers\": \"%s\", \"topic\": \"%s\"},\n"
                              "  \"sources\": %s\n}\n",
                              port, admin_port, gateway_extra[0] ? ", " : "", gateway_extra,
                              it_kafka_brokers(), topic, sources);
    ck_assert_msg(rc == HP_OK, "configuration text too long");
    return hp_buf_take(&buf, NULL);
}

/* Writes the configuration and loads it here too (it must be valid). */
static void prepare(it_gw *gw, const char *topic, const char *gateway_extra, const char *sources)
{
    ck_assert_msg(it_tempdir(gw->dir, sizeof gw->dir, "hookpipe-it-gw") == 0, "mkdtemp: %s",
                  strerror(errno));
    snprintf(gw->config_path, sizeof gw->config_path, "%s/config.json", gw->dir);
    snprintf(gw->log_path, sizeof gw->log_path, "%s/gateway.log", gw->dir);
    gw->port = it_free_port();
    gw->admin_port = it_free_port();
    while (gw->admin_port == gw->port)
        gw->admin_port = it_free_port();
    ck_assert_msg(gw->port > 0 && gw->admin_port > 0, "no free port");

    char *text = it_gw_config_text_for(topic, gw->port, gw->admin_port, gateway_extra, sources);
    ck_assert_msg(it_write_file(gw->config_path, text, strlen(text)) == 0, "%s: %s",
                  gw->config_path, strerror(errno));
    char err[512];
    hp_err rc = hp_config_load_string(&gw->cfg, text, "config.json", err, sizeof err);
    ck_assert_msg(rc == HP_OK, "the test's own configuration is invalid: %s\n%s", err, text);
    free(text);
}

void it_gw_start(it_gw *gw, const char *gateway_extra, const char *sources)
{
    it_gw_start_for(gw, IT_GW_TOPIC, gateway_extra, sources);
}

void it_gw_start_for(it_gw *gw, const char *topic, const char *gateway_extra, const char *sources)
{
    memset(gw, 0, sizeof *gw);
    ck_assert_msg(access(IT_GW_BIN, X_OK) == 0, "%s: %s (build the hookpipe-gateway target)",
                  IT_GW_BIN, strerror(errno));
    prepare(gw, topic, gateway_extra, sources);

    char brokers[512];
    snprintf(brokers, sizeof brokers, "HOOKPIPE_KAFKA_BROKERS=%s", it_kafka_brokers());
    const char *argv[] = {IT_GW_BIN, "-c", gw->config_path, NULL};
    const char *unset[] = {"HOOKPIPE_LISTEN", "HOOKPIPE_ADMIN_LISTEN", NULL};
    const char *set[] = {brokers, NULL};
    char err[512];
    ck_assert_msg(it_proc_spawn(&gw->proc, argv, unset, set, gw->log_path, err, sizeof err) == 0,
                  "spawn %s: %s", IT_GW_BIN, err);
    current = gw;
    int rc = it_proc_wait_http(&gw->proc, "127.0.0.1", gw->admin_port, "/readyz", 200,
                               READY_TIMEOUT_MS, err, sizeof err);
    IT_CHECK(rc == 0, "gateway not ready: %s", err);
}

int it_gw_stop(it_gw *gw, int timeout_ms)
{
    return it_proc_stop(&gw->proc, SIGTERM, timeout_ms);
}

void it_gw_free(it_gw *gw)
{
    it_proc_kill(&gw->proc);
    if (gw->dir[0])
        it_tempdir_remove(gw->dir);
    hp_config_deinit(&gw->cfg);
    if (current == gw)
        current = NULL;
    memset(gw, 0, sizeof *gw);
}

void it_gw_dump_log(const it_gw *gw)
{
    if (!gw)
        gw = current;
    if (gw && gw->log_path[0])
        it_print_file_tail(gw->log_path, LOG_TAIL_BYTES, "hookpipe-gateway log");
}

const hp_verify_config *it_gw_verify(const it_gw *gw, const char *source)
{
    const hp_source *src = hp_config_find_source(&gw->cfg, source);
    ck_assert_msg(src != NULL, "the test's configuration has no source %s", source);
    return &src->verify;
}

static bool has_name(const it_http_header *hs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(hs[i].name, name) == 0)
            return true;
    return false;
}

/* The headers of post: defaults the extras don't replace, the signature, the extras. */
static size_t post_headers(const it_post *post, const hp_sig_headers *sig, it_http_header *out)
{
    static const it_http_header defaults[] = {
        {"Content-Type", "application/json; charset=utf-8"},
        {"User-Agent", "hookpipe-it/1.0"},
        {"Cookie", "session=not-for-kafka"},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!has_name(post->extra, post->nextra, defaults[i].name))
            out[n++] = defaults[i];
    for (size_t i = 0; i < sig->n; i++)
        out[n++] = (it_http_header){sig->h[i].name, sig->h[i].value};
    for (size_t i = 0; i < post->nextra; i++)
        out[n++] = post->extra[i];
    return n;
}

int it_gw_send(it_gw *gw, it_http_conn *conn, const it_post *post, it_http_response *resp,
               char *err, size_t errsz)
{
    hp_sig_headers sig = {0};
    if (!post->no_signature) {
        const hp_verify_config *vc =
            post->sign_with ? post->sign_with : it_gw_verify(gw, post->source);
        const void *sb = post->sign_body ? post->sign_body : post->body;
        size_t sl = post->sign_body ? post->sign_len : post->len;
        int64_t now_s = post->sign_time_s ? post->sign_time_s : hp_time_now_ms() / 1000;
        ck_assert_msg(hp_sig_sign(vc, sb, sl, now_s, post->msg_id, &sig) == HP_OK,
                      "hp_sig_sign failed");
    }
    it_http_header *hs = hp_xcalloc(post->nextra + HP_SIG_MAX_HEADERS + 4, sizeof *hs);
    char path[128];
    snprintf(path, sizeof path, "/webhooks/%s", post->source);
    it_http_request req = {.method = "POST",
                           .path = path,
                           .headers = hs,
                           .nheaders = post_headers(post, &sig, hs),
                           .body = post->body,
                           .body_len = post->len,
                           .chunk_size = post->chunk_size,
                           .head_only = post->head_only};
    int rc;
    if (conn) {
        rc = it_http_roundtrip(conn, &req, resp);
        if (rc < 0)
            snprintf(err, errsz, "POST %s: %s", path, conn->err);
    } else {
        rc = it_http_once("127.0.0.1", gw->port, IT_GW_HTTP_TIMEOUT_MS, &req, resp, err, errsz);
    }
    free(hs);
    hp_sig_headers_deinit(&sig);
    return rc;
}

void it_gw_post(it_gw *gw, const it_post *post, it_http_response *resp)
{
    char err[512];
    int rc = it_gw_send(gw, NULL, post, resp, err, sizeof err);
    IT_CHECK(rc == 0, "no answer: %s", err);
}

void it_gw_get(it_gw *gw, bool admin, const char *path, it_http_response *resp)
{
    it_http_request req = {.method = "GET", .path = path};
    char err[512];
    int rc = it_http_once("127.0.0.1", admin ? gw->admin_port : gw->port, IT_GW_HTTP_TIMEOUT_MS,
                          &req, resp, err, sizeof err);
    IT_CHECK(rc == 0, "no answer: %s", err);
}

json_t *it_json_body(const it_http_response *resp)
{
    json_error_t jerr;
    json_t *j = json_loadb(resp->body, resp->body_len, 0, &jerr);
    IT_CHECK(j && json_is_object(j), "status %d: body is not a JSON object (%s): %.300s",
             resp->status, jerr.text, resp->body);
    return j;
}

static void assert_json_type(const it_http_response *resp)
{
    const char *ct = it_http_response_header(resp, "Content-Type");
    IT_CHECK(ct && strncasecmp(ct, "application/json", 16) == 0,
             "status %d: Content-Type is %s, want application/json", resp->status,
             ct ? ct : "(none)");
}

void it_assert_error(const it_http_response *resp, int status, const char *code, const char *field)
{
    IT_CHECK(resp->status == status, "want %d %s, got %d: %.300s", status, code, resp->status,
             resp->body);
    assert_json_type(resp);
    json_t *j = it_json_body(resp);
    const char *got = json_string_value(json_object_get(j, "error"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    const char *ts = json_string_value(json_object_get(j, "timestamp"));
    IT_CHECK(got && strcmp(got, code) == 0, "want error %s, got body %.300s", code, resp->body);
    IT_CHECK(msg && msg[0], "no \"message\" in %.300s", resp->body);
    int64_t ms;
    IT_CHECK(ts && hp_time_parse_rfc3339(ts, strlen(ts), &ms) == HP_OK,
             "\"timestamp\" is not RFC 3339 in %.300s", resp->body);
    IT_CHECK(llabs(ms - hp_time_now_ms()) < 60000, "\"timestamp\" %s is not now", ts);
    if (field) {
        const char *f = json_string_value(json_object_get(j, "field"));
        IT_CHECK(f && strcmp(f, field) == 0, "want field %s, got body %.300s", field, resp->body);
    }
    json_decref(j);
}

void it_assert_accepted(const it_http_response *resp, const char *event_id)
{
    IT_CHECK(resp->status == 200, "want 200, got %d: %.300s", resp->status, resp->body);
    assert_json_type(resp);
    json_t *j = it_json_body(resp);
    const char *status = json_string_value(json_object_get(j, "status"));
    const char *id = json_string_value(json_object_get(j, "event_id"));
    IT_CHECK(status && strcmp(status, "accepted") == 0, "want accepted, got %.300s", resp->body);
    IT_CHECK(id && strcmp(id, event_id) == 0, "want event_id %s, got %.300s", event_id, resp->body);
    json_decref(j);
}

void it_snapshot(it_kafka_snapshot *snap)
{
    char err[512];
    int rc = it_kafka_snapshot_take(snap, IT_GW_TOPIC, err, sizeof err);
    IT_CHECK(rc == 0, "Kafka snapshot at %s: %s", it_kafka_brokers(), err);
}

void it_find_record(const it_kafka_snapshot *snap, const char *event_id, it_kafka_record *rec)
{
    char err[512] = "";
    int rc = it_kafka_find(snap, event_id, IT_GW_FIND_TIMEOUT_MS, rec, err, sizeof err);
    IT_CHECK(rc == 1, "no record with hookpipe-event-id %s in %s within %d ms %s", event_id,
             IT_GW_TOPIC, IT_GW_FIND_TIMEOUT_MS, err);
}

void it_assert_not_produced(const it_kafka_snapshot *snap, const char *event_id)
{
    it_sleep_ms(IT_GW_SETTLE_MS);
    char err[512];
    long n = it_kafka_count(snap, event_id, IT_GW_FIND_TIMEOUT_MS, err, sizeof err);
    IT_CHECK(n >= 0, "counting records: %s", err);
    IT_CHECK(n == 0, "%ld record(s) with hookpipe-event-id %s were produced", n, event_id);
}

const char *it_record_header(const it_kafka_record *rec, const char *name)
{
    const it_kafka_header *h = it_kafka_record_header(rec, name);
    IT_CHECK(h && h->value, "record %d/%lld has no header %s", (int)rec->partition,
             (long long)rec->offset, name);
    return h->value;
}

/* Whether the label text lab (between the braces) holds every pair of want. */
static bool labels_match(const char *lab, size_t lablen, const char *want)
{
    while (*want) {
        size_t n = strcspn(want, ",");
        bool found = false;
        for (size_t i = 0; !found && i + n <= lablen; i++)
            found = (i == 0 || lab[i - 1] == ',') && strncmp(lab + i, want, n) == 0 &&
                    (i + n == lablen || lab[i + n] == ',');
        if (!found)
            return false;
        want += n;
        want += *want == ',';
    }
    return true;
}

/* The sample value of one exposition line if it is name with labels, else false. */
static bool match_line(const char *line, const char *name, const char *labels, double *value)
{
    size_t nlen = strlen(name);
    if (strncmp(line, name, nlen) != 0 || (line[nlen] != '{' && line[nlen] != ' '))
        return false;
    const char *p = line + nlen;
    const char *lab = "";
    size_t lablen = 0;
    if (*p == '{') {
        const char *close = strchr(p, '}');
        if (!close)
            return false;
        lab = p + 1;
        lablen = (size_t)(close - lab);
        p = close + 1;
    }
    if (!labels_match(lab, lablen, labels))
        return false;
    *value = strtod(p, NULL);
    return true;
}

bool it_metric(const char *text, const char *name, const char *labels, double *value)
{
    bool any = false;
    *value = 0;
    for (const char *line = text; line && *line;) {
        double v;
        if (match_line(line, name, labels, &v)) {
            *value += v;
            any = true;
        }
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    return any;
}
