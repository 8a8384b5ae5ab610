/*
 * ctl_dlq: what dlq list and dlq requeue share. See ctl_dlq_int.h; the
 * commands are in ctl_dlq_list.c and ctl_dlq_requeue.c.
 */
#include "ctl_dlq_int.h"
#include "ctl_kafka.h"

#include "hp_alloc.h"
#include "hp_envelope.h"

#include <stdio.h>
#include <stdlib.h>

void ctl_dlq_topic_deinit(ctl_dlq_topic *t)
{
    free(t->lo);
    free(t->hi);
    free(t->requeued);
}

const char *ctl_dlq_requeue_group(const ctl_ctx *ctx, char *buf, size_t bufsz)
{
    if (ctx->args->group)
        return ctx->args->group;
    snprintf(buf, bufsz, "hookpipectl-requeue.%s", ctx->cfg->kafka.dlq_topic);
    return buf;
}

hp_err ctl_dlq_describe(rd_kafka_t *rk, const char *group, ctl_dlq_topic *t, char *errstr,
                        size_t errstr_size)
{
    hp_err rc = ctl_kafka_partitions(rk, t->name, &t->n, errstr, errstr_size);
    if (rc != HP_OK)
        return rc;
    t->lo = hp_xcalloc((size_t)t->n, sizeof *t->lo);
    t->hi = hp_xcalloc((size_t)t->n, sizeof *t->hi);
    t->requeued = hp_xcalloc((size_t)t->n, sizeof *t->requeued);
    rc = ctl_kafka_watermarks(rk, t->name, t->n, t->lo, t->hi, errstr, errstr_size);
    if (rc == HP_OK)
        rc = ctl_kafka_committed(rk, group, t->name, t->n, t->requeued, errstr, errstr_size);
    return rc;
}

char *ctl_dlq_header(const rd_kafka_message_t *msg, const char *name)
{
    rd_kafka_headers_t *hdrs = NULL;
    char *v = NULL;
    if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
        v = hp_envelope_header_dup(hdrs, name);
    return v ? v : hp_xstrdup("");
}
