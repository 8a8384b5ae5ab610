/*
 * gw_waitlist: the requests waiting for Kafka, in deadline order. See gw_waitlist.h.
 */
#include "gw_waitlist.h"

#include <stddef.h>

void gw_waitlist_init(gw_waitlist *wl)
{
    pthread_mutex_init(&wl->mu, NULL);
    wl->head.prev = wl->head.next = &wl->head;
}

void gw_waitlist_deinit(gw_waitlist *wl)
{
    pthread_mutex_destroy(&wl->mu);
}

static void unlink_node(gw_wait_node *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = NULL;
    node->listed = false;
}

void gw_waitlist_add(gw_waitlist *wl, gw_wait_node *node, int64_t deadline_ns)
{
    node->deadline_ns = deadline_ns;
    pthread_mutex_lock(&wl->mu);
    node->prev = wl->head.prev;
    node->next = &wl->head;
    wl->head.prev->next = node;
    wl->head.prev = node;
    node->listed = true;
    pthread_mutex_unlock(&wl->mu);
}

bool gw_waitlist_remove(gw_waitlist *wl, gw_wait_node *node)
{
    pthread_mutex_lock(&wl->mu);
    bool listed = node->listed;
    if (listed)
        unlink_node(node);
    pthread_mutex_unlock(&wl->mu);
    return listed;
}

gw_wait_node *gw_waitlist_pop_expired(gw_waitlist *wl, int64_t now_ns)
{
    gw_wait_node *node = NULL;
    pthread_mutex_lock(&wl->mu);
    if (wl->head.next != &wl->head && wl->head.next->deadline_ns <= now_ns) {
        node = wl->head.next;
        unlink_node(node);
    }
    pthread_mutex_unlock(&wl->mu);
    return node;
}
