/*
 * hookpipe-worker, run as a child process against the stack's real Kafka
 * and PostgreSQL; every test in a topic pair, group and schema of its own
 * (it_wk), fed with records made as the gateway makes them.
 *
 *  - dedup: one event delivered three times (twice in one batch, once in a
 *    later one) is stored once and applied once; the metrics say 1 applied,
 *    2 duplicates.
 *  - replay: then the group's offsets go back to the beginning: a new worker
 *    reads the three records again and nothing in the database changes.
 *  - livekit: a room's whole lifecycle, out of order and with duplicates on
 *    one partition, in batches of 4, ends in the right state in every
 *    livekit_* table.
 *  - poison: a JSON array on the livekit source and a record without
 *    envelope headers, between good records: the good ones are applied, the
 *    poison ones are in the DLQ topic with their key, value, headers and the
 *    error headers, and the group's committed offset moves past them.
 *  - sigterm: SIGTERM while records are applied, then after a second worker
 *    drained the topic: exit 0 within 10 s, never a committed offset ahead
 *    of the database, and finally committed offsets at the end offsets.
 *  - ready: /readyz answers 200 within READY_MS of the start (as soon as
 *    the group assigned partitions), not only after the first statistics.
 */
#include "hp_time.h"
#include "it_env.h"
#include "it_gw.h" /* it_sleep_ms */
#include "it_kafka.h"
#include "it_wk.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TERM_MS 10000
#define ENTITY_APPLIED "source=\"entity\",result=\"applied\""
#define ENTITY_DUPLICATE "source=\"entity\",result=\"duplicate\""
#define EVENTS "hookpipe_worker_events_total"
#define BATCHES "hookpipe_worker_batch_duration_seconds_count"

/* ---- dedup and replay ---- */

/* Test 1's state: evt_dup_1 of entity cus_1 delivered three times. The
 * worker wk runs on env at the end; *offset is where the first copy is. */
static void dedup_scenario(it_wk_env *env, it_wk *wk, int32_t *partition, int64_t *offset)
{
    it_wk_delivery dr[3];
    int64_t at = hp_time_now_ms() - 60000;
    /* Two copies before the worker starts: one fetch, one batch. */
    it_wk_produce_entity(env, "evt_dup_1", "cus_1", 1, at, &dr[0]);
    it_wk_produce_entity(env, "evt_dup_1", "cus_1", 1, at, &dr[1]);
    it_wk_flush(env);
    it_wk_start(wk, env);
    it_wk_await_metric(wk, BATCHES, "", 1, IT_WK_WAIT_MS);
    IT_WK_CHECK(it_wk_metric(wk, EVENTS, ENTITY_APPLIED) == 1 &&
                    it_wk_metric(wk, EVENTS, ENTITY_DUPLICATE) == 1,
                "the first batch did not hold both copies: applied %g, duplicate %g",
                it_wk_metric(wk, EVENTS, ENTITY_APPLIED),
                it_wk_metric(wk, EVENTS, ENTITY_DUPLICATE));
    /* The third in a later batch. */
    it_wk_produce_entity(env, "evt_dup_1", "cus_1", 1, at, &dr[2]);
    it_wk_flush(env);
    it_wk_await_metric(wk, EVENTS, ENTITY_DUPLICATE, 2, IT_WK_WAIT_MS);
    /* The batch is observed just after its events are counted. */
    it_wk_await_metric(wk, BATCHES, "", 2, IT_WK_WAIT_MS);
    IT_WK_CHECK(dr[0].partition == dr[2].partition && dr[2].offset == dr[0].offset + 2,
                "the copies are not one after another: %d/%lld, %d/%lld", (int)dr[0].partition,
                (long long)dr[0].offset, (int)dr[2].partition, (long long)dr[2].offset);

    IT_WK_CHECK(it_wk_int(env, "SELECT count(*) FROM hookpipe_events") == 1, "events stored");
    IT_WK_ASSERT_SQL(env,
                     "SELECT source = 'entity' AND event_type = 'customer.updated' "
                     "AND event_key = 'cus_1' AND entity_type = 'entity' AND handler = 'entity' "
                     "AND kafka_topic = '%s' AND kafka_partition = %d AND kafka_offset = %lld "
                     "AND envelope_version = 1 AND body_json->>'id' = 'evt_dup_1' "
                     "AND body_raw IS NULL AND content_type = 'application/json' "
                     "AND headers->>'user-agent' = 'hookpipe-it-wk/1.0' "
                     "AND (extract(epoch FROM event_time) * 1000)::bigint = %lld "
                     "FROM hookpipe_events WHERE event_id = 'evt_dup_1'",
                     env->name, (int)dr[0].partition, (long long)dr[0].offset, (long long)at);
    IT_WK_ASSERT_SQL(env,
                     "SELECT count(*) = 1 AND bool_and(events_applied = 1 AND entity_id = 'cus_1' "
                     "AND event_id = 'evt_dup_1' AND state #>> '{data,n}' = '1') "
                     "FROM hookpipe_entities");
    IT_WK_CHECK(it_wk_metric(wk, EVENTS, ENTITY_APPLIED) == 1, "applied");
    IT_WK_CHECK(it_wk_metric(wk, EVENTS, "result=\"dlq\"") == 0, "dlq");
    *partition = dr[0].partition;
    *offset = dr[0].offset;
}

