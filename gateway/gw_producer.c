/*
 * gw_producer: the gateway's Kafka producer. See gw_producer.h.
 *
 * Threads. HTTP threads call gw_producer_send() under the read side of a
 * rwlock; the poll thread serves delivery reports (librdkafka calls the
 * report callback only from rd_kafka_poll) and, on a fatal error, swaps in a
 * new producer under the write side, then drains and destroys the old one.
 * The lock prefers writers, so a steady stream of requests cannot starve the
 * swap. A probe thread asks the broker for the topic's metadata every two
 * seconds: that answer, not the absence of errors, is what /readyz reports.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: a writer-preferring rwlock */
#include "gw_producer.h"

#include "hp_alloc.h"
#include "hp_kafka.h"
#include "hp_log.h"
#include "hp_time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_INTERVAL_MS 100
#define PROBE_INTERVAL_MS 2000
#define PROBE_TIMEOUT_MS 1500
#define FATAL_DRAIN_TIMEOUT_MS 5000
#define REASON_SIZE 160

/* One librdkafka client and its topic handle; replaced together. */
typedef struct client {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
} client;

struct gw_producer {
    const hp_config *cfg;
    gw_delivery_fn *on_delivery;
    void *cb_opaque;

    pthread_rwlock_t lock; /* read: send, probe; write: swapping cur */
    client cur;

    pthread_t poll_thread;
    pthread_t probe_thread;
    atomic_bool fatal;   /* set by the error callback, cleared by the swap */
    atomic_bool closing; /* gw_producer_close() was called */
    atomic_int close_ms; /* its timeout */
    pthread_mutex_t probe_mu;
    pthread_cond_t probe_cv;
    bool up;                  /* guarded by probe_mu */
    char reason[REASON_SIZE]; /* guarded by probe_mu */
};

/* Settings a user may change in kafka.properties: set before theirs. */
static const char *const defaults[][2] = {
    {"client.id", "hookpipe-gateway"},
    {"linger.ms", "2"},
    {"socket.nagle.disable", "true"},
    {"partitioner", "murmur2_random"}, /* keys land where Java clients put them */
};

/* Properties that carry hookpipe's guarantee: set after the user's, and
 * rejected in kafka.properties so nobody believes they changed them. */
static const char *const guarded[] = {
    "enable.idempotence",    "acks",
    "request.required.acks", "message.timeout.ms",
    "delivery.timeout.ms",   "bootstrap.servers",
    "metadata.broker.list",
};

/* message.timeout.ms below ack_timeout_ms: librdkafka checks timeouts once a
 * second, so a report can come up to ~1 s after the message timed out. */
static int message_timeout_ms(const hp_config *cfg)
{
    int ack = cfg->gateway.ack_timeout_ms;
    int t = ack - 1000;
    return t > ack / 2 ? t : ack / 2;
}

