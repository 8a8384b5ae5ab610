/*
 * ctl: hookpipectl's dispatch — command line, configuration, command. See ctl.h.
 */
#include "ctl.h"

#include "hp_log.h"
#include "hp_time.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Most bytes of a configuration error message. */
#define ERRSTR_SIZE 1024

void ctl_error(const ctl_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    const char *cmd = ctl_command_name(ctx->args->cmd);
    fprintf(ctx->err, "hookpipectl%s%s: ", cmd[0] ? " " : "", cmd);
    va_start(ap, fmt);
    vfprintf(ctx->err, fmt, ap);
    va_end(ap);
    fputc('\n', ctx->err);
}

void ctl_print_json(const ctl_ctx *ctx, json_t *root)
{
    json_dumpf(root, ctx->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', ctx->out);
    json_decref(root);
}

static int run(const ctl_ctx *ctx)
{
    switch (ctx->args->cmd) {
    case CTL_CMD_SIGN:
        return ctl_cmd_sign(ctx);
    case CTL_CMD_SEND:
        return ctl_cmd_send(ctx);
    case CTL_CMD_SAMPLES:
        return ctl_cmd_samples(ctx);
    case CTL_CMD_LAG:
        return ctl_cmd_lag(ctx);
    case CTL_CMD_REPLAY:
        return ctl_cmd_replay(ctx);
    case CTL_CMD_DLQ_LIST:
        return ctl_cmd_dlq_list(ctx);
    case CTL_CMD_DLQ_REQUEUE:
        return ctl_cmd_dlq_requeue(ctx);
    default:
        return CTL_EXIT_USAGE;
    }
}

int ctl_main(int argc, char **argv)
{
    ctl_args args;
    hp_config cfg;
    char errstr[ERRSTR_SIZE];
    ctl_ctx ctx = {.args = &args, .out = stdout, .err = stderr};

    signal(SIGPIPE, SIG_IGN);
    if (ctl_args_parse(argc, argv, hp_time_now_ms(), &args, errstr, sizeof errstr) != HP_OK) {
        fprintf(stderr, "hookpipectl: %s\n", errstr);
        return CTL_EXIT_USAGE;
    }
    if (args.version) {
        printf("hookpipectl %s\n", HP_VERSION);
        return CTL_EXIT_OK;
    }
    if (args.help) {
        fputs(ctl_args_usage(args.cmd), stdout);
        return CTL_EXIT_OK;
    }
    /* samples without --source needs no configuration. */
    const char *path = args.config_path ? args.config_path : getenv("HOOKPIPE_CONFIG");
    if (args.cmd == CTL_CMD_SAMPLES && !args.source && !path)
        return run(&ctx);
    if (!path || !*path) {
        ctl_error(&ctx, "no configuration: give -c FILE (or set HOOKPIPE_CONFIG)");
        return CTL_EXIT_USAGE;
    }
    if (hp_config_load(&cfg, path, errstr, sizeof errstr) != HP_OK) {
        ctl_error(&ctx, "%s", errstr);
        return CTL_EXIT_USAGE;
    }
    /* librdkafka's own lines only when they matter; the user asked a question. */
    hp_log_set_level(cfg.log.level > HP_LOG_WARN ? cfg.log.level : HP_LOG_WARN);
    ctx.cfg = &cfg;
    int code = run(&ctx);
    hp_config_deinit(&cfg);
    fflush(stdout);
    return code;
}
