/*
 * ctl_dlq_requeue: hookpipectl dlq requeue — dead-letter records back to the
 * main topic.
 *
 * Records go to kafka.topic as they are — key, value, every header — plus
 * hookpipe-requeued-from, with an idempotent acks=all producer and the
 * gateway's partitioner (the key lands in the partition of its siblings, so
 * per-key order holds), and every acknowledgement is awaited. What was
 * requeued is remembered as committed offsets of a consumer group of its
 * own on the DLQ topic, moved only after Kafka acknowledged the copies: a
 * crash in between requeues a record twice, which the worker's
 * deduplication absorbs; nothing is ever lost.
 */
#include "ctl_dlq_int.h"
#include "ctl_kafka.h"

#include "hp_alloc.h"
#include "hp_envelope.h"
#include "hp_kafka.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Longest wait for the requeued copies' acknowledgements. */
#define DELIVERY_TIMEOUT_MS 60000

/* Set by SIGINT or SIGTERM while requeue reads and produces. */
static volatile sig_atomic_t interrupted;

static void interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct requeue_ctx {
    const ctl_ctx *ctx;
    rd_kafka_t *producer; /* NULL on a dry run */
    const char *topic;    /* the main topic */
    const ctl_dlq_topic *t;
    const int64_t *only; /* --offset: the specs' offsets per partition, else NULL */
    json_t *done;        /* what was (or would be) requeued */
    long queued, failed;
    rd_kafka_resp_err_t first_err;
    hp_err rc;
    char errstr[512];
} requeue_ctx;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    requeue_ctx *rq = opaque;
    if (msg->err) {
        if (!rq->failed++)
            rq->first_err = msg->err;
    }
}

/* Whether --offset asked for this record. */
static bool wanted(const requeue_ctx *rq, const rd_kafka_message_t *msg)
{
    if (!rq->only)
        return true;
    const ctl_args *a = rq->ctx->args;
    for (size_t i = 0; i < a->noffsets; i++)
        if (a->offsets[i].partition == msg->partition && a->offsets[i].offset == msg->offset)
            return true;
    return false;
}

static void requeue_one(const rd_kafka_message_t *msg, void *opaque)
{
    requeue_ctx *rq = opaque;
    char from[300];
    if (rq->rc != HP_OK || !wanted(rq, msg))
        return;
    snprintf(from, sizeof from, "%s/%" PRId32 "/%" PRId64, rq->t->name, msg->partition,
             msg->offset);
    char *source = ctl_dlq_header(msg, HP_HDR_SOURCE), *id = ctl_dlq_header(msg, HP_HDR_EVENT_ID);
    json_array_append_new(rq->done,
                          json_pack("{s:i, s:I, s:s, s:s}", "partition", msg->partition, "offset",
                                    (json_int_t)msg->offset, "source", source, "event_id", id));
    if (!rq->ctx->args->json)
        fprintf(rq->ctx->out, "%s %s -> %s (source %s, event %s)\n",
                rq->producer ? "requeue" : "would requeue", from, rq->topic, source, id);
    free(source);
    free(id);
    if (!rq->producer)
        return;
    rd_kafka_headers_t *orig = NULL, *hdrs;
    if (rd_kafka_message_headers(msg, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR)
        hdrs = rd_kafka_headers_copy(orig);
    else
        hdrs = rd_kafka_headers_new(1);
    rd_kafka_header_add(hdrs, HP_HDR_REQUEUED_FROM, -1, from, -1);
    /* Blocks while librdkafka's queue is full, so a large DLQ streams through. */
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rq->producer, RD_KAFKA_V_TOPIC(rq->topic),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_BLOCK),
        RD_KAFKA_V_KEY(msg->key, msg->key_len), RD_KAFKA_V_VALUE(msg->payload, msg->len),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(hdrs);
        snprintf(rq->errstr, sizeof rq->errstr, "kafka: cannot produce %s to %s: %s", from,
                 rq->topic, rd_kafka_err2str(err));
        rq->rc = HP_ERR_RETRY;
        return;
    }
    rq->queued++;
    rd_kafka_poll(rq->producer, 0);
}

