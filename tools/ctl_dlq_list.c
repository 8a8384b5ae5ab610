/*
 * ctl_dlq_list: hookpipectl dlq list — the records of the dead-letter topic
 * (kafka.dlq_topic), read without joining any group, each with the error
 * headers the worker added (DESIGN.md §Kafka record: class, error, origin,
 * attempts, failed at) and whether dlq requeue has taken it already.
 */
#include "ctl_dlq_int.h"
#include "ctl_kafka.h"
#include "ctl_table.h"

#include "hp_alloc.h"
#include "hp_envelope.h"
#include "hp_time.h"
#include "hp_utf8.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Longest error text in the table (the JSON has all of it). */
#define ERROR_COLUMN_MAX 80

typedef struct listed {
    int32_t partition;
    int64_t offset;
    int64_t timestamp; /* the record's, ms */
    json_t *json;      /* everything, for --json */
} listed;

typedef struct list_ctx {
    listed *recs;
    size_t n, cap;
    long *per_partition; /* records kept per partition, at most limit */
    long limit;
    const ctl_dlq_topic *t;
} list_ctx;

static json_t *bytes_json(const void *p, size_t len)
{
    if (!p)
        return json_null();
    return hp_utf8_valid(p, len) ? json_stringn(p, len) : json_string("(binary)");
}

static json_t *record_json(const rd_kafka_message_t *msg, const ctl_dlq_topic *t)
{
    rd_kafka_headers_t *hdrs = NULL;
    json_t *h = json_object();
    if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t len;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &len) == 0; i++)
            json_object_set_new(h, name, bytes_json(val, len));
    }
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(msg, &tstype);
    int32_t p = msg->partition;
    return json_pack("{s:i, s:I, s:I, s:b, s:o, s:o, s:o}", "partition", p, "offset",
                     (json_int_t)msg->offset, "timestamp_ms", (json_int_t)ts, "requeued",
                     t->off.committed[p] >= 0 && msg->offset < t->off.committed[p], "key",
                     bytes_json(msg->key, msg->key_len), "headers", h, "value",
                     bytes_json(msg->payload, msg->len));
}

static void list_one(const rd_kafka_message_t *msg, void *opaque)
{
    list_ctx *lc = opaque;
    int32_t p = msg->partition;
    if (lc->per_partition[p] >= lc->limit)
        return;
    lc->per_partition[p]++;
    if (lc->n == lc->cap) {
        lc->cap = lc->cap ? 2 * lc->cap : 64;
        lc->recs = hp_xrealloc(lc->recs, lc->cap * sizeof *lc->recs);
    }
    rd_kafka_timestamp_type_t tstype;
    lc->recs[lc->n++] = (listed){.partition = p,
                                 .offset = msg->offset,
                                 .timestamp = rd_kafka_message_timestamp(msg, &tstype),
                                 .json = record_json(msg, lc->t)};
}