START_TEST(test_same_event_three_times)
{
    it_wk_env env;
    it_wk wk;
    int32_t partition;
    int64_t offset;
    it_wk_env_open(&env, NULL);
    dedup_scenario(&env, &wk, &partition, &offset);
    IT_WK_CHECK(it_wk_stop(&wk, SIGTERM, TERM_MS) == 0, "exit status after SIGTERM");
    it_wk_free(&wk);
    it_wk_env_close(&env);
}
END_TEST

/* Every stored row of hookpipe_events and hookpipe_entities, as JSON text. */
static char *db_snapshot(it_wk_env *env)
{
    return it_wk_value(env, "SELECT concat_ws(E'\\n--\\n', "
                            "(SELECT string_agg(to_jsonb(e)::text, E'\\n' ORDER BY event_id) "
                            "FROM hookpipe_events e), "
                            "(SELECT string_agg(to_jsonb(t)::text, E'\\n' ORDER BY entity_id) "
                            "FROM hookpipe_entities t))");
}

START_TEST(test_replay_from_beginning)
{
    it_wk_env env;
    it_wk wk, again;
    int32_t partition;
    int64_t offset, zero[IT_WK_PARTITIONS] = {0}, committed[IT_WK_PARTITIONS];
    char err[512];
    it_wk_env_open(&env, NULL);
    dedup_scenario(&env, &wk, &partition, &offset);
    char *before = db_snapshot(&env);
    IT_WK_CHECK(it_wk_stop(&wk, SIGTERM, TERM_MS) == 0, "exit status after SIGTERM");
    it_wk_free(&wk);
    it_wk_await_committed_ends(&env, TERM_MS);

    /* What `hookpipectl replay --to-beginning` does, with the group empty. */
    int rc = it_kafka_commit(env.group, env.name, IT_WK_PARTITIONS, zero, err, sizeof err);
    IT_WK_CHECK(rc == 0, "%s", err);
    it_wk_committed(&env, committed);
    for (int p = 0; p < IT_WK_PARTITIONS; p++)
        IT_WK_CHECK(committed[p] == 0, "partition %d committed %lld after the reset", p,
                    (long long)committed[p]);

    it_wk_start(&again, &env);
    it_wk_await_metric(&again, EVENTS, ENTITY_DUPLICATE, 3, IT_WK_WAIT_MS);
    IT_WK_CHECK(it_wk_metric(&again, EVENTS, ENTITY_APPLIED) == 0, "a replayed event was applied");
    char *after = db_snapshot(&env);
    IT_WK_CHECK(strcmp(before, after) == 0, "the replay changed the database:\n%s\nwas:\n%s", after,
                before);
    IT_WK_CHECK(it_wk_int(&env, "SELECT events_applied FROM hookpipe_entities") == 1,
                "events_applied");
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    IT_WK_CHECK(it_wk_stop(&again, SIGTERM, TERM_MS) == 0, "exit status after SIGTERM");
    it_wk_free(&again);
    free(before);
    free(after);
    it_wk_env_close(&env);
}
END_TEST

