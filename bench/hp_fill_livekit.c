/*
 * hp-fill-livekit: fills a Kafka topic with LiveKit webhook records exactly
 * as hookpipe-gateway would have produced them, for the worker benchmark
 * (bench/worker).
 *
 * The webhooks come from bn_livekit (many rooms, whole lifecycles). Each
 * record is what the gateway makes of a LiveKit request for the source of
 * deploy/local/config.json (event_id /id, event_type /event, key /room/sid,
 * event_time /createdAt): the body as value; the key the room's sid, else
 * (egress, ingress) the event id; the envelope headers of hp_envelope with
 * the request headers LiveKit's sender writes, minus Authorization; the
 * gateway's producer settings (idempotent, acks=all, murmur2_random).
 *
 * --dup-pct P makes P % of the records duplicates: a copy of a recent
 * record (same source, event id, key and body; a new received-at), as a
 * provider's retry or the gateway's at-least-once delivery would. With
 * --partitions N the topic is created first when it does not exist.
 *
 * Prints one JSON object on stdout; exit 0 when every record was
 * acknowledged, 1 otherwise, 2 on usage or configuration errors.
 */
#include "bn_args.h"
#include "bn_livekit.h"
#include "hp_alloc.h"
#include "hp_config.h"
#include "hp_envelope.h"
#include "hp_time.h"

#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_COUNT 100000000L
#define RING 4096 /* duplicates copy one of the last RING records */
#define ADMIN_TIMEOUT_MS 30000
#define FLUSH_TIMEOUT_MS 60000

typedef struct options {
    const char *config, *source, *topic, *gateway;
    long long count, partitions, rooms;
    double dup_pct;
    unsigned long long seed;
    bool delete_topic;
} options;

/* A record kept for duplicating. */
typedef struct kept {
    char *body, *event_id, *event_type, *key;
    size_t len;
    int64_t created_s;
} kept;

typedef struct fill {
    uint64_t acked, failed;
    const char *first_error;
} fill;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hp-fill-livekit --config FILE [options]\n"
            "\n"
            "Produces LiveKit webhook records as hookpipe-gateway would, then waits for\n"
            "every acknowledgement and prints a JSON summary.\n"
            "\n"
            "  -c, --config FILE     hookpipe configuration (kafka.brokers, topic, properties)\n"
            "  -s, --source NAME     the hookpipe-source header (default livekit)\n"
            "  -t, --topic T         the topic (default kafka.topic)\n"
            "  -p, --partitions N    create the topic with N partitions if it does not exist\n"
            "  -n, --count N         records in all, duplicates included (default 100000)\n"
            "  -d, --dup-pct P       percent of them duplicates of recent records (default 10)\n"
            "  -r, --rooms R         rooms active at a time (default 500)\n"
            "      --seed S          the stream's seed (default 1): same seed, same bodies\n"
            "      --gateway ID      the hookpipe-gateway header (default hp-fill-livekit)\n"
            "      --delete-topic    delete the topic instead, and exit\n");
}

static bool parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},  {"source", required_argument, NULL, 's'},
        {"topic", required_argument, NULL, 't'},   {"partitions", required_argument, NULL, 'p'},
        {"count", required_argument, NULL, 'n'},   {"dup-pct", required_argument, NULL, 'd'},
        {"rooms", required_argument, NULL, 'r'},   {"seed", required_argument, NULL, 'S'},
        {"gateway", required_argument, NULL, 'g'}, {"delete-topic", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int opt;
    bool ok = true;
    char *end;
    *o = (options){.source = "livekit",
                   .gateway = "hp-fill-livekit",
                   .count = 100000,
                   .rooms = 500,
                   .dup_pct = 10,
                   .seed = 1};
    while (ok && (opt = getopt_long(argc, argv, "c:s:t:p:n:d:r:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            o->config = optarg;
            break;
        case 's':
            o->source = optarg;
            break;
        case 't':
            o->topic = optarg;
            break;
        case 'g':
            o->gateway = optarg;
            break;
        case 'p':
            ok = bn_parse_long(optarg, 1, 10000, &o->partitions);
            break;
        case 'n':
            ok = bn_parse_long(optarg, 1, MAX_COUNT, &o->count);
            break;
        case 'r':
            ok = bn_parse_long(optarg, 1, 1000000, &o->rooms);
            break;
        case 'd':
            o->dup_pct = strtod(optarg, &end);
            ok = end != optarg && !*end && o->dup_pct >= 0 && o->dup_pct < 100;
            break;
        case 'S':
            o->seed = strtoull(optarg, &end, 10);
            ok = end != optarg && !*end;
            break;
        case 'D':
            o->delete_topic = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            ok = false;
            break;
        }
        if (!ok && opt != '?')
            fprintf(stderr, "hp-fill-livekit: -%c: bad value \"%s\"\n", opt, optarg);
    }
    if (ok && (!o->config || optind != argc)) {
        fprintf(stderr, "hp-fill-livekit: --config is required\n");
        ok = false;
    }
    return ok;
}

/* ---- the producer: the gateway's settings (gateway/gw_producer.c) ---- */

static bool set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[256];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) == RD_KAFKA_CONF_OK)
        return true;
    fprintf(stderr, "hp-fill-livekit: %s: %s\n", name, err);
    return false;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    fill *f = opaque;
    if (m->err) {
        if (!f->failed++)
            f->first_error = rd_kafka_err2str(m->err);
    } else {
        f->acked++;
    }
}

