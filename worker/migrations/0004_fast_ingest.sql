-- 0004_fast_ingest: the same contract as 0002/0003, faster (LiveKit drain:
-- 4,500 → 8,300 events/s with one worker, docs/benchmarks.md).
--
-- What the worker benchmark measured (docs/benchmarks.md, Worker) and
-- what this changes:
--
-- * A body travels spliced: besides "body" (the JSON text in a string) and
--   "body_b64", a batch element may carry "body_json", the body itself as
--   a JSON value. The worker splices a body that is JSON byte for byte into
--   the batch document (worker/wk_json.c checks that jsonb will take it), so
--   PostgreSQL parses it once, as part of the document, instead of parsing
--   an escaped string and then its contents again; and the worker no longer
--   parses and re-serialises every body. Exactly one of body, body_json and
--   body_b64 is given.
--
-- * The shape of every element (hookpipe_batch_problem) was checked before
--   anything else, for every batch: about a sixth of its time. Now it
--   is checked only when the batch fails, before the search for the
--   culprit, so a malformed element is still reported as before ("event
--   <source>/<event_id>: <what is wrong>"). What a well-formed batch never
--   contains but would now be accepted without that check is a value of
--   another JSON type that converts (event_type 5 is stored as "5", headers
--   that are not an object are stored as NULL); empty source and event_id
--   are refused by a constraint (hookpipe_events_ids) and then reported by
--   the shape check.
--
-- * The PL/pgSQL functions of the hot path plan their statements once per
--   session (plan_cache_mode = force_generic_plan) instead of planning
--   custom plans for every call: planning was a tenth of the time of a
--   batch, and the plans do not depend on the values.
--
-- * The livekit handler computes its items once per batch (one statement
--   with a CTE per table), and a handler runs only when the batch has new
--   events for it.
--
-- * Large values are compressed with lz4 instead of pglz, where available.
--
-- Everything else (the handlers' rules, the answer, poison and 22H01) is
-- unchanged; see 0002_ingest.sql and 0003_livekit.sql.

ALTER TABLE hookpipe_events
    ADD CONSTRAINT hookpipe_events_ids CHECK (source <> '' AND event_id <> '') NOT VALID;

-- As in 0002, with body_json.
CREATE OR REPLACE FUNCTION hookpipe_batch_problem(el jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN jsonb_typeof(el) <> 'object' THEN
            format('the batch element is a JSON %s, not an object', jsonb_typeof(el))
        WHEN coalesce(jsonb_typeof(el -> 'source'), '') <> 'string' OR el ->> 'source' = '' THEN
            'source must be a non-empty string'
        WHEN coalesce(jsonb_typeof(el -> 'event_id'), '') <> 'string' OR el ->> 'event_id' = '' THEN
            'event_id must be a non-empty string'
        WHEN coalesce(jsonb_typeof(el -> 'event_type'), 'null') NOT IN ('string', 'null') THEN
            'event_type must be a string or null'
        WHEN coalesce(jsonb_typeof(el -> 'event_time_ms'), 'null') NOT IN ('number', 'null') THEN
            'event_time_ms must be a number or null'
        WHEN coalesce(jsonb_typeof(el -> 'received_at_ms'), '') <> 'number' THEN
            'received_at_ms must be a number'
        WHEN coalesce(jsonb_typeof(el -> 'content_type'), 'null') NOT IN ('string', 'null') THEN
            'content_type must be a string or null'
        WHEN coalesce(jsonb_typeof(el -> 'headers'), 'null') NOT IN ('object', 'null') THEN
            'headers must be an object or null'
        WHEN coalesce(jsonb_typeof(el -> 'body'), 'null') NOT IN ('string', 'null') THEN
            'body must be a string holding the JSON text'
        WHEN coalesce(jsonb_typeof(el -> 'body_b64'), 'null') NOT IN ('string', 'null') THEN
            'body_b64 must be a base64 string'
        WHEN (el ? 'body_json')::int
             + (coalesce(jsonb_typeof(el -> 'body'), 'null') <> 'null')::int
             + (coalesce(jsonb_typeof(el -> 'body_b64'), 'null') <> 'null')::int <> 1 THEN
            'exactly one of body, body_json and body_b64 must be given'
        WHEN coalesce(jsonb_typeof(el -> 'topic'), '') <> 'string' OR el ->> 'topic' = '' THEN
            'topic must be a non-empty string'
        WHEN coalesce(jsonb_typeof(el -> 'partition'), '') <> 'number' THEN
            'partition must be a number'
        WHEN coalesce(jsonb_typeof(el -> 'offset'), '') <> 'number' THEN
            'offset must be a number'
        WHEN coalesce(jsonb_typeof(el -> 'envelope_version'), '') <> 'number' THEN
            'envelope_version must be a number'
        WHEN coalesce(el ->> 'handler', '') NOT IN ('store', 'entity', 'livekit')
             OR jsonb_typeof(el -> 'handler') <> 'string' THEN
            format('handler must be "store", "entity" or "livekit", not %s',
                   coalesce((el -> 'handler')::text, 'missing'))
        WHEN coalesce(jsonb_typeof(el -> 'key'), 'null') NOT IN ('string', 'null') THEN
            'key must be a string or null'
        WHEN coalesce(jsonb_typeof(el -> 'entity_type'), 'null') NOT IN ('string', 'null') THEN
            'entity_type must be a string or null'
        WHEN el ->> 'handler' IN ('entity', 'livekit') AND NOT el ? 'body_json'
             AND coalesce(jsonb_typeof(el -> 'body'), 'null') = 'null' THEN
            format('handler %s needs a JSON body, and this body is not JSON', el ->> 'handler')
    END
$$;

-- As in 0002, with body_json: a spliced body is already jsonb.
CREATE OR REPLACE FUNCTION hookpipe_batch_rows(p_batch jsonb)
RETURNS TABLE (ord int, source text, event_id text, event_type text,
               event_time timestamptz, received_at timestamptz, body_json jsonb,
               body_raw bytea, headers jsonb, content_type text, event_key text,
               entity_type text, kafka_topic text, kafka_partition int,
               kafka_offset bigint, envelope_version int, handler text)
LANGUAGE sql STABLE AS $$
    SELECT e.ord::int,
           e.el ->> 'source',
           e.el ->> 'event_id',
           e.el ->> 'event_type',
           to_timestamp((e.el ->> 'event_time_ms')::numeric / 1000),
           to_timestamp((e.el ->> 'received_at_ms')::numeric / 1000),
           CASE WHEN e.el ? 'body_json' THEN e.el -> 'body_json'
                ELSE (e.el ->> 'body')::jsonb END,
           decode(e.el ->> 'body_b64', 'base64'),
           CASE WHEN jsonb_typeof(e.el -> 'headers') = 'object' THEN e.el -> 'headers' END,
           e.el ->> 'content_type',
           coalesce(e.el ->> 'key', e.el ->> 'event_id'),
           CASE WHEN e.el ->> 'handler' = 'entity'
                THEN coalesce(e.el ->> 'entity_type', e.el ->> 'source') END,
           e.el ->> 'topic',
           (e.el ->> 'partition')::int,
           (e.el ->> 'offset')::bigint,
           (e.el ->> 'envelope_version')::int,
           e.el ->> 'handler'
      FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS e(el, ord)
$$;

-- As in 0002, but the shape of the elements is checked only once the batch
-- failed (see the top of this file).
CREATE OR REPLACE FUNCTION hookpipe_ingest_batch(p_batch jsonb)
RETURNS TABLE (idx int, inserted boolean)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_n     int;
    v_bad   record;
    v_ords  int[];
    v_state text;
    v_msg   text;
BEGIN
    IF jsonb_typeof(p_batch) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION USING ERRCODE = '22H01',
            MESSAGE = format('the batch is a JSON %s, not an array',
                             coalesce(jsonb_typeof(p_batch), 'NULL'));
    END IF;
    v_n := jsonb_array_length(p_batch);

    BEGIN
        v_ords := hookpipe_ingest_core(p_batch);
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
        -- A malformed element is named first, by what is wrong with it.
        SELECT e.ord, e.el ->> 'source' AS source, e.el ->> 'event_id' AS event_id, p.problem
          INTO v_bad
          FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS e(el, ord)
         CROSS JOIN LATERAL (SELECT hookpipe_batch_problem(e.el) AS problem) AS p
         WHERE p.problem IS NOT NULL
         ORDER BY e.ord
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = '22H01',
                MESSAGE = format('event %s/%s: %s', coalesce(v_bad.source, '?'),
                                 coalesce(v_bad.event_id, '?'), v_bad.problem),
                DETAIL = format('batch element %s', v_bad.ord - 1);
        END IF;
        -- hookpipe's own errors already name their event.
        IF v_state = '22H01' AND v_msg LIKE 'event %' THEN
            RAISE EXCEPTION USING ERRCODE = '22H01', MESSAGE = v_msg;
        END IF;
        IF v_n = 1 THEN
            v_msg := format('event %s/%s: %s', p_batch -> 0 ->> 'source',
                            p_batch -> 0 ->> 'event_id', v_msg);
        ELSE
            v_msg := coalesce(hookpipe_batch_culprit(p_batch),
                              format('a batch of %s events: %s', v_n, v_msg));
        END IF;
        RAISE EXCEPTION USING ERRCODE = '22H01', MESSAGE = v_msg,
            DETAIL = format('SQLSTATE %s', v_state);
    END;

    RETURN QUERY
        SELECT (g.i - 1)::int, o.ord IS NOT NULL
          FROM generate_series(1, v_n) AS g(i)
          LEFT JOIN unnest(v_ords) AS o(ord) ON o.ord = g.i
         ORDER BY g.i;
END
$$;

-- As in 0002, but each handler runs only when the batch has new events of
-- its own (a LiveKit batch does not scan its events for entity ones).
CREATE OR REPLACE FUNCTION hookpipe_ingest_core(p_batch jsonb) RETURNS int[]
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_ords    int[];
    v_events  hookpipe_events[];
    v_entity  boolean;
    v_livekit boolean;
BEGIN
    WITH rows AS MATERIALIZED (
        SELECT * FROM hookpipe_batch_rows(p_batch)
    ), firsts AS (
        SELECT DISTINCT ON (r.source, r.event_id) r.*
          FROM rows AS r
         ORDER BY r.source, r.event_id, r.ord
    ), ins AS (
        INSERT INTO hookpipe_events AS ev
               (source, event_id, event_type, event_time, received_at, body_json, body_raw,
                headers, content_type, event_key, entity_type, kafka_topic, kafka_partition,
                kafka_offset, envelope_version, handler)
        SELECT f.source, f.event_id, f.event_type, f.event_time, f.received_at, f.body_json,
               f.body_raw, f.headers, f.content_type, f.event_key, f.entity_type, f.kafka_topic,
               f.kafka_partition, f.kafka_offset, f.envelope_version, f.handler
          FROM firsts AS f
         ORDER BY f.source, f.event_id -- lock order, against deadlocks between workers
        ON CONFLICT (source, event_id) DO NOTHING
        RETURNING ev
    )
    SELECT coalesce(array_agg(f.ord ORDER BY f.ord), '{}'),
           coalesce(array_agg(i.ev ORDER BY f.ord), '{}'),
           coalesce(bool_or(f.handler = 'entity'), false),
           coalesce(bool_or(f.handler = 'livekit'), false)
      INTO v_ords, v_events, v_entity, v_livekit
      FROM ins AS i
      JOIN firsts AS f ON f.source = (i.ev).source AND f.event_id = (i.ev).event_id;

    IF v_entity THEN
        PERFORM hookpipe_entity_apply(v_events);
    END IF;
    IF v_livekit THEN
        PERFORM hookpipe_livekit_apply_events(v_events);
    END IF;
    RETURN v_ords;
END
$$;

-- As in 0003, in one statement: the items of the batch are computed once
-- (a materialised CTE) and every table's upsert reads them there, instead
-- of aggregating them into an array that each of five statements unnests
-- again. The upserts touch different tables and read none of them, so
-- running them as one statement changes nothing of their result.
CREATE OR REPLACE FUNCTION hookpipe_livekit_apply_events(p_events hookpipe_events[]) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_bad record;
BEGIN
    SELECT e.source, e.event_id, hookpipe_lk_problem(e.body_json) AS problem
      INTO v_bad
      FROM unnest(p_events) AS e
     WHERE e.handler = 'livekit' AND hookpipe_lk_problem(e.body_json) IS NOT NULL
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '22H01',
            MESSAGE = format('event %s/%s: %s', v_bad.source, v_bad.event_id, v_bad.problem);
    END IF;

    WITH items AS MATERIALIZED (SELECT * FROM hookpipe_lk_items(p_events))
    , rooms AS (
        INSERT INTO livekit_rooms AS t
        SELECT g.id, g.info ->> 'name', g.status,
               coalesce(hookpipe_lk_room_time(g.info), g.started_at), g.finished_at, g.info,
               g.info_stamp, hookpipe_lk_stamp_time(g.last), hookpipe_lk_stamp_id(g.last), now()
          FROM (SELECT it.id,
                       (array_agg(it.obj ORDER BY it.info_stamp COLLATE "C" DESC))[1] AS info,
                       max(it.info_stamp COLLATE "C") AS info_stamp,
                       CASE WHEN bool_or(it.event = 'room_finished') THEN 'finished'
                            ELSE 'started' END AS status,
                       min(it.event_time) FILTER (WHERE it.event = 'room_started') AS started_at,
                       min(it.event_time) FILTER (WHERE it.event = 'room_finished') AS finished_at,
                       max(it.stamp COLLATE "C") AS last
                  FROM items AS it
                 WHERE it.kind = 'room'
                 GROUP BY it.id) AS g
         ORDER BY g.id
        ON CONFLICT (room_sid) DO UPDATE SET
            (room_name, status, started_at, finished_at, info, info_stamp, last_event_time,
             last_event_id, updated_at)
          = (SELECT CASE WHEN c.w THEN EXCLUDED.room_name ELSE t.room_name END,
                    hookpipe_lk_advance('room', t.status, EXCLUDED.status),
                    coalesce(hookpipe_lk_room_time(CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END),
                             least(t.started_at, EXCLUDED.started_at)),
                    least(t.finished_at, EXCLUDED.finished_at),
                    CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END,
                    CASE WHEN c.w THEN EXCLUDED.info_stamp ELSE t.info_stamp END,
                    CASE WHEN c.n THEN EXCLUDED.last_event_time ELSE t.last_event_time END,
                    CASE WHEN c.n THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
                    now()
               FROM (SELECT hookpipe_lk_wins(EXCLUDED.info_stamp, t.info_stamp) AS w,
                            hookpipe_lk_is_newer(hookpipe_lk_stamp(EXCLUDED.last_event_time,
                                                                   EXCLUDED.last_event_id),
                                                 t.last_event_time, t.last_event_id) AS n) AS c)
    )
    , sessions AS (
        INSERT INTO livekit_participant_sessions AS t
        SELECT g.parent, g.id, g.info ->> 'identity', g.info ->> 'name', g.status,
               coalesce(hookpipe_lk_joined_time(g.info), g.joined_at), g.left_at, g.info,
               g.info_stamp, hookpipe_lk_stamp_time(g.last), hookpipe_lk_stamp_id(g.last), now()
          FROM (SELECT it.parent, it.id,
                       (array_agg(it.obj ORDER BY it.info_stamp COLLATE "C" DESC))[1] AS info,
                       max(it.info_stamp COLLATE "C") AS info_stamp,
                       CASE WHEN bool_or(it.event = 'participant_connection_aborted') THEN 'aborted'
                            WHEN bool_or(it.event = 'participant_left') THEN 'left'
                            ELSE 'joined' END AS status,
                       min(it.event_time) FILTER (WHERE it.event = 'participant_joined') AS joined_at,
                       min(it.event_time) FILTER (WHERE it.event IN ('participant_left',
                                                    'participant_connection_aborted')) AS left_at,
                       max(it.stamp COLLATE "C") AS last
                  FROM items AS it
                 WHERE it.kind = 'participant'
                 GROUP BY it.parent, it.id) AS g
         ORDER BY g.parent, g.id
        ON CONFLICT (room_sid, participant_sid) DO UPDATE SET
            (identity, name, status, joined_at, left_at, info, info_stamp, last_event_time,
             last_event_id, updated_at)
          = (SELECT CASE WHEN c.w THEN EXCLUDED.identity ELSE t.identity END,
                    CASE WHEN c.w THEN EXCLUDED.name ELSE t.name END,
                    hookpipe_lk_advance('participant', t.status, EXCLUDED.status),
                    coalesce(hookpipe_lk_joined_time(CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END),
                             least(t.joined_at, EXCLUDED.joined_at)),
                    least(t.left_at, EXCLUDED.left_at),
                    CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END,
                    CASE WHEN c.w THEN EXCLUDED.info_stamp ELSE t.info_stamp END,
                    CASE WHEN c.n THEN EXCLUDED.last_event_time ELSE t.last_event_time END,
                    CASE WHEN c.n THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
                    now()
               FROM (SELECT hookpipe_lk_wins(EXCLUDED.info_stamp, t.info_stamp) AS w,
                            hookpipe_lk_is_newer(hookpipe_lk_stamp(EXCLUDED.last_event_time,
                                                                   EXCLUDED.last_event_id),
                                                 t.last_event_time, t.last_event_id) AS n) AS c)
    )
        -- Tracks: kind and source default to AUDIO and UNKNOWN, the protobuf zero
        -- values that LiveKit's JSON leaves out; the room and participant are
        -- those of the winning event, else of any.
    , tracks AS (
        INSERT INTO livekit_tracks AS t
        SELECT g.id, g.room_sid, g.participant_sid, g.identity,
               coalesce(g.info ->> 'type', 'AUDIO'), coalesce(g.info ->> 'source', 'UNKNOWN'),
               g.info ->> 'name', g.info ->> 'mimeType', g.status, g.published_at, g.unpublished_at,
               g.info, g.info_stamp, hookpipe_lk_stamp_time(g.last), hookpipe_lk_stamp_id(g.last),
               now()
          FROM (SELECT it.id,
                       (array_agg(it.obj ORDER BY it.info_stamp COLLATE "C" DESC))[1] AS info,
                       max(it.info_stamp COLLATE "C") AS info_stamp,
                       (array_agg(it.room_sid ORDER BY it.info_stamp COLLATE "C" DESC)
                            FILTER (WHERE it.room_sid IS NOT NULL))[1] AS room_sid,
                       (array_agg(it.participant_sid ORDER BY it.info_stamp COLLATE "C" DESC)
                            FILTER (WHERE it.participant_sid IS NOT NULL))[1] AS participant_sid,
                       (array_agg(it.identity ORDER BY it.info_stamp COLLATE "C" DESC)
                            FILTER (WHERE it.identity IS NOT NULL))[1] AS identity,
                       CASE WHEN bool_or(it.event = 'track_unpublished') THEN 'unpublished'
                            ELSE 'published' END AS status,
                       min(it.event_time) FILTER (WHERE it.event = 'track_published') AS published_at,
                       min(it.event_time) FILTER (WHERE it.event = 'track_unpublished')
                           AS unpublished_at,
                       max(it.stamp COLLATE "C") AS last
                  FROM items AS it
                 WHERE it.kind = 'track'
                 GROUP BY it.id) AS g
         ORDER BY g.id
        ON CONFLICT (track_sid) DO UPDATE SET
            (room_sid, participant_sid, participant_identity, kind, source, name, mime_type, status,
             published_at, unpublished_at, info, info_stamp, last_event_time, last_event_id,
             updated_at)
          = (SELECT CASE WHEN c.w THEN coalesce(EXCLUDED.room_sid, t.room_sid)
                         ELSE coalesce(t.room_sid, EXCLUDED.room_sid) END,
                    CASE WHEN c.w THEN coalesce(EXCLUDED.participant_sid, t.participant_sid)
                         ELSE coalesce(t.participant_sid, EXCLUDED.participant_sid) END,
                    CASE WHEN c.w THEN coalesce(EXCLUDED.participant_identity, t.participant_identity)
                         ELSE coalesce(t.participant_identity, EXCLUDED.participant_identity) END,
                    CASE WHEN c.w THEN EXCLUDED.kind ELSE t.kind END,
                    CASE WHEN c.w THEN EXCLUDED.source ELSE t.source END,
                    CASE WHEN c.w THEN EXCLUDED.name ELSE t.name END,
                    CASE WHEN c.w THEN EXCLUDED.mime_type ELSE t.mime_type END,
                    hookpipe_lk_advance('track', t.status, EXCLUDED.status),
                    least(t.published_at, EXCLUDED.published_at),
                    least(t.unpublished_at, EXCLUDED.unpublished_at),
                    CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END,
                    CASE WHEN c.w THEN EXCLUDED.info_stamp ELSE t.info_stamp END,
                    CASE WHEN c.n THEN EXCLUDED.last_event_time ELSE t.last_event_time END,
                    CASE WHEN c.n THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
                    now()
               FROM (SELECT hookpipe_lk_wins(EXCLUDED.info_stamp, t.info_stamp) AS w,
                            hookpipe_lk_is_newer(hookpipe_lk_stamp(EXCLUDED.last_event_time,
                                                                   EXCLUDED.last_event_id),
                                                 t.last_event_time, t.last_event_id) AS n) AS c)
    )
        -- Egress: the highest-ranked status any event reported (one absent from
        -- the JSON is EGRESS_STARTING, protobuf's zero value); rank and name are
        -- one sortable string so that max() picks it.
    , egress AS (
        INSERT INTO livekit_egress AS t
        SELECT g.id, g.info ->> 'roomId', g.info ->> 'roomName', g.status,
               coalesce(hookpipe_lk_ts(g.info -> 'startedAt'), g.started_at),
               coalesce(hookpipe_lk_ts(g.info -> 'endedAt'), g.ended_at),
               nullif(g.info ->> 'error', ''), g.info, g.info_stamp, hookpipe_lk_stamp_time(g.last),
               hookpipe_lk_stamp_id(g.last), now()
          FROM (SELECT it.id,
                       (array_agg(it.obj ORDER BY it.info_stamp COLLATE "C" DESC))[1] AS info,
                       max(it.info_stamp COLLATE "C") AS info_stamp,
                       substr(max(lpad(hookpipe_lk_rank('egress', s.status)::text, 3, '0')
                                  || s.status COLLATE "C"), 4) AS status,
                       min(it.event_time) FILTER (WHERE it.event = 'egress_started') AS started_at,
                       min(it.event_time) FILTER (WHERE it.event = 'egress_ended') AS ended_at,
                       max(it.stamp COLLATE "C") AS last
                  FROM items AS it
                 CROSS JOIN LATERAL (SELECT coalesce(it.obj ->> 'status', 'EGRESS_STARTING')
                                                AS status) AS s
                 WHERE it.kind = 'egress'
                 GROUP BY it.id) AS g
         ORDER BY g.id
        ON CONFLICT (egress_id) DO UPDATE SET
            (room_sid, room_name, status, started_at, ended_at, error, info, info_stamp,
             last_event_time, last_event_id, updated_at)
          = (SELECT CASE WHEN c.w THEN EXCLUDED.room_sid ELSE t.room_sid END,
                    CASE WHEN c.w THEN EXCLUDED.room_name ELSE t.room_name END,
                    hookpipe_lk_advance('egress', t.status, EXCLUDED.status),
                    coalesce(hookpipe_lk_ts(CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END
                                            -> 'startedAt'),
                             least(t.started_at, EXCLUDED.started_at)),
                    coalesce(hookpipe_lk_ts(CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END
                                            -> 'endedAt'),
                             least(t.ended_at, EXCLUDED.ended_at)),
                    CASE WHEN c.w THEN EXCLUDED.error ELSE t.error END,
                    CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END,
                    CASE WHEN c.w THEN EXCLUDED.info_stamp ELSE t.info_stamp END,
                    CASE WHEN c.n THEN EXCLUDED.last_event_time ELSE t.last_event_time END,
                    CASE WHEN c.n THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
                    now()
               FROM (SELECT hookpipe_lk_wins(EXCLUDED.info_stamp, t.info_stamp) AS w,
                            hookpipe_lk_is_newer(hookpipe_lk_stamp(EXCLUDED.last_event_time,
                                                                   EXCLUDED.last_event_id),
                                                 t.last_event_time, t.last_event_id) AS n) AS c)
    )
        -- Ingress: the newest event decides everything (see the top); a state
        -- status absent from the JSON is ENDPOINT_INACTIVE (protobuf's zero
        -- value), and a missing time falls back to that event's time.
    INSERT INTO livekit_ingress AS t
    SELECT n.id, n.obj ->> 'roomName', coalesce(n.state ->> 'status', 'ENDPOINT_INACTIVE'),
           coalesce(hookpipe_lk_ts(n.state -> 'startedAt'),
                    CASE WHEN n.event = 'ingress_started' THEN n.event_time END),
           coalesce(hookpipe_lk_ts(n.state -> 'endedAt'),
                    CASE WHEN n.event = 'ingress_ended' THEN n.event_time END),
           nullif(n.state ->> 'error', ''), n.obj, n.info_stamp, n.stamp_time, n.event_id, now()
      FROM (SELECT DISTINCT ON (it.id) it.*, it.obj -> 'state' AS state
              FROM items AS it
             WHERE it.kind = 'ingress'
             ORDER BY it.id, it.info_stamp COLLATE "C" DESC) AS n
     ORDER BY n.id
    ON CONFLICT (ingress_id) DO UPDATE SET
        (room_name, status, started_at, ended_at, error, info, info_stamp, last_event_time,
         last_event_id, updated_at)
      = (SELECT CASE WHEN c.w THEN EXCLUDED.room_name ELSE t.room_name END,
                CASE WHEN c.w THEN EXCLUDED.status ELSE t.status END,
                CASE WHEN c.w THEN EXCLUDED.started_at ELSE t.started_at END,
                CASE WHEN c.w THEN EXCLUDED.ended_at ELSE t.ended_at END,
                CASE WHEN c.w THEN EXCLUDED.error ELSE t.error END,
                CASE WHEN c.w THEN EXCLUDED.info ELSE t.info END,
                CASE WHEN c.w THEN EXCLUDED.info_stamp ELSE t.info_stamp END,
                CASE WHEN c.w THEN EXCLUDED.last_event_time ELSE t.last_event_time END,
                CASE WHEN c.w THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
                now()
           FROM (SELECT hookpipe_lk_wins(EXCLUDED.info_stamp, t.info_stamp) AS w,
                        hookpipe_lk_is_newer(hookpipe_lk_stamp(EXCLUDED.last_event_time,
                                                               EXCLUDED.last_event_id),
                                             t.last_event_time, t.last_event_id) AS n) AS c);
END
$$;
ALTER FUNCTION hookpipe_entity_apply(hookpipe_events[]) SET plan_cache_mode = force_generic_plan;

-- Large values (bodies, LiveKit objects, entity states) are compressed with
-- lz4 where the server has it (PostgreSQL 14+ built with lz4): pglz was a
-- few percent of a batch's time. Only new values are affected; a server
-- without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE hookpipe_events ALTER COLUMN body_json SET COMPRESSION lz4,
                                ALTER COLUMN body_raw SET COMPRESSION lz4,
                                ALTER COLUMN headers SET COMPRESSION lz4;
    ALTER TABLE hookpipe_entities ALTER COLUMN state SET COMPRESSION lz4;
    ALTER TABLE livekit_rooms ALTER COLUMN info SET COMPRESSION lz4;
    ALTER TABLE livekit_participant_sessions ALTER COLUMN info SET COMPRESSION lz4;
    ALTER TABLE livekit_tracks ALTER COLUMN info SET COMPRESSION lz4;
    ALTER TABLE livekit_egress ALTER COLUMN info SET COMPRESSION lz4;
    ALTER TABLE livekit_ingress ALTER COLUMN info SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: large values stay compressed with pglz';
END
$$;
