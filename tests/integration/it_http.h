/*
 * it_http: a small blocking HTTP/1.1 client for the integration tests.
 *
 * It speaks just enough HTTP to drive a daemon from a test: one request at a
 * time on a TCP connection (IPv4 or IPv6), a receive timeout on every read,
 * bodies sent with Content-Length, chunked, or not at all (to test limits on
 * the head alone), raw bytes for malformed requests, and responses read by
 * Content-Length, chunked, or to the close. A connection may be reused for
 * keep-alive. Nothing here asserts: every call returns 0 or -1 with a
 * message in conn->err, so a test can tell "refused" from "reset" from a
 * status (the SIGTERM test counts connection errors). For HTTPS,
 * it_http_curl() runs curl(1): the one TLS test needs no TLS code of ours.
 */
#ifndef IT_HTTP_H
#define IT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Largest response body read; a larger one is an error. */
#define IT_HTTP_MAX_BODY (16u * 1024u * 1024u)

/* One request or response header. */
typedef struct it_http_header {
    const char *name;
    const char *value;
} it_http_header;

typedef struct it_http_request {
    const char *method;            /* "POST" */
    const char *path;              /* "/webhooks/orders" */
    const it_http_header *headers; /* sent as given; Host and the framing header are added */
    size_t nheaders;
    const void *body; /* body_len bytes; may be NULL when body_len is 0 or head_only */
    size_t body_len;
    size_t chunk_size; /* > 0: Transfer-Encoding: chunked, in pieces of this size */
    bool head_only;    /* send the head (Content-Length: body_len) but no body */
} it_http_request;

/* A response; every string is owned by it. Free with it_http_response_deinit(). */
typedef struct it_http_response {
    int status;
    char **names; /* header names as received */
    char **values;
    size_t nheaders;
    char *body; /* body_len bytes plus a NUL; "" when empty */
    size_t body_len;
    bool will_close; /* the server said Connection: close, or the body ran to the close */
} it_http_response;

/* A connection; caller storage. */
typedef struct it_http_conn {
    int fd;         /* -1 when closed */
    int timeout_ms; /* for every read and write */
    char host[128]; /* for the Host header */
    int port;
    unsigned char buf[16384]; /* bytes read but not used yet: buf[start..end) */
    size_t start, end;
    char err[256]; /* what went wrong, after a -1 */
} it_http_conn;

/*
 * Connects to host:port (a numeric IPv4 or IPv6 address or a name) with
 * timeout_ms for the connect and for every later read and write. Returns 0,
 * or -1 with conn->err set and conn closed. @thread any (one thread per conn)
 */
int it_http_connect(it_http_conn *conn, const char *host, int port, int timeout_ms);

/* Closes the connection; harmless when closed. */
void it_http_close(it_http_conn *conn);

/*
 * Sends req. Returns 0, or -1 with conn->err set (a write failed: the peer
 * may still have answered, so reading the response is worth a try).
 */
int it_http_send(it_http_conn *conn, const it_http_request *req);

/* Sends len raw bytes as they are. Returns 0 or -1 (conn->err). */
int it_http_send_raw(it_http_conn *conn, const void *bytes, size_t len);

/*
 * Reads one final response (1xx interim responses are skipped) into *resp,
 * which the caller frees with it_http_response_deinit() after a 0. Returns
 * -1 with conn->err set on a timeout, a reset, a close before the response
 * was complete, or a malformed response; *resp is then empty. When the
 * response says the connection closes, conn is closed after it.
 */
int it_http_read(it_http_conn *conn, it_http_response *resp);

/* it_http_send() then it_http_read() on an open connection. */
int it_http_roundtrip(it_http_conn *conn, const it_http_request *req, it_http_response *resp);

/*
 * One request on a connection of its own: connect, send, read, close.
 * Returns 0, or -1 with a message in err (errsz bytes).
 */
int it_http_once(const char *host, int port, int timeout_ms, const it_http_request *req,
                 it_http_response *resp, char *err, size_t errsz);

/* The value of the first header called name (case-insensitive), or NULL. */
const char *it_http_response_header(const it_http_response *resp, const char *name);

/* Frees what resp holds and zeroes it. */
void it_http_response_deinit(it_http_response *resp);

/*
 * HTTPS through curl(1) -sk (a self-signed certificate is fine): POSTs body
 * to url with headers, within timeout_s. Fills resp->status and resp->body
 * (no headers). Returns 0, or -1 with a message in err when curl could not
 * be run or got no response.
 */
int it_http_curl(const char *url, const it_http_header *headers, size_t nheaders, const void *body,
                 size_t len, int timeout_s, it_http_response *resp, char *err, size_t errsz);

#endif /* IT_HTTP_H */
