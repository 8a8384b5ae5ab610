/*
 * wk_consumer: the worker's consumer group membership. See wk_consumer.h.
 */
#include "wk_consumer.h"

#include "hp_alloc.h"
#include "hp_kafka.h"
#include "hp_log.h"
#include "hp_time.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wk_consumer {
    rd_kafka_t *rk;
    const hp_config *cfg;
    wk_metrics *metrics;
    int lane;
    atomic_bool up;
    bool assigned; /* the group assigned partitions at least once */
    bool left;     /* wk_consumer_leave ran */
};

/* Longest wait at close for a first assignment that is under way. */
#define CLOSE_ASSIGN_WAIT_MS 2000

static void forget_lag(wk_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        char p[16];
        snprintf(p, sizeof p, "%d", (int)parts->elems[i].partition);
        const char *const labels[] = {parts->elems[i].topic, p};
        hp_gauge_remove(c->metrics->lag, labels);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    wk_consumer *c = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* The group coordinator answered: Kafka is reachable now, without
         * waiting for the first statistics (which come after 5 s). */
        atomic_store(&c->up, true);
        c->assigned = true;
        hp_log(HP_LOG_INFO, "worker", "partitions assigned", HP_LOG_INT("lane", c->lane),
               HP_LOG_INT("count", parts->cnt));
        if (coop)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
        else
            rd_kafka_assign(rk, parts);
        return;
    }
    /* Revoked (or lost): what is done must be committed before another member
     * takes over, or it would apply those records again (harmless, but slow). */
    hp_log(HP_LOG_INFO, "worker", "partitions revoked", HP_LOG_INT("lane", c->lane),
           HP_LOG_INT("count", parts->cnt), HP_LOG_STR("reason", rd_kafka_err2name(err)));
    rd_kafka_resp_err_t cerr = rd_kafka_commit(rk, NULL, 0);
    if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
        hp_log(HP_LOG_WARN, "worker", "commit on revoke failed",
               HP_LOG_STR("error", rd_kafka_err2str(cerr)));
    forget_lag(c, parts);
    if (coop)
        rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
    else
        rd_kafka_assign(rk, NULL);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    wk_consumer *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        atomic_store(&c->up, false);
    hp_log(HP_LOG_WARN, "kafka", reason, HP_LOG_STR("error", rd_kafka_err2name(err)));
}

/* Statistics (every 5 s): per-partition lag, and whether a broker is up.
 * "Up" is also set by an assignment and by every record polled, so that
 * /readyz turns ready as soon as the group is joined; statistics and
 * "all brokers down" errors keep it honest afterwards. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    wk_consumer *c = opaque;
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *name, *pname;
    json_t *v, *p;
    bool up = false;

    json_object_foreach (json_object_get(root, "brokers"), name, v) {
        const char *state = json_string_value(json_object_get(v, "state"));
        if (state && strcmp(state, "UP") == 0 &&
            json_integer_value(json_object_get(v, "nodeid")) >= 0)
            up = true;
    }
    atomic_store(&c->up, up);
    json_t *parts = json_object_get(
        json_object_get(json_object_get(root, "topics"), c->cfg->kafka.topic), "partitions");
    json_object_foreach (parts, pname, p) {
        json_int_t lag = json_integer_value(json_object_get(p, "consumer_lag"));
        const char *fetch = json_string_value(json_object_get(p, "fetch_state"));
        if (strcmp(pname, "-1") == 0 || lag < 0 || !fetch || strcmp(fetch, "none") == 0)
            continue;
        const char *const labels[] = {c->cfg->kafka.topic, pname};
        hp_gauge_set(hp_gauge_get(c->metrics->lag, labels), (double)lag);
    }
    json_decref(root);
    return 0; /* librdkafka frees json */
}

