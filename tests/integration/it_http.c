/*
 * it_http: a small blocking HTTP/1.1 client. See it_http.h.
 *
 * Requests are rendered into one buffer and written with send(MSG_NOSIGNAL)
 * so a peer that closes early gives EPIPE, not a signal. Responses are
 * parsed from a per-connection read buffer; every read waits at most the
 * connection's timeout (poll), so no call can hang a test.
 */
#include "it_http.h"

#include "hp_alloc.h"
#include "hp_buf.h"
#include "it_proc.h" /* it_run, for curl */

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h> /* TCP_NODELAY */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */
#include <sys/socket.h>
#include <unistd.h>

/* Longest status line or header line accepted. */
#define LINE_MAX_LEN 8192
/* Most headers in one response. */
#define MAX_HEADERS 100

static int fail(it_http_conn *conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(it_http_conn *conn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(conn->err, sizeof conn->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Waits until fd is readable (events POLLIN) or writable, within the timeout. */
static int wait_fd(it_http_conn *conn, short events)
{
    struct pollfd pfd = {.fd = conn->fd, .events = events};
    int n;
    do
        n = poll(&pfd, 1, conn->timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return fail(conn, "timed out after %d ms", conn->timeout_ms);
    if (n < 0)
        return fail(conn, "poll: %s", strerror(errno));
    return 0;
}

static int connect_addr(it_http_conn *conn, const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(conn, "socket: %s", strerror(errno));
    conn->fd = fd;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        int soerr = errno;
        if (soerr == EINPROGRESS) {
            if (wait_fd(conn, POLLOUT) < 0) {
                it_http_close(conn);
                return -1;
            }
            socklen_t sl = sizeof soerr;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                soerr = errno;
        }
        if (soerr != 0) {
            fail(conn, "connect: %s", strerror(soerr));
            it_http_close(conn);
            return -1;
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

int it_http_connect(it_http_conn *conn, const char *host, int port, int timeout_ms)
{
    memset(conn, 0, sizeof *conn);
    conn->fd = -1;
    conn->timeout_ms = timeout_ms;
    conn->port = port;
    snprintf(conn->host, sizeof conn->host, "%s", host);

    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0)
        return fail(conn, "%s: %s", host, gai_strerror(gai));
    int rc = -1;
    for (struct addrinfo *ai = res; ai && rc != 0; ai = ai->ai_next)
        rc = connect_addr(conn, ai);
    freeaddrinfo(res);
    return rc;
}

void it_http_close(it_http_conn *conn)
{
    if (conn->fd >= 0)
        close(conn->fd);
    conn->fd = -1;
    conn->start = conn->end = 0;
}

int it_http_send_raw(it_http_conn *conn, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    if (conn->fd < 0)
        return fail(conn, "send: connection is closed");
    while (len > 0) {
        ssize_t n = send(conn->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(conn, POLLOUT) < 0)
                return -1;
            continue;
        }
        if (n < 0)
            return fail(conn, "send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static bool has_header(const it_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return true;
    return false;
}

/* The request head, framing headers included, into buf. */
static void render_head(const it_http_conn *conn, const it_http_request *req, hp_buf *buf)
{
    hp_err rc = hp_buf_printf(buf, "%s %s HTTP/1.1\r\n", req->method, req->path);
    if (rc == HP_OK && !has_header(req, "Host"))
        rc = hp_buf_printf(buf, "Host: %s:%d\r\n", conn->host, conn->port);
    for (size_t i = 0; rc == HP_OK && i < req->nheaders; i++)
        rc = hp_buf_printf(buf, "%s: %s\r\n", req->headers[i].name, req->headers[i].value);
    if (rc == HP_OK && req->chunk_size > 0)
        rc = hp_buf_append_str(buf, "Transfer-Encoding: chunked\r\n");
    else if (rc == HP_OK && !has_header(req, "Content-Length"))
        rc = hp_buf_printf(buf, "Content-Length: %zu\r\n", req->body_len);
    if (rc == HP_OK)
        rc = hp_buf_append_str(buf, "\r\n");
    if (rc != HP_OK)
        abort(); /* the cap is far above any test's head */
}

/* The body as chunks of req->chunk_size, each written on its own. */
static int send_chunked(it_http_conn *conn, const it_http_request *req)
{
    const unsigned char *p = req->body;
    size_t left = req->body_len;
    char line[32];
    while (left > 0) {
        size_t n = left < req->chunk_size ? left : req->chunk_size;
        int len = snprintf(line, sizeof line, "%zx\r\n", n);
        if (it_http_send_raw(conn, line, (size_t)len) < 0 || it_http_send_raw(conn, p, n) < 0 ||
            it_http_send_raw(conn, "\r\n", 2) < 0)
            return -1;
        p += n;
        left -= n;
    }
    return it_http_send_raw(conn, "0\r\n\r\n", 5);
}

int it_http_send(it_http_conn *conn, const it_http_request *req)
{
    hp_buf head;
    hp_buf_init(&head, 1024 * 1024);
    render_head(conn, req, &head);
    int rc = it_http_send_raw(conn, head.data, head.len);
    hp_buf_deinit(&head);
    if (rc < 0 || req->head_only)
        return rc;
    if (req->chunk_size > 0)
        return send_chunked(conn, req);
    return req->body_len > 0 ? it_http_send_raw(conn, req->body, req->body_len) : 0;
}

/* Reads more bytes into the buffer. Returns bytes read, 0 at the peer's close, -1 on error. */
static ssize_t fill(it_http_conn *conn)
{
    if (conn->fd < 0)
        return fail(conn, "read: connection is closed");
    if (conn->start > 0) {
        memmove(conn->buf, conn->buf + conn->start, conn->end - conn->start);
        conn->end -= conn->start;
        conn->start = 0;
    }
    if (conn->end == sizeof conn->buf)
        return fail(conn, "read: line longer than %zu bytes", sizeof conn->buf);
    for (;;) {
        ssize_t n = recv(conn->fd, conn->buf + conn->end, sizeof conn->buf - conn->end, 0);
        if (n > 0)
            conn->end += (size_t)n;
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail(conn, "read: %s", strerror(errno));
        if (wait_fd(conn, POLLIN) < 0)
            return -1;
    }
}

/* One CRLF- (or LF-) terminated line into out, without the terminator. */
static int read_line(it_http_conn *conn, char *out, size_t outsz)
{
    for (;;) {
        unsigned char *nl = memchr(conn->buf + conn->start, '\n', conn->end - conn->start);
        if (nl) {
            size_t len = (size_t)(nl - (conn->buf + conn->start));
            if (len > 0 && conn->buf[conn->start + len - 1] == '\r')
                len--;
            if (len >= outsz)
                return fail(conn, "line of %zu bytes is too long", len);
            memcpy(out, conn->buf + conn->start, len);
            out[len] = '\0';
            conn->start = (size_t)(nl - conn->buf) + 1;
            return 0;
        }
        ssize_t n = fill(conn);
        if (n == 0)
            return fail(conn, "connection closed by the peer before the response was complete");
        if (n < 0)
            return -1;
    }
}

/* Appends exactly len body bytes (or, with to_close, everything until the close). */
static int read_bytes(it_http_conn *conn, hp_buf *body, size_t len, bool to_close)
{
    while (len > 0 || to_close) {
        if (conn->start == conn->end) {
            ssize_t n = fill(conn);
            if (n == 0 && to_close)
                return 0;
            if (n == 0)
                return fail(conn, "connection closed by the peer in the body");
            if (n < 0)
                return -1;
        }
        size_t have = conn->end - conn->start;
        size_t take = to_close || have < len ? have : len;
        if (hp_buf_append(body, conn->buf + conn->start, take) != HP_OK)
            return fail(conn, "body larger than %u bytes", IT_HTTP_MAX_BODY);
        conn->start += take;
        if (!to_close)
            len -= take;
    }
    return 0;
}

static int read_chunked(it_http_conn *conn, hp_buf *body)
{
    char line[LINE_MAX_LEN];
    for (int guard = 0; guard < 1000000; guard++) {
        if (read_line(conn, line, sizeof line) < 0)
            return -1;
        char *end;
        errno = 0;
        unsigned long long size = strtoull(line, &end, 16);
        if (end == line || errno != 0 || size > IT_HTTP_MAX_BODY)
            return fail(conn, "bad chunk size line \"%.40s\"", line);
        if (size == 0)
            break;
        if (read_bytes(conn, body, (size_t)size, false) < 0 || read_line(conn, line, 2) < 0)
            return -1;
    }
    /* Trailers, up to the empty line. */
    for (int i = 0; i < MAX_HEADERS; i++) {
        if (read_line(conn, line, sizeof line) < 0)
            return -1;
        if (line[0] == '\0')
            return 0;
    }
    return fail(conn, "too many trailers");
}

static int parse_status(it_http_conn *conn, const char *line, int *status)
{
    char *end;
    if (strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return fail(conn, "bad status line \"%.60s\"", line);
    long v = strtol(line + 9, &end, 10);
    if (end != line + 12 || v < 100 || v > 999)
        return fail(conn, "bad status line \"%.60s\"", line);
    *status = (int)v;
    return 0;
}

/* The status line and the headers of one response. */
static int read_head(it_http_conn *conn, it_http_response *resp)
{
    char line[LINE_MAX_LEN];
    if (read_line(conn, line, sizeof line) < 0 || parse_status(conn, line, &resp->status) < 0)
        return -1;
    resp->names = hp_xcalloc(MAX_HEADERS, sizeof *resp->names);
    resp->values = hp_xcalloc(MAX_HEADERS, sizeof *resp->values);
    for (;;) {
        if (read_line(conn, line, sizeof line) < 0)
            return -1;
        if (line[0] == '\0')
            return 0;
        char *colon = strchr(line, ':');
        if (!colon || resp->nheaders == MAX_HEADERS)
            return fail(conn, "bad or too many header lines (\"%.60s\")", line);
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        resp->names[resp->nheaders] = hp_xstrdup(line);
        resp->values[resp->nheaders++] = hp_xstrdup(v);
    }
}

/* The body, framed as the head says (no body for 204 and 304). */
static int read_body(it_http_conn *conn, it_http_response *resp)
{
    hp_buf body;
    hp_buf_init(&body, IT_HTTP_MAX_BODY);
    const char *te = it_http_response_header(resp, "Transfer-Encoding");
    const char *cl = it_http_response_header(resp, "Content-Length");
    int rc = 0;
    if (resp->status == 204 || resp->status == 304) {
        /* No body. */
    } else if (te && strcasecmp(te, "chunked") == 0) {
        rc = read_chunked(conn, &body);
    } else if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || *end != '\0' || errno != 0 || n > IT_HTTP_MAX_BODY)
            rc = fail(conn, "bad Content-Length \"%.40s\"", cl);
        else
            rc = read_bytes(conn, &body, (size_t)n, false);
    } else {
        resp->will_close = true;
        rc = read_bytes(conn, &body, 0, true);
    }
    resp->body = hp_buf_take(&body, &resp->body_len);
    return rc;
}

int it_http_read(it_http_conn *conn, it_http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    /* Interim 1xx responses (100 Continue) are skipped: at most a few. */
    for (int i = 0; i < 8; i++) {
        if (read_head(conn, resp) < 0)
            break;
        if (resp->status >= 200) {
            const char *c = it_http_response_header(resp, "Connection");
            resp->will_close = c && strcasecmp(c, "close") == 0;
            if (read_body(conn, resp) < 0)
                break;
            if (resp->will_close)
                it_http_close(conn);
            return 0;
        }
        it_http_response_deinit(resp);
    }
    if (resp->status > 0 && resp->status < 200)
        fail(conn, "only interim responses");
    it_http_response_deinit(resp);
    return -1;
}

int it_http_roundtrip(it_http_conn *conn, const it_http_request *req, it_http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    if (it_http_send(conn, req) < 0)
        return -1;
    return it_http_read(conn, resp);
}

int it_http_once(const char *host, int port, int timeout_ms, const it_http_request *req,
                 it_http_response *resp, char *err, size_t errsz)
{
    it_http_conn conn;
    memset(resp, 0, sizeof *resp);
    int rc = it_http_connect(&conn, host, port, timeout_ms);
    if (rc == 0)
        rc = it_http_roundtrip(&conn, req, resp);
    if (rc < 0)
        snprintf(err, errsz, "%s %s on %s:%d: %s", req->method, req->path, host, port, conn.err);
    it_http_close(&conn);
    return rc;
}

const char *it_http_response_header(const it_http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->names[i], name) == 0)
            return resp->values[i];
    return NULL;
}

void it_http_response_deinit(it_http_response *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        free(resp->names[i]);
        free(resp->values[i]);
    }
    free(resp->names);
    free(resp->values);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

/* curl's -w %{http_code}: three digits, 100..599 (000 when there was no response). */
static int parse_code(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return end == s + 3 && *end == '\0' && v >= 100 && v <= 599 ? (int)v : -1;
}

/* The argv of curl for it_http_curl(); the strings in hdrs are the caller's to free. */
static const char **curl_argv(const char *url, const it_http_header *headers, size_t nheaders,
                              const char *reqfile, const char *respfile, int timeout_s, char **hdrs,
                              char *timeout, size_t timeoutsz)
{
    const char **argv = hp_xcalloc(16 + 2 * nheaders, sizeof *argv);
    size_t n = 0;
    snprintf(timeout, timeoutsz, "%d", timeout_s);
    const char *fixed[] = {"curl",          "-sk",        "-o",    respfile, "-w",
                           "%{http_code}",  "--max-time", timeout, "-X",     "POST",
                           "--data-binary", reqfile,      "-H",    "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[n++] = fixed[i];
    for (size_t i = 0; i < nheaders; i++) {
        size_t len = strlen(headers[i].name) + strlen(headers[i].value) + 3;
        hdrs[i] = hp_xmalloc(len);
        snprintf(hdrs[i], len, "%s: %s", headers[i].name, headers[i].value);
        argv[n++] = "-H";
        argv[n++] = hdrs[i];
    }
    argv[n++] = url;
    return argv;
}

int it_http_curl(const char *url, const it_http_header *headers, size_t nheaders, const void *body,
                 size_t len, int timeout_s, it_http_response *resp, char *err, size_t errsz)
{
    memset(resp, 0, sizeof *resp);
    char dir[256], reqfile[300], respfile[300], timeout[16];
    if (it_tempdir(dir, sizeof dir, "hookpipe-it-curl") < 0) {
        snprintf(err, errsz, "mkdtemp: %s", strerror(errno));
        return -1;
    }
    snprintf(reqfile + 1, sizeof reqfile - 1, "%s/request", dir);
    reqfile[0] = '@'; /* curl's "read the data from this file" */
    snprintf(respfile, sizeof respfile, "%s/response", dir);
    char **hdrs = hp_xcalloc(nheaders + 1, sizeof *hdrs);
    const char **argv = curl_argv(url, headers, nheaders, reqfile, respfile, timeout_s, hdrs,
                                  timeout, sizeof timeout);
    it_run_result run = {0};
    int rc = it_write_file(reqfile + 1, body, len);
    if (rc < 0) {
        snprintf(err, errsz, "%s: %s", reqfile + 1, strerror(errno));
    } else if (it_run(argv, (timeout_s + 5) * 1000, &run) < 0 || run.exit_code != 0 ||
               (resp->status = parse_code(run.out)) < 0) {
        snprintf(err, errsz, "curl %s: exit %d, status \"%.10s\": %.200s", url, run.exit_code,
                 run.out ? run.out : "", run.err ? run.err : "");
        resp->status = 0;
        rc = -1;
    }
    if (rc == 0) {
        resp->body = it_read_file(respfile, IT_HTTP_MAX_BODY, false, &resp->body_len);
        if (!resp->body)
            resp->body = hp_xstrdup("");
    }
    it_run_result_deinit(&run);
    for (size_t i = 0; i < nheaders; i++)
        free(hdrs[i]);
    free(hdrs);
    free(argv);
    it_tempdir_remove(dir);
    return rc;
}
