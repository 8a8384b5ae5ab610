/*
 * hp_log: structured JSON lines. See hp_log.h.
 *
 * A line is built in a fixed buffer on the caller's stack, so logging never
 * allocates and a line can never grow past HP_LOG_LINE_MAX. The last few
 * bytes of the buffer are kept back for the closing `,"truncated":true}\n`,
 * which therefore always fits. The finished line goes out in one write(2)
 * under a mutex: a pipe only guarantees atomic writes up to PIPE_BUF (4 KiB),
 * and a short write must be completed before another thread's line starts.
 */
#include "hp_log.h"

#include "hp_utf8.h"

#include "hp_time.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h> /* strcasecmp */
#include <unistd.h>

#define TRUNCATED_TAIL ",\"truncated\":true}\n"
/* Bytes fields may fill; the rest is kept for TRUNCATED_TAIL. */
#define LINE_LIMIT (HP_LOG_LINE_MAX - (sizeof(TRUNCATED_TAIL) - 1))
/* U+2026 HORIZONTAL ELLIPSIS, ends a string value that was cut. */
#define ELLIPSIS "\xe2\x80\xa6"
#define ELLIPSIS_LEN 3

static atomic_int min_level = HP_LOG_INFO;
static atomic_int out_fd = 2;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* A line under construction. */
struct line {
    size_t len;
    bool truncated; /* a field was left out */
    char buf[HP_LOG_LINE_MAX];
};

static bool put(struct line *ln, const char *s, size_t n)
{
    if (n > LINE_LIMIT - ln->len)
        return false;
    memcpy(ln->buf + ln->len, s, n);
    ln->len += n;
    return true;
}

static bool put_str(struct line *ln, const char *s)
{
    return put(ln, s, strlen(s));
}

/*
 * Escapes the character at s (n bytes left) into out (at least 7 bytes):
 * sets *used to the input bytes consumed and returns the output length.
 */
static size_t escape_one(const unsigned char *s, size_t n, char *out, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = hp_utf8_char_len(s, n);
    *used = len ? len : 1;
    if (len == 0) {
        memcpy(out, "\\ufffd", 6);
        return 6;
    }
    if (len > 1) {
        memcpy(out, s, len);
        return len;
    }
    switch (s[0]) {
    case '"':
        memcpy(out, "\\\"", 2);
        return 2;
    case '\\':
        memcpy(out, "\\\\", 2);
        return 2;
    case '\n':
        memcpy(out, "\\n", 2);
        return 2;
    case '\r':
        memcpy(out, "\\r", 2);
        return 2;
    case '\t':
        memcpy(out, "\\t", 2);
        return 2;
    default:
        break;
    }
    if (s[0] < 0x20 || s[0] == 0x7f) {
        memcpy(out, "\\u00", 4);
        out[4] = hex[s[0] >> 4];
        out[5] = hex[s[0] & 0xf];
        return 6;
    }
    out[0] = (char)s[0];
    return 1;
}

/*
 * Appends s as a JSON string (null for NULL). The escaped text is cut to
 * HP_LOG_VALUE_MAX bytes, or to what the line has left, and then ends with
 * an ellipsis. Returns false, appending nothing, if not even "…" fits.
 */
static bool put_json_string(struct line *ln, const char *s)
{
    if (!s)
        return put(ln, "null", 4);
    size_t room = LINE_LIMIT - ln->len;
    if (room < 2 + ELLIPSIS_LEN)
        return false;
    size_t avail = room - 2 < HP_LOG_VALUE_MAX ? room - 2 : HP_LOG_VALUE_MAX;
    size_t mark = 0, used = 0;
    bool marked = false;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);

    ln->buf[ln->len++] = '"';
    while (n > 0) {
        char esc[8];
        size_t consumed;
        size_t elen = escape_one(p, n, esc, &consumed);
        /* Remember where the ellipsis would go, in case the rest doesn't fit. */
        if (!marked && used + elen > avail - ELLIPSIS_LEN) {
            mark = ln->len;
            marked = true;
        }
        if (used + elen > avail) {
            ln->len = mark;
            memcpy(ln->buf + ln->len, ELLIPSIS, ELLIPSIS_LEN);
            ln->len += ELLIPSIS_LEN;
            break;
        }
        memcpy(ln->buf + ln->len, esc, elen);
        ln->len += elen;
        used += elen;
        p += consumed;
        n -= consumed;
    }
    ln->buf[ln->len++] = '"';
    return true;
}

static bool put_number(struct line *ln, const hp_log_field *f)
{
    char num[48];
    int n;
    switch (f->type) {
    case HP_LOG_T_INT:
        n = snprintf(num, sizeof num, "%" PRId64, f->v.i);
        break;
    case HP_LOG_T_UINT:
        n = snprintf(num, sizeof num, "%" PRIu64, f->v.u);
        break;
    default:
        /* JSON has no NaN or infinity. */
        if (!isfinite(f->v.d))
            return put(ln, "null", 4);
        n = snprintf(num, sizeof num, "%.15g", f->v.d);
        break;
    }
    if (n < 0 || (size_t)n >= sizeof num)
        return put(ln, "null", 4);
    return put(ln, num, (size_t)n);
}