/* ---- LiveKit ---- */

#define ROOM "RM_it_standup"
#define T0 1700000000LL /* createdAt of room_started, UNIX seconds */
enum { LK_N = 13 };

/* The objects of LiveKit's webhooks as its protobuf JSON has them (int64 as strings). */
#define LK_ROOM                                                                                    \
    "\"room\":{\"sid\":\"" ROOM "\",\"name\":\"standup\",\"emptyTimeout\":300,"                    \
    "\"maxParticipants\":10,\"creationTime\":\"1700000000\"}"
#define LK_PARTICIPANT(who, name, joined, state)                                                   \
    ",\"participant\":{\"sid\":\"PA_" who "\",\"identity\":\"" who "\",\"name\":\"" name           \
    "\",\"state\":\"" state "\",\"joinedAt\":\"" joined "\"}"
#define LK_ALICE(state) LK_PARTICIPANT("alice", "Alice", "1700000010", state)
#define LK_BOB(state) LK_PARTICIPANT("bob", "Bob", "1700000020", state)
#define LK_TRACK                                                                                   \
    ",\"track\":{\"sid\":\"TR_cam\",\"type\":\"VIDEO\",\"name\":\"camera\",\"source\":\"CAMERA\"," \
    "\"mimeType\":\"video/VP8\"}"
#define LK_EGRESS(status, ended)                                                                   \
    "\"egressInfo\":{\"egressId\":\"EG_it\",\"roomId\":\"" ROOM "\",\"roomName\":\"standup\","     \
    "\"status\":\"" status "\",\"startedAt\":\"1700000012000000000\"" ended "}"
#define LK_INGRESS(status, ended)                                                                  \
    "\"ingressInfo\":{\"ingressId\":\"IN_it\",\"name\":\"obs\",\"roomName\":\"standup\","          \
    "\"state\":{\"status\":\"" status "\",\"startedAt\":\"1700000005000000000\"" ended "}}"

/* A room's life: LK_01 … LK_13, createdAt T0 + dt. */
static const struct {
    const char *event;
    long long dt;
    const char *fields;
} lk_plan[LK_N] = {
    {"room_started", 0, LK_ROOM},
    {"participant_joined", 10, LK_ROOM LK_ALICE("ACTIVE")},
    {"participant_joined", 20, LK_ROOM LK_BOB("ACTIVE")},
    {"track_published", 30, LK_ROOM LK_ALICE("ACTIVE") LK_TRACK},
    {"track_unpublished", 40, LK_ROOM LK_ALICE("ACTIVE") LK_TRACK},
    {"participant_left", 50, LK_ROOM LK_ALICE("DISCONNECTED")},
    {"participant_left", 52, LK_ROOM LK_BOB("DISCONNECTED")},
    {"egress_started", 12, LK_EGRESS("EGRESS_STARTING", "")},
    {"egress_updated", 13, LK_EGRESS("EGRESS_ACTIVE", "")},
    {"egress_ended", 55, LK_EGRESS("EGRESS_COMPLETE", ",\"endedAt\":\"1700000055000000000\"")},
    {"ingress_started", 5, LK_INGRESS("ENDPOINT_PUBLISHING", "")},
    {"ingress_ended", 58, LK_INGRESS("ENDPOINT_COMPLETE", ",\"endedAt\":\"1700000058000000000\"")},
    {"room_finished", 60, LK_ROOM},
};

/* Produces event i of the plan as the gateway would, keyed by the room. */
static void lk_produce(it_wk_env *env, int i)
{
    char id[16], body[1024];
    snprintf(id, sizeof id, "LK_%02d", i + 1);
    int n =
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"event\":\"%s\",\"createdAt\":\"%lld\",%s}",
                 id, lk_plan[i].event, T0 + lk_plan[i].dt, lk_plan[i].fields);
    ck_assert(n > 0 && (size_t)n < sizeof body);
    it_wk_event ev = {.source = "livekit",
                      .event_id = id,
                      .event_type = lk_plan[i].event,
                      .event_time_ms = (T0 + lk_plan[i].dt) * 1000,
                      .key = ROOM,
                      .body = body};
    it_wk_produce(env, &ev, NULL);
}

