-- 0002_ingest: the one call the worker makes per batch, and reprocessing.
--
--   SELECT idx, inserted FROM hookpipe_ingest_batch($1::jsonb)
--
-- $1 is a JSON array, one object per Kafka record, in the order to apply
-- (offset order within each partition):
--
--   {"source": "livekit", "event_id": "EV_1", "event_type": "room_started" | null,
--    "event_time_ms": 1700000000000 | null, "received_at_ms": 1700000000123,
--    "content_type": "application/webhook+json" | null, "headers": {…} | null,
--    "body": "<the raw body, when it is JSON>" | "body_b64": "<base64, when not>",
--    "topic": "webhooks.raw", "partition": 3, "offset": 12345, "envelope_version": 1,
--    "handler": "store" | "entity" | "livekit", "key": "RM_x" | null,
--    "entity_type": "customer" | null}
--
-- "key" null means the event id; "entity_type" null means the source's name
-- (entity handler only). Every element is stored in hookpipe_events with
-- ON CONFLICT DO NOTHING (one set-based statement); the handlers then run
-- only on the events that were new. Both handlers are order-independent
-- (the newest event wins by its own time, lifecycles only move forward), so
-- applying them set-based gives exactly what applying them one by one in
-- array order would. The answer has one row per element, in order: idx
-- (0-based) and inserted (false for a duplicate, including a repeat within
-- the batch, whose first occurrence counts as the new one).
--
-- Poison: a malformed element, a body that is not valid jsonb, a handler that
-- needs JSON (entity, livekit) given a body that is not JSON, or a body a
-- handler cannot read raises SQLSTATE 22H01 (class 22, data exception) with
-- "event <source>/<event_id>: <what is wrong>". The statement aborts with no
-- effect at all; the worker then re-runs the batch one element at a time to
-- find the poison record and parks it in the dead-letter topic.
--
-- Performance: set-based throughout — one INSERT … SELECT for the batch,
-- one upsert per table for the handlers (0003_livekit.sql explains why that
-- equals applying the events one by one in order). No per-element
-- subtransaction: one EXCEPTION block per call (to name the culprit in the
-- error) costs one subtransaction per batch; the per-element search for a
-- culprit runs only once the batch has failed.

-- Why an element of a batch can't be stored, or NULL when it can. Checks the
-- shape only; values that fail to convert (a body that is not valid jsonb,
-- bad base64…) are caught where they are converted.
CREATE FUNCTION hookpipe_batch_problem(el jsonb) RETURNS text
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
        WHEN (coalesce(jsonb_typeof(el -> 'body'), 'null') = 'null')
             = (coalesce(jsonb_typeof(el -> 'body_b64'), 'null') = 'null') THEN
            'exactly one of body and body_b64 must be given'
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
        WHEN el ->> 'handler' IN ('entity', 'livekit')
             AND coalesce(jsonb_typeof(el -> 'body'), 'null') = 'null' THEN
            format('handler %s needs a JSON body, and this body is not JSON', el ->> 'handler')
    END
$$;

-- The elements of a batch as hookpipe_events values, with their 1-based
-- position (ord). This is where text becomes jsonb, base64 becomes bytea and
-- milliseconds become timestamps, so a value that does not convert raises a
-- data exception here. Used once per batch, and per element only to find the
-- culprit of a failed batch.
CREATE FUNCTION hookpipe_batch_rows(p_batch jsonb)
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
           (e.el ->> 'body')::jsonb,
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

