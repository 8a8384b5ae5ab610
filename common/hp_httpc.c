/*
 * hp_httpc: one HTTP/1.1 request over a plain TCP socket. See hp_httpc.h.
 *
 * The response is read into one capped buffer; after each read the head is
 * looked for and, once found, whether the body is complete by its framing.
 * Asking for "Connection: close" means a response without a length simply
 * ends at the close.
 */
#include "hp_httpc.h"

#include "hp_alloc.h"
#include "hp_buf.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h> /* TCP_NODELAY */
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp, strncasecmp */
#include <sys/socket.h>
#include <unistd.h>

/* Most headers kept from one response. */
#define MAX_HEADERS 100

typedef struct conn {
    int fd;
    int timeout_ms;
    char *errstr;
    size_t errstr_size;
    const char *host;
    int port;
} conn;

static hp_err fail(conn *c, hp_err rc, const char *fmt, ...) HP_PRINTF(3, 4);

static hp_err fail(conn *c, hp_err rc, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->errstr, c->errstr_size, "%s:%d: %s", c->host, c->port, what);
    return rc;
}

hp_err hp_httpc_parse_url(const char *url, hp_httpc_url *out, char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    if (strncasecmp(url, "https://", 8) == 0) {
        snprintf(errstr, errstr_size,
                 "%s: https is not supported (use curl with the headers of `hookpipectl sign`)",
                 url);
        return HP_ERR_INVALID;
    }
    if (strncasecmp(url, "http://", 7) != 0) {
        snprintf(errstr, errstr_size, "%s: not an http:// URL", url);
        return HP_ERR_INVALID;
    }
    const char *host = url + 7;
    const char *path = strchr(host, '/');
    size_t authority = path ? (size_t)(path - host) : strlen(host);
    const char *port = NULL;
    size_t hostlen = authority;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', authority);
        if (!close) {
            snprintf(errstr, errstr_size, "%s: unterminated [IPv6] host", url);
            return HP_ERR_INVALID;
        }
        hostlen = (size_t)(close - host) - 1;
        host++;
        if (close[1] == ':')
            port = close + 2;
        else if (close + 1 != host - 1 + authority) {
            snprintf(errstr, errstr_size, "%s: bad host", url);
            return HP_ERR_INVALID;
        }
    } else {
        const char *colon = memchr(host, ':', authority);
        if (colon) {
            hostlen = (size_t)(colon - host);
            port = colon + 1;
        }
    }
    if (hostlen == 0 || hostlen >= sizeof out->host) {
        snprintf(errstr, errstr_size, "%s: missing or too long host", url);
        return HP_ERR_INVALID;
    }
    memcpy(out->host, host, hostlen);
    out->port = 80;
    if (port) {
        char *end;
        errno = 0;
        long v = strtol(port, &end, 10);
        const char *stop = path ? path : port + strlen(port);
        if (end != stop || end == port || errno != 0 || v < 1 || v > 65535) {
            snprintf(errstr, errstr_size, "%s: bad port", url);
            return HP_ERR_INVALID;
        }
        out->port = (int)v;
    }
    int n = snprintf(out->path, sizeof out->path, "%s", path ? path : "/");
    if (n < 0 || (size_t)n >= sizeof out->path) {
        snprintf(errstr, errstr_size, "%s: path longer than %zu bytes", url, sizeof out->path - 1);
        return HP_ERR_INVALID;
    }
    return HP_OK;
}

static hp_err wait_fd(conn *c, short events)
{
    struct pollfd pfd = {.fd = c->fd, .events = events};
    int n;
    do
        n = poll(&pfd, 1, c->timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return fail(c, HP_ERR_IO, "timed out after %d ms", c->timeout_ms);
    if (n < 0)
        return fail(c, HP_ERR_IO, "poll: %s", strerror(errno));
    return HP_OK;
}

static hp_err connect_addr(conn *c, const struct addrinfo *ai)
{
    c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return fail(c, HP_ERR_IO, "socket: %s", strerror(errno));
    int soerr = 0;
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        soerr = errno;
        if (soerr == EINPROGRESS) {
            hp_err rc = wait_fd(c, POLLOUT);
            if (rc != HP_OK)
                goto out_close;
            socklen_t sl = sizeof soerr;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                soerr = errno;
        }
    }
    if (soerr == 0) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return HP_OK;
    }
    fail(c, HP_ERR_IO, "connect: %s", strerror(soerr));
out_close:
    close(c->fd);
    c->fd = -1;
    return HP_ERR_IO;
}

