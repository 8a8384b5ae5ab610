/*
 * hp_admin: the admin HTTP server. See hp_admin.h.
 *
 * libmicrohttpd runs it on one internal thread with epoll; admin traffic is
 * a scrape every few seconds and a probe or two, so one thread, a small
 * connection limit and an inactivity timeout are plenty.
 *
 * The listening socket is opened here and handed to MHD
 * (MHD_OPTION_LISTEN_SOCKET) rather than bound by MHD from a sockaddr:
 * MHD_start_daemon() only returns NULL, while an operator needs to read why
 * (address in use, address not on this host, permission denied) next to the
 * address. MHD owns the socket from then on and closes it when stopped.
 *
 * Every answer is queued on the first call of the access handler, as MHD
 * allows: no route reads a body (MHD discards one if a client sends it).
 */
#include "hp_admin.h"

#include "hp_alloc.h"
#include "hp_log.h"
#include "hp_net.h"
#include "hp_time.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ADMIN_CONNECTION_LIMIT 64u
#define ADMIN_CONNECTION_TIMEOUT_S 10u
#define READY_REASON_SIZE 256
#define JSON_TYPE "application/json"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct hp_admin {
    struct MHD_Daemon *daemon;
    hp_metrics *reg;
    hp_admin_ready_fn ready;
    void *ready_opaque;
    int port;
};

enum route { ROUTE_NONE, ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_METRICS };

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...) HP_PRINTF(3, 4);
static void on_mhd_log(void *cls, const char *fmt, va_list ap) HP_PRINTF(2, 0);

/* A message cut to errstr_size is still the best we can do: no check needed. */
static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (!errstr || errstr_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(errstr, errstr_size, fmt, ap) < 0)
        errstr[0] = '\0';
    va_end(ap);
}

/* ---- responses ---- */

/* Adds the headers, queues resp and releases our reference; NULL resp is MHD_NO. */
static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status,
                             struct MHD_Response *resp, const char *content_type, const char *allow)
{
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_NO;
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) == MHD_YES &&
        (!allow || MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) == MHD_YES))
        ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result reply_static(struct MHD_Connection *conn, unsigned int status,
                                    const char *body)
{
    /* PERSISTENT: MHD neither copies nor writes nor frees the text. */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    return queue(conn, status, resp, JSON_TYPE, NULL);
}

/* Sends body (malloc'd, freed by MHD once sent, or here on failure). */
static enum MHD_Result reply_owned(struct MHD_Connection *conn, unsigned int status,
                                   const char *content_type, char *body, size_t len,
                                   const char *allow)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    return queue(conn, status, resp, content_type, allow);
}

/* Sends obj (a reference we take; NULL when jansson ran out of memory) as compact JSON. */
static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned int status, json_t *obj,
                                  const char *allow)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text)
        return MHD_NO;
    return reply_owned(conn, status, JSON_TYPE, text, strlen(text), allow);
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned int status,
                                   const char *code, const char *message, const char *allow)
{
    char ts[HP_TIME_RFC3339_SIZE];
    if (hp_time_format_rfc3339(hp_time_now_ms(), ts, sizeof ts) == 0)
        ts[0] = '\0';
    json_t *obj = json_pack("{s:s, s:s, s:s}", "error", code, "message", message, "timestamp", ts);
    return reply_json(conn, status, obj, allow);
}

/* ---- routes ---- */

static enum MHD_Result serve_readyz(const hp_admin *adm, struct MHD_Connection *conn)
{
    char reason[READY_REASON_SIZE] = "";
    if (!adm->ready || adm->ready(adm->ready_opaque, reason, sizeof reason))
        return reply_static(conn, MHD_HTTP_OK, "{\"status\":\"ready\"}");
    reason[sizeof reason - 1] = '\0';
    json_t *text = json_string(reason[0] ? reason : "no reason given");
    if (!text)
        text = json_string("(reason is not valid UTF-8)");
    json_t *obj = json_pack("{s:s, s:o}", "status", "not ready", "reason", text);
    return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE, obj, NULL);
}

static enum MHD_Result serve_metrics(const hp_admin *adm, struct MHD_Connection *conn)
{
    size_t len = 0;
    char *text = adm->reg ? hp_metrics_render(adm->reg, &len) : hp_xstrdup("");
    if (!text)
        return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "the metrics exceed the render limit", NULL);
    return reply_owned(conn, MHD_HTTP_OK, METRICS_TYPE, text, len, NULL);
}

static enum route route_of(const char *url)
{
    if (strcmp(url, "/healthz") == 0)
        return ROUTE_HEALTHZ;
    if (strcmp(url, "/readyz") == 0)
        return ROUTE_READYZ;
    if (strcmp(url, "/metrics") == 0)
        return ROUTE_METRICS;
    return ROUTE_NONE;
}

/* MHD's access handler. @thread admin */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    const hp_admin *adm = cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;

    enum route route = route_of(url);
    if (route == ROUTE_NONE)
        return reply_error(conn, MHD_HTTP_NOT_FOUND, "not_found",
                           "no such path; the admin paths are /healthz, /readyz and /metrics",
                           NULL);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                           "use GET or HEAD", "GET, HEAD");
    switch (route) {
    case ROUTE_HEALTHZ:
        return reply_static(conn, MHD_HTTP_OK, "{\"status\":\"ok\"}");
    case ROUTE_READYZ:
        return serve_readyz(adm, conn);
    default:
        return serve_metrics(adm, conn);
    }
}

/* MHD's error log, as JSON lines. @thread admin, or the caller of hp_admin_start */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        return;
    size_t len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n')
        msg[--len] = '\0';
    hp_log(HP_LOG_WARN, "admin", msg);
}

/* ---- lifecycle ---- */

hp_err hp_admin_start(hp_admin **out, const char *listen_addr, hp_metrics *reg,
                      hp_admin_ready_fn ready, void *ready_opaque, char *errstr, size_t errstr_size)
{
    hp_admin *adm = NULL;
    int fd = -1;
    *out = NULL;
    hp_err rc = hp_net_listen("admin_listen", listen_addr, &fd, errstr, errstr_size);
    if (rc != HP_OK)
        goto out;

    adm = hp_xcalloc(1, sizeof *adm);
    adm->reg = reg;
    adm->ready = ready;
    adm->ready_opaque = ready_opaque;
    adm->port = hp_net_local_port(fd);
    adm->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, adm, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, ADMIN_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, ADMIN_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!adm->daemon) {
        /* Depending on where it failed, MHD may have closed fd already: leaking
         * one descriptor on this fatal path beats closing another thread's. */
        fd = -1;
        set_err(errstr, errstr_size, "admin_listen %s: cannot start the HTTP server", listen_addr);
        rc = HP_ERR_IO;
        goto out;
    }
    fd = -1; /* MHD's now */
    *out = adm;
    adm = NULL;
out:
    if (fd >= 0)
        close(fd);
    free(adm);
    return rc;
}

void hp_admin_stop(hp_admin *adm)
{
    if (!adm)
        return;
    MHD_stop_daemon(adm->daemon);
    free(adm);
}

int hp_admin_port(const hp_admin *adm)
{
    return adm->port;
}