static rd_kafka_t *producer_new(const hp_config *cfg, fill *f)
{
    static const char *const defaults[][2] = {
        {"client.id", "hp-fill-livekit"},           {"linger.ms", "5"},
        {"socket.nagle.disable", "true"},           {"partitioner", "murmur2_random"},
        {"queue.buffering.max.messages", "200000"},
    };
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    bool ok = true;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0] && ok; i++)
        ok = set(conf, defaults[i][0], defaults[i][1]);
    for (size_t i = 0; i < cfg->kafka.nproperties && ok; i++)
        ok = set(conf, cfg->kafka.properties[i].name, cfg->kafka.properties[i].value);
    ok = ok && set(conf, "bootstrap.servers", cfg->kafka.brokers) &&
         set(conf, "enable.idempotence", "true") && set(conf, "acks", "all");
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, f);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "hp-fill-livekit: cannot create the producer: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Creates topic with partitions unless it exists (partitions > 0), or
 * deletes it (partitions == 0); deleting a missing topic is not an error. */
static bool topic_admin(rd_kafka_t *rk, const char *topic, int partitions)
{
    char err[256];
    bool ok = false;
    const char *what = partitions ? "creating" : "deleting";
    rd_kafka_NewTopic_t *nt =
        partitions ? rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err) : NULL;
    rd_kafka_DeleteTopic_t *dt = partitions ? NULL : rd_kafka_DeleteTopic_new(topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(
        rk, partitions ? RD_KAFKA_ADMIN_OP_CREATETOPICS : RD_KAFKA_ADMIN_OP_DELETETOPICS);
    if (partitions && !nt) {
        fprintf(stderr, "hp-fill-livekit: topic %s: %s\n", topic, err);
        goto out;
    }
    rd_kafka_AdminOptions_set_operation_timeout(ao, ADMIN_TIMEOUT_MS, err, sizeof err);
    if (partitions)
        rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    else
        rd_kafka_DeleteTopics(rk, &dt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
    if (!ev) {
        fprintf(stderr, "hp-fill-livekit: %s topic %s: no answer\n", what, topic);
        goto out;
    }
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = NULL;
    if (partitions) {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        tr = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
    } else {
        const rd_kafka_DeleteTopics_result_t *res = rd_kafka_event_DeleteTopics_result(ev);
        tr = res ? rd_kafka_DeleteTopics_result_topics(res, &n) : NULL;
    }
    rd_kafka_resp_err_t terr = rd_kafka_event_error(ev);
    if (!terr && n == 1)
        terr = rd_kafka_topic_result_error(tr[0]);
    ok = !terr || terr == (partitions ? RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS
                                      : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    if (!ok)
        fprintf(stderr, "hp-fill-livekit: %s topic %s: %s\n", what, topic, rd_kafka_err2str(terr));
    rd_kafka_event_destroy(ev);
out:
    if (nt)
        rd_kafka_NewTopic_destroy(nt);
    if (dt)
        rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    return ok;
}

/* ---- records ---- */

/* The request headers LiveKit's webhook sender (Go net/http) writes, as the
 * gateway records them: lower-case names, without Authorization. */
static char *http_headers(size_t body_len)
{
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"host\":\"127.0.0.1:8080\",\"user-agent\":\"Go-http-client/1.1\","
             "\"content-length\":\"%zu\",\"content-type\":\"application/webhook+json\","
             "\"accept-encoding\":\"gzip\"}",
             body_len);
    return hp_xstrdup(buf);
}

static bool produce(rd_kafka_t *rk, const options *o, const char *topic, const kept *k)
{
    hp_envelope env = {
        .version = HP_ENVELOPE_VERSION,
        .source = (char *)o->source,
        .event_id = k->event_id,
        .event_type = k->event_type,
        .event_time_ms = k->created_s * 1000,
        .received_at_ms = hp_time_now_ms(),
        .content_type = "application/webhook+json",
        .gateway = (char *)o->gateway,
        .remote_addr = "127.0.0.1",
        .http_headers = http_headers(k->len),
    };
    rd_kafka_headers_t *hdrs = hp_envelope_headers_new(&env);
    free(env.http_headers);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(k->key, strlen(k->key)),
        RD_KAFKA_V_VALUE(k->body, k->len), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_BLOCK), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(hdrs);
        fprintf(stderr, "hp-fill-livekit: produce: %s\n", rd_kafka_err2str(err));
        return false;
    }
    rd_kafka_poll(rk, 0);
    return true;
}

