/*
 * ctl_args: hookpipectl's command line, parsed into one plain struct.
 *
 *   hookpipectl [-c FILE] [--json] COMMAND [OPTIONS]
 *
 * Parsing does nothing but parse (no file is read, no service asked), so the
 * unit tests can run every form of it. The global options may also come
 * after the command. Durations ("1h30m"), times (RFC 3339, or a duration
 * meaning "that long ago") and offset specs ("P:O") have parsers of their
 * own here, for the same reason.
 */
#ifndef CTL_ARGS_H
#define CTL_ARGS_H

#include "hp_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes of every command (DESIGN.md §Binaries). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAILURE 1
#define CTL_EXIT_USAGE 2

/* Most --to-offset / --offset specs on one command line. */
#define CTL_MAX_OFFSETS 256

typedef enum {
    CTL_CMD_NONE, /* only --help or --version */
    CTL_CMD_SIGN,
    CTL_CMD_SEND,
    CTL_CMD_SAMPLES,
    CTL_CMD_LAG,
    CTL_CMD_REPLAY,
    CTL_CMD_DLQ_LIST,
    CTL_CMD_DLQ_REQUEUE,
    CTL_CMD_DLQ /* "dlq" without list/requeue: only with --help */
} ctl_command;

typedef enum {
    CTL_REPLAY_UNSET,
    CTL_REPLAY_EARLIEST,
    CTL_REPLAY_TIME,     /* time_ms */
    CTL_REPLAY_DURATION, /* duration_ms before now */
    CTL_REPLAY_OFFSETS   /* offsets[] */
} ctl_replay_mode;

/* One "P:O" spec. */
typedef struct ctl_offset_spec {
    int32_t partition;
    int64_t offset;
} ctl_offset_spec;

typedef struct ctl_args {
    ctl_command cmd;
    bool help;               /* print the command's help (or the overview) and exit 0 */
    bool version;            /* print the version and exit 0 */
    const char *config_path; /* -c; NULL: HOOKPIPE_CONFIG, checked when the command runs */
    bool json;               /* --json: machine-readable output */

    /* sign, send, samples */
    const char *source;    /* --source */
    const char *body_file; /* --body FILE ("-" = stdin) */
    const char *sample;    /* --sample EVENT */
    const char *url;       /* send --url */
    int64_t timestamp_s;   /* sign/send --timestamp; 0 = now */
    int timeout_ms;        /* send --timeout (seconds on the command line); default 10 s */

    /* lag, replay, dlq requeue */
    const char *group; /* --group; NULL: the configuration's (see each command) */
    const char *topic; /* --topic; NULL: kafka.topic */
    bool dry_run;

    /* replay */
    ctl_replay_mode replay;
    int64_t time_ms;
    int64_t duration_ms;

    /* replay --to-offset, dlq requeue --offset */
    ctl_offset_spec offsets[CTL_MAX_OFFSETS];
    size_t noffsets;

    /* dlq list */
    long limit;       /* default 100 */
    int64_t since_ms; /* 0: from the beginning */

    /* dlq requeue */
    bool all;
} ctl_args;

/*
 * Parses argv[0..argc) (argv[0] is the program) into *args. now_ms is the
 * current time, for "--since 1h" (a parameter, for the tests). HP_OK, or
 * HP_ERR_INVALID with a message for the user in errstr ("replay: give one
 * of --to-earliest, --to-time, --by-duration, --to-offset"). getopt state
 * is reset, so it may be called again. @thread main
 */
hp_err ctl_args_parse(int argc, char **argv, int64_t now_ms, ctl_args *args, char *errstr,
                      size_t errstr_size) HP_WARN_UNUSED;

/* The help text of cmd (CTL_CMD_NONE: the overview), to print as it is. @thread any */
const char *ctl_args_usage(ctl_command cmd);

/* The command's name as typed ("dlq requeue"). @thread any */
const char *ctl_command_name(ctl_command cmd);

/*
 * Parses a duration: one or more <integer><unit>, units ms, s, m, h, d, w
 * ("90s", "1h30m"), above 0 and at most 100 years. @thread any
 */
hp_err ctl_parse_duration(const char *s, int64_t *ms) HP_WARN_UNUSED;

/* Parses "P:O" (partition 0..2^31-1, offset 0..2^63-1, decimal). @thread any */
hp_err ctl_parse_offset_spec(const char *s, ctl_offset_spec *out) HP_WARN_UNUSED;

/* Parses a time: RFC 3339, or a duration meaning that long before now_ms. @thread any */
hp_err ctl_parse_time(const char *s, int64_t now_ms, int64_t *ms) HP_WARN_UNUSED;

#endif /* CTL_ARGS_H */
