/*
 * gw_gateway: the life cycle of one gateway. See gw_gateway.h.
 *
 * Start: metrics, sources, the Kafka producer, the webhook listener
 * (libmicrohttpd, internal thread pool on epoll, suspend/resume), the admin
 * listener. Stop is a drain, in the order libmicrohttpd needs: it may not be
 * stopped while a connection is suspended, so every record in flight must
 * first get its delivery report and every request its answer.
 */
#include "gw_int.h"

#include "hp_alloc.h"
#include "hp_log.h"
#include "hp_net.h"
#include "hp_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* TLS material is small; a bigger file is not a PEM certificate or key. */
#define PEM_MAX (1024 * 1024)
/*
 * libmicrohttpd's memory per connection: request line, headers, read buffer.
 * MHD zeroes the whole pool after every request, so its size is paid per
 * request: at 64 KiB that was 7-10 % of the gateway's CPU. 16 KiB still
 * admits a request head of about 15 KiB (docs/http-api.md), several times
 * what any provider sends; a longer one is answered 431.
 */
#define CONNECTION_MEMORY (16 * 1024)
/* After the last answer, how long closing connections get to flush. */
#define DRAIN_FLUSH_MS 1000

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    if (n && msg[n - 1] == '\n')
        msg[n - 1] = '\0';
    hp_log(HP_LOG_WARN, "http", msg);
}

static bool ready(void *opaque, char *reason, size_t reason_size)
{
    gw_gateway *gw = opaque;
    if (atomic_load(&gw->draining)) {
        snprintf(reason, reason_size, "draining");
        return false;
    }
    return gw_producer_ready(gw->producer, reason, reason_size);
}

hp_err gw_gateway_check(const hp_config *cfg, char *errstr, size_t errstr_size)
{
    if (cfg->nsources == 0) {
        snprintf(errstr, errstr_size, "sources: the gateway needs at least one source");
        return HP_ERR_INVALID;
    }
    return gw_producer_check_config(cfg, errstr, errstr_size);
}

/* Reads a PEM file for MHD (which wants the text in memory). */
static char *read_pem(const char *path, char *errstr, size_t errstr_size)
{
    hp_buf buf;
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "gateway.tls: cannot read %s", path);
        return NULL;
    }
    hp_buf_init(&buf, PEM_MAX);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (hp_buf_append(&buf, chunk, n) != HP_OK) {
            snprintf(errstr, errstr_size, "gateway.tls: %s is larger than 1 MiB", path);
            hp_buf_deinit(&buf);
            fclose(f);
            return NULL;
        }
    }
    fclose(f);
    return hp_buf_take(&buf, NULL);
}

/* Enough file descriptors for max_connections: raise the soft limit to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static unsigned http_threads(const hp_config *cfg)
{
    if (cfg->gateway.threads > 0)
        return (unsigned)cfg->gateway.threads;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 ? (unsigned)cpus : 1;
}

static hp_err start_http(gw_gateway *gw, char *errstr, size_t errstr_size)
{
    const hp_gateway_config *g = &gw->cfg->gateway;
    char *cert = NULL, *key = NULL;
    int fd = -1;
    hp_err rc = hp_net_listen("gateway.listen", g->listen, &fd, errstr, errstr_size);
    if (rc != HP_OK)
        return rc;
    gw->port = hp_net_local_port(fd);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (g->tls.cert_file) {
        cert = read_pem(g->tls.cert_file, errstr, errstr_size);
        key = cert ? read_pem(g->tls.key_file, errstr, errstr_size) : NULL;
        if (!key) {
            rc = HP_ERR_INVALID;
            goto out;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        {cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_END, 0, NULL},
    };
    gw->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, gw_http_access, gw, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, gw,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, http_threads(gw->cfg),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)g->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)g->connection_timeout_s, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)g->max_connections_per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, gw_http_completed, gw,
        MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!gw->daemon) {
        snprintf(errstr, errstr_size, "gateway.listen %s: the HTTP server did not start%s",
                 g->listen, cert ? " (is the TLS certificate or key malformed?)" : "");
        rc = HP_ERR_FATAL;
        goto out;
    }
    fd = -1; /* MHD's now */
out:
    if (fd >= 0)
        close(fd);
    /* MHD copied the PEM text into its TLS credentials. */
    hp_free_secret(key);
    free(cert);
    return rc;
}

static void set_instance_id(gw_gateway *gw)
{
    char host[256] = "unknown";
    if (gw->cfg->gateway.instance_id) {
        snprintf(gw->instance_id, sizeof gw->instance_id, "%s", gw->cfg->gateway.instance_id);
        return;
    }
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(gw->instance_id, sizeof gw->instance_id, "%s:%ld", host, (long)getpid());
}

static void free_gateway(gw_gateway *gw)
{
    gw_waitlist_deinit(&gw->waiting);
    for (size_t i = 0; i < gw->nsources; i++)
        gw_ratelimit_free(gw->sources[i].limit);
    free(gw->sources);
    gw_admit_deinit(&gw->admit);
    hp_metrics_free(gw->reg);
    free(gw);
}

