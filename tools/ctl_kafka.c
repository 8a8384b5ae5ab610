/*
 * ctl_kafka: hookpipectl's Kafka questions. See ctl_kafka.h.
 *
 * Admin API calls are asynchronous in librdkafka: each is sent with a
 * request timeout on a temporary queue, and the result event is awaited on
 * it a little longer than that timeout.
 */
#include "ctl_kafka.h"

#include "hp_alloc.h"
#include "hp_kafka.h"
#include "hp_log.h"
#include "hp_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rd_kafka_t *ctl_kafka_consumer(const hp_config *cfg, const char *group, char *errstr,
                               size_t errstr_size)
{
    static const char *const settings[][2] = {
        {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"}, {"enable.partition.eof", "true"},
        {"fetch.wait.max.ms", "100"},
    };
    char err[512];
    rd_kafka_conf_t *conf = hp_kafka_conf_new(cfg, "hookpipectl", errstr, errstr_size);
    if (!conf)
        return NULL;
    if (hp_kafka_conf_set_all(conf, "", settings, sizeof settings / sizeof settings[0], errstr,
                              errstr_size) != HP_OK ||
        hp_kafka_conf_set(conf, "", "group.id", group ? group : CTL_KAFKA_READER_GROUP, errstr,
                          errstr_size) != HP_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "kafka: cannot create a client: %s", err);
    }
    return rk;
}

void ctl_kafka_destroy(rd_kafka_t *rk)
{
    if (!rk)
        return;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* The partition count of topic into *n. HP_ERR_INVALID if the topic does not exist. */
static hp_err topic_partitions(rd_kafka_t *rk, const char *topic, int *n, char *errstr,
                               size_t errstr_size)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, CTL_KAFKA_TIMEOUT_MS);
    hp_err rc = HP_OK;
    if (err) {
        snprintf(errstr, errstr_size, "kafka (%s): cannot read the metadata of topic %s: %s",
                 rd_kafka_name(rk), topic, rd_kafka_err2str(err));
        rc = HP_ERR_RETRY;
    } else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt <= 0) {
        snprintf(errstr, errstr_size, "topic %s: %s", topic,
                 md->topic_cnt == 1 && md->topics[0].err ? rd_kafka_err2str(md->topics[0].err)
                                                         : "does not exist");
        rc = HP_ERR_INVALID;
    } else {
        *n = md->topics[0].partition_cnt;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

/* lo[p] and hi[p] (earliest and end offsets) of partitions 0..n-1. */
static hp_err topic_watermarks(rd_kafka_t *rk, const char *topic, int n, int64_t *lo, int64_t *hi,
                               char *errstr, size_t errstr_size)
{
    for (int p = 0; p < n; p++) {
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rk, topic, p, &lo[p], &hi[p], CTL_KAFKA_TIMEOUT_MS);
        if (err) {
            snprintf(errstr, errstr_size, "kafka: offsets of %s/%d: %s", topic, p,
                     rd_kafka_err2str(err));
            return HP_ERR_RETRY;
        }
    }
    return HP_OK;
}

hp_err ctl_kafka_offsets_for_time(rd_kafka_t *rk, const char *topic, int n, int64_t ts_ms,
                                  const int64_t *hi, int64_t *out, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = ts_ms;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, parts, CTL_KAFKA_TIMEOUT_MS);
    for (int i = 0; !err && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        err = tp->err;
        /* -1 (OFFSET_END): no record at or after the time. */
        out[tp->partition] = tp->offset < 0 ? hi[tp->partition] : tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    if (err) {
        snprintf(errstr, errstr_size, "kafka: offsets of %s by time: %s", topic,
                 rd_kafka_err2str(err));
        return HP_ERR_RETRY;
    }
    return HP_OK;
}

