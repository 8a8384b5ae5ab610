-- bench/pgbench/ledger.sql: one transaction = one batch of :batch LiveKit
-- events stored in the ledger, deduplicated, exactly as
-- hookpipe_ingest_core stores them (worker/migrations/0002_ingest.sql):
-- the first occurrence of an event in the batch is offered to one
-- set-based INSERT … ON CONFLICT (source, event_id) DO NOTHING, in lock
-- order. Without the handler: the database's ceiling for the ledger alone.
--
-- The batches are taken in turn from pgb_source (made by bench/pgbench-ingest
-- from the records hp-fill-livekit produced, already in hookpipe_events'
-- columns), so the document parsing the worker's call does is not measured.
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
    RETURNING 1
)
SELECT count(*) FROM ins;