/* Appends ,"key":value; on failure the line is left as it was. */
static bool put_field(struct line *ln, const hp_log_field *f)
{
    size_t start = ln->len;
    bool ok = put(ln, ",", 1) && put_json_string(ln, f->key ? f->key : "") && put(ln, ":", 1);
    if (ok) {
        switch (f->type) {
        case HP_LOG_T_STR:
            ok = put_json_string(ln, f->v.s);
            break;
        case HP_LOG_T_BOOL:
            ok = put_str(ln, f->v.b ? "true" : "false");
            break;
        default:
            ok = put_number(ln, f);
            break;
        }
    }
    if (!ok)
        ln->len = start;
    return ok;
}

static void put_header(struct line *ln, hp_log_level level, const char *component, const char *msg)
{
    char ts[HP_TIME_RFC3339_SIZE];
    if (hp_time_format_rfc3339(hp_time_now_ms(), ts, sizeof ts) == 0)
        ts[0] = '\0';
    /* The line is empty and component and msg are capped at HP_LOG_VALUE_MAX
     * each, far below the line's limit: all of this fits. */
    put_str(ln, "{\"ts\":\"");
    put_str(ln, ts);
    put_str(ln, "\",\"level\":\"");
    put_str(ln, hp_log_level_name(level));
    put_str(ln, "\",\"component\":");
    put_json_string(ln, component);
    put_str(ln, ",\"msg\":");
    put_json_string(ln, msg ? msg : "");
}

/* Writes the whole line, retrying short writes; errors are dropped (where would they go?). */
static void write_line(const char *p, size_t n)
{
    int fd = atomic_load_explicit(&out_fd, memory_order_relaxed);
    pthread_mutex_lock(&write_lock);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    pthread_mutex_unlock(&write_lock);
}

static bool is_field_type(hp_log_type type)
{
    return type >= HP_LOG_T_STR && type <= HP_LOG_T_BOOL;
}

void hp_log_emit(hp_log_level level, const char *component, const char *msg, ...)
{
    if (!hp_log_enabled(level))
        return;
    int saved_errno = errno;
    struct line ln;
    ln.len = 0;
    ln.truncated = false;
    put_header(&ln, level, component, msg);

    va_list ap;
    va_start(ap, msg);
    for (;;) {
        hp_log_field f = va_arg(ap, hp_log_field);
        /* HP_LOG_END, or something that is not a field at all: stop reading. */
        if (!is_field_type(f.type))
            break;
        if (!put_field(&ln, &f))
            ln.truncated = true;
    }
    va_end(ap);

    /* LINE_LIMIT kept room for the longest tail. */
    const char *tail = ln.truncated ? TRUNCATED_TAIL : "}\n";
    size_t tail_len = strlen(tail);
    memcpy(ln.buf + ln.len, tail, tail_len);
    ln.len += tail_len;
    write_line(ln.buf, ln.len);
    errno = saved_errno;
}

void hp_logf(hp_log_level level, const char *component, const char *fmt, ...)
{
    if (!hp_log_enabled(level))
        return;
    int saved_errno = errno;
    /* Longer text would be cut by put_json_string anyway. */
    char msg[HP_LOG_VALUE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    errno = saved_errno;
    hp_log_emit(level, component, msg, HP_LOG_END);
}

bool hp_log_enabled(hp_log_level level)
{
    return (int)level >= atomic_load_explicit(&min_level, memory_order_relaxed);
}

void hp_log_set_level(hp_log_level level)
{
    atomic_store_explicit(&min_level, (int)level, memory_order_relaxed);
}

void hp_log_set_fd(int fd)
{
    atomic_store_explicit(&out_fd, fd, memory_order_relaxed);
}

hp_err hp_log_level_parse(const char *s, hp_log_level *level)
{
    static const struct {
        const char *name;
        hp_log_level level;
    } names[] = {{"debug", HP_LOG_DEBUG},
                 {"info", HP_LOG_INFO},
                 {"warn", HP_LOG_WARN},
                 {"warning", HP_LOG_WARN},
                 {"error", HP_LOG_ERROR}};
    if (!s)
        return HP_ERR_INVALID;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *level = names[i].level;
            return HP_OK;
        }
    }
    return HP_ERR_INVALID;
}

const char *hp_log_level_name(hp_log_level level)
{
    switch (level) {
    case HP_LOG_DEBUG:
        return "debug";
    case HP_LOG_INFO:
        return "info";
    case HP_LOG_WARN:
        return "warn";
    case HP_LOG_ERROR:
        return "error";
    }
    return "unknown";
}
