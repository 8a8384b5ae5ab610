/*
 * hp_log: structured logs, one JSON object per line on stderr.
 *
 *   hp_log(HP_LOG_INFO, "gateway", "request done", HP_LOG_STR("source", src),
 *          HP_LOG_INT("status", 200), HP_LOG_DBL("duration_ms", 1.2));
 *
 * writes
 *
 *   {"ts":"2026-11-23T19:05:25.098Z","level":"info","component":"gateway",
 *    "msg":"request done","source":"orders","status":200,"duration_ms":1.2}
 *
 * Every line is written whole by one write(2), so lines of several threads
 * never interleave. Strings are escaped so that the line is always valid
 * JSON, whatever bytes they hold (invalid UTF-8 becomes U+FFFD). A line is at
 * most HP_LOG_LINE_MAX bytes: a string value longer than HP_LOG_VALUE_MAX is
 * cut and ends with "…", and fields that no longer fit are left out (the line
 * then carries "truncated":true).
 *
 * The keys ts, level, component, msg and truncated are taken; fields should
 * use other keys. Callers never pass secrets (signing keys, passwords, tokens,
 * Authorization headers) as the message or as a field: this module cannot
 * tell them apart from other text.
 */
#ifndef HP_LOG_H
#define HP_LOG_H

#include "hp_err.h"

#include <stdbool.h>
#include <stdint.h>

/* Most bytes of one line, newline included. */
#define HP_LOG_LINE_MAX 8192
/* Most bytes of one escaped string value (the message included), quotes excluded. */
#define HP_LOG_VALUE_MAX 2048

typedef enum { HP_LOG_DEBUG, HP_LOG_INFO, HP_LOG_WARN, HP_LOG_ERROR } hp_log_level;

/* The type of a context field. The values start high so that a stray argument
 * that is not an hp_log_field is unlikely to pass for one. */
typedef enum {
    HP_LOG_T_END = 0x4c470000,
    HP_LOG_T_STR,
    HP_LOG_T_INT,
    HP_LOG_T_UINT,
    HP_LOG_T_DBL,
    HP_LOG_T_BOOL
} hp_log_type;

/* One context field; build it with the HP_LOG_* macros below. */
typedef struct hp_log_field {
    hp_log_type type;
    const char *key;
    union {
        const char *s; /* NULL is written as null */
        int64_t i;
        uint64_t u;
        double d; /* NaN and infinities are written as null */
        bool b;
    } v;
} hp_log_field;

#define HP_LOG_STR(k, val) ((hp_log_field){.type = HP_LOG_T_STR, .key = (k), .v.s = (val)})
#define HP_LOG_INT(k, val) ((hp_log_field){.type = HP_LOG_T_INT, .key = (k), .v.i = (val)})
#define HP_LOG_UINT(k, val) ((hp_log_field){.type = HP_LOG_T_UINT, .key = (k), .v.u = (val)})
#define HP_LOG_DBL(k, val) ((hp_log_field){.type = HP_LOG_T_DBL, .key = (k), .v.d = (val)})
#define HP_LOG_BOOL(k, val) ((hp_log_field){.type = HP_LOG_T_BOOL, .key = (k), .v.b = (val)})
/* Ends a field list; the hp_log() macro adds it for you. */
#define HP_LOG_END ((hp_log_field){.type = HP_LOG_T_END, .key = NULL, .v.i = 0})

/*
 * hp_log(level, component, msg, fields...): logs msg with any number of
 * HP_LOG_* fields (none is fine). Does nothing below the minimum level.
 * Strings are only read during the call. @thread any
 */
#define hp_log(level, component, ...) hp_log_emit((level), (component), __VA_ARGS__, HP_LOG_END)

/*
 * What hp_log() calls: the variadic arguments are hp_log_field values ending
 * with HP_LOG_END. Prefer the macro. @thread any
 */
void hp_log_emit(hp_log_level level, const char *component, const char *msg, ...);

/* Logs a message formatted with printf rules, without fields. @thread any */
void hp_logf(hp_log_level level, const char *component, const char *fmt, ...) HP_PRINTF(3, 4);

/* True if a line of this level would be written, to skip costly preparation. @thread any */
bool hp_log_enabled(hp_log_level level);

/* Sets the minimum level written (default HP_LOG_INFO). @thread any */
void hp_log_set_level(hp_log_level level);

/* Sets the file descriptor lines go to (default 2, stderr); the caller keeps
 * owning it. @thread any */
void hp_log_set_fd(int fd);

/* Parses "debug", "info", "warn" (or "warning") or "error", in any case.
 * HP_ERR_INVALID for anything else, *level untouched. @thread any */
hp_err hp_log_level_parse(const char *s, hp_log_level *level) HP_WARN_UNUSED;

/* The name of level as written in the "level" key. @thread any */
const char *hp_log_level_name(hp_log_level level);

#endif /* HP_LOG_H */