START_TEST(test_livekit_lifecycle_out_of_order)
{
    /* Reversed-ish, with LK_13, LK_10, LK_06 and LK_01 twice. */
    static const int order[] = {12, 9, 5, 11, 3, 0, 6, 12, 8, 1, 4, 10, 7, 2, 5, 0, 9};
    const int n = (int)(sizeof order / sizeof order[0]);
    it_wk_options opt = {.batch_max = 4};
    it_wk_env env;
    it_wk wk;
    it_wk_env_open(&env, &opt);
    it_wk_start(&wk, &env);
    for (int i = 0; i < n; i++)
        lk_produce(&env, order[i]);
    it_wk_flush(&env);
    it_wk_await_metric(&wk, EVENTS, "source=\"livekit\",result=\"duplicate\"", n - LK_N,
                       IT_WK_WAIT_MS);
    it_wk_await_metric(&wk, EVENTS, "source=\"livekit\",result=\"applied\"", LK_N, IT_WK_WAIT_MS);
    IT_WK_ASSERT_SQL(&env,
                     "SELECT count(*) = %d AND count(DISTINCT kafka_partition) = 1 "
                     "FROM hookpipe_events WHERE source = 'livekit'",
                     LK_N);
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 1 AND bool_and(room_sid = '" ROOM "' "
                           "AND status = 'finished' AND room_name = 'standup' "
                           "AND started_at = to_timestamp(1700000000) "
                           "AND finished_at = to_timestamp(1700000060) "
                           "AND last_event_id = 'LK_13') FROM livekit_rooms");
    IT_WK_ASSERT_SQL(&env,
                     "SELECT count(*) = 2 AND bool_and(status = 'left' AND room_sid = '" ROOM "') "
                     "AND bool_and(participant_sid <> 'PA_alice' OR (identity = 'alice' "
                     "AND name = 'Alice' AND joined_at = to_timestamp(1700000010) "
                     "AND left_at = to_timestamp(1700000050))) "
                     "AND bool_and(participant_sid <> 'PA_bob' OR (identity = 'bob' "
                     "AND name = 'Bob' AND joined_at = to_timestamp(1700000020) "
                     "AND left_at = to_timestamp(1700000052))) "
                     "FROM livekit_participant_sessions");
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 1 AND bool_and(track_sid = 'TR_cam' "
                           "AND status = 'unpublished' AND kind = 'VIDEO' AND name = 'camera' "
                           "AND room_sid = '" ROOM "' AND participant_sid = 'PA_alice' "
                           "AND published_at = to_timestamp(1700000030) "
                           "AND unpublished_at = to_timestamp(1700000040)) FROM livekit_tracks");
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 1 AND bool_and(egress_id = 'EG_it' "
                           "AND status = 'EGRESS_COMPLETE' AND room_sid = '" ROOM "' "
                           "AND started_at = to_timestamp(1700000012) "
                           "AND ended_at = to_timestamp(1700000055) AND error IS NULL) "
                           "FROM livekit_egress");
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 1 AND bool_and(ingress_id = 'IN_it' "
                           "AND status = 'ENDPOINT_COMPLETE' AND room_name = 'standup' "
                           "AND started_at = to_timestamp(1700000005) "
                           "AND ended_at = to_timestamp(1700000058)) FROM livekit_ingress");
    IT_WK_CHECK(it_wk_stop(&wk, SIGTERM, TERM_MS) == 0, "exit status after SIGTERM");
    it_wk_free(&wk);
    it_wk_env_close(&env);
}
END_TEST

/* ---- poison ---- */

#define POISON_ROOM "RM_poison"

static void lk_simple(it_wk_env *env, const char *id, const char *event, const char *extra,
                      it_wk_delivery *dr)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"event\":\"%s\",\"createdAt\":\"1700000100\","
             "\"room\":{\"sid\":\"" POISON_ROOM "\",\"name\":\"p\"}%s}",
             id, event, extra);
    it_wk_event ev = {.source = "livekit",
                      .event_id = id,
                      .event_type = event,
                      .event_time_ms = 1700000100000LL,
                      .key = POISON_ROOM,
                      .body = body};
    it_wk_produce(env, &ev, dr);
}

