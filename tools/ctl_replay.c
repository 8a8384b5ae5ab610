/*
 * ctl_replay: hookpipectl replay — move a stopped consumer group's committed
 * offsets back (or forward), so that its workers re-read the topic from
 * there when they start again.
 *
 * A group with active members is refused: they would commit their own
 * positions over the new offsets (and Kafka refuses the change anyway). The
 * worker deduplicates by (source, event id) in the same transaction as the
 * effect, so re-read events are counted as duplicates and not applied twice.
 */
#include "ctl.h"
#include "ctl_kafka.h"
#include "ctl_table.h"

#include "hp_alloc.h"
#include "hp_time.h"

#include <inttypes.h>
#include <stdlib.h>

/* The target offsets (-1: leave the partition as it is) of the command line. */
static int targets(const ctl_ctx *ctx, rd_kafka_t *rk, const char *topic, int n, const int64_t *lo,
                   const int64_t *hi, int64_t *target)
{
    const ctl_args *a = ctx->args;
    char errstr[1024];
    hp_err rc = HP_OK;
    switch (a->replay) {
    case CTL_REPLAY_EARLIEST:
        for (int p = 0; p < n; p++)
            target[p] = lo[p];
        break;
    case CTL_REPLAY_TIME:
    case CTL_REPLAY_DURATION: {
        int64_t ts = a->replay == CTL_REPLAY_TIME ? a->time_ms : hp_time_now_ms() - a->duration_ms;
        rc = ctl_kafka_offsets_for_time(rk, topic, n, ts, hi, target, errstr, sizeof errstr);
        if (rc != HP_OK) {
            ctl_error(ctx, "%s", errstr);
            return CTL_EXIT_FAILURE;
        }
        break;
    }
    case CTL_REPLAY_OFFSETS:
        for (int p = 0; p < n; p++)
            target[p] = -1;
        for (size_t i = 0; i < a->noffsets; i++) {
            int32_t p = a->offsets[i].partition;
            int64_t o = a->offsets[i].offset;
            if (p >= n) {
                ctl_error(ctx, "--to-offset %d:%" PRId64 ": topic %s has partitions 0..%d", p, o,
                          topic, n - 1);
                return CTL_EXIT_USAGE;
            }
            if (o < lo[p] || o > hi[p]) {
                ctl_error(ctx,
                          "--to-offset %d:%" PRId64 ": partition %d holds offsets %" PRId64
                          "..%" PRId64 " (give one of those, or %" PRId64 " for its end)",
                          p, o, p, lo[p], hi[p] - 1, hi[p]);
                return CTL_EXIT_USAGE;
            }
            target[p] = o;
        }
        break;
    case CTL_REPLAY_UNSET:
        return CTL_EXIT_USAGE;
    }
    return CTL_EXIT_OK;
}

static void print_result(const ctl_ctx *ctx, const char *group, const char *topic, int n,
                         const int64_t *old, const int64_t *target, bool applied)
{
    ctl_table t;
    static const char *const titles[] = {">PARTITION", ">OLD", "", ">NEW", ">CHANGE", NULL};
    json_t *parts = json_array();
    int moved = 0;
    int64_t reread = 0;
    ctl_table_init(&t, titles);
    for (int p = 0; p < n; p++) {
        char cp[16], co[24], cn[24], cd[32];
        int64_t to = target[p] >= 0 ? target[p] : old[p];
        snprintf(cp, sizeof cp, "%d", p);
        snprintf(co, sizeof co, old[p] >= 0 ? "%" PRId64 : "-", old[p]);
        snprintf(cn, sizeof cn, to >= 0 ? "%" PRId64 : "-", to);
        if (target[p] < 0 || target[p] == old[p])
            snprintf(cd, sizeof cd, "unchanged");
        else if (old[p] < 0)
            snprintf(cd, sizeof cd, "set");
        else
            snprintf(cd, sizeof cd, "%+" PRId64, target[p] - old[p]);
        if (target[p] >= 0 && target[p] != old[p]) {
            moved++;
            if (old[p] > target[p])
                reread += old[p] - target[p];
        }
        const char *row[] = {cp, co, "->", cn, cd};
        ctl_table_row(&t, row);
        json_array_append_new(parts, json_pack("{s:i, s:o, s:o}", "partition", p, "old",
                                               old[p] >= 0 ? json_integer(old[p]) : json_null(),
                                               "new", to >= 0 ? json_integer(to) : json_null()));
    }
    if (ctx->args->json) {
        ctl_print_json(ctx, json_pack("{s:s, s:s, s:b, s:o, s:i, s:I}", "group", group, "topic",
                                      topic, "dry_run", !applied, "partitions", parts, "moved",
                                      moved, "records_to_reread", (json_int_t)reread));
    } else {
        json_decref(parts);
        fprintf(ctx->out, "group %s, topic %s%s\n", group, topic,
                applied ? "" : " (dry run: nothing changed)");
        ctl_table_print(&t, ctx->out);
        fprintf(ctx->out, "%s %d partition%s; %" PRId64 " record%s to read again\n",
                applied ? "moved" : "would move", moved, moved == 1 ? "" : "s", reread,
                reread == 1 ? "" : "s");
    }
    ctl_table_deinit(&t);
}

