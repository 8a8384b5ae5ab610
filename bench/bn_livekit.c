/*
 * bn_livekit: the LiveKit webhook stream. See bn_livekit.h.
 *
 * A room's events are planned when the room starts (a list of steps) and
 * rendered one at a time when the room's turn comes; the clock advances a
 * little with every event, about 40 events per second of createdAt.
 */
#include "bn_livekit.h"

#include "hp_alloc.h"
#include "hp_buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTICIPANTS 8
#define MAX_TRACKS 3
#define MAX_STEPS (4 + MAX_PARTICIPANTS * (2 + 2 * MAX_TRACKS) + 8)
#define ID_LEN 16 /* "XX_" + 12 characters + NUL */
#define BODY_CAP (64u * 1024)
#define EVENTS_PER_SECOND 40

enum step_kind {
    ROOM_STARTED,
    ROOM_FINISHED,
    PARTICIPANT_JOINED,
    PARTICIPANT_LEFT,
    PARTICIPANT_ABORTED,
    TRACK_PUBLISHED,
    TRACK_UNPUBLISHED,
    EGRESS_STARTED,
    EGRESS_UPDATED,
    EGRESS_ENDED,
    INGRESS_STARTED,
    INGRESS_ENDED,
};

static const char *const step_names[] = {
    "room_started",
    "room_finished",
    "participant_joined",
    "participant_left",
    "participant_connection_aborted",
    "track_published",
    "track_unpublished",
    "egress_started",
    "egress_updated",
    "egress_ended",
    "ingress_started",
    "ingress_ended",
};

enum track_kind { MICROPHONE, CAMERA, SCREEN_SHARE };

typedef struct lk_track {
    char sid[ID_LEN];
    enum track_kind kind;
} lk_track;

typedef struct lk_participant {
    char sid[ID_LEN];
    char identity[32];
    char name[32];
    int64_t joined_s;
    int ntracks;
    lk_track tracks[MAX_TRACKS];
} lk_participant;

typedef struct lk_step {
    unsigned char kind, p, t;
} lk_step;

typedef struct lk_room {
    char sid[ID_LEN];
    char name[48];
    char egress_id[ID_LEN];
    char ingress_id[ID_LEN];
    int64_t created_ms;
    int64_t egress_started_ns, ingress_started_ns;
    int nparticipants, joined, publishers;
    lk_participant parts[MAX_PARTICIPANTS];
    lk_step steps[MAX_STEPS];
    int nsteps, next;
} lk_room;

struct bn_lk_gen {
    uint64_t rng;
    int64_t start_s;
    long events;
    long rooms_started;
    int nrooms;
    lk_room *rooms;
    hp_buf body;
    char event_id[ID_LEN];
};

static uint64_t next_rand(bn_lk_gen *g)
{
    /* xorshift64* */
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 0x2545f4914f6cdd1dULL;
}

static int rand_below(bn_lk_gen *g, int n)
{
    return (int)(next_rand(g) % (uint64_t)n);
}

static void make_id(bn_lk_gen *g, const char *prefix, char out[ID_LEN])
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz";
    memcpy(out, prefix, 3);
    for (int i = 3; i < ID_LEN - 1; i++)
        out[i] = alphabet[rand_below(g, (int)sizeof alphabet - 1)];
    out[ID_LEN - 1] = '\0';
}

static int64_t now_s(const bn_lk_gen *g)
{
    return g->start_s + g->events / EVENTS_PER_SECOND;
}

static void add_step(lk_room *r, int kind, int p, int t)
{
    r->steps[r->nsteps++] = (lk_step){(unsigned char)kind, (unsigned char)p, (unsigned char)t};
}

