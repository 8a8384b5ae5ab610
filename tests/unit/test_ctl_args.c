/*
 * Unit tests for hookpipectl's command line (tools/ctl_args): every
 * command's options, the global options before and after the command,
 * help and version, and the parsers of durations, times and offset specs,
 * with the messages a user sees for each mistake.
 */
#include "ctl_args.h"

#include <check.h>
#include <stdarg.h>
#include <string.h>

#define NOW_MS 1796025600000LL /* 2026-11-30T08:00:00Z */

static ctl_args args;
static char err[512];

/* Parses the words (NULL-terminated) after the program name. */
static hp_err parse(const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    argv[argc++] = (char *)"hookpipectl";
    va_start(ap, first);
    for (const char *w = first; w && argc < 63; w = va_arg(ap, const char *))
        argv[argc++] = (char *)w;
    va_end(ap);
    argv[argc] = NULL;
    err[0] = '\0';
    return ctl_args_parse(argc, argv, NOW_MS, &args, err, sizeof err);
}

#define OK(...) ck_assert_msg(parse(__VA_ARGS__, NULL) == HP_OK, "%s", err)
#define BAD(want, ...)                                                                             \
    do {                                                                                           \
        ck_assert_int_eq(parse(__VA_ARGS__, NULL), HP_ERR_INVALID);                                \
        ck_assert_msg(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"", err, want);        \
    } while (0)

START_TEST(test_sign_and_send)
{
    OK("-c", "c.json", "sign", "--source", "stripe");
    ck_assert_int_eq(args.cmd, CTL_CMD_SIGN);
    ck_assert_str_eq(args.config_path, "c.json");
    ck_assert_str_eq(args.source, "stripe");
    ck_assert_ptr_null(args.body_file);

    OK("send", "-s", "github", "--url", "http://127.0.0.1:8080", "--sample", "push", "--config",
       "x.json", "--json", "--timeout", "3", "--timestamp", "1700000000");
    ck_assert_int_eq(args.cmd, CTL_CMD_SEND);
    ck_assert_str_eq(args.url, "http://127.0.0.1:8080");
    ck_assert_str_eq(args.sample, "push");
    ck_assert_str_eq(args.config_path, "x.json");
    ck_assert(args.json);
    ck_assert_int_eq(args.timeout_ms, 3000);
    ck_assert_int_eq(args.timestamp_s, 1700000000);

    OK("sign", "--source", "s", "--body", "-");
    ck_assert_str_eq(args.body_file, "-");

    BAD("--source is required", "sign");
    BAD("--url is required", "send", "--source", "s");
    BAD("not both", "send", "--source", "s", "--url", "http://x", "--body", "f", "--sample", "e");
    BAD("is not an option of this command", "sign", "--source", "s", "--url", "http://x");
    BAD("--timeout \"0\"", "send", "--source", "s", "--url", "http://x", "--timeout", "0");
    BAD("needs a value", "sign", "--source");
}
END_TEST

START_TEST(test_help_and_version)
{
    OK("--help");
    ck_assert(args.help);
    ck_assert_int_eq(args.cmd, CTL_CMD_NONE);
    OK("replay", "--help");
    ck_assert(args.help);
    ck_assert_int_eq(args.cmd, CTL_CMD_REPLAY);
    OK("dlq", "--help");
    ck_assert_int_eq(args.cmd, CTL_CMD_DLQ);
    OK("dlq", "requeue", "-h");
    ck_assert_int_eq(args.cmd, CTL_CMD_DLQ_REQUEUE);
    OK("help");
    ck_assert(args.help);
    ck_assert_int_eq(args.cmd, CTL_CMD_NONE);
    OK("help", "dlq", "list");
    ck_assert(args.help);
    ck_assert_int_eq(args.cmd, CTL_CMD_DLQ_LIST);
    OK("-V");
    ck_assert(args.version);
    /* Every command has a help text of its own that names it. */
    for (int c = CTL_CMD_SIGN; c <= CTL_CMD_DLQ; c++) {
        const char *u = ctl_args_usage((ctl_command)c);
        ck_assert_msg(strstr(u, ctl_command_name((ctl_command)c)) != NULL, "%s",
                      ctl_command_name((ctl_command)c));
        ck_assert_ptr_ne(u, ctl_args_usage(CTL_CMD_NONE));
    }
    BAD("give a command", "-c", "x.json");
    BAD("unknown command \"rewind\"", "rewind");
    BAD("dlq: give a subcommand", "dlq");
    BAD("unknown option", "lag", "--frobnicate");
    BAD("unexpected argument \"extra\"", "lag", "extra");
}
END_TEST

