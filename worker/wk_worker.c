/*
 * wk_worker: the process around the lanes. See wk_worker.h.
 *
 * Each lane runs on a thread of its own and owns its consumer, PostgreSQL
 * session and DLQ producer, so lanes never wait on one another; what they
 * share is thread-safe (the metrics registry, the configuration, read only)
 * or atomic (the stop flag, each lane's readiness).
 */
#define _GNU_SOURCE /* pthread_setname_np: lanes show as hp-lane-N in top and perf */
#include "wk_worker.h"

#include "hp_admin.h"
#include "hp_alloc.h"
#include "hp_log.h"
#include "wk_lane.h"
#include "wk_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wk_worker {
    const hp_config *cfg;
    atomic_bool *stop;
    hp_metrics *reg;
    wk_metrics metrics;
    hp_admin *admin;
    wk_lane **lanes;
    pthread_t *threads;
    int nlanes;
};

/* Ready when every lane is: a lane that cannot reach PostgreSQL or Kafka
 * holds its partitions without making progress. */
static bool ready(void *opaque, char *reason, size_t reason_size)
{
    wk_worker *w = opaque;
    char why[256];
    for (int i = 0; i < w->nlanes; i++) {
        if (!wk_lane_ready(w->lanes[i], why, sizeof why)) {
            if (w->nlanes == 1)
                snprintf(reason, reason_size, "%s", why);
            else
                snprintf(reason, reason_size, "lane %d: %s", i, why);
            return false;
        }
    }
    return true;
}

hp_err wk_worker_new(wk_worker **out, const hp_config *cfg, atomic_bool *stop, char *errstr,
                     size_t errstr_size)
{
    if (!cfg->postgres.dsn) {
        snprintf(errstr, errstr_size, "postgres.dsn: required (or HOOKPIPE_POSTGRES_DSN)");
        return HP_ERR_INVALID;
    }
    wk_worker *w = hp_xcalloc(1, sizeof *w);
    w->cfg = cfg;
    w->stop = stop;
    w->reg = hp_metrics_new();
    wk_metrics_init(&w->metrics, w->reg);
    w->lanes = hp_xcalloc((size_t)cfg->worker.lanes, sizeof *w->lanes);
    w->threads = hp_xcalloc((size_t)cfg->worker.lanes, sizeof *w->threads);

    hp_err rc = HP_OK;
    for (; w->nlanes < cfg->worker.lanes; w->nlanes++) {
        rc = wk_lane_new(&w->lanes[w->nlanes], w->nlanes, cfg, &w->metrics, stop, errstr,
                         errstr_size);
        if (rc != HP_OK)
            break;
    }
    if (rc == HP_OK)
        rc = hp_admin_start(&w->admin, cfg->worker.admin_listen, w->reg, ready, w, errstr,
                            errstr_size);
    if (rc != HP_OK) {
        wk_worker_free(w);
        return rc;
    }
    *out = w;
    return HP_OK;
}

static void *lane_main(void *arg)
{
    wk_lane_run(arg);
    return NULL;
}

hp_err wk_worker_run(wk_worker *w)
{
    char errstr[1024];
    /* Refuse a wrong schema at once rather than retry for ever; the other
     * lanes use the same database. */
    if (wk_lane_check_schema(w->lanes[0], errstr, sizeof errstr) == HP_ERR_FATAL) {
        hp_log(HP_LOG_ERROR, "worker", errstr);
        return HP_ERR_FATAL;
    }
    hp_log(HP_LOG_INFO, "worker", "consuming", HP_LOG_STR("topic", w->cfg->kafka.topic),
           HP_LOG_STR("group", w->cfg->worker.group_id), HP_LOG_INT("lanes", w->nlanes),
           HP_LOG_INT("admin_port", hp_admin_port(w->admin)));

    hp_err rc = HP_OK;
    int started = 0;
    for (; started < w->nlanes; started++) {
        int err = pthread_create(&w->threads[started], NULL, lane_main, w->lanes[started]);
        if (err) {
            hp_log(HP_LOG_ERROR, "worker", "cannot start a lane thread",
                   HP_LOG_INT("lane", started), HP_LOG_STR("error", strerror(err)));
            atomic_store(w->stop, true);
            rc = HP_ERR_FATAL;
            break;
        }
        char name[16]; /* the kernel's limit, NUL included; lanes <= 64 */
        snprintf(name, sizeof name, "hp-lane-%d", started % 100);
        pthread_setname_np(w->threads[started], name);
    }
    for (int i = 0; i < started; i++)
        pthread_join(w->threads[i], NULL);
    hp_log(HP_LOG_INFO, "worker", "stopping");
    return rc;
}

void wk_worker_free(wk_worker *w)
{
    if (!w)
        return;
    hp_admin_stop(w->admin); /* it asks the lanes whether they are ready */
    for (int i = 0; i < w->nlanes; i++)
        wk_lane_free(w->lanes[i]);
    free(w->lanes);
    free(w->threads);
    hp_metrics_free(w->reg);
    free(w);
}
