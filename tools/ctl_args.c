/*
 * ctl_args: hookpipectl's command line. See ctl_args.h.
 *
 * Each command has its getopt_long table; the global options (-c, --json,
 * --help) are part of every table, so they work before and after the
 * command. Checks that need only the command line (one replay target, a
 * source for send) are made here; checks that need the configuration are
 * made by the command.
 */
#include "ctl_args.h"

#include "hp_time.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 100 years, the longest duration accepted. */
#define MAX_DURATION_MS (100LL * 366 * 24 * 3600 * 1000)

static const char usage_overview[] =
    "usage: hookpipectl [-c FILE] [--json] COMMAND [OPTIONS]\n"
    "\n"
    "The operator's tool of hookpipe; it reads the same configuration file as\n"
    "hookpipe-gateway and hookpipe-worker.\n"
    "\n"
    "commands:\n"
    "  sign         print the headers a source's provider would send with a body\n"
    "  send         sign a body (or a built-in sample) and POST it to a gateway\n"
    "  samples      list the built-in sample events of each scheme\n"
    "  lag          per-partition committed offset, end offset and lag of a group\n"
    "  replay       move a stopped consumer group to the start, a time or an offset\n"
    "  dlq list     show the records of the dead-letter topic with their errors\n"
    "  dlq requeue  produce dead-letter records back to the main topic\n"
    "\n"
    "options of every command:\n"
    "  -c, --config FILE  the configuration file (default: $HOOKPIPE_CONFIG)\n"
    "      --json         print JSON instead of a table\n"
    "  -h, --help         help (hookpipectl COMMAND --help, or help COMMAND, for a\n"
    "                     command's)\n"
    "  -V, --version      the version\n"
    "\n"
    "Exit codes: 0 done, 1 failed (a service did not answer, a gateway said no,\n"
    "a group has active members), 2 bad usage or configuration.\n"
    "Documentation: docs/hookpipectl.md.\n";

static const char usage_sign[] =
    "usage: hookpipectl sign --source NAME [--body FILE | --sample EVENT] [--timestamp S]\n"
    "\n"
    "Prints the headers the provider of source NAME would send with the body, signed\n"
    "with the source's first secret (first key for livekit), as \"Name: value\" lines,\n"
    "then, for a built-in sample, an empty line and the body. With --json:\n"
    "{\"source\", \"url_path\", \"headers\": {…}, \"body\"}.\n"
    "\n"
    "  -s, --source NAME    a source of the configuration\n"
    "  -b, --body FILE      the body's bytes, as sent (\"-\": standard input)\n"
    "      --sample EVENT   a built-in sample (hookpipectl samples); default: the\n"
    "                       scheme's first\n"
    "      --timestamp S    sign as of UNIX time S instead of now\n";

static const char usage_send[] =
    "usage: hookpipectl send --source NAME --url URL [--body FILE | --sample EVENT]\n"
    "\n"
    "Signs the body as the provider of source NAME would and POSTs it, like a\n"
    "provider's \"send test event\" button; prints the gateway's status and answer.\n"
    "Exit 0 on a 2xx answer, 1 otherwise.\n"
    "\n"
    "  -s, --source NAME    a source of the configuration\n"
    "  -u, --url URL        http://host:port (the path /webhooks/NAME is added) or\n"
    "                       the full URL; plain HTTP only\n"
    "  -b, --body FILE      the body's bytes (\"-\": standard input)\n"
    "      --sample EVENT   a built-in sample (hookpipectl samples); default: the\n"
    "                       scheme's first. Samples get a fresh event id each time.\n"
    "      --timestamp S    sign as of UNIX time S instead of now\n"
    "      --timeout S      seconds to wait for the answer (default 10)\n";

static const char usage_samples[] =
    "usage: hookpipectl samples [--source NAME]\n"
    "\n"
    "Lists the built-in sample events of every scheme, or of one source's scheme.\n";

static const char usage_lag[] =
    "usage: hookpipectl lag [--group G] [--topic T]\n"
    "\n"
    "Prints, for each partition of the topic, the group's committed offset, the end\n"
    "offset and the lag (end - committed; without a commit, end - earliest offset,\n"
    "where the worker would start), and the total.\n"
    "\n"
    "  -g, --group G  consumer group (default: worker.group_id)\n"
    "  -t, --topic T  topic (default: kafka.topic)\n";

