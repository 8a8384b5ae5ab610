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

const char *ctl_dlq_requeue_group(const ctl_ctx *ctx, char *buf, size_t bufsz)
{
    if (ctx->args->group)
        return ctx->args->group;
    snprintf(buf, bufsz, "hookpipectl-requeue.%s", ctx->cfg->kafka.dlq_topic);
    return buf;
}

char *ctl_dlq_header(const rd_kafka_message_t *msg, const char *name)
{
    rd_kafka_headers_t *hdrs = NULL;
    char *v = NULL;
    if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
        v = hp_envelope_header_dup(hdrs, name);
    return v ? v : hp_xstrdup("");
}
