/*
 * hp_time: clocks and timestamp formats. See hp_time.h.
 *
 * Calendar conversion uses the days-from-civil algorithm (proleptic
 * Gregorian) rather than timegm()/gmtime_r(), so results never depend on the
 * process's time zone and the parser is strict about every field.
 */
#include "hp_time.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_DAY 86400000LL

int64_t hp_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hp_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1–12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

size_t hp_time_format_rfc3339(int64_t unix_ms, char *out, size_t outsz)
{
    int64_t days = unix_ms / MS_PER_DAY;
    int64_t rem = unix_ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return 0;
    int n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d,
                     (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                     (int)(rem % 1000));
    if (n < 0 || (size_t)n >= outsz)
        return 0;
    return (size_t)n;
}

/* Reads exactly n decimal digits at *p into *val and advances *p. */
static bool read_digits(const char **p, const char *end, int n, int *val)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9')
            return false;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *val = v;
    return true;
}

static bool expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

hp_err hp_time_parse_rfc3339(const char *s, size_t len, int64_t *unix_ms)
{
    const char *p = s, *end = s + len;
    int y, mo, d, h, mi, sec, ms = 0;

    if (!read_digits(&p, end, 4, &y) || !expect(&p, end, '-') || !read_digits(&p, end, 2, &mo) ||
        !expect(&p, end, '-') || !read_digits(&p, end, 2, &d))
        return HP_ERR_INVALID;
    if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
        return HP_ERR_INVALID;
    p++;
    if (!read_digits(&p, end, 2, &h) || !expect(&p, end, ':') || !read_digits(&p, end, 2, &mi) ||
        !expect(&p, end, ':') || !read_digits(&p, end, 2, &sec))
        return HP_ERR_INVALID;
    if (p < end && *p == '.') {
        p++;
        int digits = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        if (digits == 0)
            return HP_ERR_INVALID;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    int offset_min = 0;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (!read_digits(&p, end, 2, &oh) || !expect(&p, end, ':') ||
            !read_digits(&p, end, 2, &om) || oh > 23 || om > 59)
            return HP_ERR_INVALID;
        offset_min = sign * (oh * 60 + om);
    } else {
        return HP_ERR_INVALID;
    }
    /* A leap second (:60) is accepted and counted as :59.999, as POSIX time has no room for it. */
    if (p != end || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 60)
        return HP_ERR_INVALID;
    if (sec == 60) {
        sec = 59;
        ms = 999;
    }
    int64_t t = days_from_civil(y, mo, d) * MS_PER_DAY + (int64_t)h * 3600000 + mi * 60000LL +
                sec * 1000LL + ms;
    *unix_ms = t - (int64_t)offset_min * 60000;
    return HP_OK;
}

int64_t hp_time_unix_to_ms(int64_t value)
{
    const int64_t ms_threshold = 100000000000LL;
    if (value >= ms_threshold || value <= -ms_threshold)
        return value;
    return value * 1000;
}

hp_err hp_time_parse_event(const char *s, size_t len, int64_t *unix_ms)
{
    if (len == 0)
        return HP_ERR_INVALID;
    if (len > 10 && s[4] == '-')
        return hp_time_parse_rfc3339(s, len, unix_ms);

    /* Decimal seconds or milliseconds, optionally with a fraction of a second. */
    const char *p = s, *end = s + len;
    bool neg = *p == '-';
    if (neg)
        p++;
    int64_t whole = 0;
    int digits = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 16)
            return HP_ERR_INVALID;
        whole = whole * 10 + (*p - '0');
    }
    if (digits == 0)
        return HP_ERR_INVALID;
    int frac_ms = 0, frac_digits = 0;
    if (p < end && *p == '.') {
        p++;
        for (; p < end && *p >= '0' && *p <= '9'; p++, frac_digits++)
            if (frac_digits < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
        if (frac_digits == 0)
            return HP_ERR_INVALID;
        for (int i = frac_digits; i < 3; i++)
            frac_ms *= 10;
    }
    if (p != end)
        return HP_ERR_INVALID;
    int64_t ms = hp_time_unix_to_ms(whole);
    if (frac_digits && whole <= INT64_MAX / 1000 && ms == whole * 1000)
        ms += frac_ms;
    *unix_ms = neg ? -ms : ms;
    return HP_OK;
}