static const char usage_replay[] =
    "usage: hookpipectl replay [--group G] [--topic T]\n"
    "           (--to-earliest | --to-time RFC3339 | --by-duration D | --to-offset P:O…)\n"
    "           [--dry-run]\n"
    "\n"
    "Moves the committed offsets of a stopped consumer group, so that its workers,\n"
    "once started again, re-read the topic from there. Prints old -> new per\n"
    "partition. Refuses while the group has active members (stop the workers\n"
    "first: a running member would overwrite the offsets). Re-read events are\n"
    "deduplicated by the worker: their effects are not applied twice.\n"
    "\n"
    "  -g, --group G          consumer group (default: worker.group_id)\n"
    "  -t, --topic T          topic (default: kafka.topic)\n"
    "      --to-earliest      the earliest offset still in the topic\n"
    "      --to-time T        the first record at or after T (RFC 3339); the end if none\n"
    "      --by-duration D    the first record at or after now - D (\"1h\", \"30m\", \"2d\")\n"
    "      --to-offset P:O    partition P to offset O (repeatable; other partitions\n"
    "                         are left as they are)\n"
    "  -n, --dry-run          print what would change, change nothing\n";

static const char usage_dlq[] =
    "usage: hookpipectl dlq list [--limit N] [--since T]\n"
    "       hookpipectl dlq requeue (--all | --offset P:O…) [--dry-run]\n"
    "\n"
    "The dead-letter topic (kafka.dlq_topic): hookpipectl dlq list --help,\n"
    "hookpipectl dlq requeue --help.\n";

static const char usage_dlq_list[] =
    "usage: hookpipectl dlq list [--limit N] [--since T]\n"
    "\n"
    "Shows the records of the dead-letter topic, oldest first, with their error\n"
    "headers (class, error, origin, attempts, failed at); --json adds every header,\n"
    "the key and the body.\n"
    "\n"
    "  -l, --limit N   at most N records (default 100)\n"
    "      --since T   only records written at or after T (RFC 3339, or a duration\n"
    "                  such as 1h meaning that long ago)\n";

static const char usage_dlq_requeue[] =
    "usage: hookpipectl dlq requeue (--all | --offset P:O…) [--dry-run] [--group G]\n"
    "\n"
    "Produces dead-letter records back to the main topic (kafka.topic) with their\n"
    "key, body and headers, plus hookpipe-requeued-from: <dlq topic>/<partition>/\n"
    "<offset>, and waits until Kafka acknowledged every one (idempotent producer,\n"
    "acks=all). What --all requeued is remembered as committed offsets of a\n"
    "consumer group of its own on the DLQ topic, so a second --all requeues only\n"
    "what was parked since. Requeue once the cause is fixed (handler, config).\n"
    "\n"
    "      --all          every record not requeued yet\n"
    "      --offset P:O   the record at partition P, offset O (repeatable; requeued\n"
    "                     even if it was before)\n"
    "  -n, --dry-run      print what would be requeued, produce nothing\n"
    "  -g, --group G      the requeue group (default: hookpipectl-requeue.<dlq topic>)\n";

const char *ctl_args_usage(ctl_command cmd)
{
    switch (cmd) {
    case CTL_CMD_SIGN:
        return usage_sign;
    case CTL_CMD_SEND:
        return usage_send;
    case CTL_CMD_SAMPLES:
        return usage_samples;
    case CTL_CMD_LAG:
        return usage_lag;
    case CTL_CMD_REPLAY:
        return usage_replay;
    case CTL_CMD_DLQ:
        return usage_dlq;
    case CTL_CMD_DLQ_LIST:
        return usage_dlq_list;
    case CTL_CMD_DLQ_REQUEUE:
        return usage_dlq_requeue;
    case CTL_CMD_NONE:
        break;
    }
    return usage_overview;
}

const char *ctl_command_name(ctl_command cmd)
{
    static const char *const names[] = {"",       "sign",     "send",        "samples", "lag",
                                        "replay", "dlq list", "dlq requeue", "dlq"};
    return (size_t)cmd < sizeof names / sizeof names[0] ? names[cmd] : "";
}