static void kept_set(kept *k, const bn_lk_event *ev)
{
    free(k->body);
    free(k->event_id);
    free(k->event_type);
    free(k->key);
    k->body = hp_xstrndup(ev->body, ev->len);
    k->len = ev->len;
    k->event_id = hp_xstrdup(ev->event_id);
    k->event_type = hp_xstrdup(ev->event_type);
    k->key = hp_xstrdup(ev->room_sid ? ev->room_sid : ev->event_id);
    k->created_s = ev->created_s;
}

static void kept_free(kept *k)
{
    free(k->body);
    free(k->event_id);
    free(k->event_type);
    free(k->key);
}

int main(int argc, char **argv)
{
    options o;
    hp_config cfg;
    char errstr[1024];
    fill f = {0};
    int status = 1;

    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (hp_config_load(&cfg, o.config, errstr, sizeof errstr) != HP_OK) {
        fprintf(stderr, "hp-fill-livekit: %s\n", errstr);
        return 2;
    }
    if (!cfg.kafka.brokers) {
        fprintf(stderr, "hp-fill-livekit: kafka.brokers: required (or HOOKPIPE_KAFKA_BROKERS)\n");
        hp_config_deinit(&cfg);
        return 2;
    }
    const char *topic = o.topic ? o.topic : cfg.kafka.topic;
    rd_kafka_t *rk = producer_new(&cfg, &f);
    if (!rk) {
        hp_config_deinit(&cfg);
        return 2;
    }
    kept *ring = hp_xcalloc(RING, sizeof *ring);
    json_t *by_type = json_object();
    bn_lk_gen *gen = bn_lk_gen_new(o.seed, (int)o.rooms, time(NULL) - 3600);
    long unique = 0, dups = 0;
    uint64_t bytes = 0;
    int64_t t0 = hp_time_mono_ns();

    srand((unsigned)o.seed);
    if (o.delete_topic) {
        if (topic_admin(rk, topic, 0)) {
            printf("{\"tool\": \"hp-fill-livekit\", \"deleted\": \"%s\"}\n", topic);
            status = 0;
        }
        goto out;
    }
    if (o.partitions && !topic_admin(rk, topic, (int)o.partitions))
        goto out;
    for (long i = 0; i < o.count; i++) {
        /* Exactly floor(count * pct / 100) duplicates, spread evenly. */
        bool dup = unique > 0 &&
                   (long)((double)(i + 1) * o.dup_pct / 100) > (long)((double)i * o.dup_pct / 100);
        const kept *k;
        if (dup) {
            long window = unique < RING ? unique : RING;
            k = &ring[(unique - 1 - (long)(rand() % window)) % RING];
            dups++;
        } else {
            bn_lk_event ev;
            bn_lk_gen_next(gen, &ev);
            kept_set(&ring[unique % RING], &ev);
            k = &ring[unique % RING];
            unique++;
            json_t *c = json_object_get(by_type, ev.event_type);
            json_object_set_new(by_type, ev.event_type,
                                json_integer(c ? json_integer_value(c) + 1 : 1));
        }
        bytes += k->len;
        if (!produce(rk, &o, topic, k))
            goto out;
    }
    rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, FLUSH_TIMEOUT_MS);
    if (ferr || f.failed || f.acked != (uint64_t)o.count) {
        fprintf(stderr, "hp-fill-livekit: %llu of %lld records acknowledged (%s)\n",
                (unsigned long long)f.acked, o.count,
                f.first_error ? f.first_error : rd_kafka_err2str(ferr));
        goto out;
    }
    double secs = (double)(hp_time_mono_ns() - t0) / 1e9;
    json_t *res = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:I, s:O, s:f, s:f}", "tool",
                            "hp-fill-livekit", "topic", topic, "source", o.source, "records",
                            (json_int_t)o.count, "unique", (json_int_t)unique, "duplicates",
                            (json_int_t)dups, "rooms", (json_int_t)bn_lk_gen_rooms(gen), "dup_pct",
                            o.dup_pct, "bytes", (json_int_t)bytes, "by_type", by_type, "seconds",
                            secs, "rate_rps", (double)o.count / secs);
    json_dumpf(res, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(res);
    status = 0;
out:
    for (size_t i = 0; i < RING; i++)
        kept_free(&ring[i]);
    free(ring);
    json_decref(by_type);
    bn_lk_gen_free(gen);
    rd_kafka_flush(rk, status == 0 ? 0 : 5000);
    rd_kafka_destroy(rk);
    hp_config_deinit(&cfg);
    return status;
}