/* The value of rec's header name, "" if it has none. */
static const char *hdr(const it_kafka_record *rec, const char *name)
{
    const it_kafka_header *h = it_kafka_record_header(rec, name);
    return h && h->value ? h->value : "";
}

/* A header holding a UNIX millisecond time or a count: its value, or -1. */
static long long hdr_int(const it_kafka_record *rec, const char *name)
{
    const char *v = hdr(rec, name);
    char *end;
    long long n = strtoll(v, &end, 10);
    return end != v && *end == '\0' ? n : -1;
}

/* The DLQ copy rec of the record delivered at dr with body: its key, value, error headers. */
static void assert_parked(it_wk_env *env, const it_kafka_record *rec, const it_wk_delivery *dr,
                          const char *body, int64_t since_ms)
{
    char origin[256];
    snprintf(origin, sizeof origin, "%s/%d/%lld", env->name, (int)dr->partition,
             (long long)dr->offset);
    IT_WK_CHECK(strcmp(hdr(rec, "hookpipe-origin"), origin) == 0, "hookpipe-origin %s, want %s",
                hdr(rec, "hookpipe-origin"), origin);
    IT_WK_CHECK(rec->key && strcmp(rec->key, POISON_ROOM) == 0, "DLQ key %s",
                rec->key ? rec->key : "(null)");
    IT_WK_CHECK(rec->value && rec->value_len == strlen(body) && strcmp(rec->value, body) == 0,
                "DLQ value %s, want %s", rec->value ? rec->value : "(null)", body);
    IT_WK_CHECK(strcmp(hdr(rec, "hookpipe-error-class"), "poison") == 0, "hookpipe-error-class %s",
                hdr(rec, "hookpipe-error-class"));
    IT_WK_CHECK(hdr(rec, "hookpipe-error")[0], "no hookpipe-error");
    fprintf(stderr, "parked %s: hookpipe-error: %s\n", origin, hdr(rec, "hookpipe-error"));
    IT_WK_CHECK(hdr_int(rec, "hookpipe-attempts") >= 1, "hookpipe-attempts \"%s\"",
                hdr(rec, "hookpipe-attempts"));
    long long at = hdr_int(rec, "hookpipe-failed-at");
    IT_WK_CHECK(at >= since_ms - 1000 && at <= hp_time_now_ms() + 1000,
                "hookpipe-failed-at \"%s\" is not the time of the test",
                hdr(rec, "hookpipe-failed-at"));
}