static hp_err bad(char *errstr, size_t errstr_size, const char *fmt, ...) HP_PRINTF(3, 4);

static hp_err bad(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return HP_ERR_INVALID;
}

/* A decimal integer in [min, max] filling all of s. */
static hp_err parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return HP_ERR_INVALID;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno != 0 || v < min || v > max)
        return HP_ERR_INVALID;
    *out = v;
    return HP_OK;
}

hp_err ctl_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
                 {"h", 3600000}, {"d", 86400000}, {"w", 7 * 86400000LL}};
    int64_t total = 0;
    const char *p = s;
    if (!s || !*s)
        return HP_ERR_INVALID;
    while (*p) {
        if (*p < '0' || *p > '9')
            return HP_ERR_INVALID;
        char *end;
        errno = 0;
        long long n = strtoll(p, &end, 10);
        if (errno != 0 || n > MAX_DURATION_MS)
            return HP_ERR_INVALID;
        size_t k = 0;
        /* "ms" comes before "m" in the table, so it wins. */
        for (; k < sizeof units / sizeof units[0]; k++) {
            size_t ul = strlen(units[k].unit);
            if (strncmp(end, units[k].unit, ul) == 0)
                break;
        }
        if (k == sizeof units / sizeof units[0])
            return HP_ERR_INVALID;
        if (n > MAX_DURATION_MS / units[k].ms)
            return HP_ERR_INVALID;
        total += n * units[k].ms;
        if (total > MAX_DURATION_MS)
            return HP_ERR_INVALID;
        p = end + strlen(units[k].unit);
    }
    if (total <= 0)
        return HP_ERR_INVALID;
    *ms = total;
    return HP_OK;
}

hp_err ctl_parse_offset_spec(const char *s, ctl_offset_spec *out)
{
    const char *colon = s ? strchr(s, ':') : NULL;
    char part[16];
    int64_t p, o;
    if (!colon || (size_t)(colon - s) >= sizeof part || colon == s)
        return HP_ERR_INVALID;
    memcpy(part, s, (size_t)(colon - s));
    part[colon - s] = '\0';
    if (part[0] == '-' || colon[1] == '-' || parse_int64(part, 0, INT32_MAX, &p) != HP_OK ||
        parse_int64(colon + 1, 0, INT64_MAX, &o) != HP_OK)
        return HP_ERR_INVALID;
    out->partition = (int32_t)p;
    out->offset = o;
    return HP_OK;
}

hp_err ctl_parse_time(const char *s, int64_t now_ms, int64_t *ms)
{
    int64_t d;
    if (!s || !*s)
        return HP_ERR_INVALID;
    if (hp_time_parse_rfc3339(s, strlen(s), ms) == HP_OK)
        return HP_OK;
    if (ctl_parse_duration(s, &d) != HP_OK || d > now_ms)
        return HP_ERR_INVALID;
    *ms = now_ms - d;
    return HP_OK;
}

/* Long-only options get values above any short option's character. */
enum {
    OPT_JSON = 256,
    OPT_SAMPLE,
    OPT_TIMESTAMP,
    OPT_TIMEOUT,
    OPT_EARLIEST,
    OPT_TO_TIME,
    OPT_BY_DURATION,
    OPT_TO_OFFSET,
    OPT_SINCE,
    OPT_ALL,
    OPT_OFFSET
};