/* Waits for the result event of an Admin call on q; NULL with a message on a timeout. */
static rd_kafka_event_t *await_result(rd_kafka_queue_t *q, const char *what, char *errstr,
                                      size_t errstr_size)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, CTL_KAFKA_TIMEOUT_MS + 5000);
    if (!ev) {
        snprintf(errstr, errstr_size, "kafka: %s: no answer within %d ms", what,
                 CTL_KAFKA_TIMEOUT_MS + 5000);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "kafka: %s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op)
{
    char err[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, CTL_KAFKA_TIMEOUT_MS, err, sizeof err);
    return o;
}

/* Copies the offsets of a group result's partitions into out[] (-1 where none). */
static hp_err group_partitions(const rd_kafka_group_result_t *gr, const char *topic, int n,
                               int64_t *out, const char *what, char *errstr, size_t errstr_size)
{
    const rd_kafka_error_t *gerr = rd_kafka_group_result_error(gr);
    if (gerr) {
        snprintf(errstr, errstr_size, "kafka: %s: %s", what, rd_kafka_error_string(gerr));
        return HP_ERR_RETRY;
    }
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr);
    for (int i = 0; parts && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (strcmp(tp->topic, topic) != 0 || tp->partition < 0 || tp->partition >= n)
            continue;
        if (tp->err) {
            snprintf(errstr, errstr_size, "kafka: %s: partition %d: %s", what, (int)tp->partition,
                     rd_kafka_err2str(tp->err));
            return HP_ERR_RETRY;
        }
        if (out)
            out[tp->partition] = tp->offset >= 0 ? tp->offset : -1;
    }
    return HP_OK;
}

/* The group's committed offsets of partitions 0..n-1 of topic into out[] (-1
 * where it has none), with the Admin API (ListConsumerGroupOffsets). */
static hp_err group_committed(rd_kafka_t *rk, const char *group, const char *topic, int n,
                              int64_t *out, char *errstr, size_t errstr_size)
{
    char what[300];
    snprintf(what, sizeof what, "committed offsets of group %s", group);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++) {
        rd_kafka_topic_partition_list_add(parts, topic, p);
        out[p] = -1;
    }
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = admin_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, o, q);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_AdminOptions_destroy(o);
    hp_err rc = HP_ERR_RETRY;
    rd_kafka_event_t *ev = await_result(q, what, errstr, errstr_size);
    if (ev) {
        size_t cnt = 0;
        const rd_kafka_group_result_t **groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev), &cnt);
        if (cnt == 1)
            rc = group_partitions(groups[0], topic, n, out, what, errstr, errstr_size);
        else
            snprintf(errstr, errstr_size, "kafka: %s: %zu results", what, cnt);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    return rc;
}

hp_err ctl_kafka_group_offsets(rd_kafka_t *rk, const char *group, const char *topic,
                               ctl_kafka_offsets *out, char *errstr, size_t errstr_size)
{
    *out = (ctl_kafka_offsets){0};
    hp_err rc = topic_partitions(rk, topic, &out->n, errstr, errstr_size);
    if (rc != HP_OK)
        return rc;
    out->lo = hp_xcalloc((size_t)out->n, sizeof *out->lo);
    out->hi = hp_xcalloc((size_t)out->n, sizeof *out->hi);
    out->committed = hp_xcalloc((size_t)out->n, sizeof *out->committed);
    rc = topic_watermarks(rk, topic, out->n, out->lo, out->hi, errstr, errstr_size);
    if (rc == HP_OK)
        rc = group_committed(rk, group, topic, out->n, out->committed, errstr, errstr_size);
    return rc;
}

void ctl_kafka_offsets_deinit(ctl_kafka_offsets *o)
{
    free(o->lo);
    free(o->hi);
    free(o->committed);
    *o = (ctl_kafka_offsets){0};
}

/* Appends ", client@host" (no comma first) to out. */
static void append_member(char *out, size_t outsz, size_t i, const rd_kafka_MemberDescription_t *m)
{
    size_t len = strlen(out);
    if (len < outsz)
        snprintf(out + len, outsz - len, "%s%s@%s", i ? ", " : "",
                 rd_kafka_MemberDescription_client_id(m), rd_kafka_MemberDescription_host(m));
}