static rd_kafka_conf_t *build_conf(const hp_config *cfg, char *errstr, size_t errstr_size)
{
    hp_err rc = HP_OK;
    char num[32];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (!cfg->kafka.brokers) {
        snprintf(errstr, errstr_size, "kafka.brokers: required (or HOOKPIPE_KAFKA_BROKERS)");
        rc = HP_ERR_INVALID;
        goto out;
    }
    rc = hp_kafka_conf_set_all(conf, "", defaults, sizeof defaults / sizeof defaults[0], errstr,
                               errstr_size);
    snprintf(num, sizeof num, "%d",
             cfg->gateway.max_inflight * 2 > 100000 ? cfg->gateway.max_inflight * 2 : 100000);
    if (rc == HP_OK)
        rc = hp_kafka_conf_set(conf, "", "queue.buffering.max.messages", num, errstr, errstr_size);

    for (size_t i = 0; i < cfg->kafka.nproperties && rc == HP_OK; i++) {
        const hp_config_kv *kv = &cfg->kafka.properties[i];
        for (size_t g = 0; g < sizeof guarded / sizeof guarded[0]; g++) {
            if (strcmp(kv->name, guarded[g]) == 0) {
                snprintf(errstr, errstr_size,
                         "kafka.properties.%s: set by hookpipe (brokers from kafka.brokers, "
                         "enable.idempotence=true, acks=all, message.timeout.ms from "
                         "gateway.ack_timeout_ms); remove it",
                         kv->name);
                rc = HP_ERR_INVALID;
                goto out;
            }
        }
        rc = hp_kafka_conf_set(conf, "kafka.properties.", kv->name, kv->value, errstr, errstr_size);
    }

    snprintf(num, sizeof num, "%d", message_timeout_ms(cfg));
    if (rc == HP_OK)
        rc = hp_kafka_conf_set(conf, "kafka.", "bootstrap.servers", cfg->kafka.brokers, errstr,
                               errstr_size);
    if (rc == HP_OK)
        rc = hp_kafka_conf_set(conf, "", "enable.idempotence", "true", errstr, errstr_size);
    if (rc == HP_OK)
        rc = hp_kafka_conf_set(conf, "", "acks", "all", errstr, errstr_size);
    if (rc == HP_OK)
        rc = hp_kafka_conf_set(conf, "", "message.timeout.ms", num, errstr, errstr_size);
out:
    if (rc != HP_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

hp_err gw_producer_check_config(const hp_config *cfg, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = build_conf(cfg, errstr, errstr_size);
    if (!conf)
        return HP_ERR_INVALID;
    rd_kafka_conf_destroy(conf);
    return HP_OK;
}

/* ---- callbacks (librdkafka's threads) ---- */

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    gw_producer *p = opaque;
    p->on_delivery(msg->_private, msg->err, p->cb_opaque);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    gw_producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof why);
        hp_log(HP_LOG_ERROR, "kafka", "fatal producer error: replacing the producer",
               HP_LOG_STR("error", rd_kafka_err2name(orig)), HP_LOG_STR("reason", why));
        atomic_store(&p->fatal, true);
        return;
    }
    hp_log(HP_LOG_WARN, "kafka", reason, HP_LOG_STR("error", rd_kafka_err2name(err)));
}

/* ---- clients ---- */

static hp_err client_new(gw_producer *p, client *c, char *errstr, size_t errstr_size)
{
    char err[512];
    rd_kafka_conf_t *conf = build_conf(p->cfg, errstr, errstr_size);
    if (!conf)
        return HP_ERR_INVALID;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, hp_kafka_log_cb);
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "kafka: cannot create the producer: %s", err);
        return HP_ERR_FATAL;
    }
    c->rkt = rd_kafka_topic_new(c->rk, p->cfg->kafka.topic, NULL);
    return HP_OK;
}

/* Serves c's remaining reports for up to timeout_ms, purges what is left and
 * serves those reports too, then destroys c. */
