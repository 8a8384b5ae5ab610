/*
 * The worker's SQL (worker/migrations) against the stack's real PostgreSQL:
 * hookpipe_ingest_batch() stores an event once however often it comes and
 * applies its handler once (entity, livekit); the LiveKit tables end in the
 * same state whatever the order and the repetitions of delivery; poison
 * raises SQLSTATE 22H01 naming the event and leaves nothing behind; and
 * hookpipe_reprocess() rebuilds the same state. Each test applies the
 * migrations, in order, to a scratch schema of its own (search_path), as
 * the worker would, and drops it at the end.
 */
#include "hp_alloc.h"
#include "hp_codec.h"
#include "hp_time.h"
#include "it_env.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIGRATIONS_DIR HP_SOURCE_DIR "/worker/migrations"
#define POISON_STATE "22H01"
#define ROOM "RM_standup"
#define T0 1700000000LL /* createdAt of the first LiveKit event, UNIX seconds */

/* The runner's pid: scratch schemas are named after it, so that the runner
 * can drop what a failed test (a forked child) left behind. */
static pid_t runner_pid;

typedef struct scratch {
    PGconn *pg;
    char schema[64];
} scratch;

static void exec_ok(scratch *s, const char *sql)
{
    PQclear(it_pg_exec(s->pg, sql, PGRES_COMMAND_OK));
}

/* The whole file at path, NUL-terminated; the caller frees. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: cannot open", path);
    size_t cap = 8192, len = 0;
    char *buf = hp_xmalloc(cap);
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            buf = hp_xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    ck_assert_msg(!ferror(f), "%s: read error", path);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static int is_migration(const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)name[i]))
            return 0;
    return len > 9 && name[4] == '_' && strcmp(name + len - 4, ".sql") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Applies worker/migrations/NNNN_*.sql in order, each in its own transaction. */
static void apply_migrations(scratch *s)
{
    char *names[64];
    size_t n = 0;
    DIR *dir = opendir(MIGRATIONS_DIR);
    ck_assert_msg(dir != NULL, "%s: cannot open", MIGRATIONS_DIR);
    for (struct dirent *de = readdir(dir); de != NULL; de = readdir(dir)) {
        if (!is_migration(de->d_name))
            continue;
        ck_assert_uint_lt(n, sizeof names / sizeof names[0]);
        names[n++] = hp_xstrdup(de->d_name);
    }
    closedir(dir);
    ck_assert_msg(n > 0, "no migrations in %s", MIGRATIONS_DIR);
    qsort(names, n, sizeof names[0], cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        int len = snprintf(path, sizeof path, "%s/%s", MIGRATIONS_DIR, names[i]);
        ck_assert(len > 0 && (size_t)len < sizeof path);
        char *sql = read_text(path);
        exec_ok(s, "BEGIN");
        PGresult *res = PQexec(s->pg, sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", names[i],
                      PQerrorMessage(s->pg));
        PQclear(res);
        exec_ok(s, "COMMIT");
        free(sql);
        free(names[i]);
    }
}

/* A fresh schema holding the worker's tables and functions, first on search_path. */
static void scratch_open(scratch *s)
{
    char sql[160];
    s->pg = it_pg_connect();
    snprintf(s->schema, sizeof s->schema, "it_wsql_%ld_%lld", (long)runner_pid,
             (long long)hp_time_mono_ns());
    exec_ok(s, "SET client_min_messages = warning");
    exec_ok(s, "SET TimeZone = 'UTC'");
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", s->schema);
    exec_ok(s, sql);
    snprintf(sql, sizeof sql, "SET search_path = %s", s->schema);
    exec_ok(s, sql);
    apply_migrations(s);
}

static void scratch_close(scratch *s)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", s->schema);
    exec_ok(s, sql);
    PQfinish(s->pg);
    s->pg = NULL;
}

/* The first column of the first row of a query ("" for NULL or no row); the caller frees. */
__attribute__((format(printf, 2, 3))) static char *value(scratch *s, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    ck_assert(len > 0 && (size_t)len < sizeof sql);
    PGresult *res = it_pg_exec(s->pg, sql, PGRES_TUPLES_OK);
    char *v = hp_xstrdup(PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return v;
}

/* Fails unless the query's first value is want. */
#define ASSERT_VALUE(s, want, ...)                                                                 \
    do {                                                                                           \
        char *got_ = value((s), __VA_ARGS__);                                                      \
        ck_assert_msg(strcmp(got_, (want)) == 0, "%s: got \"%s\", want \"%s\"", #__VA_ARGS__,      \
                      got_, (want));                                                               \
        free(got_);                                                                                \
    } while (0)

/* Fails unless the query's first value is true. */
#define ASSERT_SQL(s, ...) ASSERT_VALUE(s, "t", __VA_ARGS__)

static char *dump_batch(json_t *batch)
{
    char *text = json_dumps(batch, JSON_COMPACT);
    ck_assert(text != NULL);
    json_decref(batch);
    return text;
}

/* Runs hookpipe_ingest_batch on batch (taken over) and returns its inserted
 * flags in order, "t" or "f" each; the caller frees. */
static char *ingest(scratch *s, json_t *batch)
{
    size_t n = json_array_size(batch);
    char *text = dump_batch(batch);
    const char *params[1] = {text};
    PGresult *res =
        PQexecParams(s->pg, "SELECT idx, inserted FROM hookpipe_ingest_batch($1::jsonb)", 1, NULL,
                     params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "ingest: %s (%s)",
                  PQresultErrorMessage(res), text);
    ck_assert_int_eq(PQntuples(res), (int)n);
    char *flags = hp_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(strtol(PQgetvalue(res, (int)i, 0), NULL, 10), (long)i);
        flags[i] = PQgetvalue(res, (int)i, 1)[0];
    }
    flags[n] = '\0';
    PQclear(res);
    free(text);
    return flags;
}

