/*
 * bn_http: reading HTTP/1.1 response heads, for hp-load.
 *
 * hp-load keeps one request outstanding per connection, so a response is
 * a head followed by a body whose end is known from the head: its
 * Content-Length, none for 1xx/204/304, or (without a length) the close of
 * the connection. Chunked responses are refused as a protocol error: the
 * gateway and the servers we compare it with send Content-Length.
 */
#ifndef BN_HTTP_H
#define BN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest response head accepted. */
#define BN_HTTP_MAX_HEAD 8192

typedef struct bn_resp {
    int status;        /* 100..599 */
    bool close;        /* the server closes the connection after this response */
    bool until_close;  /* no length given: the body runs until the close */
    uint64_t body_len; /* when !until_close */
} bn_resp;

typedef enum {
    BN_HTTP_PARTIAL, /* the head is not complete yet: read more */
    BN_HTTP_HEAD,    /* *resp and *head_len are set */
    BN_HTTP_BAD      /* malformed, chunked, or longer than BN_HTTP_MAX_HEAD */
} bn_http_result;

/*
 * Parses the response head at the start of buf (len bytes). On BN_HTTP_HEAD
 * fills *resp and sets *head_len to the bytes the head takes. @thread any
 */
bn_http_result bn_http_parse_head(const char *buf, size_t len, bn_resp *resp, size_t *head_len);

#endif /* BN_HTTP_H */
