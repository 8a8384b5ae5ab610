/*
 * hp-await-applied: waits until a worker has handled a number of records,
 * for the worker benchmark (bench/worker), and says when (UNIX
 * milliseconds, so that the caller can subtract its own start).
 *
 * "Handled" is the worker's hookpipe_worker_events_total summed over its
 * labels (applied, duplicate, dlq): the worker counts an event there only
 * once its transaction committed (or its DLQ copy was acknowledged). It reads
 * the worker's /metrics every --interval-ms. It also reports the first look
 * that saw any record handled, which is where the drain starts: before it,
 * the worker was starting and joining its group.
 *
 * This replaces a shell loop of curl and awk: on the 2-CPU machine being
 * measured, the loop took a fifth of a core, and a loop of bash reads (which
 * read a socket one byte at a time) took as much.
 *
 * Prints one JSON object on stdout; exit 0 when reached, 1 on timeout, 2 on
 * usage errors.
 */
#include "bn_args.h"
#include "hp_httpc.h"
#include "hp_time.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUEST_TIMEOUT_MS 2000
#define MAX_METRICS_BYTES (4u << 20)
#define COUNTER "hookpipe_worker_events_total{"

typedef struct options {
    int port;
    long long records;
    long timeout_ms, interval_ms;
} options;

static void usage(FILE *out)
{
    fprintf(out, "usage: hp-await-applied --port P --records N [options]\n"
                 "\n"
                 "  -p, --port P          the worker's admin port on 127.0.0.1\n"
                 "  -n, --records N       wait until N records are handled\n"
                 "  -T, --timeout-ms MS   give up after MS (default 600000)\n"
                 "  -i, --interval-ms MS  between two looks (default 20)\n");
}

static bool parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"records", required_argument, NULL, 'n'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"interval-ms", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long long port = 0, timeout = 600000, interval = 20;
    bool ok = true;
    int opt;
    *o = (options){0};
    while (ok && (opt = getopt_long(argc, argv, "p:n:T:i:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            ok = bn_parse_long(optarg, 1, 65535, &port);
            break;
        case 'n':
            ok = bn_parse_long(optarg, 1, 1LL << 50, &o->records);
            break;
        case 'T':
            ok = bn_parse_long(optarg, 1, 86400000, &timeout);
            break;
        case 'i':
            ok = bn_parse_long(optarg, 1, 60000, &interval);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            ok = false;
        }
    }
    o->port = (int)port;
    o->timeout_ms = (long)timeout;
    o->interval_ms = (long)interval;
    return ok && optind == argc && o->port && o->records;
}

/* The sum of the counter's samples in a Prometheus text body. */
static long long handled(const char *body)
{
    long long sum = 0;
    for (const char *line = body; *line;) {
        const char *nl = strchr(line, '\n');
        const char *sp = strchr(line, ' ');
        if (strncmp(line, COUNTER, sizeof COUNTER - 1) == 0 && sp && (!nl || sp < nl))
            sum += strtoll(sp + 1, NULL, 10); /* counters are integers (hp_metrics) */
        if (!nl)
            break;
        line = nl + 1;
    }
    return sum;
}

/* The current count, or -1 while the worker does not answer. */
static long long look(int port)
{
    hp_httpc_response resp = {0};
    char err[256];
    if (hp_httpc_request("127.0.0.1", port, "GET", "/metrics", NULL, 0, NULL, 0, REQUEST_TIMEOUT_MS,
                         MAX_METRICS_BYTES, &resp, err, sizeof err) != HP_OK)
        return -1;
    long long n = resp.status == 200 ? handled(resp.body) : -1;
    hp_httpc_response_deinit(&resp);
    return n;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    int64_t deadline = hp_time_mono_ns() + (int64_t)o.timeout_ms * 1000000;
    int64_t first_at = 0;
    long long first_count = 0, n = 0;
    while (hp_time_mono_ns() < deadline) {
        n = look(o.port);
        if (n > 0 && !first_at) {
            first_at = hp_time_now_ms();
            first_count = n;
        }
        if (n >= o.records) {
            printf("{\"first_at_ms\": %lld, \"first_count\": %lld, \"reached_at_ms\": %lld, "
                   "\"count\": %lld}\n",
                   (long long)first_at, first_count, (long long)hp_time_now_ms(), n);
            return 0;
        }
        struct timespec ts = {o.interval_ms / 1000, (o.interval_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "hp-await-applied: %lld of %lld records handled after %ld ms\n", n > 0 ? n : 0,
            o.records, o.timeout_ms);
    return 1;
}