#define ASSERT_INGEST(s, batch, want)                                                              \
    do {                                                                                           \
        char *flags_ = ingest((s), (batch));                                                       \
        ck_assert_str_eq(flags_, (want));                                                          \
        free(flags_);                                                                              \
    } while (0)

/* Runs hookpipe_ingest_batch on batch (taken over), expects it to fail with
 * hookpipe's poison SQLSTATE, and returns the primary message; the caller frees. */
static char *ingest_poison(scratch *s, json_t *batch)
{
    char *text = dump_batch(batch);
    const char *params[1] = {text};
    PGresult *res =
        PQexecParams(s->pg, "SELECT idx, inserted FROM hookpipe_ingest_batch($1::jsonb)", 1, NULL,
                     params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "want an error for %s", text);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    ck_assert_msg(state && strcmp(state, POISON_STATE) == 0, "SQLSTATE %s (%s), want %s",
                  state ? state : "none", msg ? msg : "", POISON_STATE);
    char *out = hp_xstrdup(msg ? msg : "");
    PQclear(res);
    free(text);
    return out;
}

#define ASSERT_POISON(s, batch, want1, want2)                                                      \
    do {                                                                                           \
        char *msg_ = ingest_poison((s), (batch));                                                  \
        ck_assert_msg(strstr(msg_, (want1)) != NULL, "\"%s\" lacks \"%s\"", msg_, (want1));        \
        ck_assert_msg(strstr(msg_, (want2)) != NULL, "\"%s\" lacks \"%s\"", msg_, (want2));        \
        free(msg_);                                                                                \
    } while (0)

/* One batch element without its body (see el_json, el_raw). */
static json_t *el_base(const char *source, const char *handler, const char *id, const char *key,
                       long long event_time_ms, long long received_ms)
{
    static long long offset;
    return json_pack("{s:s, s:s, s:s?, s:o, s:I, s:s, s:{s:s}, s:s, s:i, s:I, s:i, s:s, s:s?, "
                     "s:n}",
                     "source", source, "event_id", id, "event_type", NULL, "event_time_ms",
                     event_time_ms < 0 ? json_null() : json_integer(event_time_ms),
                     "received_at_ms", (json_int_t)received_ms, "content_type", "application/json",
                     "headers", "user-agent", "it", "topic", "webhooks.raw", "partition", 0,
                     "offset", (json_int_t)++offset, "envelope_version", 1, "handler", handler,
                     "key", key, "entity_type");
}

/* An element whose body is the JSON text body. event_time_ms < 0: none. */
static json_t *el_json(const char *source, const char *handler, const char *id, const char *key,
                       const char *body, long long event_time_ms, long long received_ms)
{
    json_t *el = el_base(source, handler, id, key, event_time_ms, received_ms);
    json_object_set_new(el, "body", json_string(body));
    return el;
}

/* An element whose body is not JSON: body_b64. */
static json_t *el_raw(const char *source, const char *handler, const char *id,
                      const unsigned char *raw, size_t len, long long received_ms)
{
    json_t *el = el_base(source, handler, id, NULL, -1, received_ms);
    char *b64 = hp_xmalloc(hp_base64_encoded_len(len, HP_BASE64_STD) + 1);
    hp_base64_encode(raw, len, HP_BASE64_STD, b64);
    json_object_set_new(el, "body_b64", json_string(b64));
    free(b64);
    return el;
}

/* A one-element batch. */
static json_t *batch1(json_t *el)
{
    return json_pack("[o]", el);
}

/* ---- entity ---- */

/* An entity-handled event of source "shop" for record key, with state {"v": v}. */
static json_t *shop(const char *id, const char *key, int v, long long event_time_ms,
                    long long received_ms)
{
    char body[64];
    snprintf(body, sizeof body, "{\"v\": %d, \"id\": \"%s\"}", v, id);
    return el_json("shop", "entity", id, key, body, event_time_ms, received_ms);
}

START_TEST(test_same_event_three_times)
{
    scratch s;
    scratch_open(&s);
    /* Across batches, then twice within one batch. */
    ASSERT_INGEST(&s, batch1(shop("ORD_1", "cust_1", 1, 1000, 1000)), "t");
    ASSERT_INGEST(&s,
                  json_pack("[o,o]", shop("ORD_1", "cust_1", 1, 1000, 2000),
                            shop("ORD_1", "cust_1", 1, 1000, 3000)),
                  "ff");
    /* Twice within one batch, then again. */
    ASSERT_INGEST(&s,
                  json_pack("[o,o]", shop("ORD_2", "cust_2", 2, 1000, 1000),
                            shop("ORD_2", "cust_2", 2, 1000, 1000)),
                  "tf");
    ASSERT_INGEST(&s, batch1(shop("ORD_2", "cust_2", 2, 1000, 5000)), "f");

    ASSERT_VALUE(&s, "2", "SELECT count(*) FROM hookpipe_events");
    ASSERT_VALUE(&s, "1", "SELECT count(*) FROM hookpipe_events WHERE event_id = 'ORD_1'");
    ASSERT_SQL(&s, "SELECT received_at = to_timestamp(1) FROM hookpipe_events "
                   "WHERE event_id = 'ORD_1'");
    ASSERT_VALUE(&s, "cust_1:1,cust_2:1",
                 "SELECT string_agg(entity_id || ':' || events_applied, ',' ORDER BY entity_id) "
                 "FROM hookpipe_entities");
    /* The stored row carries the envelope. */
    ASSERT_SQL(&s,
               "SELECT source = 'shop' AND handler = 'entity' AND event_key = 'cust_1' "
               "AND entity_type = 'shop' AND kafka_topic = 'webhooks.raw' "
               "AND kafka_partition = 0 AND envelope_version = 1 "
               "AND content_type = 'application/json' AND headers->>'user-agent' = 'it' "
               "AND body_json = '{\"v\": 1, \"id\": \"ORD_1\"}' AND body_raw IS NULL "
               "AND event_time = to_timestamp(1) FROM hookpipe_events WHERE event_id = 'ORD_1'");
    scratch_close(&s);
}
END_TEST

