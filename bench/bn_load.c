/*
 * bn_load: the event loop of one load thread. See bn_load.h.
 *
 * Connections move DOWN -> CONNECTING -> IDLE -> SENDING -> WAITING ->
 * IDLE ... Level-triggered epoll; a connection asks for EPOLLOUT only while
 * it connects or a request did not fit into the socket at once. Idle
 * connections sit on a stack (open model: a due request takes the top one).
 * A failed connection is reopened after RECONNECT_DELAY_NS, so a server
 * that is down costs a connect per connection every 50 ms, not a busy loop.
 * The loop ends at end_ns + drain_ns, or earlier once nothing is owed.
 */
#define _GNU_SOURCE /* epoll_pwait2: a timeout with nanosecond resolution */
#include "bn_load.h"

#include "hp_alloc.h"
#include "hp_time.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bn_http.h"

#define RECONNECT_DELAY_NS 50000000LL
#define MAX_EVENTS 256
#define IN_SIZE (BN_HTTP_MAX_HEAD + 4096)

typedef enum { C_DOWN, C_CONNECTING, C_IDLE, C_SENDING, C_WAITING } conn_state;

typedef struct conn {
    int fd;
    conn_state state;
    int idle_pos;     /* index in the idle stack while IDLE */
    bool want_out;    /* EPOLLOUT is in the interest set */
    int64_t retry_ns; /* DOWN: reopen at */
    const bn_request *req;
    size_t written;
    int64_t origin_ns; /* latency starts here */
    bool counted;      /* open: scheduled inside the window */
    bool have_head;
    bn_resp resp;
    uint64_t body_left;
    size_t inlen;
    char in[IN_SIZE];
} conn;

typedef struct loop {
    const bn_load_plan *plan;
    bn_load_stats *st;
    int ep;
    conn *conns;
    int *idle; /* stack of idle connection indexes */
    int nidle;
    int ndown;
    int busy; /* SENDING or WAITING */
    size_t next_req;
    double interval_ns; /* open */
    uint64_t total;     /* open: requests due before end_ns */
    uint64_t issued;    /* open: due requests sent, in schedule order */
} loop;

/* ---- small helpers ---- */

static int64_t due_time(const loop *lp, uint64_t k)
{
    return lp->plan->start_ns + lp->plan->phase_ns + (int64_t)((double)k * lp->interval_ns);
}

/* Requests due at now (open model). */
static uint64_t due_count(const loop *lp, int64_t now)
{
    int64_t since = now - lp->plan->start_ns - lp->plan->phase_ns;
    if (since < 0)
        return 0;
    uint64_t k = (uint64_t)((double)since / lp->interval_ns) + 1;
    while (k > 0 && due_time(lp, k - 1) > now)
        k--;
    while (k < lp->total && due_time(lp, k) <= now)
        k++;
    return k < lp->total ? k : lp->total;
}

static bool in_window(const loop *lp, int64_t t)
{
    return t >= lp->plan->window_ns && t < lp->plan->end_ns;
}

/* Whether the request on c counts: open by its schedule, closed by the time given. */
static bool counts(const loop *lp, const conn *c, int64_t t)
{
    return lp->plan->mode == BN_LOAD_OPEN ? c->counted : in_window(lp, t);
}

