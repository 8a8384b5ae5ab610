/*
 * hp-kafka-baseline: how fast Kafka alone takes the gateway's records.
 *
 * A plain librdkafka producer with the gateway's producer settings (the list
 * below mirrors gateway/gw_producer.c: keep the two in step) produces the
 * records the gateway would make of a request corpus (bn_record: same
 * values, keys and envelope headers). It keeps exactly --inflight records
 * unacknowledged: each delivery report produces the next record from inside
 * the callback, the way each gateway answer lets a keep-alive client send
 * its next request. With --unbounded it keeps as many in flight as the
 * producer queue takes. The rate it reaches is the bar for the gateway at
 * the same concurrency (docs/benchmarks.md).
 *
 * Prints one JSON object on stdout; exit 0 when the run happened, 1 when the
 * producer could not start or the broker did not answer, 2 on usage or
 * configuration errors.
 */
#include "bn_args.h"
#include "bn_corpus.h"
#include "bn_hist.h"
#include "bn_record.h"
#include "hp_alloc.h"
#include "hp_config.h"
#include "hp_envelope.h"
#include "hp_time.h"

#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_OVERRIDES 32
#define METADATA_TIMEOUT_MS 10000
#define FLUSH_TIMEOUT_MS 10000
#define POLL_MS 100

typedef struct options {
    const char *config, *source, *requests;
    int inflight; /* 0 = unbounded */
    double duration_s, warmup_s;
    const char *overrides[MAX_OVERRIDES]; /* "name=value" from -X */
    int noverrides;
} options;

typedef struct bench {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    bn_record *recs;
    size_t nrecs, next_rec;
    int64_t *sent_ns; /* per slot: when its record was produced */
    size_t *free_slots, nfree, nslots;
    int64_t window_ns, end_ns;
    uint64_t produced, acked, failed, queue_full;
    const char *first_error;
    bn_hist latency;
} bench;

static void usage(FILE *out)
{
    fprintf(out, "usage: hp-kafka-baseline --config FILE --source NAME --requests FILE [options]\n"
                 "\n"
                 "  -c, --config FILE    the hookpipe configuration (brokers, topic, properties)\n"
                 "  -s, --source NAME    the source the requests were signed for\n"
                 "  -r, --requests P     the request corpus (hp-load gen)\n"
                 "  -k, --inflight K     records unacknowledged at any time (default 64)\n"
                 "  -u, --unbounded      as many in flight as the producer queue takes\n"
                 "  -d, --duration S     measured seconds (default 15)\n"
                 "  -w, --warmup S       seconds before the measurement (default 3)\n"
                 "  -X NAME=VALUE        a librdkafka property, applied last (experiments)\n");
}

static bool parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"source", required_argument, NULL, 's'},
        {"requests", required_argument, NULL, 'r'},
        {"inflight", required_argument, NULL, 'k'},
        {"unbounded", no_argument, NULL, 'u'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    double v = 0;
    bool ok = true;
    *o = (options){.inflight = 64, .duration_s = 15, .warmup_s = 3};
    while (ok && (opt = getopt_long(argc, argv, "c:s:r:k:ud:w:X:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            o->config = optarg;
            break;
        case 's':
            o->source = optarg;
            break;
        case 'r':
            o->requests = optarg;
            break;
        case 'k':
            ok = bn_parse_double(optarg, 1, 1000000, &v);
            o->inflight = (int)v;
            break;
        case 'u':
            o->inflight = 0;
            break;
        case 'd':
            ok = bn_parse_double(optarg, 0.1, 86400, &o->duration_s);
            break;
        case 'w':
            ok = bn_parse_double(optarg, 0, 3600, &o->warmup_s);
            break;
        case 'X':
            ok = o->noverrides < MAX_OVERRIDES && strchr(optarg, '=') != NULL;
            if (ok)
                o->overrides[o->noverrides++] = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            ok = false;
            break;
        }
        if (!ok && opt != '?')
            fprintf(stderr, "hp-kafka-baseline: -%c: bad value \"%s\"\n", opt, optarg);
    }
    if (ok && (!o->config || !o->source || !o->requests || optind != argc)) {
        fprintf(stderr, "hp-kafka-baseline: --config, --source and --requests are required\n");
        ok = false;
    }
    return ok;
}

/* ---- producer settings: the gateway's list (gateway/gw_producer.c) ---- */

static bool set(rd_kafka_conf_t *conf, json_t *applied, const char *name, const char *value)
{
    char err[256];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "hp-kafka-baseline: %s: %s\n", name, err);
        return false;
    }
    json_object_set_new(applied, name, json_string(value));
    return true;
}