static void client_drain_destroy(client *c, int timeout_ms)
{
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (rd_kafka_outq_len(c->rk) > 0 && hp_time_mono_ns() < deadline)
        rd_kafka_poll(c->rk, POLL_INTERVAL_MS);
    rd_kafka_purge(c->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(c->rk, 0);
    rd_kafka_topic_destroy(c->rkt);
    rd_kafka_destroy(c->rk);
}

/* After a fatal error: a new client takes the old one's place, the old one's
 * records fail (their requests get 503) and it goes. */
static void replace_client(gw_producer *p)
{
    char errstr[512];
    client fresh, old;
    if (client_new(p, &fresh, errstr, sizeof errstr) != HP_OK) {
        hp_log(HP_LOG_ERROR, "kafka", "cannot replace the producer; retrying",
               HP_LOG_STR("error", errstr));
        return;
    }
    pthread_rwlock_wrlock(&p->lock);
    old = p->cur;
    p->cur = fresh;
    atomic_store(&p->fatal, false);
    pthread_rwlock_unlock(&p->lock);
    client_drain_destroy(&old, 0);
    hp_log(HP_LOG_INFO, "kafka", "producer replaced");
}

static void *poll_main(void *arg)
{
    gw_producer *p = arg;
    while (!atomic_load(&p->closing)) {
        if (atomic_load(&p->fatal))
            replace_client(p);
        rd_kafka_poll(p->cur.rk, POLL_INTERVAL_MS);
    }
    client_drain_destroy(&p->cur, atomic_load(&p->close_ms));
    return NULL;
}

/* ---- readiness probe ---- */

static void probe_once(gw_producer *p)
{
    const struct rd_kafka_metadata *md = NULL;
    char reason[REASON_SIZE] = "";

    pthread_rwlock_rdlock(&p->lock);
    rd_kafka_resp_err_t err = rd_kafka_metadata(p->cur.rk, 0, p->cur.rkt, &md, PROBE_TIMEOUT_MS);
    pthread_rwlock_unlock(&p->lock);

    if (err)
        snprintf(reason, sizeof reason, "kafka: %s", rd_kafka_err2str(err));
    else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0)
        snprintf(reason, sizeof reason, "kafka: topic %s: %s", p->cfg->kafka.topic,
                 md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
    if (md)
        rd_kafka_metadata_destroy(md);

    pthread_mutex_lock(&p->probe_mu);
    if (p->up != (reason[0] == '\0'))
        hp_log(reason[0] ? HP_LOG_WARN : HP_LOG_INFO, "kafka",
               reason[0] ? "broker probe failed" : "broker probe answered",
               HP_LOG_STR("reason", reason));
    p->up = reason[0] == '\0';
    memcpy(p->reason, reason, sizeof reason);
    pthread_mutex_unlock(&p->probe_mu);
}

static void *probe_main(void *arg)
{
    gw_producer *p = arg;
    pthread_mutex_lock(&p->probe_mu);
    while (!atomic_load(&p->closing)) {
        pthread_mutex_unlock(&p->probe_mu);
        probe_once(p);
        pthread_mutex_lock(&p->probe_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += PROBE_INTERVAL_MS / 1000;
        if (!atomic_load(&p->closing))
            pthread_cond_timedwait(&p->probe_cv, &p->probe_mu, &until);
    }
    pthread_mutex_unlock(&p->probe_mu);
    return NULL;
}

bool gw_producer_ready(gw_producer *p, char *reason, size_t reason_size)
{
    pthread_mutex_lock(&p->probe_mu);
    bool up = p->up;
    if (!up)
        snprintf(reason, reason_size, "%s", p->reason[0] ? p->reason : "kafka: not probed yet");
    pthread_mutex_unlock(&p->probe_mu);
    return up;
}

/* ---- life cycle ---- */

hp_err gw_producer_new(gw_producer **out, const hp_config *cfg, gw_delivery_fn *on_delivery,
                       void *cb_opaque, char *errstr, size_t errstr_size)
{
    gw_producer *p = hp_xcalloc(1, sizeof *p);
    p->cfg = cfg;
    p->on_delivery = on_delivery;
    p->cb_opaque = cb_opaque;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&p->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&p->probe_mu, NULL);
    pthread_cond_init(&p->probe_cv, NULL);

    hp_err rc = client_new(p, &p->cur, errstr, errstr_size);
    if (rc != HP_OK) {
        pthread_rwlock_destroy(&p->lock);
        pthread_mutex_destroy(&p->probe_mu);
        pthread_cond_destroy(&p->probe_cv);
        free(p);
        return rc;
    }
    pthread_create(&p->poll_thread, NULL, poll_main, p);
    pthread_create(&p->probe_thread, NULL, probe_main, p);
    *out = p;
    return HP_OK;
}

rd_kafka_resp_err_t gw_producer_send(gw_producer *p, const void *value, size_t len, const char *key,
                                     rd_kafka_headers_t *headers, void *opaque)
{
    pthread_rwlock_rdlock(&p->lock);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->cur.rk, RD_KAFKA_V_RKT(p->cur.rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    pthread_rwlock_unlock(&p->lock);
    return err;
}

void gw_producer_test_fatal(gw_producer *p)
{
    pthread_rwlock_rdlock(&p->lock);
    rd_kafka_test_fatal_error(p->cur.rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                              "injected by a test");
    pthread_rwlock_unlock(&p->lock);
}

rd_kafka_t *gw_producer_handle(gw_producer *p)
{
    pthread_rwlock_rdlock(&p->lock);
    rd_kafka_t *rk = p->cur.rk;
    pthread_rwlock_unlock(&p->lock);
    return rk;
}

void gw_producer_close(gw_producer *p, int timeout_ms)
{
    if (!p)
        return;
    atomic_store(&p->close_ms, timeout_ms);
    pthread_mutex_lock(&p->probe_mu);
    atomic_store(&p->closing, true);
    pthread_cond_signal(&p->probe_cv);
    pthread_mutex_unlock(&p->probe_mu);
    pthread_join(p->probe_thread, NULL);
    pthread_join(p->poll_thread, NULL);
    pthread_rwlock_destroy(&p->lock);
    pthread_mutex_destroy(&p->probe_mu);
    pthread_cond_destroy(&p->probe_cv);
    free(p);
}
