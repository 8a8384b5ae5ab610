/*
 * hp_httpc: one HTTP/1.1 request over a plain TCP socket, blocking, bounded.
 *
 * hookpipectl posts signed webhooks to a gateway and reads the answer; that
 * needs no TLS, no keep-alive and no pipelining, so this is the whole client:
 * connect (IPv4 or IPv6, with a timeout), send the head and a body with
 * Content-Length and "Connection: close", read the response (framed by
 * Content-Length, chunked, or the close) with every read bounded by the same
 * timeout and the body by a cap. It is the core of the integration tests'
 * it_http, without their test-only knobs (raw bytes, chunked uploads, reuse).
 */
#ifndef HP_HTTPC_H
#define HP_HTTPC_H

#include "hp_err.h"

#include <stddef.h>

/* Longest response head (status line and headers) accepted. */
#define HP_HTTPC_MAX_HEAD (64 * 1024)

/* An "http://host[:port][/path]" URL, split. */
typedef struct hp_httpc_url {
    char host[256];  /* without the brackets of an IPv6 literal */
    int port;        /* 80 when the URL names none */
    char path[2048]; /* "/" when the URL has none; query included */
} hp_httpc_url;

typedef struct hp_httpc_header {
    const char *name;
    const char *value;
} hp_httpc_header;

/* A response; every string owned by it. Free with hp_httpc_response_deinit(). */
typedef struct hp_httpc_response {
    int status;
    char **names; /* as received */
    char **values;
    size_t nheaders;
    char *body; /* body_len bytes plus a NUL */
    size_t body_len;
} hp_httpc_response;

/*
 * Splits url into *out. Only "http://" URLs: HP_ERR_INVALID with a message
 * in errstr for https (say so: this client has no TLS), another scheme, a
 * bad port or parts that do not fit. @thread any
 */
hp_err hp_httpc_parse_url(const char *url, hp_httpc_url *out, char *errstr,
                          size_t errstr_size) HP_WARN_UNUSED;

/*
 * Sends method path to host:port with headers[0..nheaders) (Host,
 * Content-Length and Connection are added), then body (len bytes; NULL if
 * 0), and reads the response into *resp, whose body may hold at most
 * max_body bytes. Every connect, read and write waits at most timeout_ms.
 * HP_OK: the caller frees *resp with hp_httpc_response_deinit(). HP_ERR_IO
 * (refused, reset, timed out, closed early) or HP_ERR_INVALID (a malformed
 * or oversized response) with "host:port: what" in errstr; *resp is then
 * empty. @thread any
 */
hp_err hp_httpc_request(const char *host, int port, const char *method, const char *path,
                        const hp_httpc_header *headers, size_t nheaders, const void *body,
                        size_t len, int timeout_ms, size_t max_body, hp_httpc_response *resp,
                        char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/* The value of the first header called name (case-insensitive), or NULL. @thread any */
const char *hp_httpc_response_header(const hp_httpc_response *resp, const char *name);

/* Frees what resp holds and zeroes it. @thread owner */
void hp_httpc_response_deinit(hp_httpc_response *resp);

#endif /* HP_HTTPC_H */
