/*
 * it_kafka: find and count the records a test caused. See it_kafka.h.
 */
#include "it_kafka.h"

#include "hp_alloc.h"
#include "hp_envelope.h" /* HP_HDR_EVENT_ID */
#include "hp_time.h"
#include "it_env.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest a metadata or watermark request may take. */
#define META_TIMEOUT_MS 10000
/* The group of the readers: required by a consumer; nothing is committed. */
#define READER_GROUP "hookpipe-it-reader"

/* A consumer of group (it never joins it: no subscription, nothing auto-committed). */
static rd_kafka_t *consumer_new(const char *group, char *err, size_t errsz)
{
    const char *props[][2] = {
        {"bootstrap.servers", it_kafka_brokers()},
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
        {"fetch.wait.max.ms", "100"},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err, errsz) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errsz);
}

static void consumer_destroy(rd_kafka_t *rk)
{
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static int partition_count(rd_kafka_t *rk, const char *topic, char *err, size_t errsz)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t rc = rd_kafka_metadata(rk, 0, rkt, &md, META_TIMEOUT_MS);
    int n = -1;
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
        snprintf(err, errsz, "metadata of %s: %s", topic, rd_kafka_err2str(rc));
    else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
        snprintf(err, errsz, "metadata of %s: %s", topic,
                 md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no topic");
    else
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return n;
}

/* The high watermark of every partition into ends[]. */
static int query_ends(rd_kafka_t *rk, const it_kafka_snapshot *snap, int64_t *ends, char *err,
                      size_t errsz)
{
    for (int p = 0; p < snap->npartitions; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t rc =
            rd_kafka_query_watermark_offsets(rk, snap->topic, p, &lo, &hi, META_TIMEOUT_MS);
        if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errsz, "watermarks of %s/%d: %s", snap->topic, p, rd_kafka_err2str(rc));
            return -1;
        }
        ends[p] = hi;
    }
    return 0;
}

int it_kafka_snapshot_take(it_kafka_snapshot *snap, const char *topic, char *err, size_t errsz)
{
    memset(snap, 0, sizeof *snap);
    snprintf(snap->topic, sizeof snap->topic, "%s", topic);
    rd_kafka_t *rk = consumer_new(READER_GROUP, err, errsz);
    if (!rk)
        return -1;
    int rc = -1;
    snap->npartitions = partition_count(rk, topic, err, errsz);
    if (snap->npartitions > 0) {
        snap->offsets = hp_xcalloc((size_t)snap->npartitions, sizeof *snap->offsets);
        rc = query_ends(rk, snap, snap->offsets, err, errsz);
    }
    consumer_destroy(rk);
    if (rc < 0)
        it_kafka_snapshot_deinit(snap);
    return rc;
}

void it_kafka_snapshot_deinit(it_kafka_snapshot *snap)
{
    free(snap->offsets);
    memset(snap, 0, sizeof *snap);
}

/* Assigns the partitions of snap at its offsets; with ends, only those that grew. */
static int assign(rd_kafka_t *rk, const it_kafka_snapshot *snap, const int64_t *ends, char *err,
                  size_t errsz)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(snap->npartitions);
    for (int p = 0; p < snap->npartitions; p++)
        if (!ends || ends[p] > snap->offsets[p])
            rd_kafka_topic_partition_list_add(parts, snap->topic, p)->offset = snap->offsets[p];
    rd_kafka_resp_err_t rc = rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsz, "assign %s: %s", snap->topic, rd_kafka_err2str(rc));
        return -1;
    }
    return 0;
}

const char *it_kafka_event_id(const rd_kafka_message_t *msg, char *buf, size_t bufsz)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *val;
    size_t len;
    if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(hdrs, HP_HDR_EVENT_ID, &val, &len) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        !val || len >= bufsz)
        return NULL;
    memcpy(buf, val, len);
    buf[len] = '\0';
    return buf;
}

