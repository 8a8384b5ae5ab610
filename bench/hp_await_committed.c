/*
 * hp-await-committed: waits until a consumer group has committed a number
 * of records of a topic, for the worker benchmark (bench/worker), and says
 * when (UNIX milliseconds, so that the caller can subtract its own start).
 *
 * "Committed records" is the sum over the topic's partitions of the group's
 * committed offset minus the partition's low watermark: for a topic that
 * was filled once and never trimmed, the number of records the group is
 * done with. Without --records it waits for every record (the committed
 * offsets equal the end offsets). The group is only read, never joined:
 * this tool does not disturb the worker it watches.
 *
 * Prints one JSON object on stdout; exit 0 when reached, 1 on timeout or a
 * Kafka error, 2 on usage errors.
 */
#include "bn_args.h"
#include "hp_alloc.h"
#include "hp_time.h"

#include <getopt.h>
#include <limits.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUEST_TIMEOUT_MS 5000

typedef struct options {
    const char *brokers, *topic, *group;
    long long records; /* 0: every record */
    long long timeout_ms, interval_ms;
} options;

static void usage(FILE *out)
{
    fprintf(out, "usage: hp-await-committed --brokers B --topic T --group G [options]\n"
                 "\n"
                 "  -b, --brokers B       bootstrap servers\n"
                 "  -t, --topic T         the topic\n"
                 "  -g, --group G         the consumer group (read, never joined)\n"
                 "  -n, --records N       wait for N committed records (default: all of them)\n"
                 "  -T, --timeout-ms MS   give up after MS (default 600000)\n"
                 "  -i, --interval-ms MS  between two looks (default 100)\n");
}

static bool parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},
        {"records", required_argument, NULL, 'n'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"interval-ms", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    bool ok = true;
    *o = (options){.timeout_ms = 600000, .interval_ms = 100};
    while (ok && (opt = getopt_long(argc, argv, "b:t:g:n:T:i:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            o->brokers = optarg;
            break;
        case 't':
            o->topic = optarg;
            break;
        case 'g':
            o->group = optarg;
            break;
        case 'n':
            ok = bn_parse_long(optarg, 1, LLONG_MAX, &o->records);
            break;
        case 'T':
            ok = bn_parse_long(optarg, 1, 86400000, &o->timeout_ms);
            break;
        case 'i':
            ok = bn_parse_long(optarg, 1, 59999, &o->interval_ms);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            ok = false;
            break;
        }
        if (!ok && opt != '?')
            fprintf(stderr, "hp-await-committed: -%c: bad value \"%s\"\n", opt, optarg);
    }
    if (ok && (!o->brokers || !o->topic || !o->group || optind != argc)) {
        fprintf(stderr, "hp-await-committed: --brokers, --topic and --group are required\n");
        ok = false;
    }
    return ok;
}

static rd_kafka_t *client_new(const options *o)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", o->brokers, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", o->group, err, sizeof err) ||
        rd_kafka_conf_set(conf, "client.id", "hp-await-committed", err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err)) {
        fprintf(stderr, "hp-await-committed: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "hp-await-committed: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* The topic's partitions, with their low and high watermarks. */
static rd_kafka_topic_partition_list_t *partitions(rd_kafka_t *rk, const options *o, int64_t **low,
                                                   int64_t **high)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, REQUEST_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (err || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
        fprintf(stderr, "hp-await-committed: topic %s: %s\n", o->topic,
                rd_kafka_err2str(err ? err : md->topics[0].err));
        if (md)
            rd_kafka_metadata_destroy(md);
        return NULL;
    }
    int n = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    *low = hp_xcalloc((size_t)n, sizeof **low);
    *high = hp_xcalloc((size_t)n, sizeof **high);
    for (int i = 0; i < n; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        rd_kafka_topic_partition_list_add(parts, o->topic, p);
        err = rd_kafka_query_watermark_offsets(rk, o->topic, p, &(*low)[i], &(*high)[i],
                                               REQUEST_TIMEOUT_MS);
        if (err) {
            fprintf(stderr, "hp-await-committed: %s/%d: watermarks: %s\n", o->topic, (int)p,
                    rd_kafka_err2str(err));
            rd_kafka_topic_partition_list_destroy(parts);
            parts = NULL;
            break;
        }
    }
    rd_kafka_metadata_destroy(md);
    return parts;
}

int main(int argc, char **argv)
{
    options o;
    int status = 1;
    int64_t *low = NULL, *high = NULL;
    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    rd_kafka_t *rk = client_new(&o);
    if (!rk)
        return 2;
    rd_kafka_topic_partition_list_t *parts = partitions(rk, &o, &low, &high);
    if (!parts)
        goto out;
    long long total = 0;
    for (int i = 0; i < parts->cnt; i++)
        total += high[i] - low[i];
    long long want = o.records ? o.records : total;
    long long done = 0;
    int64_t deadline = hp_time_mono_ns() + (int64_t)o.timeout_ms * 1000000;
    while (hp_time_mono_ns() < deadline) {
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, REQUEST_TIMEOUT_MS);
        if (!err) {
            done = 0;
            for (int i = 0; i < parts->cnt; i++)
                if (parts->elems[i].offset >= 0)
                    done += parts->elems[i].offset - low[i];
            if (done >= want) {
                printf("{\"tool\": \"hp-await-committed\", \"group\": \"%s\", \"records\": %lld, "
                       "\"committed\": %lld, \"topic_records\": %lld, \"reached_at_ms\": %lld}\n",
                       o.group, want, done, total, (long long)hp_time_now_ms());
                status = 0;
                goto out;
            }
        }
        struct timespec ts = {o.interval_ms / 1000, (o.interval_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "hp-await-committed: group %s: %lld of %lld records committed after %lld ms\n",
            o.group, done, want, o.timeout_ms);
out:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    free(low);
    free(high);
    rd_kafka_destroy(rk);
    return status;
}