static void set_interest(loop *lp, conn *c, bool out)
{
    if (c->want_out == out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(lp->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void idle_remove(loop *lp, conn *c)
{
    int last = lp->idle[--lp->nidle];
    lp->idle[c->idle_pos] = last;
    lp->conns[last].idle_pos = c->idle_pos;
}

static void timeline_record(bn_load_stats *st, int64_t second, int64_t latency_ns)
{
    if (second < 0 || second >= BN_LOAD_TIMELINE_MAX)
        return;
    st->timeline_answers[second]++;
    if (latency_ns > st->timeline_max_ns[second])
        st->timeline_max_ns[second] = latency_ns;
}

/* ---- connections ---- */

static void conn_open(loop *lp, conn *c, int64_t now)
{
    const bn_load_plan *plan = lp->plan;
    int one = 1;
    c->fd = socket(plan->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        goto fail;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (const struct sockaddr *)&plan->addr, plan->addrlen) != 0 &&
        errno != EINPROGRESS)
        goto fail;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        goto fail;
    c->want_out = true;
    c->state = C_CONNECTING;
    c->inlen = 0;
    return;
fail:
    lp->st->conn_errors++;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = C_DOWN;
    c->retry_ns = now + RECONNECT_DELAY_NS;
    lp->ndown++;
}

/* Closes c; it is reopened at once (reopen) or after the delay (an error). */
static void conn_close(loop *lp, conn *c, int64_t now, bool reopen)
{
    if (c->state == C_IDLE)
        idle_remove(lp, c);
    if (c->state == C_SENDING || c->state == C_WAITING)
        lp->busy--;
    close(c->fd); /* also takes it out of the epoll set */
    c->fd = -1;
    c->state = C_DOWN;
    c->retry_ns = reopen ? now : now + RECONNECT_DELAY_NS;
    lp->ndown++;
}

/* A connection or protocol error: the request on c, if any, is lost. */
static void conn_fail(loop *lp, conn *c, int64_t now, bool protocol)
{
    if ((c->state == C_SENDING || c->state == C_WAITING) && counts(lp, c, now))
        lp->st->failed++;
    if (protocol)
        lp->st->proto_errors++;
    else
        lp->st->conn_errors++;
    conn_close(lp, c, now, false);
}

/* ---- requests ---- */

static void flush(loop *lp, conn *c, int64_t now)
{
    while (c->written < c->req->len) {
        ssize_t n = send(c->fd, c->req->raw + c->written, c->req->len - c->written, MSG_NOSIGNAL);
        if (n > 0) {
            c->written += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            set_interest(lp, c, true);
            return;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            conn_fail(lp, c, now, false);
            return;
        }
    }
    set_interest(lp, c, false);
    c->state = C_WAITING;
}

/* Sends the next corpus request on the idle connection c. */
static void send_next(loop *lp, conn *c, int64_t origin_ns, bool counted, int64_t now)
{
    const bn_corpus *corpus = lp->plan->corpus;
    idle_remove(lp, c);
    c->req = &corpus->reqs[lp->next_req];
    lp->next_req = (lp->next_req + 1) % corpus->n;
    c->written = 0;
    c->origin_ns = origin_ns;
    c->counted = counted;
    c->have_head = false;
    c->state = C_SENDING;
    lp->busy++;
    if (counts(lp, c, now))
        lp->st->sent++;
    flush(lp, c, now);
}

/* Open model: sends due requests while there are idle connections. */
static void dispatch_due(loop *lp, int64_t now)
{
    uint64_t due = due_count(lp, now);
    if (due - lp->issued > lp->st->max_backlog)
        lp->st->max_backlog = due - lp->issued;
    while (lp->issued < due && lp->nidle > 0) {
        int64_t t = due_time(lp, lp->issued);
        bool counted = in_window(lp, t);
        if (counted) {
            lp->st->scheduled++;
            bn_hist_record(&lp->st->send_lag, now - t);
        }
        lp->issued++;
        send_next(lp, &lp->conns[lp->idle[lp->nidle - 1]], t, counted, now);
    }
}

static void become_idle(loop *lp, conn *c, int64_t now)
{
    c->state = C_IDLE;
    c->idle_pos = lp->nidle;
    lp->idle[lp->nidle++] = (int)(c - lp->conns);
    if (lp->plan->mode == BN_LOAD_OPEN)
        dispatch_due(lp, now);
    else if (now < lp->plan->end_ns)
        send_next(lp, c, now, false, now);
}

/* A complete answer on c. */
static void answered(loop *lp, conn *c)
{
    int64_t now = hp_time_mono_ns();
    if (counts(lp, c, now)) {
        lp->st->answered++;
        lp->st->status[c->resp.status]++;
        bn_hist_record(&lp->st->latency, now - c->origin_ns);
        timeline_record(lp->st, (now - lp->plan->window_ns) / 1000000000, now - c->origin_ns);
    }
    bool early = c->state == C_SENDING; /* answered before the whole request went out */
    if (c->resp.close || early) {
        lp->st->reconnects++;
        conn_close(lp, c, now, true);
        return;
    }
    lp->busy--;
    become_idle(lp, c, now);
}

static void drop_input(conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->inlen - n);
    c->inlen -= n;
}

/* Consumes what c has read; false when c was closed. */
static bool consume(loop *lp, conn *c, int64_t now)
{
    size_t head_len;
    if (c->state != C_SENDING && c->state != C_WAITING) {
        conn_fail(lp, c, now, true); /* bytes nobody asked for */
        return false;
    }
    while (!c->have_head) {
        bn_http_result r = bn_http_parse_head(c->in, c->inlen, &c->resp, &head_len);
        if (r == BN_HTTP_PARTIAL)
            return true;
        if (r == BN_HTTP_BAD) {
            conn_fail(lp, c, now, true);
            return false;
        }
        drop_input(c, head_len);
        c->have_head = c->resp.status >= 200; /* 1xx: an interim head, the real one follows */
        c->body_left = c->resp.body_len;
    }
    if (c->resp.until_close) {
        c->inlen = 0;
        return true;
    }
    size_t take = c->inlen < c->body_left ? c->inlen : (size_t)c->body_left;
    drop_input(c, take);
    c->body_left -= take;
    if (c->body_left > 0)
        return true;
    if (c->inlen > 0) {
        conn_fail(lp, c, now, true); /* more than the answer */
        return false;
    }
    answered(lp, c);
    return false;
}

static void on_eof(loop *lp, conn *c, int64_t now)
{
    if (c->state == C_WAITING && c->have_head && c->resp.until_close) {
        answered(lp, c);
    } else if (c->state == C_IDLE) {
        lp->st->reconnects++; /* the server closed an idle keep-alive connection */
        conn_close(lp, c, now, true);
    } else {
        conn_fail(lp, c, now, false);
    }
}

static void on_readable(loop *lp, conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
        int64_t now = hp_time_mono_ns();
        if (n > 0) {
            c->inlen += (size_t)n;
            if (!consume(lp, c, now) || c->state == C_DOWN)
                return;
            if (c->inlen == sizeof c->in) {
                conn_fail(lp, c, now, true);
                return;
            }
        } else if (n == 0) {
            on_eof(lp, c, now);
            return;
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN)
                conn_fail(lp, c, now, false);
            return;
        }
    }
}