START_TEST(test_entity_newest_wins)
{
    scratch s;
    scratch_open(&s);
    /* Newer replaces, older does not. */
    ASSERT_INGEST(&s, batch1(shop("E1", "k", 1, 100000, 100000)), "t");
    ASSERT_INGEST(&s, batch1(shop("E2", "k", 2, 200000, 200001)), "t");
    ASSERT_INGEST(&s, batch1(shop("E0", "k", 0, 50000, 300000)), "t");
    ASSERT_VALUE(&s, "2:E2:3",
                 "SELECT (state->>'v') || ':' || event_id || ':' || events_applied "
                 "FROM hookpipe_entities WHERE entity_id = 'k'");
    ASSERT_SQL(&s, "SELECT event_time = to_timestamp(200) FROM hookpipe_entities "
                   "WHERE entity_id = 'k'");

    /* Several events of one record in one batch, newest not last. */
    ASSERT_INGEST(&s,
                  json_pack("[o,o,o]", shop("E4", "k", 4, 400000, 400000),
                            shop("E3", "k", 3, 300000, 400001), shop("F1", "other", 9, 1, 1)),
                  "ttt");
    ASSERT_VALUE(&s, "4:E4:5",
                 "SELECT (state->>'v') || ':' || event_id || ':' || events_applied "
                 "FROM hookpipe_entities WHERE entity_id = 'k'");

    /* No event time: the received time stands in. */
    ASSERT_INGEST(&s, batch1(shop("E5", "k", 5, -1, 500000)), "t");
    ASSERT_INGEST(&s, batch1(shop("E6", "k", 6, -1, 10000)), "t");
    ASSERT_VALUE(&s, "5:E5:7",
                 "SELECT (state->>'v') || ':' || event_id || ':' || events_applied "
                 "FROM hookpipe_entities WHERE entity_id = 'k'");

    /* Equal times: the greater event id wins, whatever the order. */
    ASSERT_INGEST(
        &s,
        json_pack("[o,o]", shop("T_b", "tie1", 2, 7000, 7000), shop("T_a", "tie1", 1, 7000, 7000)),
        "tt");
    ASSERT_INGEST(&s, batch1(shop("U_a", "tie2", 1, 7000, 7000)), "t");
    ASSERT_INGEST(&s, batch1(shop("U_b", "tie2", 2, 7000, 7000)), "t");
    ASSERT_VALUE(&s, "tie1:2:2,tie2:2:2",
                 "SELECT string_agg(entity_id || ':' || (state->>'v') || ':' || events_applied, "
                 "',' ORDER BY entity_id) FROM hookpipe_entities WHERE entity_id LIKE 'tie%%'");

    /* entity_type: given, else the source's name; records of two types are apart. */
    json_t *typed = shop("C1", "k", 8, 900000, 900000);
    json_object_set_new(typed, "entity_type", json_string("customer"));
    ASSERT_INGEST(&s, batch1(typed), "t");
    ASSERT_VALUE(&s, "customer:8,shop:5",
                 "SELECT string_agg(entity_type || ':' || (state->>'v'), ',' "
                 "ORDER BY entity_type) FROM hookpipe_entities WHERE entity_id = 'k'");

    /* Any JSON value is a state, not only objects. */
    ASSERT_INGEST(&s, batch1(el_json("shop", "entity", "A1", "arr", "[1,2]", 1000, 1000)), "t");
    ASSERT_VALUE(&s, "[1, 2]", "SELECT state FROM hookpipe_entities WHERE entity_id = 'arr'");
    scratch_close(&s);
}
END_TEST

/* ---- LiveKit ---- */

enum { LK_N = 13 };

typedef struct lk_event {
    char id[8];
    long long at; /* createdAt, UNIX seconds */
    const char *key;
    char *body;
} lk_event;

static char *lk_body(const char *event, const char *id, long long at, json_t *fields)
{
    char created[32];
    snprintf(created, sizeof created, "%lld", at);
    json_t *b = json_pack("{s:s, s:s, s:s}", "event", event, "id", id, "createdAt", created);
    json_object_update(b, fields);
    json_decref(fields);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return text;
}

/* A full room object as room_* and participant_* events carry it;
 * numParticipants 0 is left out, as protobuf JSON does. */
static json_t *lk_room(int participants)
{
    json_t *room = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s}", "sid", ROOM, "name", "standup",
                             "emptyTimeout", 300, "maxParticipants", 10, "creationTime",
                             "1700000000", "metadata", "m1", "turnPassword", "pw");
    if (participants > 0)
        json_object_set_new(room, "numParticipants", json_integer(participants));
    return room;
}

/* The partial room and participant of track events. */
static json_t *lk_room_partial(void)
{
    return json_pack("{s:s, s:s}", "sid", ROOM, "name", "standup");
}

static json_t *lk_participant(const char *who, long long joined, const char *state)
{
    char sid[32], name[32], at[32];
    snprintf(sid, sizeof sid, "PA_%s", who);
    snprintf(name, sizeof name, "%c%s", toupper((unsigned char)who[0]), who + 1);
    snprintf(at, sizeof at, "%lld", joined);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:b}}", "sid", sid, "identity", who, "name",
                     name, "state", state, "joinedAt", at, "metadata", who, "permission",
                     "canPublish", 1);
}

static json_t *lk_participant_partial(const char *who)
{
    char sid[32];
    snprintf(sid, sizeof sid, "PA_%s", who);
    return json_pack("{s:s, s:s}", "sid", sid, "identity", who);
}

/* UNIX seconds as LiveKit's egress and ingress nanoseconds. */
static json_t *lk_ns(long long s)
{
    char text[32];
    snprintf(text, sizeof text, "%lld000000000", s);
    return json_string(text);
}

