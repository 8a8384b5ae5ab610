/*
 * bn_gen: the request corpus generator. See bn_gen.h.
 */
#include "bn_args.h"
#include "bn_gen.h"

#include "hp_alloc.h"
#include "hp_buf.h"
#include "hp_config.h"
#include "hp_sig.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_COUNT 10000000L
#define MAX_BODY (16L * 1024 * 1024)
#define REQUEST_HEAD_MAX 16384

typedef struct gen_options {
    const char *config;
    const char *source;
    const char *out;
    const char *host;
    char run[32];
    long long count;
    long long body_size;
} gen_options;

static void usage(FILE *out)
{
    fprintf(out, "usage: hp-load gen --config FILE --source NAME --out FILE [options]\n"
                 "\n"
                 "Writes signed POST /webhooks/NAME requests, one after the other.\n"
                 "\n"
                 "  -c, --config FILE    a hookpipe configuration (its secrets must be set)\n"
                 "  -s, --source NAME    the source whose scheme and secret sign the bodies\n"
                 "  -o, --out FILE       where to write the requests\n"
                 "  -n, --count N        how many (default 10000)\n"
                 "  -b, --body-size B    bytes per body (default 1024)\n"
                 "      --run ID         in every event id (default: the UTC time)\n"
                 "      --host H         the Host header (default 127.0.0.1:8080)\n");
}

static bool parse_gen_options(int argc, char **argv, gen_options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"source", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"count", required_argument, NULL, 'n'},
        {"body-size", required_argument, NULL, 'b'},
        {"run", required_argument, NULL, 'r'},
        {"host", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    bool ok = true;
    time_t now = time(NULL);
    struct tm tm;

    *o = (gen_options){.host = "127.0.0.1:8080", .count = 10000, .body_size = 1024};
    strftime(o->run, sizeof o->run, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    optind = 1;
    while (ok && (opt = getopt_long(argc, argv, "c:s:o:n:b:h", longopts, NULL)) != -1) {
        if (opt == 'c')
            o->config = optarg;
        else if (opt == 's')
            o->source = optarg;
        else if (opt == 'o')
            o->out = optarg;
        else if (opt == 'H')
            o->host = optarg;
        else if (opt == 'n')
            ok = bn_parse_long(optarg, 1, MAX_COUNT, &o->count);
        else if (opt == 'b')
            ok = bn_parse_long(optarg, 1, MAX_BODY, &o->body_size);
        else if (opt == 'r')
            ok =
                strlen(optarg) < sizeof o->run && strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
                                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                 "0123456789-_.") == strlen(optarg);
        else if (opt == 'h') {
            usage(stdout);
            exit(0);
        } else
            ok = false;
        if (ok && opt == 'r')
            snprintf(o->run, sizeof o->run, "%s", optarg);
        if (!ok && opt != '?')
            fprintf(stderr, "hp-load gen: -%c: bad value \"%s\"\n", opt, optarg);
    }
    if (ok && (!o->config || !o->source || !o->out || optind != argc)) {
        fprintf(stderr, "hp-load gen: --config, --source and --out are required\n");
        ok = false;
    }
    return ok;
}

/* Letters and digits from a xorshift generator seeded by i: the same corpus every time. */
static void fill_pad(char *p, size_t n, uint64_t i)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t x = i * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t k = 0; k < n; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[k] = alphabet[x % (sizeof alphabet - 1)];
    }
}

/* Writes body i (exactly size bytes) into buf; false if size is too small for it. */
static bool make_body(hp_buf *buf, const char *run, long i, size_t size)
{
    char head[256];
    static const char tail[] = "\"}";
    int n = snprintf(head, sizeof head,
                     "{\"id\":\"bench-%s-%ld\",\"type\":\"order.paid\",\"order_id\":\"o-%ld\","
                     "\"pad\":\"",
                     run, i, i);
    if (n < 0 || (size_t)n >= sizeof head || (size_t)n + sizeof tail - 1 > size)
        return false;
    size_t pad = size - (size_t)n - (sizeof tail - 1);
    hp_buf_reset(buf);
    if (hp_buf_append(buf, head, (size_t)n) != HP_OK)
        return false;
    char *p = hp_xmalloc(pad ? pad : 1);
    fill_pad(p, pad, (uint64_t)i);
    bool ok = hp_buf_append(buf, p, pad) == HP_OK && hp_buf_append_str(buf, tail) == HP_OK;
    free(p);
    return ok;
}

