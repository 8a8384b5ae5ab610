/*
 * wk_dlq: parking poison records in the dead-letter topic. See wk_dlq.h.
 */
#include "wk_dlq.h"

#include "hp_alloc.h"
#include "hp_kafka.h"
#include "hp_envelope.h"
#include "hp_log.h"
#include "hp_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DLQ_ACK_TIMEOUT_MS 30000

struct wk_dlq {
    rd_kafka_t *rk;
    const char *topic;
};

/* The delivery outcome of the one record being parked. */
typedef struct parking {
    int done;
    rd_kafka_resp_err_t err;
} parking;

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    parking *p = msg->_private;
    p->err = msg->err;
    p->done = 1;
}

hp_err wk_dlq_new(wk_dlq **out, const hp_config *cfg, char *errstr, size_t errstr_size)
{
    char err[512];
    hp_err rc = HP_OK;
    static const char *const guarantees[][2] = {{"enable.idempotence", "true"}, {"acks", "all"}};
    rd_kafka_conf_t *conf = hp_kafka_conf_new(cfg, "hookpipe-worker-dlq", errstr, errstr_size);
    if (!conf)
        return HP_ERR_INVALID;
    rc = hp_kafka_conf_set_all(conf, "", guarantees, sizeof guarantees / sizeof guarantees[0],
                               errstr, errstr_size);
    if (rc != HP_OK) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "kafka: cannot create the DLQ producer: %s", err);
        return HP_ERR_FATAL;
    }
    wk_dlq *dlq = hp_xcalloc(1, sizeof *dlq);
    dlq->rk = rk;
    dlq->topic = cfg->kafka.dlq_topic;
    *out = dlq;
    return HP_OK;
}

static void add_int(rd_kafka_headers_t *hdrs, const char *name, int64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%" PRId64, v);
    rd_kafka_header_add(hdrs, name, -1, text, n);
}

hp_err wk_dlq_park(wk_dlq *dlq, const rd_kafka_message_t *msg, const char *error_class,
                   const char *error, int attempts)
{
    rd_kafka_headers_t *orig = NULL;
    rd_kafka_headers_t *hdrs;
    char origin[512];
    parking p = {0};

    if (rd_kafka_message_headers(msg, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR)
        hdrs = rd_kafka_headers_copy(orig);
    else
        hdrs = rd_kafka_headers_new(5);
    snprintf(origin, sizeof origin, "%s/%" PRId32 "/%" PRId64, rd_kafka_topic_name(msg->rkt),
             msg->partition, msg->offset);
    rd_kafka_header_add(hdrs, HP_HDR_ERROR_CLASS, -1, error_class, -1);
    rd_kafka_header_add(hdrs, HP_HDR_ERROR, -1, error, -1);
    rd_kafka_header_add(hdrs, HP_HDR_ORIGIN, -1, origin, -1);
    add_int(hdrs, HP_HDR_ATTEMPTS, attempts);
    add_int(hdrs, HP_HDR_FAILED_AT, hp_time_now_ms());

    rd_kafka_resp_err_t err = rd_kafka_producev(
        dlq->rk, RD_KAFKA_V_TOPIC(dlq->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(msg->key, msg->key_len), RD_KAFKA_V_VALUE(msg->payload, msg->len),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(&p), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(hdrs);
        hp_log(HP_LOG_WARN, "worker", "cannot produce to the DLQ",
               HP_LOG_STR("error", rd_kafka_err2str(err)));
        return HP_ERR_RETRY;
    }
    int64_t deadline = hp_time_mono_ns() + DLQ_ACK_TIMEOUT_MS * 1000000LL;
    while (!p.done && hp_time_mono_ns() < deadline)
        rd_kafka_poll(dlq->rk, 100);
    if (!p.done) {
        /* Fail it now, so its report cannot later touch p on a dead stack frame. */
        rd_kafka_purge(dlq->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        while (!p.done)
            rd_kafka_poll(dlq->rk, 100);
    }
    if (p.err) {
        hp_log(HP_LOG_WARN, "worker", "the DLQ did not acknowledge a record",
               HP_LOG_STR("error", rd_kafka_err2str(p.err)));
        return HP_ERR_RETRY;
    }
    hp_log(HP_LOG_WARN, "worker", "record parked in the DLQ", HP_LOG_STR("origin", origin),
           HP_LOG_STR("class", error_class), HP_LOG_STR("error", error));
    return HP_OK;
}

void wk_dlq_free(wk_dlq *dlq)
{
    if (!dlq)
        return;
    rd_kafka_flush(dlq->rk, 5000);
    rd_kafka_destroy(dlq->rk);
    free(dlq);
}
