/*
 * ctl: what hookpipectl's commands share, and the commands themselves.
 *
 * ctl_main() parses the command line (ctl_args), loads the configuration
 * (the daemons' file, hp_config_load) and runs one command. Each command
 * prints its result on stdout (a table, or JSON with --json) and its errors
 * as one "hookpipectl <command>: <what>" line on stderr, and returns the exit
 * code: CTL_EXIT_OK, CTL_EXIT_FAILURE, CTL_EXIT_USAGE (ctl_args.h).
 */
#ifndef CTL_H
#define CTL_H

#include "ctl_args.h"
#include "hp_config.h"

#include <jansson.h>
#include <stdio.h>

typedef struct ctl_ctx {
    const ctl_args *args;
    hp_config *cfg; /* NULL for commands that need none */
    FILE *out;      /* results */
    FILE *err;      /* messages */
} ctl_ctx;

/* Runs hookpipectl with argv; returns the exit code. @thread main */
int ctl_main(int argc, char **argv);

/* Prints "hookpipectl <command>: <message>" on ctx->err. */
void ctl_error(const ctl_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints root as indented JSON on ctx->out and releases it. */
void ctl_print_json(const ctl_ctx *ctx, json_t *root);

/* The commands; each returns an exit code. */
int ctl_cmd_sign(const ctl_ctx *ctx);
int ctl_cmd_send(const ctl_ctx *ctx);
int ctl_cmd_samples(const ctl_ctx *ctx);
int ctl_cmd_lag(const ctl_ctx *ctx);
int ctl_cmd_replay(const ctl_ctx *ctx);
int ctl_cmd_dlq_list(const ctl_ctx *ctx);
int ctl_cmd_dlq_requeue(const ctl_ctx *ctx);

#endif /* CTL_H */