static json_t *lk_egress(const char *status, long long updated, long long ended)
{
    json_t *eg =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:{s:s}}", "egressId", "EG_1", "roomId", ROOM,
                  "roomName", "standup", "status", status, "startedAt", lk_ns(T0 + 12), "updatedAt",
                  lk_ns(updated), "roomComposite", "layout", "grid");
    if (ended > 0) {
        json_object_set_new(eg, "endedAt", lk_ns(ended));
        json_object_set_new(eg, "fileResults", json_pack("[{s:s}]", "filename", "rec.mp4"));
    }
    return eg;
}

static json_t *lk_ingress(const char *status, long long updated, long long ended)
{
    json_t *state = json_pack("{s:s, s:o, s:o}", "status", status, "startedAt", lk_ns(T0 + 5),
                              "updatedAt", lk_ns(updated));
    if (ended > 0)
        json_object_set_new(state, "endedAt", lk_ns(ended));
    return json_pack("{s:s, s:s, s:s, s:o}", "ingressId", "IN_1", "name", "obs", "roomName",
                     "standup", "state", state);
}

/* A room's life: two participants, a track, an egress and an ingress. */
static void lk_lifecycle(lk_event ev[LK_N])
{
    static const struct {
        const char *event;
        long long dt;
        const char *key;
    } plan[LK_N] = {
        {"room_started", 0, ROOM},
        {"participant_joined", 10, ROOM},
        {"participant_joined", 20, ROOM},
        {"track_published", 30, ROOM},
        {"track_unpublished", 40, ROOM},
        {"participant_left", 50, ROOM},
        {"participant_connection_aborted", 52, ROOM},
        {"egress_started", 12, "EG_1"},
        {"egress_updated", 13, "EG_1"},
        {"egress_ended", 55, "EG_1"},
        {"ingress_started", 5, "IN_1"},
        {"ingress_ended", 58, "IN_1"},
        {"room_finished", 60, ROOM},
    };
    json_t *track = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i}", "sid", "TR_cam", "type",
                              "VIDEO", "source", "CAMERA", "name", "camera", "mimeType",
                              "video/VP8", "width", 1280, "height", 720);
    json_t *muted = json_deep_copy(track);
    json_object_set_new(muted, "muted", json_true());
    json_t *fields[LK_N] = {
        json_pack("{s:o}", "room", lk_room(0)),
        json_pack("{s:o, s:o}", "room", lk_room(1), "participant",
                  lk_participant("alice", T0 + 10, "ACTIVE")),
        json_pack("{s:o, s:o}", "room", lk_room(2), "participant",
                  lk_participant("bob", T0 + 20, "ACTIVE")),
        json_pack("{s:o, s:o, s:O}", "room", lk_room_partial(), "participant",
                  lk_participant_partial("alice"), "track", track),
        json_pack("{s:o, s:o, s:o}", "room", lk_room_partial(), "participant",
                  lk_participant_partial("alice"), "track", muted),
        json_pack("{s:o, s:o}", "room", lk_room(1), "participant",
                  lk_participant("alice", T0 + 10, "DISCONNECTED")),
        json_pack("{s:o, s:o}", "room", lk_room(0), "participant",
                  lk_participant("bob", T0 + 20, "DISCONNECTED")),
        json_pack("{s:o}", "egressInfo", lk_egress("EGRESS_STARTING", T0 + 12, 0)),
        json_pack("{s:o}", "egressInfo", lk_egress("EGRESS_ACTIVE", T0 + 13, 0)),
        json_pack("{s:o}", "egressInfo", lk_egress("EGRESS_COMPLETE", T0 + 55, T0 + 55)),
        json_pack("{s:o}", "ingressInfo", lk_ingress("ENDPOINT_PUBLISHING", T0 + 5, 0)),
        json_pack("{s:o}", "ingressInfo", lk_ingress("ENDPOINT_COMPLETE", T0 + 58, T0 + 58)),
        json_pack("{s:o}", "room", lk_room(0)),
    };
    json_decref(track);
    for (int i = 0; i < LK_N; i++) {
        snprintf(ev[i].id, sizeof ev[i].id, "EV_%02d", i + 1);
        ev[i].at = T0 + plan[i].dt;
        ev[i].key = plan[i].key;
        ev[i].body = lk_body(plan[i].event, ev[i].id, ev[i].at, fields[i]);
    }
}

static void lk_free(lk_event ev[LK_N])
{
    for (int i = 0; i < LK_N; i++)
        free(ev[i].body);
}

/* The element of a LiveKit event; received is when the gateway had it (ms). */
static json_t *lk_el(const lk_event *ev, long long received)
{
    return el_json("livekit", "livekit", ev->id, ev->key, ev->body, ev->at * 1000, received);
}

/* Every livekit_* row (but updated_at, the wall clock), one table after another. */
static char *lk_snapshot(scratch *s)
{
    return value(s,
                 "SELECT concat_ws(E'\\n--\\n', "
                 "(SELECT string_agg(j::text, E'\\n' ORDER BY j::text) FROM "
                 "(SELECT to_jsonb(t) - 'updated_at' AS j FROM livekit_rooms t) x), "
                 "(SELECT string_agg(j::text, E'\\n' ORDER BY j::text) FROM "
                 "(SELECT to_jsonb(t) - 'updated_at' AS j FROM livekit_participant_sessions t) x), "
                 "(SELECT string_agg(j::text, E'\\n' ORDER BY j::text) FROM "
                 "(SELECT to_jsonb(t) - 'updated_at' AS j FROM livekit_tracks t) x), "
                 "(SELECT string_agg(j::text, E'\\n' ORDER BY j::text) FROM "
                 "(SELECT to_jsonb(t) - 'updated_at' AS j FROM livekit_egress t) x), "
                 "(SELECT string_agg(j::text, E'\\n' ORDER BY j::text) FROM "
                 "(SELECT to_jsonb(t) - 'updated_at' AS j FROM livekit_ingress t) x))");
}