#define COMMON_OPTIONS                                                                             \
    {"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, OPT_JSON},               \
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},                     \
    {                                                                                              \
        NULL, 0, NULL, 0                                                                           \
    }

static const struct option opts_global[] = {COMMON_OPTIONS};
static const struct option opts_sign[] = {{"source", required_argument, NULL, 's'},
                                          {"body", required_argument, NULL, 'b'},
                                          {"sample", required_argument, NULL, OPT_SAMPLE},
                                          {"timestamp", required_argument, NULL, OPT_TIMESTAMP},
                                          {"url", required_argument, NULL, 'u'},
                                          {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                          COMMON_OPTIONS};
static const struct option opts_samples[] = {{"source", required_argument, NULL, 's'},
                                             COMMON_OPTIONS};
static const struct option opts_kafka[] = {
    {"group", required_argument, NULL, 'g'},
    {"topic", required_argument, NULL, 't'},
    {"dry-run", no_argument, NULL, 'n'},
    {"to-earliest", no_argument, NULL, OPT_EARLIEST},
    {"to-time", required_argument, NULL, OPT_TO_TIME},
    {"by-duration", required_argument, NULL, OPT_BY_DURATION},
    {"to-offset", required_argument, NULL, OPT_TO_OFFSET},
    {"limit", required_argument, NULL, 'l'},
    {"since", required_argument, NULL, OPT_SINCE},
    {"all", no_argument, NULL, OPT_ALL},
    {"offset", required_argument, NULL, OPT_OFFSET},
    COMMON_OPTIONS};

/* Which options each command takes (by the value getopt returns). */
static bool takes(ctl_command cmd, int opt)
{
    switch (opt) {
    case 'c':
    case OPT_JSON:
    case 'h':
    case 'V':
        return true;
    case 's':
        return cmd == CTL_CMD_SIGN || cmd == CTL_CMD_SEND || cmd == CTL_CMD_SAMPLES;
    case 'b':
    case OPT_SAMPLE:
    case OPT_TIMESTAMP:
        return cmd == CTL_CMD_SIGN || cmd == CTL_CMD_SEND;
    case 'u':
    case OPT_TIMEOUT:
        return cmd == CTL_CMD_SEND;
    case 'g':
        return cmd == CTL_CMD_LAG || cmd == CTL_CMD_REPLAY || cmd == CTL_CMD_DLQ_REQUEUE;
    case 't':
        return cmd == CTL_CMD_LAG || cmd == CTL_CMD_REPLAY;
    case 'n':
        return cmd == CTL_CMD_REPLAY || cmd == CTL_CMD_DLQ_REQUEUE;
    case OPT_EARLIEST:
    case OPT_TO_TIME:
    case OPT_BY_DURATION:
    case OPT_TO_OFFSET:
        return cmd == CTL_CMD_REPLAY;
    case 'l':
    case OPT_SINCE:
        return cmd == CTL_CMD_DLQ_LIST;
    case OPT_ALL:
    case OPT_OFFSET:
        return cmd == CTL_CMD_DLQ_REQUEUE;
    default:
        return false;
    }
}

static hp_err set_replay(ctl_args *a, ctl_replay_mode mode, char *errstr, size_t errstr_size)
{
    if (a->replay != CTL_REPLAY_UNSET && a->replay != mode)
        return bad(errstr, errstr_size,
                   "replay: give only one of --to-earliest, --to-time, --by-duration, "
                   "--to-offset");
    a->replay = mode;
    return HP_OK;
}

static hp_err add_offset(ctl_args *a, const char *opt, const char *v, char *errstr,
                         size_t errstr_size)
{
    if (a->noffsets == CTL_MAX_OFFSETS)
        return bad(errstr, errstr_size, "%s: at most %d", opt, CTL_MAX_OFFSETS);
    if (ctl_parse_offset_spec(v, &a->offsets[a->noffsets]) != HP_OK)
        return bad(errstr, errstr_size,
                   "%s \"%s\": not PARTITION:OFFSET (two non-negative integers, e.g. 3:1200)", opt,
                   v);
    for (size_t i = 0; i < a->noffsets; i++)
        if (a->offsets[i].partition == a->offsets[a->noffsets].partition &&
            (a->cmd == CTL_CMD_REPLAY || a->offsets[i].offset == a->offsets[a->noffsets].offset))
            return bad(errstr, errstr_size, "%s %s: partition %d given twice", opt, v,
                       (int)a->offsets[i].partition);
    a->noffsets++;
    return HP_OK;
}

/* One option of the command's table. */
static hp_err apply(ctl_args *a, int opt, const char *v, int64_t now_ms, char *errstr,
                    size_t errstr_size)
{
    int64_t n;
    switch (opt) {
    case 'c':
        a->config_path = v;
        return HP_OK;
    case OPT_JSON:
        a->json = true;
        return HP_OK;
    case 'h':
        a->help = true;
        return HP_OK;
    case 'V':
        a->version = true;
        return HP_OK;
    case 's':
        a->source = v;
        return HP_OK;
    case 'b':
        a->body_file = v;
        return HP_OK;
    case OPT_SAMPLE:
        a->sample = v;
        return HP_OK;
    case 'u':
        a->url = v;
        return HP_OK;
    case OPT_TIMESTAMP:
        if (parse_int64(v, 1, 99999999999LL, &a->timestamp_s) != HP_OK)
            return bad(errstr, errstr_size, "--timestamp \"%s\": not UNIX seconds", v);
        return HP_OK;
    case OPT_TIMEOUT:
        if (parse_int64(v, 1, 3600, &n) != HP_OK)
            return bad(errstr, errstr_size, "--timeout \"%s\": not seconds from 1 to 3600", v);
        a->timeout_ms = (int)n * 1000;
        return HP_OK;
    case 'g':
        a->group = v;
        return HP_OK;
    case 't':
        a->topic = v;
        return HP_OK;
    case 'n':
        a->dry_run = true;
        return HP_OK;
    case OPT_EARLIEST:
        return set_replay(a, CTL_REPLAY_EARLIEST, errstr, errstr_size);
    case OPT_TO_TIME:
        if (hp_time_parse_rfc3339(v, strlen(v), &a->time_ms) != HP_OK)
            return bad(errstr, errstr_size,
                       "--to-time \"%s\": not an RFC 3339 time (2026-11-30T08:00:00Z)", v);
        return set_replay(a, CTL_REPLAY_TIME, errstr, errstr_size);
    case OPT_BY_DURATION:
        if (ctl_parse_duration(v, &a->duration_ms) != HP_OK)
            return bad(errstr, errstr_size,
                       "--by-duration \"%s\": not a duration (such as 90s, 15m, 1h30m, 2d)", v);
        return set_replay(a, CTL_REPLAY_DURATION, errstr, errstr_size);
    case OPT_TO_OFFSET:
        if (set_replay(a, CTL_REPLAY_OFFSETS, errstr, errstr_size) != HP_OK)
            return HP_ERR_INVALID;
        return add_offset(a, "--to-offset", v, errstr, errstr_size);
    case 'l':
        if (parse_int64(v, 1, 1000000, &n) != HP_OK)
            return bad(errstr, errstr_size, "--limit \"%s\": not a number from 1 to 1000000", v);
        a->limit = (long)n;
        return HP_OK;
    case OPT_SINCE:
        if (ctl_parse_time(v, now_ms, &a->since_ms) != HP_OK)
            return bad(errstr, errstr_size,
                       "--since \"%s\": not an RFC 3339 time or a duration (1h, 30m)", v);
        return HP_OK;
    case OPT_ALL:
        a->all = true;
        return HP_OK;
    case OPT_OFFSET:
        return add_offset(a, "--offset", v, errstr, errstr_size);
    default:
        return bad(errstr, errstr_size, "unknown option");
    }
}

static ctl_command command_of(const char *word, const char *sub, int *words)
{
    static const struct {
        const char *name;
        ctl_command cmd;
    } table[] = {{"sign", CTL_CMD_SIGN},
                 {"send", CTL_CMD_SEND},
                 {"samples", CTL_CMD_SAMPLES},
                 {"lag", CTL_CMD_LAG},
                 {"replay", CTL_CMD_REPLAY}};
    *words = 1;
    if (strcmp(word, "dlq") == 0) {
        if (sub && strcmp(sub, "list") == 0) {
            *words = 2;
            return CTL_CMD_DLQ_LIST;
        }
        if (sub && strcmp(sub, "requeue") == 0) {
            *words = 2;
            return CTL_CMD_DLQ_REQUEUE;
        }
        return CTL_CMD_DLQ;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(word, table[i].name) == 0)
            return table[i].cmd;
    return CTL_CMD_NONE;
}

static const struct option *table_of(ctl_command cmd)
{
    switch (cmd) {
    case CTL_CMD_SIGN:
    case CTL_CMD_SEND:
        return opts_sign;
    case CTL_CMD_SAMPLES:
        return opts_samples;
    case CTL_CMD_NONE:
    case CTL_CMD_DLQ:
        return opts_global;
    default:
        return opts_kafka;
    }
}

/* Runs getopt over argv[0..argc) with the command's table. */
static hp_err parse_options(int argc, char **argv, ctl_args *a, bool stop_at_word, int64_t now_ms,
                            char *errstr, size_t errstr_size)
{
    const struct option *table = table_of(a->cmd);
    const char *shorts = stop_at_word ? "+:c:hV" : ":c:hVs:b:u:g:t:nl:";
    int opt, idx;
    optind = 0; /* a full reset of GNU getopt */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, shorts, table, &idx)) != -1) {
        const char *cmd = a->cmd == CTL_CMD_NONE ? "hookpipectl" : ctl_command_name(a->cmd);
        if (opt == '?') {
            if (optopt)
                return bad(errstr, errstr_size, "%s: unknown option -%c", cmd, optopt);
            return bad(errstr, errstr_size, "%s: unknown option %s", cmd, argv[optind - 1]);
        }
        if (opt == ':')
            return bad(errstr, errstr_size, "%s: %s needs a value", cmd, argv[optind - 1]);
        if (!takes(a->cmd, opt))
            return bad(errstr, errstr_size, "%s: %s is not an option of this command", cmd,
                       argv[optind - 1]);
        if (apply(a, opt, optarg, now_ms, errstr, errstr_size) != HP_OK)
            return HP_ERR_INVALID;
    }
    return HP_OK;
}

