/*
 * hp-load: hookpipe's HTTP/1.1 keep-alive load generator.
 *
 *   hp-load closed --requests FILE [options]          peak rate, closed loop
 *   hp-load open --rate R --requests FILE [options]   latency at a fixed rate
 *   hp-load gen ...                                   write a request corpus
 *
 * One process, 1-8 threads each running bn_load over its share of the
 * connections; the main thread merges their numbers and prints one JSON
 * object on stdout (docs/benchmarks.md describes the fields). Diagnostics go
 * to stderr; the exit code is 0 when the run happened (whatever the server
 * answered), 1 when it could not, 2 on a usage error.
 */
#include "bn_args.h"
#include "bn_corpus.h"
#include "bn_gen.h"
#include "bn_load.h"
#include "hp_alloc.h"
#include "hp_config.h" /* hp_config_parse_hostport */
#include "hp_time.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_THREADS 8
#define MAX_CONNECTIONS 100000
/* How far in the future the threads' common start lies: they connect before it. */
#define START_DELAY_NS 100000000LL

typedef struct options {
    bn_load_mode mode;
    const char *target;
    const char *requests;
    int connections;
    int threads;
    double rate;
    double duration_s;
    double warmup_s;
    double drain_s;
} options;

typedef struct worker {
    pthread_t tid;
    bn_load_plan plan;
    bn_load_stats *stats;
    hp_err rc;
    char errstr[256];
} worker;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hp-load closed --requests FILE [options]\n"
            "       hp-load open --rate R --requests FILE [options]\n"
            "       hp-load gen --config FILE --source NAME --out FILE [gen options]\n"
            "\n"
            "  closed              each connection sends its next request when the answer came\n"
            "  open                requests due every 1/R s; latency from the scheduled time\n"
            "  -r, --requests P    a corpus file or directory of raw HTTP requests (hp-load gen)\n"
            "  -t, --target H:P    the server (default 127.0.0.1:8080)\n"
            "  -c, --connections N keep-alive connections (default 64)\n"
            "  -T, --threads N     load threads, 1-%d (default 1)\n"
            "  -R, --rate R        open: requests per second, all connections together\n"
            "  -d, --duration S    measured seconds (default 15)\n"
            "  -w, --warmup S      seconds before the measurement, not counted (default 3)\n"
            "      --drain S       open: how long to await answers after the end (default 10)\n"
            "\n"
            "Prints one JSON object on stdout. `hp-load gen --help` for the corpus generator.\n",
            MAX_THREADS);
}

static bool parse_int(const char *s, int min, int max, int *out)
{
    double v;
    if (!bn_parse_double(s, min, max, &v) || v != (double)(int)v)
        return false;
    *out = (int)v;
    return true;
}