hp_err ctl_kafka_group_members(rd_kafka_t *rk, const char *group, size_t *members, char *who,
                               size_t whosz, char *errstr, size_t errstr_size)
{
    char what[300];
    snprintf(what, sizeof what, "describing group %s", group);
    *members = 0;
    if (whosz > 0)
        who[0] = '\0';
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    const char *groups[] = {group};
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, o, q);
    rd_kafka_AdminOptions_destroy(o);
    hp_err rc = HP_ERR_RETRY;
    rd_kafka_event_t *ev = await_result(q, what, errstr, errstr_size);
    if (ev) {
        size_t cnt = 0;
        const rd_kafka_ConsumerGroupDescription_t **descs =
            rd_kafka_DescribeConsumerGroups_result_groups(
                rd_kafka_event_DescribeConsumerGroups_result(ev), &cnt);
        const rd_kafka_error_t *gerr =
            cnt == 1 ? rd_kafka_ConsumerGroupDescription_error(descs[0]) : NULL;
        if (cnt != 1) {
            snprintf(errstr, errstr_size, "kafka: %s: %zu results", what, cnt);
        } else if (gerr && rd_kafka_error_code(gerr) != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
            snprintf(errstr, errstr_size, "kafka: %s: %s", what, rd_kafka_error_string(gerr));
        } else {
            rc = HP_OK;
            *members = gerr ? 0 : rd_kafka_ConsumerGroupDescription_member_count(descs[0]);
            for (size_t i = 0; i < *members && i < 8; i++) {
                append_member(who, whosz, i, rd_kafka_ConsumerGroupDescription_member(descs[0], i));
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    return rc;
}

hp_err ctl_kafka_alter_committed(rd_kafka_t *rk, const char *group, const char *topic, int n,
                                 const int64_t *offsets, char *errstr, size_t errstr_size)
{
    char what[300];
    snprintf(what, sizeof what, "setting the committed offsets of group %s", group);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        if (offsets[p] >= 0)
            rd_kafka_topic_partition_list_add(parts, topic, p)->offset = offsets[p];
    if (parts->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(parts);
        return HP_OK;
    }
    rd_kafka_AlterConsumerGroupOffsets_t *req =
        rd_kafka_AlterConsumerGroupOffsets_new(group, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
    rd_kafka_AlterConsumerGroupOffsets(rk, &req, 1, o, q);
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    rd_kafka_AdminOptions_destroy(o);
    hp_err rc = HP_ERR_RETRY;
    rd_kafka_event_t *ev = await_result(q, what, errstr, errstr_size);
    if (ev) {
        size_t cnt = 0;
        const rd_kafka_group_result_t **groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &cnt);
        if (cnt == 1)
            rc = group_partitions(groups[0], topic, n, NULL, what, errstr, errstr_size);
        else
            snprintf(errstr, errstr_size, "kafka: %s: %zu results", what, cnt);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    return rc;
}

hp_err ctl_kafka_read(rd_kafka_t *rk, const char *topic, int n, const int64_t *from,
                      const int64_t *to, int timeout_ms, const volatile sig_atomic_t *stop,
                      ctl_kafka_record_fn *fn, void *opaque, int64_t *next, char *errstr,
                      size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    int64_t *own = next ? NULL : hp_xcalloc((size_t)n, sizeof *own);
    int open = 0;
    if (!next)
        next = own;
    for (int p = 0; p < n; p++) {
        next[p] = from[p];
        if (from[p] < to[p]) {
            rd_kafka_topic_partition_list_add(parts, topic, p)->offset = from[p];
            open++;
        }
    }
    rd_kafka_resp_err_t err = open ? rd_kafka_assign(rk, parts) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(parts);
    hp_err rc = HP_OK;
    if (err) {
        snprintf(errstr, errstr_size, "kafka: cannot read %s: %s", topic, rd_kafka_err2str(err));
        rc = HP_ERR_RETRY;
    }
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (rc == HP_OK && open > 0) {
        if (stop && *stop) {
            snprintf(errstr, errstr_size, "interrupted while reading %s", topic);
            rc = HP_ERR_RETRY;
            break;
        }
        if (hp_time_mono_ns() > deadline) {
            snprintf(errstr, errstr_size, "kafka: reading %s: not all records came within %d ms",
                     topic, timeout_ms);
            rc = HP_ERR_RETRY;
            break;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 200);
        if (!msg)
            continue;
        int32_t p = msg->partition;
        if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            hp_log(HP_LOG_WARN, "kafka", rd_kafka_message_errstr(msg), HP_LOG_STR("topic", topic),
                   HP_LOG_INT("partition", p));
        } else if (p >= 0 && p < n && next[p] < to[p]) {
            /* EOF says the partition ends here (records may have expired). */
            if (!msg->err && msg->offset < to[p])
                fn(msg, opaque);
            int64_t at = msg->err ? msg->offset : msg->offset + 1;
            if (at > next[p])
                next[p] = at;
            if (next[p] >= to[p])
                open--;
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_assign(rk, NULL);
    free(own);
    return rc;
}