START_TEST(test_poison_goes_to_dlq)
{
    it_wk_env env;
    it_wk wk;
    it_wk_delivery dr[5];
    it_kafka_record *recs = NULL;
    const char *array = "[1,2]";
    const char *bare = "{\"id\":\"LK_bare\",\"event\":\"room_started\","
                       "\"room\":{\"sid\":\"" POISON_ROOM "\"}}";
    int64_t since = hp_time_now_ms();
    it_wk_env_open(&env, NULL);
    it_wk_start(&wk, &env);
    lk_simple(&env, "LK_p1", "room_started", "", &dr[0]);
    it_wk_event poison = {
        .source = "livekit", .event_id = "LK_array", .key = POISON_ROOM, .body = array};
    it_wk_produce(&env, &poison, &dr[1]);
    lk_simple(&env, "LK_p2", "participant_joined",
              ",\"participant\":{\"sid\":\"PA_p\",\"identity\":\"p\",\"name\":\"P\"}", &dr[2]);
    it_wk_event no_envelope = {.key = POISON_ROOM, .body = bare};
    it_wk_produce(&env, &no_envelope, &dr[3]);
    lk_simple(&env, "LK_p3", "room_finished", "", &dr[4]);
    it_wk_flush(&env);
    for (int i = 1; i < 5; i++)
        IT_WK_CHECK(dr[i].partition == dr[0].partition && dr[i].offset == dr[0].offset + i,
                    "record %d is not next on partition %d", i, (int)dr[0].partition);

    it_wk_await_metric(&wk, EVENTS, "source=\"livekit\",result=\"applied\"", 3, IT_WK_WAIT_MS);
    it_wk_await_metric(&wk, EVENTS, "result=\"dlq\"", 2, IT_WK_WAIT_MS);
    IT_WK_CHECK(it_wk_metric(&wk, EVENTS, "source=\"livekit\",result=\"dlq\"") == 1,
                "the array body is not counted as a livekit dlq event");
    IT_WK_ASSERT_SQL(&env,
                     "SELECT count(*) = 3 AND bool_and(event_id IN ('LK_p1','LK_p2','LK_p3')) "
                     "FROM hookpipe_events");
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 1 AND bool_and(status = 'finished') "
                           "FROM livekit_rooms");
    IT_WK_ASSERT_SQL(&env, "SELECT count(*) = 1 FROM livekit_participant_sessions");

    size_t n = it_wk_dlq_records(&env, 2, IT_WK_WAIT_MS, &recs);
    IT_WK_CHECK(n == 2, "%zu records in the DLQ, want 2", n);
    for (size_t i = 0; i < n; i++) {
        bool enveloped = it_kafka_record_header(&recs[i], "hookpipe-version") != NULL;
        assert_parked(&env, &recs[i], enveloped ? &dr[1] : &dr[3], enveloped ? array : bare, since);
        if (enveloped) /* the original headers travel with it */
            IT_WK_CHECK(strcmp(hdr(&recs[i], "hookpipe-version"), "1") == 0 &&
                            strcmp(hdr(&recs[i], "hookpipe-event-id"), "LK_array") == 0 &&
                            strcmp(hdr(&recs[i], "hookpipe-source"), "livekit") == 0 &&
                            strcmp(hdr(&recs[i], "hookpipe-gateway"), "it-wk") == 0 &&
                            hdr_int(&recs[i], "hookpipe-received-at") >= since &&
                            hdr(&recs[i], "hookpipe-http-headers")[0],
                        "the original headers of the array record are not all there");
        else
            IT_WK_CHECK(recs[i].nheaders == 5, "the bare record gained %zu headers, want 5",
                        recs[i].nheaders);
        it_kafka_record_deinit(&recs[i]);
    }
    free(recs);

    /* The group's committed offset moves past both poison records. */
    it_wk_await_committed_ends(&env, IT_WK_WAIT_MS);
    IT_WK_CHECK(it_wk_stop(&wk, SIGTERM, TERM_MS) == 0, "exit status after SIGTERM");
    it_wk_free(&wk);
    int64_t committed[IT_WK_PARTITIONS];
    it_wk_committed(&env, committed);
    IT_WK_CHECK(committed[dr[0].partition] == dr[4].offset + 1,
                "committed %lld on partition %d, want %lld (past the poison at %lld and %lld)",
                (long long)committed[dr[0].partition], (int)dr[0].partition,
                (long long)dr[4].offset + 1, (long long)dr[1].offset, (long long)dr[3].offset);
    it_wk_env_close(&env);
}
END_TEST

/* ---- SIGTERM ---- */

#define TERM_EVENTS 3000
#define TERM_ENTITIES 300