/* Plans the lifecycle of a new room in r. */
static void room_plan(bn_lk_gen *g, lk_room *r)
{
    static const char *const topics[] = {"standup",   "support",  "webinar", "classroom",
                                         "interview", "townhall", "podcast", "game"};
    memset(r, 0, sizeof *r);
    make_id(g, "RM_", r->sid);
    snprintf(r->name, sizeof r->name, "%s-%ld", topics[rand_below(g, 8)], g->rooms_started++);
    r->created_ms = now_s(g) * 1000 + rand_below(g, 1000);
    r->nparticipants = 1 + rand_below(g, 6);
    bool egress = rand_below(g, 10) < 3, ingress = rand_below(g, 10) < 1;
    if (egress)
        make_id(g, "EG_", r->egress_id);
    if (ingress)
        make_id(g, "IN_", r->ingress_id);

    add_step(r, ROOM_STARTED, 0, 0);
    if (ingress)
        add_step(r, INGRESS_STARTED, 0, 0);
    for (int p = 0; p < r->nparticipants; p++) {
        lk_participant *pa = &r->parts[p];
        make_id(g, "PA_", pa->sid);
        snprintf(pa->identity, sizeof pa->identity, "user-%08x", (unsigned)next_rand(g));
        snprintf(pa->name, sizeof pa->name, "User %c%c", 'A' + rand_below(g, 26),
                 'a' + rand_below(g, 26));
        if (rand_below(g, 100) < 5) { /* the connection never became usable */
            add_step(r, PARTICIPANT_ABORTED, p, 0);
            continue;
        }
        add_step(r, PARTICIPANT_JOINED, p, 0);
        pa->ntracks = rand_below(g, 10) < 2 ? 1 : rand_below(g, 10) < 2 ? 3 : 2;
        for (int t = 0; t < pa->ntracks; t++) {
            make_id(g, "TR_", pa->tracks[t].sid);
            pa->tracks[t].kind = (enum track_kind)t;
            add_step(r, TRACK_PUBLISHED, p, t);
        }
        if (egress && p == 0) {
            add_step(r, EGRESS_STARTED, 0, 0);
            add_step(r, EGRESS_UPDATED, 0, 0);
        }
    }
    for (int p = 0; p < r->nparticipants; p++) {
        lk_participant *pa = &r->parts[p];
        if (pa->ntracks == 0)
            continue;
        for (int t = pa->ntracks - 1; t >= 0; t--)
            add_step(r, TRACK_UNPUBLISHED, p, t);
        add_step(r, PARTICIPANT_LEFT, p, 0);
    }
    if (egress)
        add_step(r, EGRESS_ENDED, 0, 0);
    if (ingress)
        add_step(r, INGRESS_ENDED, 0, 0);
    add_step(r, ROOM_FINISHED, 0, 0);
}

/* Appends to the body, whose cap no event comes near: past it is a bug. */
static void out(bn_lk_gen *g, const char *fmt, ...) HP_PRINTF(2, 3);

static void out(bn_lk_gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hp_err rc = hp_buf_vprintf(&g->body, fmt, ap);
    va_end(ap);
    if (rc != HP_OK)
        abort();
}

#define OUT(...) out(g, __VA_ARGS__)

static void room_json(bn_lk_gen *g, const lk_room *r, bool full)
{
    if (!full) {
        OUT("\"room\":{\"sid\":\"%s\",\"name\":\"%s\"}", r->sid, r->name);
        return;
    }
    OUT("\"room\":{\"sid\":\"%s\",\"name\":\"%s\",\"emptyTimeout\":300,\"departureTimeout\":20,"
        "\"creationTime\":\"%lld\",\"creationTimeMs\":\"%lld\",\"turnPassword\":\"%.12s%.12s\","
        "\"enabledCodecs\":[{\"mime\":\"audio/opus\"},{\"mime\":\"audio/red\"},"
        "{\"mime\":\"video/VP8\"},{\"mime\":\"video/H264\"},{\"mime\":\"video/VP9\"},"
        "{\"mime\":\"video/AV1\"},{\"mime\":\"video/rtx\"}]",
        r->sid, r->name, (long long)(r->created_ms / 1000), (long long)r->created_ms, r->sid + 3,
        r->sid + 3);
    if (r->joined)
        OUT(",\"numParticipants\":%d", r->joined);
    if (r->publishers)
        OUT(",\"numPublishers\":%d", r->publishers);
    OUT(",\"version\":{\"unixMicro\":\"%lld\",\"ticks\":%ld}}", (long long)now_s(g) * 1000000,
        g->events % 97);
}