static int by_time(const void *a, const void *b)
{
    const listed *x = a, *y = b;
    if (x->timestamp != y->timestamp)
        return x->timestamp < y->timestamp ? -1 : 1;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static const char *hdr_of(json_t *rec, const char *name)
{
    const char *v = json_string_value(json_object_get(json_object_get(rec, "headers"), name));
    return v ? v : "";
}

/* s on one line for a table cell: control characters become spaces, runs of spaces one,
 * cut (at a character boundary) to fit out with "…". */
static void one_line(const char *s, char *out, size_t outsz)
{
    size_t n = 0, max = outsz - sizeof "…";
    bool space = false;
    for (const char *p = s; *p && n < max; p++) {
        bool blank = (unsigned char)*p < 0x20 || *p == ' ';
        if (blank && (space || n == 0))
            continue;
        out[n++] = blank ? ' ' : *p;
        space = blank;
    }
    bool cut = n == max;
    while (cut && n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
        n--; /* continuation bytes of a character that was cut */
    if (cut && n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
        n--; /* its lead byte */
    out[n] = '\0';
    if (cut)
        snprintf(out + n, outsz - n, "…");
}

static void print_list(const ctl_ctx *ctx, const ctl_dlq_topic *t, list_ctx *lc, size_t shown,
                       int64_t total)
{
    ctl_table tab;
    static const char *const titles[] = {"RECORD",    "FAILED AT", "SOURCE",   "EVENT ID", "CLASS",
                                         ">ATTEMPTS", "ORIGIN",    "REQUEUED", "ERROR",    NULL};
    ctl_table_init(&tab, titles);
    for (size_t i = 0; i < shown; i++) {
        json_t *r = lc->recs[i].json;
        char rec[48], failed[HP_TIME_RFC3339_SIZE] = "", err[ERROR_COLUMN_MAX + 8];
        snprintf(rec, sizeof rec, "%d:%" PRId64, (int)lc->recs[i].partition, lc->recs[i].offset);
        char *end;
        long long ms = strtoll(hdr_of(r, HP_HDR_FAILED_AT), &end, 10);
        if (*end == '\0' && ms > 0)
            hp_time_format_rfc3339(ms, failed, sizeof failed);
        one_line(hdr_of(r, HP_HDR_ERROR), err, sizeof err);
        const char *row[] = {rec,
                             failed,
                             hdr_of(r, HP_HDR_SOURCE),
                             hdr_of(r, HP_HDR_EVENT_ID),
                             hdr_of(r, HP_HDR_ERROR_CLASS),
                             hdr_of(r, HP_HDR_ATTEMPTS),
                             hdr_of(r, HP_HDR_ORIGIN),
                             json_is_true(json_object_get(r, "requeued")) ? "yes" : "no",
                             err};
        ctl_table_row(&tab, row);
    }
    fprintf(ctx->out, "topic %s: %" PRId64 " record%s", t->name, total, total == 1 ? "" : "s");
    fprintf(ctx->out, ctx->args->since_ms ? " since the given time" : "");
    fprintf(ctx->out, ", %zu shown\n", shown);
    if (shown > 0)
        ctl_table_print(&tab, ctx->out);
    ctl_table_deinit(&tab);
}

int ctl_cmd_dlq_list(const ctl_ctx *ctx)
{
    char errstr[1024], gbuf[300];
    ctl_dlq_topic t = {.name = ctx->cfg->kafka.dlq_topic};
    list_ctx lc = {.limit = ctx->args->limit, .t = &t};
    int code = CTL_EXIT_FAILURE;
    int64_t *from = NULL;
    rd_kafka_t *rk = ctl_kafka_consumer(ctx->cfg, NULL, errstr, sizeof errstr);
    if (!rk) {
        ctl_error(ctx, "%s", errstr);
        return CTL_EXIT_USAGE;
    }
    hp_err rc = ctl_kafka_group_offsets(rk, ctl_dlq_requeue_group(ctx, gbuf, sizeof gbuf), t.name,
                                        &t.off, errstr, sizeof errstr);
    if (rc == HP_OK) {
        from = hp_xcalloc((size_t)t.off.n, sizeof *from);
        if (ctx->args->since_ms)
            rc = ctl_kafka_offsets_for_time(rk, t.name, t.off.n, ctx->args->since_ms, t.off.hi,
                                            from, errstr, sizeof errstr);
        else
            memcpy(from, t.off.lo, (size_t)t.off.n * sizeof *from);
    }
    if (rc == HP_OK) {
        lc.per_partition = hp_xcalloc((size_t)t.off.n, sizeof *lc.per_partition);
        rc = ctl_kafka_read(rk, t.name, t.off.n, from, t.off.hi, CTL_DLQ_READ_TIMEOUT_MS, NULL,
                            list_one, &lc, NULL, errstr, sizeof errstr);
    }
    if (rc != HP_OK) {
        ctl_error(ctx, "%s", errstr);
        code = rc == HP_ERR_INVALID ? CTL_EXIT_USAGE : CTL_EXIT_FAILURE;
        goto out;
    }
    int64_t total = 0;
    for (int p = 0; p < t.off.n; p++)
        total += t.off.hi[p] - from[p];
    qsort(lc.recs, lc.n, sizeof *lc.recs, by_time);
    size_t shown = lc.n < (size_t)lc.limit ? lc.n : (size_t)lc.limit;
    if (ctx->args->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < shown; i++)
            json_array_append(arr, lc.recs[i].json);
        ctl_print_json(ctx, json_pack("{s:s, s:I, s:i, s:o}", "topic", t.name, "total",
                                      (json_int_t)total, "shown", (int)shown, "records", arr));
    } else {
        print_list(ctx, &t, &lc, shown, total);
    }
    code = CTL_EXIT_OK;
out:
    for (size_t i = 0; i < lc.n; i++)
        json_decref(lc.recs[i].json);
    free(lc.recs);
    free(lc.per_partition);
    free(from);
    ctl_kafka_offsets_deinit(&t.off);
    ctl_kafka_destroy(rk);
    return code;
}