/* Writes one signed request for body to f. */
static hp_err write_request(FILE *f, const gen_options *o, const hp_source *src, const hp_buf *body,
                            char *errstr, size_t errstr_size)
{
    hp_sig_headers hs;
    char head[REQUEST_HEAD_MAX];
    hp_err rc = hp_sig_sign(&src->verify, (const unsigned char *)body->data, body->len,
                            (int64_t)time(NULL), NULL, &hs);
    if (rc != HP_OK) {
        snprintf(errstr, errstr_size, "source %s: cannot sign (%s)", src->name, hp_err_name(rc));
        return rc;
    }
    int n = snprintf(head, sizeof head,
                     "POST /webhooks/%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hp-load\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                     src->name, o->host, body->len);
    for (size_t i = 0; i < hs.n && n > 0 && (size_t)n < sizeof head; i++)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s: %s\r\n", hs.h[i].name, hs.h[i].value);
    hp_sig_headers_deinit(&hs);
    if (n < 0 || (size_t)n + 2 >= sizeof head) {
        snprintf(errstr, errstr_size, "a request head exceeds %d bytes", REQUEST_HEAD_MAX);
        return HP_ERR_INVALID;
    }
    memcpy(head + n, "\r\n", 3);
    if (fwrite(head, 1, (size_t)n + 2, f) != (size_t)n + 2 ||
        fwrite(body->data, 1, body->len, f) != body->len) {
        snprintf(errstr, errstr_size, "%s: %s", o->out, strerror(errno));
        return HP_ERR_IO;
    }
    return HP_OK;
}

static hp_err generate(const gen_options *o, const hp_source *src, char *errstr, size_t errstr_size)
{
    hp_buf body;
    hp_err rc = HP_OK;
    FILE *f = fopen(o->out, "wb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", o->out, strerror(errno));
        return HP_ERR_IO;
    }
    hp_buf_init(&body, (size_t)o->body_size);
    for (long i = 0; i < o->count && rc == HP_OK; i++) {
        if (!make_body(&body, o->run, i, (size_t)o->body_size)) {
            snprintf(errstr, errstr_size, "--body-size %lld is too small for body %ld",
                     o->body_size, i);
            rc = HP_ERR_INVALID;
        } else {
            rc = write_request(f, o, src, &body, errstr, errstr_size);
        }
    }
    hp_buf_deinit(&body);
    if (fclose(f) != 0 && rc == HP_OK) {
        snprintf(errstr, errstr_size, "%s: %s", o->out, strerror(errno));
        rc = HP_ERR_IO;
    }
    return rc;
}

int bn_gen_main(int argc, char **argv)
{
    gen_options o;
    hp_config cfg;
    char errstr[1024];

    if (!parse_gen_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (hp_config_load(&cfg, o.config, errstr, sizeof errstr) != HP_OK) {
        fprintf(stderr, "hp-load gen: %s\n", errstr);
        return 2;
    }
    const hp_source *src = hp_config_find_source(&cfg, o.source);
    hp_err rc = src ? generate(&o, src, errstr, sizeof errstr) : HP_ERR_INVALID;
    if (!src)
        snprintf(errstr, sizeof errstr, "%s: no source named %s", o.config, o.source);
    else if (rc == HP_OK && src->verify.tolerance_s > 0)
        fprintf(stderr, "hp-load gen: %s signs with a timestamp: the requests are valid for %d s\n",
                src->name, src->verify.tolerance_s);
    if (rc == HP_OK)
        fprintf(stderr, "hp-load gen: wrote %lld requests for source %s (run %s) to %s\n", o.count,
                o.source, o.run, o.out);
    else
        fprintf(stderr, "hp-load gen: %s\n", errstr);
    hp_config_deinit(&cfg);
    return rc == HP_OK ? 0 : rc == HP_ERR_IO ? 1 : 2;
}