/* Checks that need the whole command line. */
static hp_err check(ctl_args *a, char *errstr, size_t errstr_size)
{
    const char *cmd = ctl_command_name(a->cmd);
    switch (a->cmd) {
    case CTL_CMD_SEND:
        if (!a->url)
            return bad(errstr, errstr_size, "send: --url is required");
        /* fall through */
    case CTL_CMD_SIGN:
        if (!a->source)
            return bad(errstr, errstr_size, "%s: --source is required", cmd);
        if (a->body_file && a->sample)
            return bad(errstr, errstr_size, "%s: give --body or --sample, not both", cmd);
        return HP_OK;
    case CTL_CMD_REPLAY:
        if (a->replay == CTL_REPLAY_UNSET)
            return bad(errstr, errstr_size,
                       "replay: give one of --to-earliest, --to-time, --by-duration, --to-offset");
        return HP_OK;
    case CTL_CMD_DLQ_REQUEUE:
        if (a->all == (a->noffsets > 0))
            return bad(errstr, errstr_size, "dlq requeue: give --all or --offset P:O (not both)");
        return HP_OK;
    case CTL_CMD_DLQ:
        return bad(errstr, errstr_size, "dlq: give a subcommand: dlq list, dlq requeue");
    case CTL_CMD_NONE:
        return bad(errstr, errstr_size, "give a command (hookpipectl --help lists them)");
    default:
        return HP_OK;
    }
}