static char *dup_bytes(const void *p, size_t len)
{
    if (!p)
        return NULL;
    char *s = hp_xmalloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

void it_kafka_record_copy(const rd_kafka_message_t *msg, it_kafka_record *out)
{
    memset(out, 0, sizeof *out);
    out->partition = msg->partition;
    out->offset = msg->offset;
    out->key = dup_bytes(msg->key, msg->key_len);
    out->key_len = msg->key ? msg->key_len : 0;
    out->value = dup_bytes(msg->payload, msg->len);
    out->value_len = msg->payload ? msg->len : 0;
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    size_t n = rd_kafka_header_cnt(hdrs);
    out->headers = hp_xcalloc(n + 1, sizeof *out->headers);
    const char *name;
    const void *val;
    size_t len;
    for (size_t i = 0; i < n && rd_kafka_header_get_all(hdrs, i, &name, &val, &len) == 0; i++) {
        out->headers[i].name = hp_xstrdup(name);
        out->headers[i].value = dup_bytes(val, len);
        out->headers[i].value_len = val ? len : 0;
        out->nheaders++;
    }
}

int it_kafka_find(const it_kafka_snapshot *snap, const char *event_id, int timeout_ms,
                  it_kafka_record *out, char *err, size_t errsz)
{
    rd_kafka_t *rk = consumer_new(READER_GROUP, err, errsz);
    if (!rk)
        return -1;
    int found = 0;
    if (assign(rk, snap, NULL, err, errsz) < 0)
        found = -1;
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    char id[1024];
    while (found == 0 && hp_time_mono_ns() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        if (!msg)
            continue;
        if (!msg->err && it_kafka_event_id(msg, id, sizeof id) && strcmp(id, event_id) == 0) {
            it_kafka_record_copy(msg, out);
            found = 1;
        }
        rd_kafka_message_destroy(msg);
    }
    consumer_destroy(rk);
    return found;
}

/* Reads until every partition reached its end; true if it did in time. */
static bool scan_loop(rd_kafka_t *rk, const it_kafka_snapshot *snap, const int64_t *ends,
                      int64_t deadline, it_kafka_record_fn *fn, void *opaque, long *count)
{
    int left = 0;
    bool *done = hp_xcalloc((size_t)snap->npartitions, sizeof *done);
    for (int p = 0; p < snap->npartitions; p++) {
        done[p] = ends[p] <= snap->offsets[p];
        left += !done[p];
    }
    while (left > 0 && hp_time_mono_ns() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        if (!msg)
            continue;
        int p = msg->partition;
        bool ours = p >= 0 && p < snap->npartitions && !done[p];
        if (ours && !msg->err && msg->offset < ends[p]) {
            fn(msg, opaque);
            (*count)++;
        }
        /* A record at or past the end, or EOF there, finishes the partition. */
        if (ours && (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR ||
                     msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)) {
            int64_t next = msg->err ? msg->offset : msg->offset + 1;
            if (next >= ends[p]) {
                done[p] = true;
                left--;
            }
        }
        rd_kafka_message_destroy(msg);
    }
    free(done);
    return left == 0;
}

long it_kafka_scan(const it_kafka_snapshot *snap, int timeout_ms, it_kafka_record_fn *fn,
                   void *opaque, char *err, size_t errsz)
{
    rd_kafka_t *rk = consumer_new(READER_GROUP, err, errsz);
    if (!rk)
        return -1;
    int64_t deadline = hp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    int64_t *ends = hp_xcalloc((size_t)snap->npartitions, sizeof *ends);
    long count = 0;
    if (query_ends(rk, snap, ends, err, errsz) < 0 || assign(rk, snap, ends, err, errsz) < 0)
        count = -1;
    else if (!scan_loop(rk, snap, ends, deadline, fn, opaque, &count)) {
        snprintf(err, errsz, "%s: the end offsets were not reached within %d ms", snap->topic,
                 timeout_ms);
        count = -1;
    }
    free(ends);
    consumer_destroy(rk);
    return count;
}

typedef struct count_ctx {
    const char *event_id;
    long n;
} count_ctx;

static void count_one(const rd_kafka_message_t *msg, void *opaque)
{
    count_ctx *cc = opaque;
    char id[1024];
    if (it_kafka_event_id(msg, id, sizeof id) && strcmp(id, cc->event_id) == 0)
        cc->n++;
}

long it_kafka_count(const it_kafka_snapshot *snap, const char *event_id, int timeout_ms, char *err,
                    size_t errsz)
{
    count_ctx cc = {.event_id = event_id};
    long rc = it_kafka_scan(snap, timeout_ms, count_one, &cc, err, errsz);
    return rc < 0 ? -1 : cc.n;
}

const it_kafka_header *it_kafka_record_header(const it_kafka_record *rec, const char *name)
{
    for (size_t i = rec->nheaders; i-- > 0;)
        if (strcmp(rec->headers[i].name, name) == 0)
            return &rec->headers[i];
    return NULL;
}

void it_kafka_record_deinit(it_kafka_record *rec)
{
    for (size_t i = 0; i < rec->nheaders; i++) {
        free(rec->headers[i].name);
        free(rec->headers[i].value);
    }
    free(rec->headers);
    free(rec->key);
    free(rec->value);
    memset(rec, 0, sizeof *rec);
}

/* ---- a group's offsets ---- */

/* Partitions 0..n-1 of topic, at offsets (or RD_KAFKA_OFFSET_INVALID when NULL). */
static rd_kafka_topic_partition_list_t *partitions(const char *topic, int n, const int64_t *offsets)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
            offsets ? offsets[p] : RD_KAFKA_OFFSET_INVALID;
    return parts;
}

int it_kafka_committed(const char *group, const char *topic, int n, int64_t *offsets, char *err,
                       size_t errsz)
{
    rd_kafka_t *rk = consumer_new(group, err, errsz);
    if (!rk)
        return -1;
    rd_kafka_topic_partition_list_t *parts = partitions(topic, n, NULL);
    rd_kafka_resp_err_t rc = rd_kafka_committed(rk, parts, META_TIMEOUT_MS);
    for (int i = 0; rc == RD_KAFKA_RESP_ERR_NO_ERROR && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        rc = tp->err;
        offsets[tp->partition] = tp->offset;
    }
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
        snprintf(err, errsz, "committed offsets of group %s on %s: %s", group, topic,
                 rd_kafka_err2str(rc));
    rd_kafka_topic_partition_list_destroy(parts);
    consumer_destroy(rk);
    return rc == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

int it_kafka_commit(const char *group, const char *topic, int n, const int64_t *offsets, char *err,
                    size_t errsz)
{
    rd_kafka_t *rk = consumer_new(group, err, errsz);
    if (!rk)
        return -1;
    rd_kafka_topic_partition_list_t *parts = partitions(topic, n, offsets);
    rd_kafka_resp_err_t rc = rd_kafka_commit(rk, parts, 0);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
        snprintf(err, errsz, "commit for group %s on %s: %s", group, topic, rd_kafka_err2str(rc));
    rd_kafka_topic_partition_list_destroy(parts);
    consumer_destroy(rk);
    return rc == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}