static void on_connected(loop *lp, conn *c, int64_t now)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        conn_fail(lp, c, now, false);
        return;
    }
    set_interest(lp, c, false);
    become_idle(lp, c, now);
}

static void on_event(loop *lp, conn *c, uint32_t events)
{
    int64_t now = hp_time_mono_ns();
    if (c->state == C_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(lp, c, now);
        return;
    }
    if ((events & EPOLLOUT) && c->state == C_SENDING) {
        flush(lp, c, now);
        if (c->state == C_DOWN)
            return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(lp, c);
}

/* ---- the loop ---- */

/* Reopens connections whose delay is over; returns the earliest pending reopen. */
static int64_t reopen_due(loop *lp, int64_t now, int64_t next)
{
    for (int i = 0; lp->ndown > 0 && i < lp->plan->connections; i++) {
        conn *c = &lp->conns[i];
        if (c->state != C_DOWN)
            continue;
        if (c->retry_ns <= now) {
            lp->ndown--;
            conn_open(lp, c, now);
        } else if (c->retry_ns < next) {
            next = c->retry_ns;
        }
    }
    return next;
}

/* Whether the loop owes nothing more after end_ns. */
static bool finished(const loop *lp, int64_t now)
{
    const bn_load_plan *plan = lp->plan;
    if (now >= plan->end_ns + plan->drain_ns)
        return true;
    if (now < plan->end_ns || lp->busy > 0)
        return false;
    return plan->mode == BN_LOAD_CLOSED || lp->issued == lp->total;
}

/* When the loop must wake up next, at the latest. */
static int64_t next_wakeup(const loop *lp, int64_t now, int64_t next)
{
    const bn_load_plan *plan = lp->plan;
    if (now < plan->end_ns && plan->end_ns < next)
        next = plan->end_ns;
    if (plan->end_ns + plan->drain_ns < next)
        next = plan->end_ns + plan->drain_ns;
    if (plan->mode == BN_LOAD_OPEN && lp->issued < lp->total && lp->nidle > 0) {
        int64_t t = due_time(lp, lp->issued);
        if (t < next)
            next = t;
    }
    return next;
}

static void run(loop *lp)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t now = hp_time_mono_ns();
    while (!finished(lp, now)) {
        int64_t next = reopen_due(lp, now, INT64_MAX);
        if (lp->plan->mode == BN_LOAD_OPEN)
            dispatch_due(lp, now);
        next = next_wakeup(lp, now, next);
        int64_t wait = next > now ? next - now : 0;
        struct timespec ts = {wait / 1000000000, wait % 1000000000};
        int n = epoll_pwait2(lp->ep, evs, MAX_EVENTS, &ts, NULL);
        for (int i = 0; i < n; i++)
            on_event(lp, evs[i].data.ptr, evs[i].events);
        now = hp_time_mono_ns();
    }
}

/* What the window still owed when the loop ended. */
static void count_leftovers(loop *lp)
{
    for (int i = 0; i < lp->plan->connections; i++) {
        conn *c = &lp->conns[i];
        if ((c->state == C_SENDING || c->state == C_WAITING) && counts(lp, c, c->origin_ns))
            lp->st->unanswered++;
    }
    for (uint64_t k = lp->issued; k < lp->total; k++)
        if (in_window(lp, due_time(lp, k))) {
            lp->st->scheduled++;
            lp->st->unsent++;
        }
}

hp_err bn_load_run(const bn_load_plan *plan, bn_load_stats *stats, char *errstr, size_t errstr_size)
{
    loop lp = {.plan = plan, .st = stats};
    int64_t now = hp_time_mono_ns();

    lp.ep = epoll_create1(EPOLL_CLOEXEC);
    if (lp.ep < 0) {
        snprintf(errstr, errstr_size, "epoll_create1: %s", strerror(errno));
        return HP_ERR_IO;
    }
    lp.next_req = plan->first_request % plan->corpus->n;
    if (plan->mode == BN_LOAD_OPEN) {
        lp.interval_ns = 1e9 / plan->rate;
        while (due_time(&lp, lp.total) < plan->end_ns)
            lp.total++;
    }
    lp.conns = hp_xcalloc((size_t)plan->connections, sizeof *lp.conns);
    lp.idle = hp_xcalloc((size_t)plan->connections, sizeof *lp.idle);
    for (int i = 0; i < plan->connections; i++)
        conn_open(&lp, &lp.conns[i], now);
    run(&lp);
    count_leftovers(&lp);
    for (int i = 0; i < plan->connections; i++)
        if (lp.conns[i].fd >= 0)
            close(lp.conns[i].fd);
    free(lp.conns);
    free(lp.idle);
    close(lp.ep);
    return HP_OK;
}
