-- bench/pgbench/source.sql: turns the records bench/pgbench-ingest read
-- from Kafka (pgb_raw: partition, offset, body) into pgb_source, one row
-- per record in hookpipe_events' columns, as the gateway's envelope and the
-- worker give them for deploy/local/config.json's livekit source (event_id
-- /id, event_type /event, key /room/sid, event_time /createdAt; the request
-- headers hp-fill-livekit records). seq numbers the records in production
-- order; the duplicates stay in, as in the topic. psql variable: topic.
CREATE TABLE pgb_source AS
SELECT (row_number() OVER (ORDER BY r.kafka_offset, r.kafka_partition) - 1)::bigint AS seq,
       'livekit'::text AS source,
       r.body::jsonb ->> 'id' AS event_id,
       r.body::jsonb ->> 'event' AS event_type,
       to_timestamp((r.body::jsonb ->> 'createdAt')::numeric) AS event_time,
       now() AS received_at,
       r.body::jsonb AS body_json,
       jsonb_build_object('host', '127.0.0.1:8080', 'user-agent', 'Go-http-client/1.1',
                          'content-length', octet_length(r.body)::text,
                          'content-type', 'application/webhook+json',
                          'accept-encoding', 'gzip') AS headers,
       'application/webhook+json'::text AS content_type,
       coalesce(r.body::jsonb -> 'room' ->> 'sid', r.body::jsonb ->> 'id') AS event_key,
       :'topic'::text AS kafka_topic,
       r.kafka_partition,
       r.kafka_offset
  FROM pgb_raw AS r;
CREATE UNIQUE INDEX pgb_source_seq ON pgb_source (seq);
DROP TABLE pgb_raw;
CREATE SEQUENCE pgb_batch MINVALUE 1;
ANALYZE pgb_source;
