/*
 * adv_admit: what the admission tests (buffer_cap, forgeries, id_limits,
 * regressions) share — a connection from a chosen loopback address (another
 * "client" for per-address limits), the gateway's memory from
 * /proc/<pid>/status, a signed or forged request head, and metric reads.
 * Static inline functions: each test includes it once.
 */
#ifndef ADV_ADMIT_H
#define ADV_ADMIT_H

#include "hp_alloc.h"
#include "hp_time.h"
#include "it_gw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Whether the gateway's RSS means anything: under AddressSanitizer (a
 * tests/run --sanitize build, gateway and tests alike) freed memory waits in
 * a quarantine of 256 MiB, so RSS neither shows a cap nor a leak there.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ADV_RSS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ADV_RSS_MEANINGFUL 0
#endif
#endif
#ifndef ADV_RSS_MEANINGFUL
#define ADV_RSS_MEANINGFUL 1
#endif

/*
 * Connects conn to the gateway's public port from the loopback address
 * from ("127.0.0.2"): the gateway sees another client. Returns 0, or -1
 * with conn->err set. The socket is non-blocking, as it_http expects.
 */
static inline int adv_connect_from(it_http_conn *conn, const char *from, int port, int timeout_ms)
{
    memset(conn, 0, sizeof *conn);
    conn->fd = -1;
    conn->timeout_ms = timeout_ms;
    conn->port = port;
    snprintf(conn->host, sizeof conn->host, "127.0.0.1");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(conn->err, sizeof conn->err, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_in src = {.sin_family = AF_INET};
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, from, &src.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
        snprintf(conn->err, sizeof conn->err, "connect from %s: %s", from, strerror(errno));
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    conn->fd = fd;
    return 0;
}

/* A field of /proc/<pid>/status in bytes ("VmHWM", "VmRSS"); fails the test if absent. */
static inline size_t adv_proc_mem(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    size_t flen = strlen(field);
    long long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            char *end;
            kb = strtoll(line + flen + 1, &end, 10);
            break;
        }
    }
    fclose(f);
    ck_assert_msg(kb >= 0, "%s has no %s", path, field);
    return (size_t)kb * 1024;
}

/* The request headers of a POST to source with body, signed with vc (NULL:
 * none); hs holds the signature for as long as the headers are used. */
static inline size_t adv_headers(const hp_verify_config *vc, const void *body, size_t len,
                                 hp_sig_headers *hs, it_http_header *out, size_t max)
{
    size_t n = 0;
    memset(hs, 0, sizeof *hs);
    out[n++] = (it_http_header){"Content-Type", "application/json"};
    if (vc) {
        ck_assert_msg(hp_sig_sign(vc, body, len, hp_time_now_ms() / 1000, NULL, hs) == HP_OK,
                      "hp_sig_sign failed");
        for (size_t i = 0; i < hs->n && n < max; i++)
            out[n++] = (it_http_header){hs->h[i].name, hs->h[i].value};
    }
    return n;
}

/* A copy of vc that signs with another secret: well-formed forgeries. */
static inline hp_verify_config adv_forger(const hp_verify_config *vc)
{
    static hp_secret wrong = {(unsigned char *)"not-the-secret-at-all", 21};
    static hp_livekit_key wrong_key;
    hp_verify_config f = *vc;
    f.secrets = &wrong;
    f.nsecrets = 1;
    if (vc->nkeys) {
        wrong_key.api_key = vc->keys[0].api_key;
        wrong_key.secret = wrong;
        f.keys = &wrong_key;
        f.nkeys = 1;
    }
    return f;
}

/* GETs /metrics and returns the sum of metric name with labels (0 if none). */
static inline double adv_metric(it_gw *gw, const char *name, const char *labels)
{
    it_http_response resp;
    it_gw_get(gw, true, "/metrics", &resp);
    double v = 0;
    if (!it_metric(resp.body, name, labels, &v))
        v = 0;
    it_http_response_deinit(&resp);
    return v;
}

/* The "message" of an error answer ("" if none); the caller frees. */
static inline char *adv_message(const it_http_response *resp)
{
    json_t *j = it_json_body(resp);
    const char *m = json_string_value(json_object_get(j, "message"));
    char *copy = hp_xstrdup(m ? m : "");
    json_decref(j);
    return copy;
}

#endif /* ADV_ADMIT_H */