/* Fails, naming the first line where got and want differ, unless they are equal. */
static void assert_same_state(const char *got, const char *want, const char *what)
{
    if (strcmp(got, want) == 0)
        return;
    int line = 1;
    const char *g = got, *w = want;
    while (*g && *g == *w) {
        if (*g == '\n')
            line++;
        g++;
        w++;
    }
    while (g > got && g[-1] != '\n') {
        g--;
        w--;
    }
    ck_abort_msg("%s: line %d differs:\n got: %.600s\nwant: %.600s", what, line, g, w);
}

/* The state in-order delivery gives, checked field by field. */
static void lk_assert_final(scratch *s)
{
    ASSERT_SQL(s, "SELECT status = 'finished' AND room_name = 'standup' "
                  "AND started_at = to_timestamp(1700000000) "
                  "AND finished_at = to_timestamp(1700000060) AND info->>'metadata' = 'm1' "
                  "AND info->>'emptyTimeout' = '300' AND NOT info ? 'numParticipants' "
                  "AND last_event_id = 'EV_13' AND last_event_time = to_timestamp(1700000060) "
                  "FROM livekit_rooms WHERE room_sid = '" ROOM "'");
    ASSERT_VALUE(s, "1", "SELECT count(*) FROM livekit_rooms");
    ASSERT_SQL(s, "SELECT status = 'left' AND identity = 'alice' AND name = 'Alice' "
                  "AND joined_at = to_timestamp(1700000010) "
                  "AND left_at = to_timestamp(1700000050) AND info->>'metadata' = 'alice' "
                  "AND info->>'state' = 'DISCONNECTED' AND info #>> '{permission,canPublish}' = "
                  "'true' FROM livekit_participant_sessions "
                  "WHERE room_sid = '" ROOM "' AND participant_sid = 'PA_alice'");
    ASSERT_SQL(s, "SELECT status = 'aborted' AND name = 'Bob' "
                  "AND joined_at = to_timestamp(1700000020) "
                  "AND left_at = to_timestamp(1700000052) FROM livekit_participant_sessions "
                  "WHERE room_sid = '" ROOM "' AND participant_sid = 'PA_bob'");
    ASSERT_VALUE(s, "2", "SELECT count(*) FROM livekit_participant_sessions");
    ASSERT_SQL(s, "SELECT status = 'unpublished' AND kind = 'VIDEO' AND source = 'CAMERA' "
                  "AND name = 'camera' AND mime_type = 'video/VP8' AND info->>'width' = '1280' "
                  "AND info->>'muted' = 'true' "
                  "AND room_sid = '" ROOM "' AND participant_sid = 'PA_alice' "
                  "AND participant_identity = 'alice' "
                  "AND published_at = to_timestamp(1700000030) "
                  "AND unpublished_at = to_timestamp(1700000040) "
                  "FROM livekit_tracks WHERE track_sid = 'TR_cam'");
    ASSERT_SQL(s, "SELECT status = 'EGRESS_COMPLETE' AND room_sid = '" ROOM "' "
                  "AND room_name = 'standup' AND started_at = to_timestamp(1700000012) "
                  "AND ended_at = to_timestamp(1700000055) AND error IS NULL "
                  "AND info ? 'fileResults' AND info #>> '{roomComposite,layout}' = 'grid' "
                  "AND last_event_id = 'EV_10' FROM livekit_egress WHERE egress_id = 'EG_1'");
    ASSERT_SQL(s, "SELECT status = 'ENDPOINT_COMPLETE' AND room_name = 'standup' "
                  "AND started_at = to_timestamp(1700000005) "
                  "AND ended_at = to_timestamp(1700000058) AND info->>'name' = 'obs' "
                  "FROM livekit_ingress WHERE ingress_id = 'IN_1'");
}