/* Fills *o from argv; false (after a message) on a usage error. */
static bool parse_options(int argc, char **argv, bn_load_mode mode, options *o)
{
    static const struct option longopts[] = {
        {"requests", required_argument, NULL, 'r'},
        {"target", required_argument, NULL, 't'},
        {"connections", required_argument, NULL, 'c'},
        {"threads", required_argument, NULL, 'T'},
        {"rate", required_argument, NULL, 'R'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"drain", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    bool ok = true;
    *o = (options){.mode = mode,
                   .target = "127.0.0.1:8080",
                   .connections = 64,
                   .threads = 1,
                   .duration_s = 15,
                   .warmup_s = 3,
                   .drain_s = 10};
    while (ok && (opt = getopt_long(argc, argv, "r:t:c:T:R:d:w:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            o->requests = optarg;
            break;
        case 't':
            o->target = optarg;
            break;
        case 'c':
            ok = parse_int(optarg, 1, MAX_CONNECTIONS, &o->connections);
            break;
        case 'T':
            ok = parse_int(optarg, 1, MAX_THREADS, &o->threads);
            break;
        case 'R':
            ok = bn_parse_double(optarg, 0.001, 1e7, &o->rate);
            break;
        case 'd':
            ok = bn_parse_double(optarg, 0.1, 86400, &o->duration_s);
            break;
        case 'w':
            ok = bn_parse_double(optarg, 0, 3600, &o->warmup_s);
            break;
        case 'D':
            ok = bn_parse_double(optarg, 0, 3600, &o->drain_s);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            ok = false;
            break;
        }
        if (!ok && opt != '?')
            fprintf(stderr, "hp-load: -%c: bad value \"%s\"\n", opt, optarg);
    }
    if (ok && (!o->requests || optind != argc)) {
        fprintf(stderr, "hp-load: --requests is required and takes no extra arguments\n");
        ok = false;
    }
    if (ok && (o->mode == BN_LOAD_OPEN) != (o->rate > 0)) {
        fprintf(stderr, "hp-load: --rate is required by open and not used by closed\n");
        ok = false;
    }
    if (ok && o->threads > o->connections)
        o->threads = o->connections;
    return ok;
}

static hp_err resolve(const char *target, struct sockaddr_storage *addr, socklen_t *addrlen,
                      char *errstr, size_t errstr_size)
{
    char host[256], port[16];
    int portnum;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (hp_config_parse_hostport(target, host, sizeof host, &portnum) != HP_OK || portnum == 0) {
        snprintf(errstr, errstr_size, "--target %s: expected host:port", target);
        return HP_ERR_INVALID;
    }
    snprintf(port, sizeof port, "%d", portnum);
    int rc = getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &res);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "--target %s: %s", target, gai_strerror(rc));
        return HP_ERR_INVALID;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return HP_OK;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    w->rc = bn_load_run(&w->plan, w->stats, w->errstr, sizeof w->errstr);
    return NULL;
}

/* Thread i's share of the connections and of the rate, and its phase. */
static void plan_thread(const options *o, const bn_load_plan *common, int i, bn_load_plan *p)
{
    *p = *common;
    p->connections = o->connections / o->threads + (i < o->connections % o->threads);
    p->first_request = common->corpus->n * (size_t)i / (size_t)o->threads;
    if (o->mode == BN_LOAD_OPEN) {
        p->rate = o->rate / o->threads;
        p->phase_ns = (int64_t)(1e9 / o->rate * i); /* the threads' schedules interleave */
    }
}

static double cpu_seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static json_t *status_json(const bn_load_stats *st)
{
    json_t *answered = json_object(), *by_code = json_object();
    uint64_t other = 0;
    for (int code = 100; code < 600; code++) {
        char name[8];
        if (!st->status[code])
            continue;
        snprintf(name, sizeof name, "%d", code);
        json_object_set_new(by_code, name, json_integer((json_int_t)st->status[code]));
        if (code != 200 && code != 503)
            other += st->status[code];
    }
    json_object_set_new(answered, "200", json_integer((json_int_t)st->status[200]));
    json_object_set_new(answered, "503", json_integer((json_int_t)st->status[503]));
    json_object_set_new(answered, "other", json_integer((json_int_t)other));
    json_object_set_new(answered, "by_code", by_code);
    return answered;
}

/* Answers and the largest latency of each second of the window (and drain). */
static json_t *timeline_json(const options *o, const bn_load_stats *st)
{
    json_t *t = json_object(), *answers = json_array(), *max_ms = json_array();
    int n = (int)(o->duration_s + (o->mode == BN_LOAD_OPEN ? o->drain_s : 0) + 0.999);
    while (n > 0 && st->timeline_answers[n - 1] == 0)
        n--;
    for (int i = 0; i < n && i < BN_LOAD_TIMELINE_MAX; i++) {
        json_array_append_new(answers, json_integer((json_int_t)st->timeline_answers[i]));
        json_array_append_new(max_ms, json_real(round(st->timeline_max_ns[i] / 1e3) / 1e3));
    }
    json_object_set_new(t, "answers", answers);
    json_object_set_new(t, "max_ms", max_ms);
    return t;
}

static void report(const options *o, const bn_corpus *corpus, const bn_load_stats *st,
                   const struct rusage *ru)
{
    json_t *r = json_object();
    bool open = o->mode == BN_LOAD_OPEN;
    json_object_set_new(r, "tool", json_string("hp-load"));
    json_object_set_new(r, "mode", json_string(open ? "open" : "closed"));
    json_object_set_new(r, "target", json_string(o->target));
    json_object_set_new(r, "connections", json_integer(o->connections));
    json_object_set_new(r, "threads", json_integer(o->threads));
    json_object_set_new(r, "warmup_s", json_real(o->warmup_s));
    json_object_set_new(r, "duration_s", json_real(o->duration_s));
    json_object_set_new(r, "rate", open ? json_real(o->rate) : json_null());
    json_object_set_new(r, "corpus_requests", json_integer((json_int_t)corpus->n));
    json_object_set_new(r, "scheduled",
                        open ? json_integer((json_int_t)st->scheduled) : json_null());
    json_object_set_new(r, "sent", json_integer((json_int_t)st->sent));
    json_object_set_new(r, "answered", status_json(st));
    json_object_set_new(r, "failed", json_integer((json_int_t)st->failed));
    json_object_set_new(r, "unanswered", json_integer((json_int_t)st->unanswered));
    json_object_set_new(r, "unsent", json_integer((json_int_t)st->unsent));
    json_object_set_new(r, "connection_errors", json_integer((json_int_t)st->conn_errors));
    json_object_set_new(r, "protocol_errors", json_integer((json_int_t)st->proto_errors));
    json_object_set_new(r, "reconnects", json_integer((json_int_t)st->reconnects));
    json_object_set_new(r, "throughput_rps", json_real((double)st->status[200] / o->duration_s));
    json_object_set_new(r, "answers_rps", json_real((double)st->answered / o->duration_s));
    json_object_set_new(r, "latency_ms", bn_hist_json(&st->latency));
    json_object_set_new(r, "timeline", timeline_json(o, st));
    if (open) {
        json_object_set_new(r, "send_lag_ms", bn_hist_json(&st->send_lag));
        json_object_set_new(r, "max_backlog", json_integer((json_int_t)st->max_backlog));
    }
    json_object_set_new(r, "cpu_user_s", json_real(cpu_seconds(&ru->ru_utime)));
    json_object_set_new(r, "cpu_sys_s", json_real(cpu_seconds(&ru->ru_stime)));
    json_dumpf(r, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    json_decref(r);
}

static void merge(bn_load_stats *dst, const bn_load_stats *src)
{
    dst->scheduled += src->scheduled;
    dst->sent += src->sent;
    dst->answered += src->answered;
    for (int i = 0; i < 600; i++)
        dst->status[i] += src->status[i];
    dst->failed += src->failed;
    dst->unanswered += src->unanswered;
    dst->unsent += src->unsent;
    dst->conn_errors += src->conn_errors;
    dst->proto_errors += src->proto_errors;
    dst->reconnects += src->reconnects;
    dst->max_backlog += src->max_backlog; /* an upper bound across threads */
    for (int i = 0; i < BN_LOAD_TIMELINE_MAX; i++) {
        dst->timeline_answers[i] += src->timeline_answers[i];
        if (src->timeline_max_ns[i] > dst->timeline_max_ns[i])
            dst->timeline_max_ns[i] = src->timeline_max_ns[i];
    }
    bn_hist_merge(&dst->latency, &src->latency);
    bn_hist_merge(&dst->send_lag, &src->send_lag);
}

static bn_load_stats *stats_new(void)
{
    bn_load_stats *st = hp_xcalloc(1, sizeof *st);
    bn_hist_init(&st->latency);
    bn_hist_init(&st->send_lag);
    return st;
}

static int run(const options *o)
{
    char errstr[512];
    bn_corpus corpus;
    bn_load_plan common = {.mode = o->mode, .corpus = &corpus};
    worker w[MAX_THREADS];
    bn_load_stats *total = stats_new();
    struct rusage ru;
    int status = 0;

    if (bn_corpus_load(&corpus, o->requests, errstr, sizeof errstr) != HP_OK ||
        resolve(o->target, &common.addr, &common.addrlen, errstr, sizeof errstr) != HP_OK) {
        fprintf(stderr, "hp-load: %s\n", errstr);
        free(total);
        return 1;
    }
    common.start_ns = hp_time_mono_ns() + START_DELAY_NS;
    common.window_ns = common.start_ns + (int64_t)(o->warmup_s * 1e9);
    common.end_ns = common.window_ns + (int64_t)(o->duration_s * 1e9);
    common.drain_ns = (int64_t)(o->drain_s * 1e9);
    for (int i = 0; i < o->threads; i++) {
        plan_thread(o, &common, i, &w[i].plan);
        w[i].stats = stats_new();
        pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < o->threads; i++) {
        pthread_join(w[i].tid, NULL);
        if (w[i].rc != HP_OK) {
            fprintf(stderr, "hp-load: thread %d: %s\n", i, w[i].errstr);
            status = 1;
        }
        merge(total, w[i].stats);
        free(w[i].stats);
    }
    getrusage(RUSAGE_SELF, &ru);
    if (status == 0)
        report(o, &corpus, total, &ru);
    bn_corpus_deinit(&corpus);
    free(total);
    return status;
}

int main(int argc, char **argv)
{
    options o;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "gen") == 0)
        return bn_gen_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "closed") != 0 && strcmp(argv[1], "open") != 0) {
        usage(stderr);
        return 2;
    }
    bn_load_mode mode = strcmp(argv[1], "open") == 0 ? BN_LOAD_OPEN : BN_LOAD_CLOSED;
    if (!parse_options(argc - 1, argv + 1, mode, &o)) {
        usage(stderr);
        return 2;
    }
    return run(&o);
}