static void track_json(bn_lk_gen *g, const lk_track *t, const char *participant_sid)
{
    if (t->kind == MICROPHONE) {
        OUT("{\"sid\":\"%s\",\"type\":\"AUDIO\",\"name\":\"microphone\",\"source\":\"MICROPHONE\","
            "\"mimeType\":\"audio/red\",\"mid\":\"0\",\"codecs\":[{\"mimeType\":\"audio/red\","
            "\"mid\":\"0\",\"cid\":\"%s-mic\"}],\"stream\":\"camera\","
            "\"version\":{\"unixMicro\":\"%lld\",\"ticks\":1},"
            "\"audioFeatures\":[\"TF_AUTO_GAIN_CONTROL\",\"TF_ECHO_CANCELLATION\","
            "\"TF_NOISE_SUPPRESSION\"]}",
            t->sid, participant_sid, (long long)now_s(g) * 1000000);
        return;
    }
    bool screen = t->kind == SCREEN_SHARE;
    int w = screen ? 1920 : 1280, h = screen ? 1080 : 720;
    OUT("{\"sid\":\"%s\",\"type\":\"VIDEO\",\"name\":\"%s\",\"width\":%d,\"height\":%d,"
        "\"simulcast\":true,\"source\":\"%s\",\"layers\":[",
        t->sid, screen ? "screen" : "camera", w, h, screen ? "SCREEN_SHARE" : "CAMERA");
    static const char *const q[] = {"LOW", "MEDIUM", "HIGH"};
    static const int bitrate[] = {150000, 500000, 1700000};
    for (int l = 0; l < 3; l++)
        OUT("%s{\"quality\":\"%s\",\"width\":%d,\"height\":%d,\"bitrate\":%d,\"ssrc\":%u}",
            l ? "," : "", q[l], w >> (2 - l), h >> (2 - l), bitrate[l],
            (unsigned)(next_rand(g) & 0x7fffffff));
    OUT("],\"mimeType\":\"video/VP8\",\"mid\":\"%d\",\"codecs\":[{\"mimeType\":\"video/VP8\","
        "\"mid\":\"%d\",\"cid\":\"%s-%s\"}],\"stream\":\"%s\","
        "\"version\":{\"unixMicro\":\"%lld\",\"ticks\":1}}",
        screen ? 2 : 1, screen ? 2 : 1, participant_sid, screen ? "screen" : "camera",
        screen ? "screen" : "camera", (long long)now_s(g) * 1000000);
}

static void participant_json(bn_lk_gen *g, const lk_participant *pa, int kind, bool full)
{
    if (!full) {
        OUT("\"participant\":{\"sid\":\"%s\",\"identity\":\"%s\"}", pa->sid, pa->identity);
        return;
    }
    const char *state = kind == PARTICIPANT_JOINED ? "ACTIVE" : "DISCONNECTED";
    OUT("\"participant\":{\"sid\":\"%s\",\"identity\":\"%s\",\"state\":\"%s\"", pa->sid,
        pa->identity, state);
    if (kind == PARTICIPANT_LEFT && pa->ntracks) {
        OUT(",\"tracks\":[");
        for (int t = 0; t < pa->ntracks; t++) {
            OUT("%s", t ? "," : "");
            track_json(g, &pa->tracks[t], pa->sid);
        }
        OUT("]");
    }
    if (kind != PARTICIPANT_ABORTED)
        OUT(",\"joinedAt\":\"%lld\",\"joinedAtMs\":\"%lld\"", (long long)pa->joined_s,
            (long long)pa->joined_s * 1000 + 123);
    OUT(",\"name\":\"%s\",\"version\":%d,\"permission\":{\"canSubscribe\":true,"
        "\"canPublish\":true,\"canPublishData\":true,\"canUpdateMetadata\":true},"
        "\"region\":\"eu-central\",\"isPublisher\":%s,\"kind\":\"STANDARD\"",
        pa->name, kind == PARTICIPANT_JOINED ? 2 : 7, pa->ntracks ? "true" : "false");
    if (kind == PARTICIPANT_LEFT)
        OUT(",\"disconnectReason\":\"CLIENT_INITIATED\"");
    else if (kind == PARTICIPANT_ABORTED)
        OUT(",\"disconnectReason\":\"JOIN_FAILURE\"");
    OUT("}");
}

