/*
 * hp_time: clocks and timestamp formats.
 *
 * hookpipe carries time as int64 UNIX milliseconds (UTC) everywhere: Kafka
 * headers, PostgreSQL rows, metrics. RFC 3339 is for humans and JSON bodies.
 */
#ifndef HP_TIME_H
#define HP_TIME_H

#include "hp_err.h"

#include <stddef.h>
#include <stdint.h>

/* Wall clock, UNIX milliseconds. @thread any */
int64_t hp_time_now_ms(void);

/* Monotonic clock in nanoseconds, for durations and timeouts. @thread any */
int64_t hp_time_mono_ns(void);

/* Size of a buffer that holds any RFC 3339 text hp_time_format_rfc3339 writes. */
#define HP_TIME_RFC3339_SIZE 32

/*
 * Writes unix_ms as "2026-11-23T19:05:25.098Z" into out (NUL-terminated).
 * Returns the length written, or 0 if outsz is too small or the year falls
 * outside 0000–9999. @thread any
 */
size_t hp_time_format_rfc3339(int64_t unix_ms, char *out, size_t outsz);

/*
 * Parses an RFC 3339 date-time: "2026-11-23T19:05:25Z", with an optional
 * fraction of any length (kept to the millisecond, truncated) and a "Z" or
 * "+hh:mm"/"-hh:mm" offset; "t"/"z" and a space for "T" are accepted as the
 * RFC allows. The whole string must match. HP_ERR_INVALID otherwise. @thread any
 */
hp_err hp_time_parse_rfc3339(const char *s, size_t len, int64_t *unix_ms) HP_WARN_UNUSED;

/*
 * Interprets a UNIX timestamp whose unit is not stated (webhook payloads use
 * both): values of 100,000,000,000 and above are milliseconds (as seconds
 * that would be past the year 5000), smaller ones seconds. @thread any
 */
int64_t hp_time_unix_to_ms(int64_t value);

/*
 * Parses a webhook's event time: decimal UNIX seconds or milliseconds (see
 * hp_time_unix_to_ms; a fraction after '.' is allowed for seconds), or
 * RFC 3339. @thread any
 */
hp_err hp_time_parse_event(const char *s, size_t len, int64_t *unix_ms) HP_WARN_UNUSED;

#endif /* HP_TIME_H */