/* The gateway's settings, then -X overrides; what was set goes into applied. */
static rd_kafka_conf_t *build_conf(const hp_config *cfg, const options *o, json_t *applied)
{
    static const char *const defaults[][2] = {
        {"client.id", "hp-kafka-baseline"},
        {"linger.ms", "2"},
        {"socket.nagle.disable", "true"},
        {"partitioner", "murmur2_random"},
    };
    char qmax[32], timeout[32], name[256];
    int ack = cfg->gateway.ack_timeout_ms, max_inflight = cfg->gateway.max_inflight;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    bool ok = true;

    snprintf(qmax, sizeof qmax, "%d", max_inflight * 2 > 100000 ? max_inflight * 2 : 100000);
    snprintf(timeout, sizeof timeout, "%d", ack - 1000 > ack / 2 ? ack - 1000 : ack / 2);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0] && ok; i++)
        ok = set(conf, applied, defaults[i][0], defaults[i][1]);
    ok = ok && set(conf, applied, "queue.buffering.max.messages", qmax);
    for (size_t i = 0; i < cfg->kafka.nproperties && ok; i++)
        ok = set(conf, applied, cfg->kafka.properties[i].name, cfg->kafka.properties[i].value);
    ok = ok && set(conf, applied, "bootstrap.servers", cfg->kafka.brokers);
    ok = ok && set(conf, applied, "enable.idempotence", "true");
    ok = ok && set(conf, applied, "acks", "all");
    ok = ok && set(conf, applied, "message.timeout.ms", timeout);
    for (int i = 0; i < o->noverrides && ok; i++) {
        const char *eq = strchr(o->overrides[i], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->overrides[i]), o->overrides[i]);
        ok = set(conf, applied, name, eq + 1);
    }
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* ---- producing ---- */

/* Produces the next record on a free slot; false if none is free or the queue is full. */
static bool produce_one(bench *b)
{
    if (b->nfree == 0)
        return false;
    size_t slot = b->free_slots[--b->nfree];
    bn_record *rec = &b->recs[b->next_rec];
    b->next_rec = (b->next_rec + 1) % b->nrecs;

    rec->env.received_at_ms = hp_time_now_ms();
    rd_kafka_headers_t *hdrs = hp_envelope_headers_new(&rec->env);
    b->sent_ns[slot] = hp_time_mono_ns();
    rd_kafka_resp_err_t err = rd_kafka_producev(
        b->rk, RD_KAFKA_V_RKT(b->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE((void *)rec->value, rec->len),
        RD_KAFKA_V_KEY(rec->key, rec->key ? strlen(rec->key) : 0), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_OPAQUE(&b->sent_ns[slot]), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(hdrs);
        b->free_slots[b->nfree++] = slot;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            b->queue_full++;
        else if (!b->first_error)
            b->first_error = rd_kafka_err2name(err);
        return false;
    }
    b->produced++;
    return true;
}

/* The delivery report: count it, free its slot, produce the next record at once. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    bench *b = opaque;
    int64_t *sent = msg->_private;
    int64_t now = hp_time_mono_ns();
    if (now >= b->window_ns && now < b->end_ns) {
        if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            b->acked++;
            bn_hist_record(&b->latency, now - *sent);
        } else {
            b->failed++;
        }
    }
    if (msg->err && !b->first_error)
        b->first_error = rd_kafka_err2name(msg->err);
    b->free_slots[b->nfree++] = (size_t)(sent - b->sent_ns);
    if (now < b->end_ns)
        produce_one(b);
}

static void run(bench *b)
{
    int64_t now;
    while ((now = hp_time_mono_ns()) < b->end_ns) {
        while (produce_one(b)) /* slots freed without a new record (a full queue) */
            ;
        rd_kafka_poll(b->rk, POLL_MS);
    }
    rd_kafka_flush(b->rk, FLUSH_TIMEOUT_MS);
}

/* Connects and fetches the topic's metadata, so the warm-up does not start cold. */
static bool broker_answers(bench *b)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(b->rk, 0, b->rkt, &md, METADATA_TIMEOUT_MS);
    bool ok = !err && md->topic_cnt == 1 && !md->topics[0].err;
    if (!ok)
        fprintf(stderr, "hp-kafka-baseline: no metadata for the topic: %s\n",
                err ? rd_kafka_err2str(err) : rd_kafka_err2str(md->topics[0].err));
    if (md)
        rd_kafka_metadata_destroy(md);
    return ok;
}