static hp_err open_conn(conn *c)
{
    char service[16];
    snprintf(service, sizeof service, "%d", c->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(c->host, service, &hints, &res);
    if (gai != 0)
        return fail(c, HP_ERR_IO, "%s", gai_strerror(gai));
    hp_err rc = HP_ERR_IO;
    for (struct addrinfo *ai = res; ai && rc != HP_OK; ai = ai->ai_next)
        rc = connect_addr(c, ai);
    freeaddrinfo(res);
    return rc;
}

static hp_err send_all(conn *c, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            hp_err rc = wait_fd(c, POLLOUT);
            if (rc != HP_OK)
                return rc;
            continue;
        }
        if (n < 0)
            return fail(c, HP_ERR_IO, "send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return HP_OK;
}

/* Reads what is there into in; *eof at the peer's close. */
static hp_err read_some(conn *c, hp_buf *in, bool *eof)
{
    char chunk[16384];
    for (;;) {
        ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
        if (n > 0) {
            if (hp_buf_append(in, chunk, (size_t)n) != HP_OK)
                return fail(c, HP_ERR_INVALID, "response larger than %zu bytes", in->cap);
            return HP_OK;
        }
        if (n == 0) {
            *eof = true;
            return HP_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail(c, HP_ERR_IO, "read: %s", strerror(errno));
        hp_err rc = wait_fd(c, POLLIN);
        if (rc != HP_OK)
            return rc;
    }
}

/* Position just after the blank line ending the head, or 0 while there is none. */
static size_t head_end(const hp_buf *in)
{
    for (size_t i = 0; i + 1 < in->len; i++) {
        if (in->data[i] != '\n')
            continue;
        if (in->data[i + 1] == '\n')
            return i + 2;
        if (i + 2 < in->len && in->data[i + 1] == '\r' && in->data[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The next line of *p (ending in LF or CRLF, cut at end), NUL-terminated in place. */
static char *next_line(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *line = *p;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    char *stop = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (stop > line && stop[-1] == '\r')
        stop--;
    *stop = '\0';
    return line;
}

/* Parses the status line and headers of head (len bytes, modified). */
static hp_err parse_head(conn *c, char *head, size_t len, hp_httpc_response *resp)
{
    char *p = head, *end = head + len, *stop;
    char *line = next_line(&p, end);
    if (!line || strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12 || line[8] != ' ')
        return fail(c, HP_ERR_INVALID, "bad status line \"%.60s\"", line ? line : "");
    long v = strtol(line + 9, &stop, 10);
    if (stop != line + 12 || v < 100 || v > 999)
        return fail(c, HP_ERR_INVALID, "bad status line \"%.60s\"", line);
    resp->status = (int)v;
    resp->names = hp_xcalloc(MAX_HEADERS, sizeof *resp->names);
    resp->values = hp_xcalloc(MAX_HEADERS, sizeof *resp->values);
    while ((line = next_line(&p, end)) != NULL && line[0] != '\0') {
        char *colon = strchr(line, ':');
        if (!colon)
            return fail(c, HP_ERR_INVALID, "bad header line \"%.60s\"", line);
        if (resp->nheaders == MAX_HEADERS)
            continue;
        *colon = '\0';
        char *val = colon + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        size_t vl = strlen(val);
        while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
            val[--vl] = '\0';
        resp->names[resp->nheaders] = hp_xstrdup(line);
        resp->values[resp->nheaders++] = hp_xstrdup(val);
    }
    return HP_OK;
}

typedef enum { BODY_PARTIAL, BODY_DONE, BODY_BAD } body_state;

/* Decodes the chunked body in p[0..len) into out, if it is complete. */
static body_state dechunk(const char *p, size_t len, hp_buf *out)
{
    size_t pos = 0;
    for (;;) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        if (!nl)
            return BODY_PARTIAL;
        char *end;
        errno = 0;
        unsigned long long size = strtoull(p + pos, &end, 16);
        if (end == p + pos || errno != 0 || size > out->cap)
            return BODY_BAD;
        pos = (size_t)(nl - p) + 1;
        if (size == 0)
            return BODY_DONE; /* trailers are not kept */
        if (len - pos < size + 2)
            return BODY_PARTIAL;
        if (hp_buf_append(out, p + pos, (size_t)size) != HP_OK)
            return BODY_BAD;
        pos += (size_t)size;
        if (p[pos] == '\r')
            pos++;
        if (pos >= len || p[pos] != '\n')
            return pos >= len ? BODY_PARTIAL : BODY_BAD;
        pos++;
    }
}

/* Whether the body after the head (in[start..]) is complete; fills resp->body when it is. */
static body_state body_of(conn *c, hp_buf *in, size_t start, bool eof, size_t max_body,
                          hp_httpc_response *resp, const char *method)
{
    const char *te = hp_httpc_response_header(resp, "Transfer-Encoding");
    const char *cl = hp_httpc_response_header(resp, "Content-Length");
    size_t have = in->len - start;
    hp_buf body;
    hp_buf_init(&body, max_body);
    body_state st = BODY_DONE;
    if (resp->status == 204 || resp->status == 304 || strcmp(method, "HEAD") == 0) {
        /* No body. */
    } else if (te && strcasecmp(te, "chunked") == 0) {
        st = dechunk(in->data + start, have, &body);
    } else if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || *end != '\0' || errno != 0 || n > max_body) {
            fail(c, HP_ERR_INVALID, "bad or too large Content-Length \"%.40s\"", cl);
            st = BODY_BAD;
        } else if (have < n) {
            st = BODY_PARTIAL;
        } else if (hp_buf_append(&body, in->data + start, (size_t)n) != HP_OK) {
            st = BODY_BAD;
        }
    } else if (!eof) {
        st = BODY_PARTIAL;
    } else if (hp_buf_append(&body, in->data + start, have) != HP_OK) {
        st = BODY_BAD;
    }
    if (st == BODY_DONE)
        resp->body = hp_buf_take(&body, &resp->body_len);
    hp_buf_deinit(&body);
    return st;
}

static hp_err send_request(conn *c, const char *method, const char *path,
                           const hp_httpc_header *headers, size_t nheaders, const void *body,
                           size_t len)
{
    hp_buf head;
    hp_buf_init(&head, HP_HTTPC_MAX_HEAD);
    bool v6 = strchr(c->host, ':') != NULL;
    hp_err rc = hp_buf_printf(&head, "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n", method, path,
                              v6 ? "[" : "", c->host, v6 ? "]" : "", c->port);
    for (size_t i = 0; rc == HP_OK && i < nheaders; i++)
        rc = hp_buf_printf(&head, "%s: %s\r\n", headers[i].name, headers[i].value);
    if (rc == HP_OK)
        rc = hp_buf_printf(&head, "Content-Length: %zu\r\nConnection: close\r\n\r\n", len);
    if (rc != HP_OK)
        rc = fail(c, HP_ERR_INVALID, "request head larger than %d bytes", HP_HTTPC_MAX_HEAD);
    if (rc == HP_OK)
        rc = send_all(c, head.data, head.len);
    if (rc == HP_OK && len > 0)
        rc = send_all(c, body, len);
    hp_buf_deinit(&head);
    return rc;
}

static hp_err read_response(conn *c, const char *method, size_t max_body, hp_httpc_response *resp)
{
    hp_buf in;
    /* The chunk-size lines of a chunked body come on top of max_body. */
    hp_buf_init(&in, HP_HTTPC_MAX_HEAD + max_body + max_body / 8 + 1024);
    bool eof = false;
    size_t hlen = 0; /* length of the final response's head, once parsed */
    hp_err rc = HP_OK;
    for (;;) {
        rc = read_some(c, &in, &eof);
        if (rc != HP_OK)
            break;
        size_t hend;
        /* Interim responses (1xx) are parsed and dropped. */
        while (hlen == 0 && (hend = head_end(&in)) > 0) {
            hp_httpc_response_deinit(resp);
            char *head = hp_xstrndup(in.data, hend);
            rc = parse_head(c, head, hend, resp);
            free(head);
            if (rc != HP_OK)
                goto out;
            if (resp->status >= 200) {
                hlen = hend;
            } else {
                memmove(in.data, in.data + hend, in.len - hend);
                in.len -= hend;
            }
        }
        if (hlen > 0) {
            body_state st = body_of(c, &in, hlen, eof, max_body, resp, method);
            if (st == BODY_DONE)
                break;
            if (st == BODY_BAD) {
                if (c->errstr[0] == '\0')
                    fail(c, HP_ERR_INVALID, "malformed or too large response body");
                rc = HP_ERR_INVALID;
                break;
            }
        } else if (in.len > HP_HTTPC_MAX_HEAD) {
            rc = fail(c, HP_ERR_INVALID, "response head larger than %d bytes", HP_HTTPC_MAX_HEAD);
            break;
        }
        if (eof) {
            rc = fail(c, HP_ERR_IO, "connection closed before the response was complete");
            break;
        }
    }
out:
    hp_buf_deinit(&in);
    return rc;
}

hp_err hp_httpc_request(const char *host, int port, const char *method, const char *path,
                        const hp_httpc_header *headers, size_t nheaders, const void *body,
                        size_t len, int timeout_ms, size_t max_body, hp_httpc_response *resp,
                        char *errstr, size_t errstr_size)
{
    conn c = {.fd = -1,
              .timeout_ms = timeout_ms,
              .errstr = errstr,
              .errstr_size = errstr_size,
              .host = host,
              .port = port};
    memset(resp, 0, sizeof *resp);
    if (errstr_size > 0)
        errstr[0] = '\0';
    hp_err rc = open_conn(&c);
    if (rc == HP_OK) {
        hp_err sent = send_request(&c, method, path, headers, nheaders, body, len);
        /* A server may answer (413) and close before the body is all sent. */
        rc = read_response(&c, method, max_body, resp);
        if (rc != HP_OK && sent != HP_OK)
            rc = sent;
    }
    if (c.fd >= 0)
        close(c.fd);
    if (rc != HP_OK)
        hp_httpc_response_deinit(resp);
    return rc;
}

const char *hp_httpc_response_header(const hp_httpc_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->names[i], name) == 0)
            return resp->values[i];
    return NULL;
}

void hp_httpc_response_deinit(hp_httpc_response *resp)
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
