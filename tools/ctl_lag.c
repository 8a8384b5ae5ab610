/*
 * ctl_lag: hookpipectl lag — how far a consumer group is behind, per
 * partition: committed offset, end offset, lag; and the total.
 *
 * The committed offsets come from the group coordinator (the Admin API), so
 * this works whether the group's members run or not. A partition without a
 * commit counts from its earliest offset, where a worker
 * (auto.offset.reset=earliest) would start.
 */
#include "ctl.h"
#include "ctl_kafka.h"
#include "ctl_table.h"

#include "hp_alloc.h"

#include <inttypes.h>
#include <stdlib.h>

int ctl_cmd_lag(const ctl_ctx *ctx)
{
    const char *group = ctx->args->group ? ctx->args->group : ctx->cfg->worker.group_id;
    const char *topic = ctx->args->topic ? ctx->args->topic : ctx->cfg->kafka.topic;
    char errstr[1024];
    int code = CTL_EXIT_FAILURE;
    ctl_kafka_offsets o = {0};
    rd_kafka_t *rk = ctl_kafka_consumer(ctx->cfg, NULL, errstr, sizeof errstr);
    if (!rk) {
        ctl_error(ctx, "%s", errstr);
        return CTL_EXIT_USAGE;
    }
    hp_err rc = ctl_kafka_group_offsets(rk, group, topic, &o, errstr, sizeof errstr);
    if (rc != HP_OK) {
        ctl_error(ctx, "%s", errstr);
        code = rc == HP_ERR_INVALID ? CTL_EXIT_USAGE : CTL_EXIT_FAILURE;
        goto out;
    }

    int64_t total = 0;
    json_t *parts = json_array();
    ctl_table t;
    static const char *const titles[] = {">PARTITION", ">COMMITTED", ">END", ">LAG", NULL};
    ctl_table_init(&t, titles);
    for (int p = 0; p < o.n; p++) {
        int64_t from = o.committed[p] >= 0 ? o.committed[p] : o.lo[p];
        int64_t lag = o.hi[p] > from ? o.hi[p] - from : 0;
        total += lag;
        char cp[16], cc[24], ce[24], cl[24];
        snprintf(cp, sizeof cp, "%d", p);
        snprintf(cc, sizeof cc, o.committed[p] >= 0 ? "%" PRId64 : "-", o.committed[p]);
        snprintf(ce, sizeof ce, "%" PRId64, o.hi[p]);
        snprintf(cl, sizeof cl, "%" PRId64, lag);
        const char *row[] = {cp, cc, ce, cl};
        ctl_table_row(&t, row);
        json_array_append_new(
            parts, json_pack("{s:i, s:o, s:I, s:I}", "partition", p, "committed",
                             o.committed[p] >= 0 ? json_integer(o.committed[p]) : json_null(),
                             "end", (json_int_t)o.hi[p], "lag", (json_int_t)lag));
    }
    if (ctx->args->json) {
        ctl_print_json(ctx, json_pack("{s:s, s:s, s:o, s:I}", "group", group, "topic", topic,
                                      "partitions", parts, "total_lag", (json_int_t)total));
    } else {
        json_decref(parts);
        fprintf(ctx->out, "group %s, topic %s\n", group, topic);
        ctl_table_print(&t, ctx->out);
        fprintf(ctx->out, "total lag %" PRId64 "\n", total);
    }
    ctl_table_deinit(&t);
    code = CTL_EXIT_OK;
out:
    ctl_kafka_offsets_deinit(&o);
    ctl_kafka_destroy(rk);
    return code;
}