static void report(const bench *b, const options *o, const hp_config *cfg, json_t *settings)
{
    struct rusage ru;
    json_t *r = json_object();
    getrusage(RUSAGE_SELF, &ru);
    json_object_set_new(r, "tool", json_string("hp-kafka-baseline"));
    json_object_set_new(r, "mode", json_string(o->inflight ? "bounded" : "unbounded"));
    json_object_set_new(r, "inflight", o->inflight ? json_integer(o->inflight) : json_null());
    json_object_set_new(r, "warmup_s", json_real(o->warmup_s));
    json_object_set_new(r, "duration_s", json_real(o->duration_s));
    json_object_set_new(r, "topic", json_string(cfg->kafka.topic));
    json_object_set_new(r, "corpus_requests", json_integer((json_int_t)b->nrecs));
    json_object_set_new(r, "produced", json_integer((json_int_t)b->produced));
    json_object_set_new(r, "acknowledged", json_integer((json_int_t)b->acked));
    json_object_set_new(r, "failed", json_integer((json_int_t)b->failed));
    json_object_set_new(r, "queue_full", json_integer((json_int_t)b->queue_full));
    json_object_set_new(r, "unflushed", json_integer(rd_kafka_outq_len(b->rk)));
    json_object_set_new(r, "first_error",
                        b->first_error ? json_string(b->first_error) : json_null());
    json_object_set_new(r, "rate_rps", json_real((double)b->acked / o->duration_s));
    json_object_set_new(r, "ack_latency_ms", bn_hist_json(&b->latency));
    json_object_set_new(r, "producer", json_incref(settings));
    json_object_set_new(r, "cpu_user_s",
                        json_real((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6));
    json_object_set_new(r, "cpu_sys_s",
                        json_real((double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6));
    json_dumpf(r, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    json_decref(r);
}

/* Creates the producer and runs the measurement; returns the exit code. */
static int measure(bench *b, const options *o, const hp_config *cfg)
{
    char err[512];
    json_t *settings = json_object();
    rd_kafka_conf_t *conf = build_conf(cfg, o, settings);
    int status = 1;
    if (!conf) {
        json_decref(settings);
        return 2;
    }
    rd_kafka_conf_set_opaque(conf, b);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!b->rk) {
        fprintf(stderr, "hp-kafka-baseline: %s\n", err);
        rd_kafka_conf_destroy(conf);
        json_decref(settings);
        return 1;
    }
    b->rkt = rd_kafka_topic_new(b->rk, cfg->kafka.topic, NULL);
    /* Unbounded: a slot for every record the producer queue can hold. */
    const char *qmax = json_string_value(json_object_get(settings, "queue.buffering.max.messages"));
    b->nslots = o->inflight ? (size_t)o->inflight : strtoul(qmax, NULL, 10);
    b->sent_ns = hp_xcalloc(b->nslots, sizeof *b->sent_ns);
    b->free_slots = hp_xcalloc(b->nslots, sizeof *b->free_slots);
    for (b->nfree = 0; b->nfree < b->nslots; b->nfree++)
        b->free_slots[b->nfree] = b->nslots - 1 - b->nfree;
    if (broker_answers(b)) {
        int64_t start = hp_time_mono_ns();
        b->window_ns = start + (int64_t)(o->warmup_s * 1e9);
        b->end_ns = b->window_ns + (int64_t)(o->duration_s * 1e9);
        run(b);
        report(b, o, cfg, settings);
        status = 0;
    }
    rd_kafka_topic_destroy(b->rkt);
    rd_kafka_destroy(b->rk);
    free(b->sent_ns);
    free(b->free_slots);
    json_decref(settings);
    return status;
}

int main(int argc, char **argv)
{
    options o;
    hp_config cfg;
    bn_corpus corpus = {0};
    bench *b = hp_xcalloc(1, sizeof *b);
    char errstr[1024], gateway[300], host[256] = "localhost";
    int status = 2;

    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        free(b);
        return 2;
    }
    if (hp_config_load(&cfg, o.config, errstr, sizeof errstr) != HP_OK) {
        fprintf(stderr, "hp-kafka-baseline: %s\n", errstr);
        free(b);
        return 2;
    }
    gethostname(host, sizeof host - 1);
    snprintf(gateway, sizeof gateway, "%s:%ld", host, (long)getpid());
    const hp_source *src = hp_config_find_source(&cfg, o.source);
    bn_hist_init(&b->latency);
    if (!src)
        fprintf(stderr, "hp-kafka-baseline: %s: no source named %s\n", o.config, o.source);
    else if (!cfg.kafka.brokers)
        fprintf(stderr, "hp-kafka-baseline: kafka.brokers: required (or HOOKPIPE_KAFKA_BROKERS)\n");
    else if (bn_corpus_load(&corpus, o.requests, errstr, sizeof errstr) != HP_OK ||
             bn_records_make(&corpus, src, gateway, &b->recs, errstr, sizeof errstr) != HP_OK)
        fprintf(stderr, "hp-kafka-baseline: %s\n", errstr);
    else {
        b->nrecs = corpus.n;
        status = measure(b, &o, &cfg);
    }
    bn_records_free(b->recs, b->nrecs);
    bn_corpus_deinit(&corpus);
    hp_config_deinit(&cfg);
    free(b);
    return status;
}