hp_err wk_consumer_new(wk_consumer **out, int lane, const hp_config *cfg, wk_metrics *m,
                       char *errstr, size_t errstr_size)
{
    static const char *const settings[][2] = {
        {"enable.auto.commit", "true"},
        {"auto.commit.interval.ms", "1000"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"statistics.interval.ms", "5000"},
    };
    char err[512];
    hp_err rc = HP_OK;
    wk_consumer *c = hp_xcalloc(1, sizeof *c);
    c->cfg = cfg;
    c->metrics = m;
    c->lane = lane;

    /* The worker's own settings come after the user's kafka.properties: they carry its
     * guarantees (offsets stored only after the commit). */
    rd_kafka_conf_t *conf = hp_kafka_conf_new(cfg, "hookpipe-worker", errstr, errstr_size);
    if (!conf) {
        rc = HP_ERR_INVALID;
        goto out;
    }
    rc = hp_kafka_conf_set_all(conf, "", settings, sizeof settings / sizeof settings[0], errstr,
                               errstr_size);
    if (rc == HP_OK)
        rc = hp_kafka_conf_set(conf, "", "group.id", cfg->worker.group_id, errstr, errstr_size);
    if (rc != HP_OK)
        goto out;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c->rk) {
        snprintf(errstr, errstr_size, "kafka: cannot create the consumer: %s", err);
        rc = HP_ERR_FATAL;
        goto out;
    }
    conf = NULL;
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, cfg->kafka.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (serr) {
        snprintf(errstr, errstr_size, "kafka: cannot subscribe to %s: %s", cfg->kafka.topic,
                 rd_kafka_err2str(serr));
        rc = HP_ERR_FATAL;
    }
out:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (rc != HP_OK) {
        if (c->rk)
            rd_kafka_destroy(c->rk);
        free(c);
        return rc;
    }
    *out = c;
    return HP_OK;
}

rd_kafka_message_t *wk_consumer_poll(wk_consumer *c, int timeout_ms)
{
    rd_kafka_message_t *msg = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!msg || !msg->err) {
        if (msg)
            atomic_store(&c->up, true);
        return msg;
    }
    if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        hp_log(HP_LOG_WARN, "kafka", rd_kafka_message_errstr(msg),
               HP_LOG_STR("error", rd_kafka_err2name(msg->err)));
    rd_kafka_message_destroy(msg);
    return NULL;
}

static void pause_resume(wk_consumer *c, bool pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    if (pause)
        rd_kafka_pause_partitions(c->rk, parts);
    else
        rd_kafka_resume_partitions(c->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
}

void wk_consumer_pause(wk_consumer *c)
{
    pause_resume(c, true);
}

void wk_consumer_resume(wk_consumer *c)
{
    pause_resume(c, false);
}

void wk_consumer_store(wk_consumer *c, const wk_record *recs, size_t n)
{
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(16);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = recs[i].msg;
        const char *topic = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(offs, topic, m->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(offs, topic, m->partition);
        if (m->offset + 1 > tp->offset)
            tp->offset = m->offset + 1;
    }
    /* A partition revoked meanwhile is refused: its next owner re-applies
     * those records, and deduplication makes that harmless. */
    if (offs->cnt)
        rd_kafka_offsets_store(c->rk, offs);
    rd_kafka_topic_partition_list_destroy(offs);
}

bool wk_consumer_up(const wk_consumer *c)
{
    return atomic_load(&c->up);
}

void wk_consumer_leave(wk_consumer *c)
{
    /* librdkafka before 2.3.0 aborts (assertion `assignor_state`, issue
     * #4312) when a cooperative-sticky member is destroyed after joining but
     * before its first assignment, e.g. on a SIGTERM right after the start.
     * Give that assignment a moment; records polled meanwhile are dropped
     * unapplied (their offsets were never stored, they come again). */
    int64_t deadline = hp_time_mono_ns() + (int64_t)CLOSE_ASSIGN_WAIT_MS * 1000000;
    while (!c->assigned && hp_time_mono_ns() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(c->rk, 100);
        if (msg)
            rd_kafka_message_destroy(msg);
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        hp_log(HP_LOG_WARN, "worker", "final commit failed",
               HP_LOG_STR("error", rd_kafka_err2str(err)));
    rd_kafka_consumer_close(c->rk);
    c->left = true;
}

void wk_consumer_free(wk_consumer *c)
{
    if (!c)
        return;
    if (!c->left)
        wk_consumer_leave(c);
    rd_kafka_destroy(c->rk);
    free(c);
}
