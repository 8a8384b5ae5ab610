-- bench/pgbench/ingest.sql: one transaction = one batch of :batch LiveKit
-- events, stored as in ledger.sql and then given to the livekit handler
-- (hookpipe_livekit_apply_events, worker/migrations/0003_livekit.sql) —
-- only the events that were new, as hookpipe_ingest_core does. This is the
-- database work of one worker batch without the JSON document the worker
-- sends (its parsing, hookpipe_batch_rows) and without the round trips.
WITH b AS (
    SELECT nextval('pgb_batch') - 1 AS n
), rows AS (
    SELECT s.*
      FROM pgb_source AS s, b
     WHERE s.seq >= b.n * :batch::bigint AND s.seq < (b.n + 1) * :batch::bigint
), firsts AS (
    SELECT DISTINCT ON (r.source, r.event_id) r.*
      FROM rows AS r
     ORDER BY r.source, r.event_id, r.seq
), ins AS (
    INSERT INTO hookpipe_events AS ev
           (source, event_id, event_type, event_time, received_at, body_json, body_raw,
            headers, content_type, event_key, entity_type, kafka_topic, kafka_partition,
            kafka_offset, envelope_version, handler)
    SELECT f.source, f.event_id, f.event_type, f.event_time, f.received_at, f.body_json,
           NULL, f.headers, f.content_type, f.event_key, NULL, f.kafka_topic,
           f.kafka_partition, f.kafka_offset, 1, 'livekit'
      FROM firsts AS f
     ORDER BY f.source, f.event_id
    ON CONFLICT (source, event_id) DO NOTHING
    RETURNING ev
)
SELECT hookpipe_livekit_apply_events(coalesce(array_agg(i.ev), '{}'))
  FROM ins AS i;