START_TEST(test_sigterm_drains_and_commits)
{
    it_wk_options opt = {.batch_max = 50};
    it_wk_env env;
    it_wk wk, next;
    int64_t committed[IT_WK_PARTITIONS], ends[IT_WK_PARTITIONS];
    it_wk_env_open(&env, &opt);
    it_wk_start(&wk, &env);
    int64_t at = hp_time_now_ms() - 3600000;
    for (int i = 0; i < TERM_EVENTS; i++) {
        char id[32], entity[32];
        snprintf(id, sizeof id, "evt_%05d", i);
        snprintf(entity, sizeof entity, "cus_%03d", i % TERM_ENTITIES);
        it_wk_produce_entity(&env, id, entity, i, at + i, NULL);
    }
    it_wk_flush(&env);

    /* SIGTERM while records are being applied. */
    int64_t deadline = hp_time_mono_ns() + (int64_t)IT_WK_WAIT_MS * 1000000;
    while (it_wk_int(&env, "SELECT count(*) FROM hookpipe_events") == 0) {
        IT_WK_CHECK(hp_time_mono_ns() < deadline, "nothing applied within %d ms", IT_WK_WAIT_MS);
        it_sleep_ms(10);
    }
    int64_t t0 = hp_time_mono_ns();
    int rc = it_wk_stop(&wk, SIGTERM, TERM_MS);
    long long took = (long long)((hp_time_mono_ns() - t0) / 1000000);
    long long applied = it_wk_int(&env, "SELECT count(*) FROM hookpipe_events");
    fprintf(stderr, "SIGTERM mid-run: exit %d after %lld ms, %lld of %d events applied\n", rc, took,
            applied, TERM_EVENTS);
    IT_WK_CHECK(rc == 0, "exit status %d after SIGTERM (-1: still running after %d ms)", rc,
                TERM_MS);
    it_wk_free(&wk);
    /* At least once: no offset committed ahead of what the database holds. */
    it_wk_committed(&env, committed);
    it_wk_ends(&env, ends);
    for (int p = 0; p < IT_WK_PARTITIONS; p++) {
        long long c = committed[p] < 0 ? 0 : (long long)committed[p];
        IT_WK_CHECK(c <= ends[p], "partition %d: committed %lld past the end %lld", p, c,
                    (long long)ends[p]);
        IT_WK_CHECK(it_wk_int(&env,
                              "SELECT count(*) FROM hookpipe_events WHERE kafka_topic = '%s' "
                              "AND kafka_partition = %d AND kafka_offset < %lld",
                              env.name, p, c) == c,
                    "partition %d: offset %lld committed but not everything below it applied", p,
                    c);
    }

    /* Another worker drains the rest; SIGTERM as soon as the database has it all. */
    it_wk_start(&next, &env);
    it_wk_await(&env, "t", IT_WK_WAIT_MS, "SELECT count(*) = %d FROM hookpipe_events", TERM_EVENTS);
    t0 = hp_time_mono_ns();
    rc = it_wk_stop(&next, SIGTERM, TERM_MS);
    took = (long long)((hp_time_mono_ns() - t0) / 1000000);
    fprintf(stderr, "SIGTERM after draining: exit %d after %lld ms\n", rc, took);
    IT_WK_CHECK(rc == 0, "exit status %d after SIGTERM (-1: still running after %d ms)", rc,
                TERM_MS);
    it_wk_free(&next);
    it_wk_committed(&env, committed);
    it_wk_ends(&env, ends);
    for (int p = 0; p < IT_WK_PARTITIONS; p++)
        IT_WK_CHECK(committed[p] == ends[p], "partition %d: committed %lld, end %lld", p,
                    (long long)committed[p], (long long)ends[p]);
    IT_WK_ASSERT_SQL(&env,
                     "SELECT count(*) = %d AND sum(events_applied) = %d "
                     "AND bool_and(events_applied = %d) FROM hookpipe_entities",
                     TERM_ENTITIES, TERM_EVENTS, TERM_EVENTS / TERM_ENTITIES);
    it_wk_env_close(&env);
}
END_TEST

/* ---- readiness ---- */

/* Well below the 5 s after which the first statistics would say Kafka is up. */
#define READY_MS 4000

START_TEST(test_ready_promptly)
{
    it_wk_env env;
    it_wk wk;
    it_wk_env_open(&env, NULL);
    int64_t t0 = hp_time_mono_ns();
    it_wk_start(&wk, &env); /* returns once /readyz answered 200 */
    long long took = (long long)((hp_time_mono_ns() - t0) / 1000000);
    fprintf(stderr, "ready after %lld ms\n", took);
    IT_WK_CHECK(took < READY_MS, "/readyz answered 200 only %lld ms after the start", took);
    IT_WK_CHECK(it_wk_stop(&wk, SIGTERM, TERM_MS) == 0, "exit status after SIGTERM");
    it_wk_free(&wk);
    it_wk_env_close(&env);
}
END_TEST

int main(void)
{
    it_wk_runner_init();
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("worker");
    tcase_set_timeout(tc, 240);
    tcase_add_unchecked_fixture(tc, NULL, it_wk_cleanup);
    tcase_add_test(tc, test_same_event_three_times);
    tcase_add_test(tc, test_replay_from_beginning);
    tcase_add_test(tc, test_livekit_lifecycle_out_of_order);
    tcase_add_test(tc, test_poison_goes_to_dlq);
    tcase_add_test(tc, test_sigterm_drains_and_commits);
    tcase_add_test(tc, test_ready_promptly);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
