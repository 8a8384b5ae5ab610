/*
 * gw_reply: the gateway's HTTP answers (docs/http-api.md).
 *
 *   200 {"status":"accepted","event_id":"…"}   the record is in Kafka
 *   200 {"status":"ignored"}                   an event type not subscribed
 *   4xx/5xx {"error":"<code>","message":"…","field":"…","timestamp":"<RFC 3339>"}
 *
 * "field" appears only where one field is to blame (400 invalid_payload).
 */
#ifndef GW_REPLY_H
#define GW_REPLY_H

#include <microhttpd.h>
#include <stdbool.h>

/* What to answer a request with. Strings are borrowed until queued. */
typedef struct gw_answer {
    unsigned status;      /* HTTP status */
    const char *error;    /* error code ("invalid_signature"); NULL for a 200 */
    char message[256];    /* error message, or "" */
    const char *field;    /* the field to blame, or NULL */
    int retry_after_s;    /* > 0: a Retry-After header */
    const char *event_id; /* 200 accepted: the id; NULL with status 200 = ignored */
} gw_answer;

/* Fills a with an error answer; message is printf-style. @thread any */
void gw_answer_error(gw_answer *a, unsigned status, const char *error, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Queues a on conn. close adds "Connection: close" (draining: move the
 * client to another gateway). Returns what MHD_queue_response returned.
 * @thread http
 */
enum MHD_Result gw_reply_queue(struct MHD_Connection *conn, const gw_answer *a, bool close);

#endif /* GW_REPLY_H */
