/*
 * gw_waitlist: the requests waiting for Kafka, in deadline order.
 *
 * librdkafka reports a timed-out record up to about a second after its
 * message.timeout.ms (it scans for timeouts once a second), so its report
 * alone cannot keep the promise that a request is answered within
 * ack_timeout_ms. Every waiting request is therefore also on this list; a
 * reaper takes those whose deadline passed and answers them 503. All
 * deadlines are the same span after insertion, so appending keeps the list
 * sorted and the reaper only ever looks at its head.
 */
#ifndef GW_WAITLIST_H
#define GW_WAITLIST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Embedded in the waiting object. */
typedef struct gw_wait_node {
    struct gw_wait_node *prev, *next;
    int64_t deadline_ns; /* monotonic */
    bool listed;
} gw_wait_node;

typedef struct gw_waitlist {
    pthread_mutex_t mu;
    gw_wait_node head; /* sentinel of a circular list */
} gw_waitlist;

/* @thread main */
void gw_waitlist_init(gw_waitlist *wl);
void gw_waitlist_deinit(gw_waitlist *wl);

/* Appends node with its deadline (not earlier than any listed one). @thread any */
void gw_waitlist_add(gw_waitlist *wl, gw_wait_node *node, int64_t deadline_ns);

/* Takes node off the list; true if it was on it (the caller then owns the
 * answer), false if the reaper took it first. @thread any */
bool gw_waitlist_remove(gw_waitlist *wl, gw_wait_node *node);

/* Takes and returns the first node whose deadline is before now_ns, or NULL. @thread any */
gw_wait_node *gw_waitlist_pop_expired(gw_waitlist *wl, int64_t now_ns);

#endif /* GW_WAITLIST_H */
