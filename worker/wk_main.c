/*
 * hookpipe-worker: consumes webhook records and applies them exactly once
 * to PostgreSQL. `migrate` applies the schema; `reprocess` re-applies the
 * handlers to the stored events.
 */
#include "wk_migrate.h"
#include "wk_pg.h"
#include "wk_pgerr.h"
#include "wk_worker.h"

#include "hp_config.h"
#include "hp_log.h"

#include <getopt.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Lock-free, hence safe to set from a signal handler; every lane reads it. */
static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, true);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: hookpipe-worker -c FILE [--check-config]\n"
                 "       hookpipe-worker -c FILE migrate\n"
                 "       hookpipe-worker -c FILE reprocess [--source NAME]\n"
                 "\n"
                 "Consumes webhook records from Kafka and applies each exactly once to\n"
                 "PostgreSQL: deduplicated, raw-stored, with its handler's state change, in\n"
                 "one transaction per batch; poison records go to the dead-letter topic.\n"
                 "\n"
                 "  migrate      apply the missing schema migrations and exit\n"
                 "  reprocess    re-apply the handlers to every stored event (after a handler\n"
                 "               changed), rebuilding their state; --source limits it to one\n"
                 "  -c, --config FILE   the configuration file (docs/configuration.md)\n"
                 "      --check-config  validate the configuration and exit (0 ok, 2 bad)\n"
                 "  -h, --help          this text\n"
                 "  -V, --version       the version\n"
                 "\n"
                 "SIGTERM or SIGINT: the batch in progress finishes (or is abandoned\n"
                 "uncommitted), offsets are committed, the worker leaves its group, exit 0.\n");
}

static PGconn *connect_db(const hp_config *cfg)
{
    PGconn *pg = PQconnectdb(cfg->postgres.dsn);
    if (PQstatus(pg) != CONNECTION_OK) {
        hp_log(HP_LOG_ERROR, "worker", "cannot connect to PostgreSQL",
               HP_LOG_STR("error", PQerrorMessage(pg)));
        PQfinish(pg);
        return NULL;
    }
    wk_pg_log_notices(pg);
    return pg;
}

static int cmd_migrate(const hp_config *cfg)
{
    char errstr[1024];
    int applied = 0;
    PGconn *pg = connect_db(cfg);
    if (!pg)
        return 1;
    hp_err rc = wk_migrate_apply(pg, &applied, errstr, sizeof errstr);
    PQfinish(pg);
    if (rc != HP_OK) {
        hp_log(HP_LOG_ERROR, "worker", "migration failed", HP_LOG_STR("error", errstr));
        return 1;
    }
    hp_log(HP_LOG_INFO, "worker", "schema up to date", HP_LOG_INT("applied", applied),
           HP_LOG_INT("version", wk_migrate_latest()));
    return 0;
}

static int cmd_reprocess(const hp_config *cfg, const char *only)
{
    char errstr[1024];
    int status = 0;
    PGconn *pg = connect_db(cfg);
    if (!pg)
        return 1;
    if (wk_migrate_check(pg, errstr, sizeof errstr) != HP_OK) {
        hp_log(HP_LOG_ERROR, "worker", errstr);
        PQfinish(pg);
        return 1;
    }
    for (size_t i = 0; i < cfg->nsources && status == 0; i++) {
        const hp_source *src = &cfg->sources[i];
        if ((only && strcmp(only, src->name) != 0) || src->handler == HP_HANDLER_STORE)
            continue;
        const char *params[] = {src->name};
        PGresult *res =
            PQexecParams(pg, "SELECT hookpipe_reprocess($1)", 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            hp_log(HP_LOG_ERROR, "worker", "reprocess failed", HP_LOG_STR("source", src->name),
                   HP_LOG_STR("error", PQresultErrorMessage(res)));
            status = 1;
        } else {
            hp_log(HP_LOG_INFO, "worker", "reprocessed", HP_LOG_STR("source", src->name),
                   HP_LOG_STR("events", PQgetvalue(res, 0, 0)));
        }
        PQclear(res);
    }
    PQfinish(pg);
    return status;
}

static int cmd_run(const hp_config *cfg)
{
    char errstr[1024];
    wk_worker *w = NULL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    hp_err rc = wk_worker_new(&w, cfg, &stop_requested, errstr, sizeof errstr);
    if (rc != HP_OK) {
        hp_log(HP_LOG_ERROR, "worker", "cannot start", HP_LOG_STR("error", errstr));
        return rc == HP_ERR_INVALID ? 2 : 1;
    }
    rc = wk_worker_run(w);
    wk_worker_free(w);
    hp_log(HP_LOG_INFO, "worker", "stopped");
    return rc == HP_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"source", required_argument, NULL, 's'},
        {"reprocess", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *source = NULL, *cmd = "run";
    int check_only = 0, opt;
    char errstr[1024];
    hp_config cfg;

    while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'k':
            check_only = 1;
            break;
        case 's':
            source = optarg;
            break;
        case 'r':
            cmd = "reprocess";
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("hookpipe-worker %s\n", HP_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        cmd = argv[optind++];
    if (!path || optind != argc ||
        (strcmp(cmd, "run") && strcmp(cmd, "migrate") && strcmp(cmd, "reprocess"))) {
        usage(stderr);
        return 2;
    }
    if (hp_config_load(&cfg, path, errstr, sizeof errstr) != HP_OK) {
        fprintf(stderr, "hookpipe-worker: %s\n", errstr);
        return 2;
    }
    hp_log_set_level(cfg.log.level);
    if (!cfg.postgres.dsn || (!cfg.kafka.brokers && strcmp(cmd, "run") == 0)) {
        fprintf(stderr, "hookpipe-worker: %s\n",
                !cfg.postgres.dsn ? "postgres.dsn: required (or HOOKPIPE_POSTGRES_DSN)"
                                  : "kafka.brokers: required (or HOOKPIPE_KAFKA_BROKERS)");
        hp_config_deinit(&cfg);
        return 2;
    }
    int status = 0;
    if (check_only)
        printf("%s: ok\n", path);
    else if (strcmp(cmd, "migrate") == 0)
        status = cmd_migrate(&cfg);
    else if (strcmp(cmd, "reprocess") == 0)
        status = cmd_reprocess(&cfg, source);
    else
        status = cmd_run(&cfg);
    hp_config_deinit(&cfg);
    return status;
}