int ctl_cmd_replay(const ctl_ctx *ctx)
{
    const ctl_args *a = ctx->args;
    const char *group = a->group ? a->group : ctx->cfg->worker.group_id;
    const char *topic = a->topic ? a->topic : ctx->cfg->kafka.topic;
    char errstr[1024], who[1024];
    int code = CTL_EXIT_FAILURE;
    size_t members = 0;
    ctl_kafka_offsets o = {0};
    int64_t *target = NULL;
    rd_kafka_t *rk = ctl_kafka_consumer(ctx->cfg, NULL, errstr, sizeof errstr);
    if (!rk) {
        ctl_error(ctx, "%s", errstr);
        return CTL_EXIT_USAGE;
    }
    hp_err rc = ctl_kafka_group_offsets(rk, group, topic, &o, errstr, sizeof errstr);
    if (rc == HP_OK)
        rc = ctl_kafka_group_members(rk, group, &members, who, sizeof who, errstr, sizeof errstr);
    if (rc != HP_OK) {
        ctl_error(ctx, "%s", errstr);
        code = rc == HP_ERR_INVALID ? CTL_EXIT_USAGE : CTL_EXIT_FAILURE;
        goto out;
    }
    if (members > 0 && !a->dry_run) {
        ctl_error(ctx,
                  "group %s has %zu active member%s (%s): stop its workers first, then replay "
                  "(a running member would commit its own offsets over the new ones)",
                  group, members, members == 1 ? "" : "s", who);
        goto out;
    }
    target = hp_xcalloc((size_t)o.n, sizeof *target);
    code = targets(ctx, rk, topic, o.n, o.lo, o.hi, target);
    if (code != CTL_EXIT_OK)
        goto out;
    if (!a->dry_run) {
        int64_t *change = hp_xcalloc((size_t)o.n, sizeof *change);
        for (int p = 0; p < o.n; p++)
            change[p] = target[p] >= 0 && target[p] != o.committed[p] ? target[p] : -1;
        rc = ctl_kafka_alter_committed(rk, group, topic, o.n, change, errstr, sizeof errstr);
        free(change);
        if (rc != HP_OK) {
            ctl_error(ctx,
                      "%s (nothing or only part was changed; run it again once the group "
                      "is stopped)",
                      errstr);
            code = CTL_EXIT_FAILURE;
            goto out;
        }
    }
    print_result(ctx, group, topic, o.n, o.committed, target, !a->dry_run);
    if (members > 0)
        fprintf(ctx->err,
                "hookpipectl replay: note: group %s has %zu active member%s (%s); the replay "
                "itself is refused until they stop\n",
                group, members, members == 1 ? "" : "s", who);
out:
    ctl_kafka_offsets_deinit(&o);
    free(target);
    ctl_kafka_destroy(rk);
    return code;
}