hp_err ctl_args_parse(int argc, char **argv, int64_t now_ms, ctl_args *args, char *errstr,
                      size_t errstr_size)
{
    memset(args, 0, sizeof *args);
    args->limit = 100;
    args->timeout_ms = 10000;
    /* The global options, up to the command word. */
    if (parse_options(argc, argv, args, true, now_ms, errstr, errstr_size) != HP_OK)
        return HP_ERR_INVALID;
    int first = optind;
    /* "help COMMAND" is "COMMAND --help". */
    if (first < argc && strcmp(argv[first], "help") == 0) {
        args->help = true;
        first++;
    }
    if (first >= argc)
        return args->help || args->version ? HP_OK : check(args, errstr, errstr_size);
    int words;
    args->cmd = command_of(argv[first], first + 1 < argc ? argv[first + 1] : NULL, &words);
    if (args->cmd == CTL_CMD_NONE)
        return bad(errstr, errstr_size, "unknown command \"%s\" (hookpipectl --help lists them)",
                   argv[first]);
    /* The command's own options; argv[first + words - 1] stands in for argv[0]. */
    int rest = first + words - 1;
    if (args->help && first > optind)
        return HP_OK; /* help COMMAND: the rest does not matter */
    if (parse_options(argc - rest, argv + rest, args, false, now_ms, errstr, errstr_size) != HP_OK)
        return HP_ERR_INVALID;
    if (optind + rest < argc)
        return bad(errstr, errstr_size, "%s: unexpected argument \"%s\"",
                   ctl_command_name(args->cmd), argv[optind + rest]);
    if (args->help || args->version)
        return HP_OK;
    return check(args, errstr, errstr_size);
}