static rd_kafka_t *producer_new(const ctl_ctx *ctx, requeue_ctx *rq, char *errstr,
                                size_t errstr_size)
{
    static const char *const settings[][2] = {
        {"enable.idempotence", "true"},    {"acks", "all"}, {"linger.ms", "5"},
        {"partitioner", "murmur2_random"}, /* the gateway's: keys keep their partition */
        {"message.timeout.ms", "30000"},
    };
    char err[512];
    rd_kafka_conf_t *conf = hp_kafka_conf_new(ctx->cfg, "hookpipectl-requeue", errstr, errstr_size);
    if (!conf)
        return NULL;
    if (hp_kafka_conf_set_all(conf, "", settings, sizeof settings / sizeof settings[0], errstr,
                              errstr_size) != HP_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, rq);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "kafka: cannot create the producer: %s", err);
    }
    return rk;
}

/* The ranges to read: from the requeue position to the end, or around the --offset specs. */
static int ranges(const ctl_ctx *ctx, const ctl_dlq_topic *t, int64_t *from, int64_t *to)
{
    const ctl_args *a = ctx->args;
    for (int p = 0; p < t->off.n; p++) {
        int64_t pos = t->off.committed[p] > t->off.lo[p] ? t->off.committed[p] : t->off.lo[p];
        from[p] = a->all ? pos : INT64_MAX;
        to[p] = a->all ? t->off.hi[p] : -1;
    }
    for (size_t i = 0; i < a->noffsets; i++) {
        int32_t p = a->offsets[i].partition;
        int64_t o = a->offsets[i].offset;
        if (p >= t->off.n || o < t->off.lo[p] || o >= t->off.hi[p]) {
            if (p >= t->off.n)
                ctl_error(ctx, "--offset %d:%" PRId64 ": %s has partitions 0..%d", p, o, t->name,
                          t->off.n - 1);
            else
                ctl_error(ctx,
                          "--offset %d:%" PRId64 ": partition %d of %s holds offsets %" PRId64
                          "..%" PRId64,
                          p, o, p, t->name, t->off.lo[p], t->off.hi[p] - 1);
            return CTL_EXIT_USAGE;
        }
        if (o < from[p])
            from[p] = o;
        if (o + 1 > to[p])
            to[p] = o + 1;
    }
    for (int p = 0; p < t->off.n; p++)
        if (from[p] > to[p])
            from[p] = to[p] = 0;
    return CTL_EXIT_OK;
}

/* The requeue group's new positions (-1: unchanged): where --all's reading reached; for
 * --offset, past specs that continue the position without a gap. */
static void new_positions(const ctl_ctx *ctx, const ctl_dlq_topic *t, const int64_t *reached,
                          int64_t *pos)
{
    const ctl_args *a = ctx->args;
    for (int p = 0; p < t->off.n; p++) {
        int64_t at = t->off.committed[p] > t->off.lo[p] ? t->off.committed[p] : t->off.lo[p];
        if (a->all) {
            pos[p] = reached[p] > at ? reached[p] : -1;
            continue;
        }
        int64_t next = at;
        for (bool moved = true; moved;) {
            moved = false;
            for (size_t i = 0; i < a->noffsets; i++)
                if (a->offsets[i].partition == p && a->offsets[i].offset == next) {
                    next++;
                    moved = true;
                }
        }
        pos[p] = next > at ? next : -1;
    }
}