static void stop_reaper(gw_gateway *gw)
{
    atomic_store(&gw->stopping, true);
    pthread_join(gw->reaper, NULL);
}

hp_err gw_gateway_start(gw_gateway **out, const hp_config *cfg, char *errstr, size_t errstr_size)
{
    hp_err rc = gw_gateway_check(cfg, errstr, errstr_size);
    if (rc != HP_OK)
        return rc;

    gw_gateway *gw = hp_xcalloc(1, sizeof *gw);
    gw->cfg = cfg;
    set_instance_id(gw);
    gw_waitlist_init(&gw->waiting);
    gw->reg = hp_metrics_new();
    gw_metrics_init(&gw->metrics, gw->reg);
    gw_admit_init(&gw->admit, &cfg->gateway, gw->reg);
    gw->nsources = cfg->nsources;
    gw->sources = hp_xcalloc(cfg->nsources, sizeof *gw->sources);
    for (size_t i = 0; i < cfg->nsources; i++) {
        const hp_source *src = &cfg->sources[i];
        gw->sources[i].conf = src;
        gw->sources[i].limit = gw_ratelimit_new(&src->rate_limit);
        if (src->verify.scheme == HP_VERIFY_NONE)
            hp_log(HP_LOG_WARN, "gateway", "source accepts unsigned requests (insecure: true)",
                   HP_LOG_STR("source", src->name));
    }
    raise_fd_limit();

    rc = gw_producer_new(&gw->producer, cfg, gw_ingest_delivered, gw, errstr, errstr_size);
    if (rc != HP_OK) {
        free_gateway(gw);
        return rc;
    }
    pthread_create(&gw->reaper, NULL, gw_ingest_reaper, gw);
    rc = start_http(gw, errstr, errstr_size);
    if (rc == HP_OK)
        rc = hp_admin_start(&gw->admin, cfg->gateway.admin_listen, gw->reg, ready, gw, errstr,
                            errstr_size);
    if (rc != HP_OK) {
        if (gw->daemon)
            MHD_stop_daemon(gw->daemon);
        stop_reaper(gw);
        gw_producer_close(gw->producer, 0);
        free_gateway(gw);
        return rc;
    }
    hp_log(HP_LOG_INFO, "gateway", "listening", HP_LOG_STR("listen", cfg->gateway.listen),
           HP_LOG_INT("port", gw->port), HP_LOG_INT("admin_port", hp_admin_port(gw->admin)),
           HP_LOG_INT("threads", http_threads(cfg)), HP_LOG_STR("instance", gw->instance_id),
           HP_LOG_BOOL("tls", cfg->gateway.tls.cert_file != NULL));
    *out = gw;
    return HP_OK;
}

int gw_gateway_port(const gw_gateway *gw)
{
    return gw->port;
}

void gw_gateway_tick(gw_gateway *gw)
{
    char reason[160];
    hp_gauge_set(gw->metrics.ready_now, ready(gw, reason, sizeof reason) ? 1 : 0);
    gw_admit_tick(&gw->admit);
}

/* Waits up to timeout_ms for the requests in flight to be answered. */
static bool wait_inflight(gw_gateway *gw, int timeout_ms)
{
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (atomic_load(&gw->inflight) > 0) {
        if (hp_time_mono_ns() > deadline)
            return false;
        usleep(5000);
    }
    return true;
}

static unsigned open_connections(gw_gateway *gw)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(gw->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
}

void gw_gateway_stop(gw_gateway *gw)
{
    int64_t t0 = hp_time_mono_ns();
    atomic_store(&gw->draining, true);
    hp_gauge_set(gw->metrics.ready_now, 0);
    hp_log(HP_LOG_INFO, "gateway", "draining", HP_LOG_INT("inflight", atomic_load(&gw->inflight)));

    /* No new connections; open ones get their answers with "Connection: close". */
    MHD_socket lfd = MHD_quiesce_daemon(gw->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);

    /* Every request in flight is answered within ack_timeout_ms: by its
     * record's delivery report or, at the deadline, by the reaper. */
    int ack_ms = gw->cfg->gateway.ack_timeout_ms;
    bool drained = wait_inflight(gw, ack_ms + 1000);
    int64_t flush_deadline = hp_time_mono_ns() + DRAIN_FLUSH_MS * 1000000LL;
    while (open_connections(gw) > 0 && hp_time_mono_ns() < flush_deadline)
        usleep(5000);

    if (drained)
        MHD_stop_daemon(gw->daemon);
    else
        hp_log(HP_LOG_ERROR, "gateway", "requests still unanswered; not stopping HTTP",
               HP_LOG_INT("inflight", atomic_load(&gw->inflight)));
    stop_reaper(gw);
    /* Reports still due (of requests the reaper answered) arrive here. */
    gw_producer_close(gw->producer, ack_ms);
    hp_admin_stop(gw->admin);
    hp_log(HP_LOG_INFO, "gateway", "stopped",
           HP_LOG_DBL("drain_ms", (double)(hp_time_mono_ns() - t0) / 1e6));
    free_gateway(gw);
}