START_TEST(test_lag_and_replay)
{
    OK("lag", "--group", "g", "-t", "t", "--json");
    ck_assert_int_eq(args.cmd, CTL_CMD_LAG);
    ck_assert_str_eq(args.group, "g");
    ck_assert_str_eq(args.topic, "t");

    OK("replay", "--to-earliest", "--dry-run");
    ck_assert_int_eq(args.replay, CTL_REPLAY_EARLIEST);
    ck_assert(args.dry_run);

    OK("replay", "--to-time", "2026-11-30T07:00:00Z");
    ck_assert_int_eq(args.replay, CTL_REPLAY_TIME);
    ck_assert_int_eq(args.time_ms, NOW_MS - 3600000);

    OK("replay", "--by-duration", "1h30m");
    ck_assert_int_eq(args.replay, CTL_REPLAY_DURATION);
    ck_assert_int_eq(args.duration_ms, 5400000);

    OK("replay", "--to-offset", "0:10", "--to-offset", "11:0");
    ck_assert_int_eq(args.replay, CTL_REPLAY_OFFSETS);
    ck_assert_uint_eq(args.noffsets, 2);
    ck_assert_int_eq(args.offsets[1].partition, 11);
    ck_assert_int_eq(args.offsets[1].offset, 0);

    BAD("give one of --to-earliest", "replay");
    BAD("give only one of", "replay", "--to-earliest", "--by-duration", "1h");
    BAD("not an RFC 3339 time", "replay", "--to-time", "yesterday");
    BAD("not a duration", "replay", "--by-duration", "1y");
    BAD("not PARTITION:OFFSET", "replay", "--to-offset", "3");
    BAD("partition 3 given twice", "replay", "--to-offset", "3:1", "--to-offset", "3:2");
    BAD("is not an option", "lag", "--to-earliest");
}
END_TEST

START_TEST(test_dlq)
{
    OK("dlq", "list");
    ck_assert_int_eq(args.cmd, CTL_CMD_DLQ_LIST);
    ck_assert_int_eq(args.limit, 100);
    ck_assert_int_eq(args.since_ms, 0);
    OK("dlq", "list", "--limit", "5", "--since", "2h");
    ck_assert_int_eq(args.limit, 5);
    ck_assert_int_eq(args.since_ms, NOW_MS - 7200000);
    OK("--json", "dlq", "list", "--since", "2026-11-30T00:00:00+01:00");
    ck_assert(args.json);
    ck_assert_int_eq(args.since_ms, NOW_MS - 9 * 3600000LL);

    OK("dlq", "requeue", "--all", "--dry-run");
    ck_assert_int_eq(args.cmd, CTL_CMD_DLQ_REQUEUE);
    ck_assert(args.all);
    ck_assert(args.dry_run);
    OK("dlq", "requeue", "--offset", "0:4", "--offset", "0:5");
    ck_assert_uint_eq(args.noffsets, 2);
    ck_assert(!args.all);

    BAD("give --all or --offset", "dlq", "requeue");
    BAD("give --all or --offset", "dlq", "requeue", "--all", "--offset", "0:1");
    BAD("--limit \"0\"", "dlq", "list", "--limit", "0");
    BAD("--since \"soon\"", "dlq", "list", "--since", "soon");
    BAD("is not an option", "dlq", "list", "--all");
}
END_TEST

START_TEST(test_durations)
{
    int64_t ms;
    ck_assert_int_eq(ctl_parse_duration("90s", &ms), HP_OK);
    ck_assert_int_eq(ms, 90000);
    ck_assert_int_eq(ctl_parse_duration("1h30m", &ms), HP_OK);
    ck_assert_int_eq(ms, 5400000);
    ck_assert_int_eq(ctl_parse_duration("250ms", &ms), HP_OK);
    ck_assert_int_eq(ms, 250);
    ck_assert_int_eq(ctl_parse_duration("2d", &ms), HP_OK);
    ck_assert_int_eq(ms, 172800000);
    ck_assert_int_eq(ctl_parse_duration("1w1m", &ms), HP_OK);
    ck_assert_int_eq(ms, 604800000 + 60000);
    const char *bad[] = {"", "0s", "1", "h", "-1h", "1h-", "1.5h", "1y", "99999999999w", " 1h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ctl_parse_duration(bad[i], &ms) == HP_ERR_INVALID, "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(test_offset_specs_and_times)
{
    ctl_offset_spec s;
    ck_assert_int_eq(ctl_parse_offset_spec("0:0", &s), HP_OK);
    ck_assert_int_eq(ctl_parse_offset_spec("2147483647:9223372036854775807", &s), HP_OK);
    ck_assert_int_eq(s.partition, 2147483647);
    ck_assert_int_eq(s.offset, INT64_MAX);
    const char *bad[] = {"",     ":",   "1:",   ":1",           "1",    "-1:0",
                         "0:-1", "a:1", "1:1x", "2147483648:0", "1:2:3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ctl_parse_offset_spec(bad[i], &s) == HP_ERR_INVALID, "\"%s\" accepted",
                      bad[i]);
    int64_t ms;
    ck_assert_int_eq(ctl_parse_time("2026-11-30T08:00:00Z", NOW_MS, &ms), HP_OK);
    ck_assert_int_eq(ms, NOW_MS);
    ck_assert_int_eq(ctl_parse_time("15m", NOW_MS, &ms), HP_OK);
    ck_assert_int_eq(ms, NOW_MS - 900000);
    ck_assert_int_eq(ctl_parse_time("2026-11-30", NOW_MS, &ms), HP_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_args");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sign_and_send);
    tcase_add_test(tc, test_help_and_version);
    tcase_add_test(tc, test_lag_and_replay);
    tcase_add_test(tc, test_dlq);
    tcase_add_test(tc, test_durations);
    tcase_add_test(tc, test_offset_specs_and_times);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
