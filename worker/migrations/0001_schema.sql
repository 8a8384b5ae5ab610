-- 0001_schema: the tables the worker writes.
--
-- hookpipe_events is the ledger: one row per event ever applied, keyed by
-- (source, event_id). Inserting into it with ON CONFLICT DO NOTHING is the
-- deduplication, in the same transaction as the handler's state change, so
-- an event's effects happen exactly once or not at all.
--
-- Everything else is derived state, rebuilt from the ledger by
-- hookpipe_reprocess(): hookpipe_entities for the "entity" handler and the
-- livekit_* tables for the "livekit" handler.
--
-- Names are never schema-qualified: the worker (and the tests, in a scratch
-- schema) choose the schema with search_path. The worker runs each file in
-- its own transaction and records it in hookpipe_schema_migrations.

CREATE TABLE hookpipe_events (
    source           text        NOT NULL,
    event_id         text        NOT NULL,
    event_type       text,
    -- The provider's time for the event, when the source extracts one.
    event_time       timestamptz,
    -- When the gateway had the whole request.
    received_at      timestamptz NOT NULL,
    -- The body exactly as received: jsonb when it is JSON, else the bytes.
    body_json        jsonb,
    body_raw         bytea,
    headers          jsonb,
    content_type     text,
    -- The Kafka key (hence the ordering unit), else the event id.
    event_key        text,
    -- For the entity handler: the record type the event belongs to.
    entity_type      text,
    kafka_topic      text        NOT NULL,
    kafka_partition  int         NOT NULL,
    kafka_offset     bigint      NOT NULL,
    envelope_version int         NOT NULL,
    handler          text        NOT NULL,
    processed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, event_id),
    CONSTRAINT hookpipe_events_one_body CHECK ((body_json IS NULL) <> (body_raw IS NULL)),
    CONSTRAINT hookpipe_events_handler CHECK (handler IN ('store', 'entity', 'livekit'))
);

CREATE INDEX hookpipe_events_received_at ON hookpipe_events (received_at);
CREATE INDEX hookpipe_events_kafka ON hookpipe_events (kafka_topic, kafka_partition, kafka_offset);

-- Newest state per record for sources with handler "entity".
CREATE TABLE hookpipe_entities (
    source         text        NOT NULL,
    entity_type    text        NOT NULL,
    entity_id      text        NOT NULL,
    -- The body of the newest event, as jsonb.
    state          jsonb       NOT NULL,
    -- The newest event's time (its received_at when it had none) and id:
    -- an event replaces state iff its (time, id) is greater.
    event_time     timestamptz NOT NULL,
    event_id       text        NOT NULL,
    -- +1 for every newly applied event of this record, whether or not it
    -- replaced state: the proof that each event was applied exactly once.
    events_applied bigint      NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, entity_type, entity_id)
) WITH (fillfactor = 70);

-- LiveKit state (handler "livekit"). The tables are global, not per source.
--
-- Every object row keeps `info`, the object as LiveKit sent it (camelCase)
-- in the winning event, and `info_stamp`, that event's stamp: "1 " for a
-- full object or "0 " for the partial room and participant of track
-- events, then the event's time in microseconds and its id. The greatest
-- stamp wins, so a partial object never replaces a full one, an older
-- event never replaces a newer one, and the result does not depend on
-- delivery order. Lifecycle columns only move forward (0003_livekit.sql).

CREATE TABLE livekit_rooms (
    room_sid        text        PRIMARY KEY,
    room_name       text,
    status          text        NOT NULL CHECK (status IN ('started', 'finished')),
    started_at      timestamptz,
    finished_at     timestamptz,
    info            jsonb       NOT NULL,
    info_stamp      text        NOT NULL,
    last_event_time timestamptz,
    last_event_id   text,
    updated_at      timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);
CREATE INDEX livekit_rooms_name ON livekit_rooms (room_name);

CREATE TABLE livekit_participant_sessions (
    room_sid        text        NOT NULL,
    participant_sid text        NOT NULL,
    identity        text,
    name            text,
    status          text        NOT NULL CHECK (status IN ('joined', 'left', 'aborted')),
    joined_at       timestamptz,
    left_at         timestamptz,
    info            jsonb       NOT NULL,
    info_stamp      text        NOT NULL,
    last_event_time timestamptz,
    last_event_id   text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_sid, participant_sid)
) WITH (fillfactor = 70);
CREATE INDEX livekit_participant_sessions_identity
    ON livekit_participant_sessions (identity);

CREATE TABLE livekit_tracks (
    track_sid            text        PRIMARY KEY,
    room_sid             text,
    participant_sid      text,
    participant_identity text,
    -- LiveKit's TrackType (AUDIO, VIDEO, DATA) and TrackSource (CAMERA…).
    kind                 text,
    source               text,
    name                 text,
    mime_type            text,
    status               text        NOT NULL CHECK (status IN ('published', 'unpublished')),
    published_at         timestamptz,
    unpublished_at       timestamptz,
    info                 jsonb       NOT NULL,
    info_stamp           text        NOT NULL,
    last_event_time      timestamptz,
    last_event_id        text,
    updated_at           timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);
CREATE INDEX livekit_tracks_room ON livekit_tracks (room_sid, participant_sid);

CREATE TABLE livekit_egress (
    egress_id       text        PRIMARY KEY,
    room_sid        text,
    room_name       text,
    -- LiveKit's EgressStatus name (EGRESS_STARTING … EGRESS_LIMIT_REACHED).
    status          text        NOT NULL,
    started_at      timestamptz,
    ended_at        timestamptz,
    error           text,
    info            jsonb       NOT NULL,
    info_stamp      text        NOT NULL,
    last_event_time timestamptz,
    last_event_id   text,
    updated_at      timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);
CREATE INDEX livekit_egress_room ON livekit_egress (room_sid);

CREATE TABLE livekit_ingress (
    ingress_id      text        PRIMARY KEY,
    room_name       text,
    -- LiveKit's IngressState.Status name (ENDPOINT_INACTIVE … ENDPOINT_COMPLETE).
    status          text        NOT NULL,
    started_at      timestamptz,
    ended_at        timestamptz,
    error           text,
    info            jsonb       NOT NULL,
    info_stamp      text        NOT NULL,
    last_event_time timestamptz,
    last_event_id   text,
    updated_at      timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);