int ctl_cmd_dlq_requeue(const ctl_ctx *ctx)
{
    const ctl_args *a = ctx->args;
    char errstr[1024], gbuf[300], who[1024];
    const char *group = ctl_dlq_requeue_group(ctx, gbuf, sizeof gbuf);
    ctl_dlq_topic t = {.name = ctx->cfg->kafka.dlq_topic};
    requeue_ctx rq = {.ctx = ctx, .topic = ctx->cfg->kafka.topic, .t = &t, .done = json_array()};
    int code = CTL_EXIT_FAILURE;
    size_t members = 0;
    int64_t *from = NULL, *to = NULL, *pos = NULL, *reached = NULL;
    rd_kafka_t *rk = ctl_kafka_consumer(ctx->cfg, NULL, errstr, sizeof errstr);
    if (!rk) {
        ctl_error(ctx, "%s", errstr);
        json_decref(rq.done);
        return CTL_EXIT_USAGE;
    }
    hp_err rc =
        ctl_kafka_group_members(rk, group, &members, who, sizeof who, errstr, sizeof errstr);
    if (rc == HP_OK)
        rc = ctl_kafka_group_offsets(rk, group, t.name, &t.off, errstr, sizeof errstr);
    if (rc != HP_OK) {
        ctl_error(ctx, "%s", errstr);
        code = rc == HP_ERR_INVALID ? CTL_EXIT_USAGE : CTL_EXIT_FAILURE;
        goto out;
    }
    if (members > 0) {
        ctl_error(ctx, "group %s has %zu active member%s (%s): is another requeue running?", group,
                  members, members == 1 ? "" : "s", who);
        goto out;
    }
    from = hp_xcalloc((size_t)t.off.n, sizeof *from);
    to = hp_xcalloc((size_t)t.off.n, sizeof *to);
    pos = hp_xcalloc((size_t)t.off.n, sizeof *pos);
    reached = hp_xcalloc((size_t)t.off.n, sizeof *reached);
    code = ranges(ctx, &t, from, to);
    if (code != CTL_EXIT_OK)
        goto out;
    code = CTL_EXIT_FAILURE;
    rq.only = a->noffsets > 0 ? to : NULL;
    if (!a->dry_run && !(rq.producer = producer_new(ctx, &rq, errstr, sizeof errstr))) {
        ctl_error(ctx, "%s", errstr);
        code = CTL_EXIT_USAGE;
        goto out;
    }
    /* From here a signal stops the reading; what was produced is still awaited and
     * remembered, so an interrupted --all resumes where it stopped. */
    struct sigaction on_signal = {.sa_handler = interrupt}, old_int, old_term;
    sigemptyset(&on_signal.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &on_signal, &old_int);
    sigaction(SIGTERM, &on_signal, &old_term);
    rc = ctl_kafka_read(rk, t.name, t.off.n, from, to, CTL_DLQ_READ_TIMEOUT_MS, &interrupted,
                        requeue_one, &rq, reached, errstr, sizeof errstr);
    if (rq.producer) {
        rd_kafka_flush(rq.producer, DELIVERY_TIMEOUT_MS);
        if (rd_kafka_outq_len(rq.producer) > 0 && rq.failed == 0) {
            rq.failed = rd_kafka_outq_len(rq.producer);
            rq.first_err = RD_KAFKA_RESP_ERR__TIMED_OUT;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == HP_OK && rq.rc != HP_OK) {
        rc = rq.rc;
        snprintf(errstr, sizeof errstr, "%s", rq.errstr);
    }
    if (rq.failed > 0) {
        snprintf(errstr, sizeof errstr,
                 "%ld of %ld requeued records were not acknowledged by Kafka (%s); nothing is "
                 "marked as requeued, run it again",
                 rq.failed, rq.queued, rd_kafka_err2str(rq.first_err));
        rc = HP_ERR_RETRY;
    }
    /* Remember what was requeued, also after an interruption or a timeout (--all only:
     * it reads in order, so everything below where it reached was acknowledged). */
    bool remember = rq.failed == 0 && rq.rc == HP_OK && (rc == HP_OK || a->all);
    if (remember && !a->dry_run) {
        hp_err crc;
        char cerr[512];
        new_positions(ctx, &t, reached, pos);
        crc = ctl_kafka_alter_committed(rk, group, t.name, t.off.n, pos, cerr, sizeof cerr);
        if (crc != HP_OK) {
            snprintf(errstr, sizeof errstr,
                     "%s (the records were requeued; a next --all requeues them again, which "
                     "the worker's deduplication absorbs)",
                     cerr);
            rc = crc;
        } else if (rc != HP_OK) {
            snprintf(errstr + strlen(errstr), sizeof errstr - strlen(errstr),
                     "; %ld record%s requeued and remembered, a next --all goes on from there",
                     rq.queued, rq.queued == 1 ? "" : "s");
        }
    }
    if (rc != HP_OK) {
        ctl_error(ctx, "%s", errstr);
        goto out;
    }
    size_t count = json_array_size(rq.done);
    if (a->json) {
        ctl_print_json(ctx, json_pack("{s:s, s:s, s:s, s:b, s:i, s:O}", "dlq_topic", t.name,
                                      "topic", rq.topic, "group", group, "dry_run", a->dry_run,
                                      "count", (int)count, "records", rq.done));
    } else if (count == 0) {
        fprintf(ctx->out,
                "nothing to requeue: %s holds no record that was not requeued before (group %s)\n",
                t.name, group);
    } else {
        fprintf(ctx->out, "%s %zu record%s to %s%s\n", a->dry_run ? "would requeue" : "requeued",
                count, count == 1 ? "" : "s", rq.topic,
                a->dry_run ? " (dry run: nothing sent)" : "");
    }
    code = CTL_EXIT_OK;
out:
    json_decref(rq.done);
    if (rq.producer)
        rd_kafka_destroy(rq.producer);
    free(from);
    free(to);
    free(pos);
    free(reached);
    ctl_kafka_offsets_deinit(&t.off);
    ctl_kafka_destroy(rk);
    return code;
}