-- The "entity" handler for a set of newly stored events (others are
-- skipped): per record (source, entity_type, key) the newest event by
-- (coalesce(event_time, received_at), event_id) replaces the state if it is
-- newer than the stored one, and events_applied grows by the number of
-- events. Set-based: the events of one record are reduced first, so several
-- in one batch are one upsert, and the order within the set does not matter.
-- (PL/pgSQL so that the plan is cached; a SQL function would be planned at
-- every call.)
CREATE FUNCTION hookpipe_entity_apply(p_events hookpipe_events[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hookpipe_entities AS t
           (source, entity_type, entity_id, state, event_time, event_id, events_applied,
            updated_at)
    SELECT DISTINCT ON (e.source, e.entity_type, e.event_key)
           e.source, e.entity_type, e.event_key, e.body_json,
           coalesce(e.event_time, e.received_at), e.event_id,
           count(*) OVER (PARTITION BY e.source, e.entity_type, e.event_key), now()
      FROM unnest(p_events) AS e
     WHERE e.handler = 'entity'
     ORDER BY e.source, e.entity_type, e.event_key,
              coalesce(e.event_time, e.received_at) DESC, e.event_id COLLATE "C" DESC
    ON CONFLICT (source, entity_type, entity_id) DO UPDATE SET
        state = CASE WHEN (EXCLUDED.event_time, EXCLUDED.event_id COLLATE "C")
                          > (t.event_time, t.event_id COLLATE "C")
                     THEN EXCLUDED.state ELSE t.state END,
        event_id = CASE WHEN (EXCLUDED.event_time, EXCLUDED.event_id COLLATE "C")
                             > (t.event_time, t.event_id COLLATE "C")
                        THEN EXCLUDED.event_id ELSE t.event_id END,
        event_time = greatest(t.event_time, EXCLUDED.event_time),
        events_applied = t.events_applied + EXCLUDED.events_applied,
        updated_at = now();
END
$$;

-- Stores a well-formed batch and applies the handlers of the new events;
-- returns the 1-based positions of the elements that were new. Errors are
-- raised as they come: hookpipe_ingest_batch names the culprit.
CREATE FUNCTION hookpipe_ingest_core(p_batch jsonb) RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE
    v_ords   int[];
    v_events hookpipe_events[];
BEGIN
    -- Only the first occurrence of an event in the batch is offered to the
    -- insert, so a repeat within the batch is a duplicate, and the inserted
    -- rows map back to their positions.
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
           coalesce(array_agg(i.ev ORDER BY f.ord), '{}')
      INTO v_ords, v_events
      FROM ins AS i
      JOIN firsts AS f ON f.source = (i.ev).source AND f.event_id = (i.ev).event_id;

    -- Both handlers are set-based and order-independent (see their
    -- comments), which is the same as applying them in array order.
    PERFORM hookpipe_entity_apply(v_events);
    PERFORM hookpipe_livekit_apply_events(v_events);
    RETURN v_ords;
END
$$;

-- After a batch failed: the first element that fails when the batch is
-- applied one element at a time, as "event <source>/<event_id>: <error>",
-- or NULL if none does (the failure needed several elements together). Runs
-- only on the error path: one subtransaction per element; its effects are
-- undone with the failed statement.
CREATE FUNCTION hookpipe_batch_culprit(p_batch jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_el jsonb;
BEGIN
    FOR v_el IN SELECT value FROM jsonb_array_elements(p_batch) LOOP
        BEGIN
            PERFORM hookpipe_ingest_core(jsonb_build_array(v_el));
        EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
            IF SQLSTATE = '22H01' AND SQLERRM LIKE 'event %' THEN
                RETURN SQLERRM;
            END IF;
            RETURN format('event %s/%s: %s', v_el ->> 'source', v_el ->> 'event_id', SQLERRM);
        END;
    END LOOP;
    RETURN NULL;
END
$$;

-- The worker's call: stores a batch, deduplicated, and applies the handlers
-- of the new events, in one statement of the caller's transaction. See the
-- top of this file for the contract. The EXCEPTION block (one
-- subtransaction per call) only serves to name the culprit of a failure.
CREATE FUNCTION hookpipe_ingest_batch(p_batch jsonb)
RETURNS TABLE (idx int, inserted boolean)
LANGUAGE plpgsql AS $$
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

    BEGIN
        v_ords := hookpipe_ingest_core(p_batch);
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
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

-- Rebuilds the derived state of one source from the stored events, for the
-- worker's --reprocess mode (after a fix to a handler, say): deletes the
-- source's hookpipe_entities rows and, when the source's events are handled
-- by "livekit", every livekit_* row (those tables are global), then applies
-- the handlers again to the stored events in (received_at, kafka_partition,
-- kafka_offset) order, a chunk at a time — for livekit, the events of every
-- livekit-handled source. Returns the number of events applied. Running it
-- twice gives the same state, and events_applied equals the number of
-- stored events of each record.
--
-- It locks hookpipe_events against writes until the caller commits, so
-- workers wait rather than apply events into state being rebuilt.
CREATE FUNCTION hookpipe_reprocess(p_source text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_livekit boolean;
    v_count   bigint := 0;
    v_chunk   hookpipe_events[] := '{}';
    v_ev      hookpipe_events;
    v_state   text;
    v_msg     text;
BEGIN
    LOCK TABLE hookpipe_events IN SHARE MODE;

    v_livekit := EXISTS (SELECT 1 FROM hookpipe_events AS e
                          WHERE e.source = p_source AND e.handler = 'livekit');
    DELETE FROM hookpipe_entities AS t WHERE t.source = p_source;
    IF v_livekit THEN
        DELETE FROM livekit_tracks;
        DELETE FROM livekit_participant_sessions;
        DELETE FROM livekit_rooms;
        DELETE FROM livekit_egress;
        DELETE FROM livekit_ingress;
    END IF;

    BEGIN
        FOR v_ev IN
            SELECT * FROM hookpipe_events AS e
             WHERE (e.source = p_source AND e.handler = 'entity')
                OR (v_livekit AND e.handler = 'livekit')
             ORDER BY e.received_at, e.kafka_partition, e.kafka_offset, e.source, e.event_id
        LOOP
            v_chunk := v_chunk || v_ev;
            IF cardinality(v_chunk) >= 1000 THEN
                PERFORM hookpipe_entity_apply(v_chunk);
                PERFORM hookpipe_livekit_apply_events(v_chunk);
                v_count := v_count + cardinality(v_chunk);
                v_chunk := '{}';
            END IF;
        END LOOP;
        PERFORM hookpipe_entity_apply(v_chunk);
        PERFORM hookpipe_livekit_apply_events(v_chunk);
        v_count := v_count + cardinality(v_chunk);
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
        RAISE EXCEPTION USING ERRCODE = '22H01',
            MESSAGE = format('reprocess %s: %s', p_source, v_msg),
            DETAIL = format('SQLSTATE %s', v_state);
    END;
    RETURN v_count;
END
$$;