/* A deterministic shuffle (xorshift), so a failure can be replayed. */
static void shuffle(int *a, int n, unsigned seed)
{
    unsigned x = seed * 2654435761u + 1;
    for (int i = n - 1; i > 0; i--) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int j = (int)(x % (unsigned)(i + 1));
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Delivers ev[order[0..n)] in batches of batch_size (the last one shorter)
 * and returns the number of events that were new. */
static int lk_deliver(scratch *s, const lk_event ev[LK_N], const int *order, int n, int batch_size)
{
    int inserted = 0;
    for (int i = 0; i < n; i += batch_size) {
        json_t *batch = json_array();
        for (int j = i; j < n && j < i + batch_size; j++)
            json_array_append_new(batch, lk_el(&ev[order[j]], (ev[order[j]].at + 1) * 1000 + j));
        char *flags = ingest(s, batch);
        for (const char *f = flags; *f; f++)
            inserted += *f == 't';
        free(flags);
    }
    return inserted;
}

START_TEST(test_livekit_order_does_not_matter)
{
    lk_event ev[LK_N];
    lk_lifecycle(ev);
    int order[3 * LK_N];

    /* In order, one event per batch: the reference. */
    scratch s;
    scratch_open(&s);
    for (int i = 0; i < LK_N; i++)
        order[i] = i;
    ck_assert_int_eq(lk_deliver(&s, ev, order, LK_N, 1), LK_N);
    lk_assert_final(&s);
    char *want = lk_snapshot(&s);
    scratch_close(&s);

    /* Reversed, shuffled, with duplicates within and across batches, in
     * batches of several sizes; and everything delivered twice. */
    static const struct {
        unsigned seed; /* 0: reversed */
        int dups;      /* events delivered again, interleaved */
        int batch_size;
    } runs[] = {{0, 0, LK_N},      {0, 4, 3}, {1, 5, 4}, {2, 13, 1},
                {3, 13, 2 * LK_N}, {4, 6, 5}, {5, 2, 2}, {6, 13, 7}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        int n = LK_N + runs[r].dups;
        for (int i = 0; i < n; i++)
            order[i] = i % LK_N;
        if (runs[r].seed == 0)
            for (int i = 0; i < LK_N; i++)
                order[i] = LK_N - 1 - i;
        else
            shuffle(order, n, runs[r].seed);
        scratch_open(&s);
        ck_assert_int_eq(lk_deliver(&s, ev, order, n, runs[r].batch_size), LK_N);
        char what[64];
        snprintf(what, sizeof what, "run %zu (seed %u)", r, runs[r].seed);
        char *got = lk_snapshot(&s);
        assert_same_state(got, want, what);
        free(got);
        scratch_close(&s);
    }
    free(want);
    lk_free(ev);
}
END_TEST

START_TEST(test_livekit_partial_objects_keep_fields)
{
    lk_event ev[LK_N];
    lk_lifecycle(ev);
    /* participant_joined (full objects), then track_published (partial ones):
     * nothing known is nulled out, and the reverse order gives the same. */
    for (int reverse = 0; reverse < 2; reverse++) {
        scratch s;
        scratch_open(&s);
        const lk_event *first = reverse ? &ev[3] : &ev[1], *second = reverse ? &ev[1] : &ev[3];
        ASSERT_INGEST(&s, batch1(lk_el(first, 1)), "t");
        ASSERT_INGEST(&s, batch1(lk_el(second, 2)), "t");
        ASSERT_SQL(&s, "SELECT room_name = 'standup' AND status = 'started' "
                       "AND started_at = to_timestamp(1700000000) "
                       "AND info->>'emptyTimeout' = '300' AND info->>'metadata' = 'm1' "
                       "AND info->>'numParticipants' = '1' "
                       "FROM livekit_rooms WHERE room_sid = '" ROOM "'");
        ASSERT_SQL(&s, "SELECT status = 'joined' AND identity = 'alice' AND name = 'Alice' "
                       "AND joined_at = to_timestamp(1700000010) AND info->>'state' = 'ACTIVE' "
                       "AND info->>'metadata' = 'alice' FROM livekit_participant_sessions "
                       "WHERE participant_sid = 'PA_alice'");
        ASSERT_SQL(&s, "SELECT status = 'published' AND kind = 'VIDEO' "
                       "AND participant_identity = 'alice' AND room_sid = '" ROOM "' "
                       "FROM livekit_tracks WHERE track_sid = 'TR_cam'");
        scratch_close(&s);
    }
    lk_free(ev);
}
END_TEST

START_TEST(test_livekit_late_started)
{
    /* room_finished before room_started, without creationTime: the room
     * stays finished, and the late room_started fills started_at. */
    scratch s;
    scratch_open(&s);
    ASSERT_INGEST(&s,
                  batch1(el_json("livekit", "livekit", "EV_fin", ROOM,
                                 "{\"event\":\"room_finished\",\"id\":\"EV_fin\","
                                 "\"createdAt\":1700000090,\"room\":{\"sid\":\"" ROOM "\","
                                 "\"name\":\"late\"}}",
                                 -1, 1)),
                  "t");
    ASSERT_INGEST(&s,
                  batch1(el_json("livekit", "livekit", "EV_start", ROOM,
                                 "{\"event\":\"room_started\",\"id\":\"EV_start\","
                                 "\"createdAt\":\"1700000001\",\"room\":{\"sid\":\"" ROOM "\","
                                 "\"name\":\"late\",\"numParticipants\":null}}",
                                 -1, 2)),
                  "t");
    ASSERT_SQL(&s, "SELECT status = 'finished' AND room_name = 'late' "
                   "AND started_at = to_timestamp(1700000001) "
                   "AND finished_at = to_timestamp(1700000090) AND NOT info ? 'numParticipants' "
                   "AND last_event_id = 'EV_fin' FROM livekit_rooms");
    /* A participant_joined after room_finished does not reopen the room,
     * and LiveKit's participant_left without participant_joined is a session. */
    ASSERT_INGEST(&s,
                  batch1(el_json("livekit", "livekit", "EV_left", ROOM,
                                 "{\"event\":\"participant_left\",\"id\":\"EV_left\","
                                 "\"createdAt\":\"1700000095\",\"room\":{\"sid\":\"" ROOM "\"},"
                                 "\"participant\":{\"sid\":\"PA_x\",\"identity\":\"x\"}}",
                                 -1, 3)),
                  "t");
    ASSERT_INGEST(&s,
                  batch1(el_json("livekit", "livekit", "EV_join", ROOM,
                                 "{\"event\":\"participant_joined\",\"id\":\"EV_join\","
                                 "\"createdAt\":\"1700000091\",\"room\":{\"sid\":\"" ROOM "\"},"
                                 "\"participant\":{\"sid\":\"PA_x\",\"identity\":\"x\"}}",
                                 -1, 4)),
                  "t");
    ASSERT_VALUE(&s, "finished", "SELECT status FROM livekit_rooms");
    ASSERT_SQL(&s, "SELECT status = 'left' AND joined_at = to_timestamp(1700000091) "
                   "AND left_at = to_timestamp(1700000095) FROM livekit_participant_sessions");
    scratch_close(&s);
}
END_TEST

START_TEST(test_livekit_unknown_event_is_stored)
{
    scratch s;
    scratch_open(&s);
    ASSERT_INGEST(
        &s,
        json_pack(
            "[o,o,o]",
            el_json("livekit", "livekit", "EV_u1", "k",
                    "{\"event\":\"room_metadata_changed\",\"id\":\"EV_u1\","
                    "\"room\":\"not an object\",\"createdAt\":\"soon\"}",
                    -1, 1),
            el_json("livekit", "livekit", "EV_u2", "k", "{\"id\":\"EV_u2\"}", -1, 1),
            el_json("livekit", "livekit", "EV_u3", "k", "{\"event\":42,\"id\":\"EV_u3\"}", -1, 1)),
        "ttt");
    ASSERT_VALUE(&s, "3", "SELECT count(*) FROM hookpipe_events WHERE body_json IS NOT NULL");
    ASSERT_VALUE(&s, "0",
                 "SELECT (SELECT count(*) FROM livekit_rooms) + "
                 "(SELECT count(*) FROM livekit_participant_sessions) + "
                 "(SELECT count(*) FROM livekit_tracks) + (SELECT count(*) FROM livekit_egress) + "
                 "(SELECT count(*) FROM livekit_ingress)");
    /* Unknown fields of known events are kept in info and otherwise ignored. */
    ASSERT_INGEST(&s,
                  batch1(el_json("livekit", "livekit", "EV_k", ROOM,
                                 "{\"event\":\"room_started\",\"id\":\"EV_k\",\"future\":[1],"
                                 "\"room\":{\"sid\":\"" ROOM "\",\"newField\":{\"a\":1}}}",
                                 -1, 1)),
                  "t");
    ASSERT_VALUE(&s, "{\"a\": 1}", "SELECT info->'newField' FROM livekit_rooms");
    scratch_close(&s);
}
END_TEST

static json_t *lk_good(const char *id)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"event\":\"room_started\",\"id\":\"%s\",\"createdAt\":\"1700000000\","
             "\"room\":{\"sid\":\"RM_%s\",\"name\":\"r\"}}",
             id, id);
    return el_json("livekit", "livekit", id, "k", body, -1, 1);
}