static void egress_json(bn_lk_gen *g, const lk_room *r, int kind)
{
    int64_t now_ns = now_s(g) * 1000000000LL + 456789;
    const char *status = kind == EGRESS_STARTED   ? "EGRESS_STARTING"
                         : kind == EGRESS_UPDATED ? "EGRESS_ACTIVE"
                                                  : "EGRESS_COMPLETE";
    OUT("\"egressInfo\":{\"egressId\":\"%s\",\"roomId\":\"%s\",\"roomName\":\"%s\","
        "\"status\":\"%s\"",
        r->egress_id, r->sid, r->name, status);
    if (kind != EGRESS_STARTED)
        OUT(",\"startedAt\":\"%lld\"", (long long)r->egress_started_ns);
    if (kind == EGRESS_ENDED)
        OUT(",\"endedAt\":\"%lld\"", (long long)now_ns);
    OUT(",\"updatedAt\":\"%lld\",\"roomComposite\":{\"roomName\":\"%s\",\"layout\":\"speaker\","
        "\"fileOutputs\":[{\"fileType\":\"MP4\",\"filepath\":\"recordings/{room_name}-{time}.mp4\","
        "\"s3\":{\"bucket\":\"recordings\",\"region\":\"eu-central-1\"}}]}",
        (long long)now_ns, r->name);
    if (kind == EGRESS_ENDED)
        OUT(",\"fileResults\":[{\"filename\":\"recordings/%s.mp4\",\"startedAt\":\"%lld\","
            "\"endedAt\":\"%lld\",\"duration\":\"%lld\",\"size\":\"%lld\","
            "\"location\":\"https://recordings.s3.eu-central-1.amazonaws.com/recordings/%s.mp4\"}]",
            r->name, (long long)r->egress_started_ns, (long long)now_ns,
            (long long)(now_ns - r->egress_started_ns),
            (long long)((now_ns - r->egress_started_ns) / 4000), r->name);
    OUT("}");
}

static void ingress_json(bn_lk_gen *g, const lk_room *r, int kind)
{
    int64_t now_ns = now_s(g) * 1000000000LL + 654321;
    bool started = kind == INGRESS_STARTED;
    OUT("\"ingressInfo\":{\"ingressId\":\"%s\",\"name\":\"obs-%s\",\"streamKey\":\"%s%s\","
        "\"url\":\"rtmps://ingress.example.com/x\",\"inputType\":\"RTMP_INPUT\","
        "\"audio\":{\"source\":\"MICROPHONE\",\"preset\":\"OPUS_STEREO_96KBPS\"},"
        "\"video\":{\"source\":\"CAMERA\",\"preset\":\"H264_1080P_30FPS_3_LAYERS\"},"
        "\"roomName\":\"%s\",\"participantIdentity\":\"obs-%s\",\"participantName\":\"OBS\","
        "\"reusable\":true,\"state\":{\"status\":\"%s\",\"roomId\":\"%s\",\"startedAt\":\"%lld\"",
        r->ingress_id, r->name, r->ingress_id + 3, r->sid + 3, r->name, r->name,
        started ? "ENDPOINT_PUBLISHING" : "ENDPOINT_INACTIVE", r->sid,
        (long long)r->ingress_started_ns);
    if (!started)
        OUT(",\"endedAt\":\"%lld\"", (long long)now_ns);
    OUT(",\"updatedAt\":\"%lld\",\"resourceId\":\"IR_%s\"},\"enabled\":true}", (long long)now_ns,
        r->ingress_id + 3);
}

