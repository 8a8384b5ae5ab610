/*
 * hookpipe-gateway: receives webhooks, verifies them, and answers 200 only
 * once Kafka acknowledged the raw event. See docs/gateway.md.
 */
#include "gw_gateway.h"

#include "hp_config.h"
#include "hp_log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: hookpipe-gateway -c FILE [--check-config]\n"
                 "\n"
                 "Receives webhooks on POST /webhooks/{source}, verifies each provider's\n"
                 "signature and answers 200 only after Kafka acknowledged the event.\n"
                 "\n"
                 "  -c, --config FILE   the configuration file (docs/configuration.md)\n"
                 "      --check-config  validate the configuration and exit (0 ok, 2 bad)\n"
                 "  -h, --help          this text\n"
                 "  -V, --version       the version\n"
                 "\n"
                 "SIGTERM or SIGINT drain: in-flight requests are answered, then exit 0.\n");
}

/* Waits for SIGTERM or SIGINT, ticking the gateway once a second. */
static void wait_for_signal(gw_gateway *gw, const sigset_t *sigs)
{
    const struct timespec second = {1, 0};
    for (;;) {
        int sig = sigtimedwait(sigs, NULL, &second);
        if (sig == SIGTERM || sig == SIGINT) {
            hp_log(HP_LOG_INFO, "gateway", "signal received",
                   HP_LOG_STR("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
            return;
        }
        gw_gateway_tick(gw);
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int check_only = 0, opt;
    char errstr[1024];
    hp_config cfg;
    gw_gateway *gw = NULL;

    while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'k':
            check_only = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("hookpipe-gateway %s\n", HP_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (hp_config_load(&cfg, path, errstr, sizeof errstr) != HP_OK) {
        fprintf(stderr, "hookpipe-gateway: %s\n", errstr);
        return 2;
    }
    hp_log_set_level(cfg.log.level);
    if (gw_gateway_check(&cfg, errstr, sizeof errstr) != HP_OK) {
        fprintf(stderr, "hookpipe-gateway: %s\n", errstr);
        hp_config_deinit(&cfg);
        return 2;
    }
    if (check_only) {
        printf("%s: ok\n", path);
        hp_config_deinit(&cfg);
        return 0;
    }

    /* Signals are taken by sigtimedwait() on this thread only: block them
     * before any other thread exists, so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    hp_err rc = gw_gateway_start(&gw, &cfg, errstr, sizeof errstr);
    if (rc != HP_OK) {
        hp_log(HP_LOG_ERROR, "gateway", "cannot start", HP_LOG_STR("error", errstr));
        hp_config_deinit(&cfg);
        return rc == HP_ERR_INVALID ? 2 : 1;
    }
    wait_for_signal(gw, &sigs);
    gw_gateway_stop(gw);
    hp_config_deinit(&cfg);
    return 0;
}