START_TEST(test_poison)
{
    scratch s;
    scratch_open(&s);
    /* A LiveKit body that is not an object. */
    ASSERT_POISON(&s, batch1(el_json("livekit", "livekit", "EV_arr", "k", "[1,2]", -1, 1)),
                  "EV_arr", "JSON array");
    ASSERT_POISON(&s, batch1(el_json("livekit", "livekit", "EV_str", "k", "\"hello\"", -1, 1)),
                  "EV_str", "JSON string");

    /* [good, poison, good] fails as a whole and leaves nothing; one at a
     * time (as the worker isolates it) the good ones pass. */
    ASSERT_POISON(&s,
                  json_pack("[o,o,o]", lk_good("EV_g1"),
                            el_json("livekit", "livekit", "EV_bad", "k", "[]", -1, 1),
                            lk_good("EV_g2")),
                  "EV_bad", "JSON array");
    ASSERT_VALUE(&s, "0", "SELECT count(*) FROM hookpipe_events");
    ASSERT_VALUE(&s, "0", "SELECT count(*) FROM livekit_rooms");
    ASSERT_INGEST(&s, batch1(lk_good("EV_g1")), "t");
    ASSERT_POISON(&s, batch1(el_json("livekit", "livekit", "EV_bad", "k", "[]", -1, 1)), "EV_bad",
                  "JSON array");
    ASSERT_INGEST(&s, batch1(lk_good("EV_g2")), "t");
    ASSERT_VALUE(&s, "2", "SELECT count(*) FROM livekit_rooms");

    /* Known events whose objects are missing or of the wrong type. */
    ASSERT_POISON(&s,
                  batch1(el_json("livekit", "livekit", "EV_nosid", "k",
                                 "{\"event\":\"room_started\",\"room\":{\"name\":\"x\"}}", -1, 1)),
                  "EV_nosid", "room_started without room.sid");
    ASSERT_POISON(&s,
                  batch1(el_json("livekit", "livekit", "EV_psid", "k",
                                 "{\"event\":\"participant_joined\",\"room\":{\"sid\":\"R\"},"
                                 "\"participant\":{\"sid\":7}}",
                                 -1, 1)),
                  "EV_psid", "participant.sid is a JSON number");
    ASSERT_POISON(&s,
                  batch1(el_json("livekit", "livekit", "EV_time", "k",
                                 "{\"event\":\"room_started\",\"createdAt\":\"soon\","
                                 "\"room\":{\"sid\":\"R\"}}",
                                 -1, 1)),
                  "EV_time", "createdAt");
    ASSERT_POISON(&s,
                  batch1(el_json("livekit", "livekit", "EV_eg", "k",
                                 "{\"event\":\"egress_ended\",\"egressInfo\":[]}", -1, 1)),
                  "EV_eg", "egressInfo is a JSON array");
    /* A time that looks like one but is not: found in a batch of several. */
    ASSERT_POISON(&s,
                  json_pack("[o,o]", lk_good("EV_g3"),
                            el_json("livekit", "livekit", "EV_date", "k",
                                    "{\"event\":\"room_started\",\"createdAt\":"
                                    "\"2023-13-45T00:00:00Z\",\"room\":{\"sid\":\"R\"}}",
                                    -1, 1)),
                  "EV_date", "2023-13-45");

    /* Bodies a handler needs as JSON, and malformed elements. */
    static const unsigned char bin[] = {0x00, 0x01, 'b', 'i', 'n', 0xff};
    ASSERT_POISON(&s, batch1(el_raw("livekit", "livekit", "EV_bin", bin, sizeof bin, 1)), "EV_bin",
                  "needs a JSON body");
    ASSERT_POISON(&s, batch1(el_raw("shop", "entity", "ORD_bin", bin, sizeof bin, 1)), "ORD_bin",
                  "needs a JSON body");
    ASSERT_POISON(&s, batch1(el_json("gh", "store", "GH_bad", "k", "{not json", -1, 1)), "GH_bad",
                  "json");
    json_t *noid = el_json("gh", "store", "GH_x", "k", "{}", -1, 1);
    json_object_del(noid, "event_id");
    ASSERT_POISON(&s, batch1(noid), "gh/?", "event_id");
    ASSERT_POISON(&s, batch1(el_json("gh", "teleport", "GH_h", "k", "{}", -1, 1)), "GH_h",
                  "handler");
    ASSERT_POISON(&s, json_pack("{s:i}", "not", 1), "the batch", "not an array");

    ASSERT_VALUE(&s, "2", "SELECT count(*) FROM hookpipe_events");
    scratch_close(&s);
}
END_TEST