/* Renders step s of room r into the body, updating the room's counters. */
static void render(bn_lk_gen *g, lk_room *r, const lk_step *s)
{
    lk_participant *pa = &r->parts[s->p];
    int kind = s->kind;
    switch (kind) {
    case PARTICIPANT_JOINED:
        pa->joined_s = now_s(g);
        r->joined++;
        if (pa->ntracks)
            r->publishers++;
        break;
    case PARTICIPANT_LEFT:
        r->joined--;
        if (pa->ntracks)
            r->publishers--;
        break;
    case EGRESS_STARTED:
        r->egress_started_ns = now_s(g) * 1000000000LL + 456789;
        break;
    case INGRESS_STARTED:
        r->ingress_started_ns = now_s(g) * 1000000000LL + 654321;
        break;
    default:
        break;
    }

    hp_buf_reset(&g->body);
    OUT("{\"event\":\"%s\",", step_names[kind]);
    switch (kind) {
    case ROOM_STARTED:
    case ROOM_FINISHED:
        room_json(g, r, true);
        OUT(",");
        break;
    case PARTICIPANT_JOINED:
    case PARTICIPANT_LEFT:
    case PARTICIPANT_ABORTED:
        room_json(g, r, true);
        OUT(",");
        participant_json(g, pa, kind, true);
        OUT(",");
        break;
    case TRACK_PUBLISHED:
    case TRACK_UNPUBLISHED:
        room_json(g, r, false);
        OUT(",");
        participant_json(g, pa, kind, false);
        OUT(",\"track\":");
        track_json(g, &pa->tracks[s->t], pa->sid);
        OUT(",");
        break;
    case EGRESS_STARTED:
    case EGRESS_UPDATED:
    case EGRESS_ENDED:
        egress_json(g, r, kind);
        OUT(",");
        break;
    default:
        ingress_json(g, r, kind);
        OUT(",");
        break;
    }
    make_id(g, "EV_", g->event_id);
    OUT("\"id\":\"%s\",\"createdAt\":\"%lld\"}", g->event_id, (long long)now_s(g));
}

bn_lk_gen *bn_lk_gen_new(uint64_t seed, int rooms_active, int64_t start_s)
{
    bn_lk_gen *g = hp_xcalloc(1, sizeof *g);
    g->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    g->start_s = start_s;
    g->nrooms = rooms_active > 0 ? rooms_active : 1;
    g->rooms = hp_xcalloc((size_t)g->nrooms, sizeof *g->rooms);
    hp_buf_init(&g->body, BODY_CAP);
    for (int i = 0; i < g->nrooms; i++)
        room_plan(g, &g->rooms[i]);
    return g;
}

void bn_lk_gen_next(bn_lk_gen *g, bn_lk_event *ev)
{
    lk_room *r = &g->rooms[rand_below(g, g->nrooms)];
    if (r->next == r->nsteps)
        room_plan(g, r);
    const lk_step *s = &r->steps[r->next++];
    render(g, r, s);
    bool egress_or_ingress = s->kind >= EGRESS_STARTED;
    *ev = (bn_lk_event){.body = g->body.data,
                        .len = g->body.len,
                        .event_id = g->event_id,
                        .event_type = step_names[s->kind],
                        .room_sid = egress_or_ingress ? NULL : r->sid,
                        .created_s = now_s(g)};
    g->events++;
}

long bn_lk_gen_rooms(const bn_lk_gen *g)
{
    return g->rooms_started;
}

void bn_lk_gen_free(bn_lk_gen *g)
{
    if (!g)
        return;
    hp_buf_deinit(&g->body);
    free(g->rooms);
    free(g);
}
