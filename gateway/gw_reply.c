/*
 * gw_reply: the gateway's HTTP answers. See gw_reply.h.
 */
#include "gw_reply.h"

#include "hp_time.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_answer_error(gw_answer *a, unsigned status, const char *error, const char *field,
                     const char *fmt, ...)
{
    va_list ap;
    memset(a, 0, sizeof *a);
    a->status = status;
    a->error = error;
    a->field = field;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
}

/* The JSON body of a; the caller frees it. */
static char *render(const gw_answer *a)
{
    json_t *obj = json_object();
    if (!a->error) {
        json_object_set_new(obj, "status", json_string(a->event_id ? "accepted" : "ignored"));
        if (a->event_id)
            json_object_set_new(obj, "event_id", json_string(a->event_id));
    } else {
        char ts[HP_TIME_RFC3339_SIZE];
        hp_time_format_rfc3339(hp_time_now_ms(), ts, sizeof ts);
        json_object_set_new(obj, "error", json_string(a->error));
        json_object_set_new(obj, "message", json_string(a->message));
        if (a->field)
            json_object_set_new(obj, "field", json_string(a->field));
        json_object_set_new(obj, "timestamp", json_string(ts));
    }
    /* An id that is not valid UTF-8 can't be a JSON string: jansson left it
     * out above; say so rather than answer with a body that lies. */
    if (a->event_id && !json_object_get(obj, "event_id"))
        json_object_set_new(obj, "event_id", json_null());
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return text;
}

enum MHD_Result gw_reply_queue(struct MHD_Connection *conn, const gw_answer *a, bool close)
{
    char *body = render(a);
    if (!body)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(strlen(body), body, free);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (a->retry_after_s > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", a->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (a->status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
    if (close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, a->status, resp);
    MHD_destroy_response(resp);
    return ret;
}