START_TEST(test_store_raw_body)
{
    scratch s;
    scratch_open(&s);
    static const unsigned char bin[] = {0x00, 0x01, 'b', 'i', 'n', 0xff, 0xfe};
    ASSERT_INGEST(&s, batch1(el_raw("gh", "store", "GH_1", bin, sizeof bin, 1)), "t");
    ASSERT_INGEST(&s, batch1(el_raw("gh", "store", "GH_1", bin, sizeof bin, 2)), "f");
    ASSERT_SQL(&s, "SELECT body_json IS NULL AND body_raw = '\\x000162696efffe'::bytea "
                   "AND event_key = 'GH_1' AND entity_type IS NULL FROM hookpipe_events");
    /* The store handler keeps any JSON as jsonb, nothing derived. */
    ASSERT_INGEST(&s, batch1(el_json("gh", "store", "GH_2", NULL, "\"text\"", -1, 1)), "t");
    ASSERT_VALUE(&s, "\"text\"", "SELECT body_json FROM hookpipe_events WHERE event_id = 'GH_2'");
    ASSERT_VALUE(&s, "0", "SELECT count(*) FROM hookpipe_entities");
    scratch_close(&s);
}
END_TEST

/* hookpipe_entities and every livekit_* row, but updated_at. */
static char *state_snapshot(scratch *s)
{
    char *lk = lk_snapshot(s);
    char *ent = value(s, "SELECT string_agg(j::text, E'\\n' ORDER BY j::text) FROM "
                         "(SELECT to_jsonb(t) - 'updated_at' AS j FROM hookpipe_entities t) x");
    size_t len = strlen(lk) + strlen(ent) + 8;
    char *out = hp_xmalloc(len);
    snprintf(out, len, "%s\n--\n%s", ent, lk);
    free(lk);
    free(ent);
    return out;
}

START_TEST(test_reprocess)
{
    scratch s;
    scratch_open(&s);
    lk_event ev[LK_N];
    lk_lifecycle(ev);
    int order[LK_N];
    for (int i = 0; i < LK_N; i++)
        order[i] = i;
    shuffle(order, LK_N, 7);
    lk_deliver(&s, ev, order, LK_N, 4);
    ASSERT_INGEST(&s,
                  json_pack("[o,o,o,o,o]", shop("R1", "c1", 1, 1000, 1000),
                            shop("R2", "c1", 2, 3000, 1001), shop("R3", "c1", 3, 2000, 1002),
                            shop("R4", "c2", 4, 1000, 1003), shop("R1", "c1", 1, 1000, 1004)),
                  "ttttf");
    ASSERT_INGEST(
        &s, json_pack("[o,o]", shop("R5", "c2", 5, -1, 900), shop("R2", "c1", 2, 3000, 5)), "tf");
    ASSERT_INGEST(&s, batch1(el_json("gh", "store", "GH_1", NULL, "{}", -1, 1)), "t");
    char *want = state_snapshot(&s);

    for (int round = 0; round < 2; round++) {
        ASSERT_VALUE(&s, "5", "SELECT hookpipe_reprocess('shop')");
        ASSERT_VALUE(&s, "13", "SELECT hookpipe_reprocess('livekit')");
        ASSERT_VALUE(&s, "0", "SELECT hookpipe_reprocess('gh')");
        char *got = state_snapshot(&s);
        assert_same_state(got, want, round ? "second reprocess" : "first reprocess");
        free(got);
    }
    /* events_applied is the number of stored events of each record. */
    ASSERT_VALUE(&s, "0",
                 "SELECT count(*) FROM hookpipe_entities t WHERE events_applied <> "
                 "(SELECT count(*) FROM hookpipe_events e WHERE e.source = t.source "
                 "AND e.entity_type = t.entity_type AND e.event_key = t.entity_id)");
    ASSERT_VALUE(&s, "c1:3:2,c2:2:4",
                 "SELECT string_agg(entity_id || ':' || events_applied || ':' || (state->>'v'), "
                 "',' ORDER BY entity_id) FROM hookpipe_entities");
    lk_assert_final(&s);
    free(want);
    lk_free(ev);
    scratch_close(&s);
}
END_TEST

/* Drops the scratch schemas of tests that failed before their own cleanup. */
static void drop_leftovers(void)
{
    scratch s = {.pg = it_pg_connect()};
    exec_ok(&s, "SET client_min_messages = warning");
    char *drops = value(&s,
                        "SELECT string_agg(format('DROP SCHEMA %%I CASCADE', nspname), '; ') "
                        "FROM pg_namespace WHERE nspname LIKE 'it\\_wsql\\_%ld\\_%%'",
                        (long)runner_pid);
    if (*drops)
        exec_ok(&s, drops);
    free(drops);
    PQfinish(s.pg);
}

static Suite *worker_sql_suite(void)
{
    Suite *s = suite_create("worker_sql");
    TCase *tc = tcase_create("hookpipe_ingest_batch");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, NULL, drop_leftovers);
    tcase_add_test(tc, test_same_event_three_times);
    tcase_add_test(tc, test_entity_newest_wins);
    tcase_add_test(tc, test_livekit_order_does_not_matter);
    tcase_add_test(tc, test_livekit_partial_objects_keep_fields);
    tcase_add_test(tc, test_livekit_late_started);
    tcase_add_test(tc, test_livekit_unknown_event_is_stored);
    tcase_add_test(tc, test_poison);
    tcase_add_test(tc, test_store_raw_body);
    tcase_add_test(tc, test_reprocess);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    runner_pid = getpid();
    SRunner *sr = srunner_create(worker_sql_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
