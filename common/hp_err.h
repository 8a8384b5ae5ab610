/*
 * hp_err: the one error type of hookpipe.
 *
 * The value tells the caller what to do next, the message (in a caller's
 * errstr buffer) tells a human what went wrong and where:
 *   HP_ERR_INVALID  bad input: reject it (400, config error, DLQ); retrying won't help.
 *   HP_ERR_IO       an I/O call failed (file, socket).
 *   HP_ERR_RETRY    transient: the same call may succeed later (broker down, 40001).
 *   HP_ERR_FATAL    the process can't go on (a fatal producer error, a broken invariant).
 */
#ifndef HP_ERR_H
#define HP_ERR_H

typedef enum { HP_OK = 0, HP_ERR_INVALID, HP_ERR_IO, HP_ERR_RETRY, HP_ERR_FATAL } hp_err;

/* Results that must be looked at. */
#define HP_WARN_UNUSED __attribute__((warn_unused_result))

/* printf-style format checking for our own formatting functions. */
#define HP_PRINTF(fmt_idx, args_idx) __attribute__((format(printf, fmt_idx, args_idx)))

/* Returns a constant name for err ("ok", "invalid", …). */
const char *hp_err_name(hp_err err);

#endif /* HP_ERR_H */
