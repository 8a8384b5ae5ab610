/*
 * bn_livekit: a deterministic stream of realistic LiveKit webhooks, for the
 * worker benchmark (hp-fill-livekit).
 *
 * The stream simulates many rooms at once. Each room lives through a whole
 * lifecycle as LiveKit reports it: room_started; participants that join
 * (participant_joined) and publish a microphone, a camera and sometimes a
 * screen share (track_published), or whose connection never becomes usable
 * (participant_connection_aborted); in some rooms a room-composite
 * recording (egress_started, egress_updated, egress_ended) and an RTMP
 * ingress (ingress_started, ingress_ended); then track_unpublished,
 * participant_left and room_finished. The next event comes from a room
 * picked at random among the active ones, so rooms interleave as they do on
 * a busy server, and a finished room is replaced by a new one.
 *
 * Bodies are LiveKit's WebhookEvent in protobuf JSON as its server sends
 * them: camelCase, int64 values as strings, zero values left out, full
 * room and participant objects (codecs, permissions, versions) except in
 * track_* events, whose room and participant carry only sid, name and
 * identity. Ids look like LiveKit's (RM_, PA_, TR_, EG_, IN_, EV_ and 12
 * base62 characters). The same seed gives the same stream.
 */
#ifndef BN_LIVEKIT_H
#define BN_LIVEKIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct bn_lk_gen bn_lk_gen;

/* One webhook; every pointer is valid until the next bn_lk_gen_next(). */
typedef struct bn_lk_event {
    const char *body; /* the JSON body */
    size_t len;
    const char *event_id;   /* the body's /id */
    const char *event_type; /* the body's /event */
    const char *room_sid;   /* the body's /room/sid, NULL for egress and ingress events */
    int64_t created_s;      /* the body's /createdAt */
} bn_lk_event;

/*
 * A stream of rooms_active rooms at a time (at least 1), seeded by seed,
 * whose first event is at start_s (UNIX seconds). The caller frees with
 * bn_lk_gen_free(). @thread owner
 */
bn_lk_gen *bn_lk_gen_new(uint64_t seed, int rooms_active, int64_t start_s);

/* Fills ev with the next webhook of the stream. @thread owner */
void bn_lk_gen_next(bn_lk_gen *g, bn_lk_event *ev);

/* Rooms started so far. @thread owner */
long bn_lk_gen_rooms(const bn_lk_gen *g);

void bn_lk_gen_free(bn_lk_gen *g);

#endif /* BN_LIVEKIT_H */
