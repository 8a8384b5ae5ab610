/*
 * bn_load: one thread of hp-load's HTTP/1.1 keep-alive load.
 *
 * A load thread owns an epoll set and its share of the connections, and
 * runs one of two models until the plan's end:
 *
 *  - closed: every connection sends its next request as soon as the
 *    previous answer arrived. Latency runs from the send. This finds the
 *    peak rate at a given concurrency.
 *  - open: requests are due at fixed intervals whatever the server does.
 *    A due request goes out on an idle connection; if every connection is
 *    busy it waits, and its latency, which always runs from the *scheduled*
 *    time, includes the wait. A stall therefore shows in the percentiles
 *    instead of silently lowering the offered rate (no coordinated
 *    omission).
 *
 * Warm-up: closed counts answers that arrive inside [window, end); open
 * counts requests scheduled inside it, however late they are answered
 * (answers are awaited for up to drain_ns after end).
 */
#ifndef BN_LOAD_H
#define BN_LOAD_H

#include "bn_corpus.h"
#include "bn_hist.h"
#include "hp_err.h"

#include <stdint.h>
#include <sys/socket.h>

typedef enum { BN_LOAD_CLOSED, BN_LOAD_OPEN } bn_load_mode;

/* Seconds of per-second history kept from the start of the window. */
#define BN_LOAD_TIMELINE_MAX 3600

/* What one load thread does. All times are CLOCK_MONOTONIC nanoseconds. */
typedef struct bn_load_plan {
    bn_load_mode mode;
    const bn_corpus *corpus;
    struct sockaddr_storage addr; /* the server */
    socklen_t addrlen;
    int connections;      /* this thread's, >= 1 */
    double rate;          /* open: this thread's requests per second */
    int64_t phase_ns;     /* open: its first request is due at start_ns + phase_ns */
    size_t first_request; /* the corpus index this thread starts at */
    int64_t start_ns;     /* the warm-up begins */
    int64_t window_ns;    /* the measured window begins (start + warm-up) */
    int64_t end_ns;       /* the window ends; nothing is scheduled from here on */
    int64_t drain_ns;     /* how long after end_ns answers are still awaited */
} bn_load_plan;

/* What was measured; only requests of the window count. */
typedef struct bn_load_stats {
    uint64_t scheduled;    /* open: requests due inside the window */
    uint64_t sent;         /* requests written */
    uint64_t answered;     /* complete answers */
    uint64_t status[600];  /* answers by status code */
    uint64_t failed;       /* requests lost to a connection or protocol error */
    uint64_t unanswered;   /* still waiting when the drain ended */
    uint64_t unsent;       /* open: due, never sent (every connection busy) */
    uint64_t conn_errors;  /* refused or failed connects, resets, early EOF (any time) */
    uint64_t proto_errors; /* unparseable answers (any time) */
    uint64_t reconnects;   /* connections the server closed and we reopened */
    uint64_t max_backlog;  /* open: most requests due and not yet sent at once */
    bn_hist latency;       /* answer time - origin (scheduled or sent) */
    bn_hist send_lag;      /* open: send time - scheduled time */
    /* Per second since the window began (by answer time): counted answers
     * and their largest latency, to see when a stall happened. */
    uint64_t timeline_answers[BN_LOAD_TIMELINE_MAX];
    int64_t timeline_max_ns[BN_LOAD_TIMELINE_MAX];
} bn_load_stats;

/*
 * Runs plan on the calling thread until end_ns + drain_ns at the latest and
 * adds what it measured to *stats (zeroed by the caller, bn_hist_init for
 * its histograms). HP_ERR_IO with errstr if epoll cannot be set up;
 * connection failures are counted, not returned. @thread a load thread
 */
hp_err bn_load_run(const bn_load_plan *plan, bn_load_stats *stats, char *errstr,
                   size_t errstr_size);

#endif /* BN_LOAD_H */
