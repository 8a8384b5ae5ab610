-- 0003_livekit: the "livekit" handler — LiveKit webhooks into the livekit_*
-- tables (rooms, participant sessions, tracks, egress, ingress).
--
-- A body is a LiveKit WebhookEvent in protobuf JSON (camelCase): event, id,
-- createdAt (UNIX seconds, a string or a number), and room, participant,
-- track, egressInfo or ingressInfo. Webhooks arrive late, twice, or out of
-- order (LiveKit sends them concurrently; replays redeliver them), so every
-- rule here is order-independent: the state after a set of events is the
-- same whatever the order they came in.
--
-- * Each event is stamped: its time (createdAt; for egress and ingress the
--   object's own updatedAt, in ns) to the microsecond, then its id.
-- * info is the object of the winning event: a full object beats a partial
--   one (the room and participant of track_* events carry only sid, name
--   and identity), then the newer stamp wins. So a partial object never
--   erases what a full one said, and an old event delivered late never
--   overwrites a newer one. A full object replaces the older one whole:
--   protobuf JSON leaves out zero values, so a key a newer object lacks is
--   zero now (numParticipants of an empty room), not unknown.
-- * descriptive columns (room_name, identity, kind, mime_type…) are read
--   from info.
-- * lifecycles only move forward: a finished room is never started again, a
--   session that left or aborted is never joined again, an unpublished
--   track is never published again, an egress that ended stays ended.
--   Ingress is the exception: an ingress is reusable, so its status, times
--   and error are those of its newest event (a newer ingress_started after
--   ingress_ended is a new run; an older one changes nothing).
-- * times come from the object when it has them (room.creationTime,
--   participant.joinedAt, egress startedAt/endedAt, ingress state times),
--   else from the earliest event that announced them (a late room_started
--   still fills started_at). The unit of a number is told by its size (s,
--   ms, µs, ns): LiveKit sends seconds for creationTime and joinedAt,
--   nanoseconds for egress and ingress times.
--
-- Because the rules are order-independent they are applied set-based: the
-- events of a batch are reduced per object with aggregates, and each object
-- is one upsert whose conflict branch combines the stored row with the
-- batch's by the same rules — one statement per table per batch, no loop
-- over events, no per-key JSON work.
--
-- Unknown event types and unknown fields are stored in hookpipe_events and
-- otherwise ignored (unknown fields stay in info). A body that is not a
-- JSON object, a known event without the id of its object, or a field of
-- the wrong type (an object that is not one, a time that is not a time) is
-- poison: SQLSTATE 22H01, naming the event.

-- A LiveKit object extracted from an event: kind (room, participant, track,
-- egress, ingress), id (its sid / egressId / ingressId) and parent (the room
-- sid of a participant session), the track's room and participant, the
-- event's name, time and id, the stamp that orders the events of the object
-- (see hookpipe_lk_stamp), the stamp its object competes with for info ("1 "
-- or "0 " for a full or partial object, then the stamp), and the object.
CREATE TYPE hookpipe_lk_item AS (
    kind            text,
    id              text,
    parent          text,
    room_sid        text,
    participant_sid text,
    identity        text,
    event           text,
    event_time      timestamptz,
    stamp_time      timestamptz,
    event_id        text,
    stamp           text,
    info_stamp      text,
    obj             jsonb
);

-- Whether p_event is one of the webhook events the handler applies.
CREATE FUNCTION hookpipe_lk_known(p_event text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_event IN ('room_started', 'room_finished', 'participant_joined',
                       'participant_left', 'participant_connection_aborted',
                       'track_published', 'track_unpublished', 'egress_started',
                       'egress_updated', 'egress_ended', 'ingress_started', 'ingress_ended')
$$;

-- Whether v can be read as a time by hookpipe_lk_ts: absent, null, a
-- number, or a string that is empty, numeric, or starts like RFC 3339.
CREATE FUNCTION hookpipe_lk_time_ok(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE coalesce(jsonb_typeof(v), 'null')
        WHEN 'null' THEN true
        WHEN 'number' THEN true
        WHEN 'string' THEN (v #>> '{}')
                           ~ '^\s*(-?[0-9]+(\.[0-9]*)?|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ].*)?\s*$'
        ELSE false
    END
$$;

-- A UNIX time in s, ms, µs or ns, told apart by size; NULL for 0
-- (protobuf's "unset").
CREATE FUNCTION hookpipe_lk_epoch(n numeric) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN n <> 0 THEN
        to_timestamp((n / CASE WHEN abs(n) < 1e11 THEN 1
                               WHEN abs(n) < 1e14 THEN 1e3
                               WHEN abs(n) < 1e17 THEN 1e6
                               ELSE 1e9 END)::float8)
    END
$$;

-- A time from a JSON value that hookpipe_lk_time_ok accepted: a number or
-- numeric string (hookpipe_lk_epoch), or an RFC 3339 string; NULL when
-- absent, null or "".
CREATE FUNCTION hookpipe_lk_ts(v jsonb) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN jsonb_typeof(v) = 'number'
             OR (jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^\s*-?[0-9]+(\.[0-9]*)?\s*$')
            THEN hookpipe_lk_epoch((v #>> '{}')::numeric)
        WHEN jsonb_typeof(v) = 'string' AND btrim(v #>> '{}') <> ''
            THEN (v #>> '{}')::timestamptz
    END
$$;

-- The stamp that orders the events of an object: the time in microseconds
-- (fixed width) and the event id, compared with COLLATE "C". (time, id)
-- does not depend on the order of delivery, so neither does the state.
CREATE FUNCTION hookpipe_lk_stamp(t timestamptz, id text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT lpad(greatest(floor(extract(epoch FROM t) * 1000000), 0)::bigint::text, 20, '0')
           || ' ' || id
$$;

-- The time and the event id a stamp was made of.
CREATE FUNCTION hookpipe_lk_stamp_time(p_stamp text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_timestamp(substr(p_stamp, 1, 20)::numeric / 1000000)
$$;

CREATE FUNCTION hookpipe_lk_stamp_id(p_stamp text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substr(p_stamp, 22)
$$;

-- Whether an event stamped p_stamp is newer than the last one applied to an
-- object (p_last_time, p_last_id; NULL id: none yet).
CREATE FUNCTION hookpipe_lk_is_newer(p_stamp text, p_last_time timestamptz, p_last_id text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p_last_id IS NULL
        OR p_stamp COLLATE "C" > hookpipe_lk_stamp(p_last_time, p_last_id) COLLATE "C"
$$;

-- Whether info stamped p_new replaces info stamped p_old.
CREATE FUNCTION hookpipe_lk_wins(p_new text, p_old text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_new COLLATE "C" > p_old COLLATE "C"
$$;

-- The type of a JSON value for messages and checks: 'null' when absent.
CREATE FUNCTION hookpipe_lk_type(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_typeof(v), 'null')
$$;

-- Why the livekit handler cannot apply body b, or NULL when it can (or
-- when the event is unknown, which is ignored). Checks the body is an
-- object, that the objects a known event uses are objects, that their ids
-- are present strings, and that the time fields the handler reads are
-- times. Nested by event family so that an event pays only for its checks.
CREATE FUNCTION hookpipe_lk_problem(b jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN hookpipe_lk_type(b) <> 'object' THEN
            format('a LiveKit webhook must be a JSON object, this body is a JSON %s',
                   hookpipe_lk_type(b))
        WHEN hookpipe_lk_type(b -> 'event') <> 'string' OR NOT hookpipe_lk_known(b ->> 'event') THEN
            NULL
        WHEN NOT hookpipe_lk_time_ok(b -> 'createdAt') THEN
            'createdAt is not a time'
        WHEN b ->> 'event' IN ('egress_started', 'egress_updated', 'egress_ended') THEN CASE
            WHEN hookpipe_lk_type(b -> 'egressInfo') NOT IN ('object', 'null') THEN
                format('egressInfo is a JSON %s, not an object',
                       hookpipe_lk_type(b -> 'egressInfo'))
            WHEN hookpipe_lk_type(b #> '{egressInfo,egressId}') NOT IN ('string', 'null') THEN
                format('egressInfo.egressId is a JSON %s, not a string',
                       hookpipe_lk_type(b #> '{egressInfo,egressId}'))
            WHEN coalesce(b #>> '{egressInfo,egressId}', '') = '' THEN
                format('%s without egressInfo.egressId', b ->> 'event')
            WHEN hookpipe_lk_type(b #> '{egressInfo,status}') NOT IN ('string', 'null') THEN
                format('egressInfo.status is a JSON %s, not a string',
                       hookpipe_lk_type(b #> '{egressInfo,status}'))
            WHEN NOT (hookpipe_lk_time_ok(b #> '{egressInfo,startedAt}')
                      AND hookpipe_lk_time_ok(b #> '{egressInfo,endedAt}')
                      AND hookpipe_lk_time_ok(b #> '{egressInfo,updatedAt}')) THEN
                'egressInfo.startedAt, endedAt or updatedAt is not a time'
            END
        WHEN b ->> 'event' IN ('ingress_started', 'ingress_ended') THEN CASE
            WHEN hookpipe_lk_type(b -> 'ingressInfo') NOT IN ('object', 'null') THEN
                format('ingressInfo is a JSON %s, not an object',
                       hookpipe_lk_type(b -> 'ingressInfo'))
            WHEN hookpipe_lk_type(b #> '{ingressInfo,ingressId}') NOT IN ('string', 'null') THEN
                format('ingressInfo.ingressId is a JSON %s, not a string',
                       hookpipe_lk_type(b #> '{ingressInfo,ingressId}'))
            WHEN coalesce(b #>> '{ingressInfo,ingressId}', '') = '' THEN
                format('%s without ingressInfo.ingressId', b ->> 'event')
            WHEN hookpipe_lk_type(b #> '{ingressInfo,state}') NOT IN ('object', 'null') THEN
                format('ingressInfo.state is a JSON %s, not an object',
                       hookpipe_lk_type(b #> '{ingressInfo,state}'))
            WHEN hookpipe_lk_type(b #> '{ingressInfo,state,status}') NOT IN ('string', 'null') THEN
                format('ingressInfo.state.status is a JSON %s, not a string',
                       hookpipe_lk_type(b #> '{ingressInfo,state,status}'))
            WHEN NOT (hookpipe_lk_time_ok(b #> '{ingressInfo,state,startedAt}')
                      AND hookpipe_lk_time_ok(b #> '{ingressInfo,state,endedAt}')
                      AND hookpipe_lk_time_ok(b #> '{ingressInfo,state,updatedAt}')) THEN
                'ingressInfo.state.startedAt, endedAt or updatedAt is not a time'
            END
        ELSE CASE -- room_*, participant_*, track_*
            WHEN hookpipe_lk_type(b -> 'room') NOT IN ('object', 'null') THEN
                format('room is a JSON %s, not an object', hookpipe_lk_type(b -> 'room'))
            WHEN hookpipe_lk_type(b #> '{room,sid}') NOT IN ('string', 'null') THEN
                format('room.sid is a JSON %s, not a string', hookpipe_lk_type(b #> '{room,sid}'))
            WHEN coalesce(b #>> '{room,sid}', '') = ''
                 AND b ->> 'event' NOT IN ('track_published', 'track_unpublished') THEN
                format('%s without room.sid', b ->> 'event')
            WHEN NOT (hookpipe_lk_time_ok(b #> '{room,creationTime}')
                      AND hookpipe_lk_time_ok(b #> '{room,creationTimeMs}')) THEN
                'room.creationTime is not a time'
            WHEN b ->> 'event' IN ('room_started', 'room_finished') THEN
                NULL
            WHEN hookpipe_lk_type(b -> 'participant') NOT IN ('object', 'null') THEN
                format('participant is a JSON %s, not an object',
                       hookpipe_lk_type(b -> 'participant'))
            WHEN hookpipe_lk_type(b #> '{participant,sid}') NOT IN ('string', 'null') THEN
                format('participant.sid is a JSON %s, not a string',
                       hookpipe_lk_type(b #> '{participant,sid}'))
            WHEN hookpipe_lk_type(b #> '{participant,identity}') NOT IN ('string', 'null') THEN
                format('participant.identity is a JSON %s, not a string',
                       hookpipe_lk_type(b #> '{participant,identity}'))
            WHEN coalesce(b #>> '{participant,sid}', '') = ''
                 AND b ->> 'event' NOT IN ('track_published', 'track_unpublished') THEN
                format('%s without participant.sid', b ->> 'event')
            WHEN NOT (hookpipe_lk_time_ok(b #> '{participant,joinedAt}')
                      AND hookpipe_lk_time_ok(b #> '{participant,joinedAtMs}')) THEN
                'participant.joinedAt is not a time'
            WHEN b ->> 'event' NOT IN ('track_published', 'track_unpublished') THEN
                NULL
            WHEN hookpipe_lk_type(b -> 'track') NOT IN ('object', 'null') THEN
                format('track is a JSON %s, not an object', hookpipe_lk_type(b -> 'track'))
            WHEN hookpipe_lk_type(b #> '{track,sid}') NOT IN ('string', 'null') THEN
                format('track.sid is a JSON %s, not a string', hookpipe_lk_type(b #> '{track,sid}'))
            WHEN coalesce(b #>> '{track,sid}', '') = '' THEN
                format('%s without track.sid', b ->> 'event')
            END
    END
$$;

-- The rank of a lifecycle status: a status only ever moves to a higher
-- rank. A participant session that aborted (LiveKit: the connection never
-- became usable) is the most specific ending. Egress follows LiveKit's
-- EgressStatus, its endings ranked among themselves only so that the result
-- is deterministic; an unknown status ranks lowest.
CREATE FUNCTION hookpipe_lk_rank(p_kind text, p_status text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_kind
        WHEN 'room' THEN
            CASE p_status WHEN 'started' THEN 1 WHEN 'finished' THEN 2 ELSE 0 END
        WHEN 'participant' THEN
            CASE p_status WHEN 'joined' THEN 1 WHEN 'left' THEN 2 WHEN 'aborted' THEN 3 ELSE 0 END
        WHEN 'track' THEN
            CASE p_status WHEN 'published' THEN 1 WHEN 'unpublished' THEN 2 ELSE 0 END
        WHEN 'egress' THEN
            CASE p_status
                WHEN 'EGRESS_STARTING' THEN 1 WHEN 'EGRESS_ACTIVE' THEN 2
                WHEN 'EGRESS_ENDING' THEN 3 WHEN 'EGRESS_COMPLETE' THEN 4
                WHEN 'EGRESS_LIMIT_REACHED' THEN 5 WHEN 'EGRESS_ABORTED' THEN 6
                WHEN 'EGRESS_FAILED' THEN 7 ELSE 0 END
        ELSE 0
    END
$$;

-- The later of two statuses of a lifecycle: the higher rank, then (between
-- unknown statuses) the greater name. NULL is no status yet.
CREATE FUNCTION hookpipe_lk_advance(p_kind text, p_old text, p_new text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN p_old IS NULL THEN p_new
        WHEN p_new IS NULL THEN p_old
        WHEN (hookpipe_lk_rank(p_kind, p_new), p_new COLLATE "C")
             > (hookpipe_lk_rank(p_kind, p_old), p_old COLLATE "C") THEN p_new
        ELSE p_old
    END
$$;

-- The objects of the livekit-handled events among p_events, one item per
-- object an event carries: room_*, participant_* and track_* events carry
-- their room (when it has a sid), participant_* and track_* their
-- participant session (when both sids are known), track_* their track,
-- egress_* their egress and ingress_* their ingress; the room and
-- participant of track_* events are partial. Unknown events carry nothing.
-- The event's time is the body's createdAt, else the envelope's event time,
-- else its received time; egress and ingress objects are ordered by their
-- own updatedAt when they have one.
CREATE FUNCTION hookpipe_lk_items(p_events hookpipe_events[]) RETURNS SETOF hookpipe_lk_item
LANGUAGE sql STABLE AS $$
    WITH ev AS (
        SELECT e.event_id, e.body_json AS b, e.body_json ->> 'event' AS event,
               coalesce(hookpipe_lk_ts(e.body_json -> 'createdAt'), e.event_time,
                        e.received_at) AS t,
               nullif(e.body_json #>> '{room,sid}', '') AS room_sid,
               nullif(e.body_json #>> '{participant,sid}', '') AS participant_sid
          FROM unnest(p_events) AS e
         WHERE e.handler = 'livekit' AND hookpipe_lk_known(e.body_json ->> 'event')
    ), items AS (
        SELECT 'room' AS kind, ev.room_sid AS id, NULL AS parent, NULL AS room_sid,
               NULL AS participant_sid, NULL AS identity, ev.event, ev.t,
               ev.t AS stamp_time, ev.event_id, ev.b -> 'room' AS obj
          FROM ev
         WHERE ev.room_sid IS NOT NULL
           AND ev.event IN ('room_started', 'room_finished', 'participant_joined',
                            'participant_left', 'participant_connection_aborted',
                            'track_published', 'track_unpublished')
        UNION ALL
        SELECT 'participant', ev.participant_sid, ev.room_sid, NULL, NULL, NULL, ev.event, ev.t,
               ev.t, ev.event_id, ev.b -> 'participant'
          FROM ev
         WHERE ev.room_sid IS NOT NULL AND ev.participant_sid IS NOT NULL
           AND ev.event IN ('participant_joined', 'participant_left',
                            'participant_connection_aborted', 'track_published',
                            'track_unpublished')
        UNION ALL
        SELECT 'track', ev.b #>> '{track,sid}', NULL, ev.room_sid, ev.participant_sid,
               ev.b #>> '{participant,identity}', ev.event, ev.t, ev.t, ev.event_id,
               ev.b -> 'track'
          FROM ev
         WHERE ev.event IN ('track_published', 'track_unpublished')
        UNION ALL
        SELECT 'egress', ev.b #>> '{egressInfo,egressId}', NULL, NULL, NULL, NULL, ev.event, ev.t,
               coalesce(hookpipe_lk_ts(ev.b #> '{egressInfo,updatedAt}'), ev.t), ev.event_id,
               ev.b -> 'egressInfo'
          FROM ev
         WHERE ev.event IN ('egress_started', 'egress_updated', 'egress_ended')
        UNION ALL
        SELECT 'ingress', ev.b #>> '{ingressInfo,ingressId}', NULL, NULL, NULL, NULL, ev.event,
               ev.t, coalesce(hookpipe_lk_ts(ev.b #> '{ingressInfo,state,updatedAt}'), ev.t),
               ev.event_id, ev.b -> 'ingressInfo'
          FROM ev
         WHERE ev.event IN ('ingress_started', 'ingress_ended')
    )
    SELECT i.kind, i.id, i.parent, i.room_sid, i.participant_sid, i.identity, i.event, i.t,
           i.stamp_time, i.event_id, s.stamp,
           CASE WHEN i.kind IN ('room', 'participant') AND i.event LIKE 'track\_%' THEN '0 '
                ELSE '1 ' END || s.stamp,
           i.obj
      FROM items AS i
     CROSS JOIN LATERAL (SELECT hookpipe_lk_stamp(i.stamp_time, i.event_id) AS stamp) AS s
$$;

-- A room's creation time from its object: creationTimeMs, else creationTime.
CREATE FUNCTION hookpipe_lk_room_time(p_room jsonb) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(hookpipe_lk_ts(p_room -> 'creationTimeMs'),
                    hookpipe_lk_ts(p_room -> 'creationTime'))
$$;

-- A participant's join time from its object: joinedAtMs, else joinedAt.
CREATE FUNCTION hookpipe_lk_joined_time(p_participant jsonb) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(hookpipe_lk_ts(p_participant -> 'joinedAtMs'),
                    hookpipe_lk_ts(p_participant -> 'joinedAt'))
$$;

-- The "livekit" handler for a set of newly stored events (events of other
-- handlers are skipped). The set's order does not matter. Raises 22H01
-- naming the first event it cannot apply.
CREATE FUNCTION hookpipe_livekit_apply_events(p_events hookpipe_events[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_bad   record;
    v_items hookpipe_lk_item[];
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

    SELECT array_agg(i) INTO v_items FROM hookpipe_lk_items(p_events) AS i;
    IF v_items IS NULL THEN
        RETURN;
    END IF;

    -- Each statement below reduces the batch's items per object (g) to the
    -- row the batch alone would make — info from the item with the
    -- greatest info_stamp, the highest status, the earliest event times,
    -- the last event — and upserts the objects in key order (so that
    -- concurrent workers lock rows in the same order). On conflict the
    -- stored row t and the batch's row combine by the same rules, so the
    -- result is that of applying all their events in any order: c.w says
    -- whether the batch's info wins, c.n whether its last event is newer.
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
              FROM unnest(v_items) AS it
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
                                             t.last_event_time, t.last_event_id) AS n) AS c);

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
              FROM unnest(v_items) AS it
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
                                             t.last_event_time, t.last_event_id) AS n) AS c);

    -- Tracks: kind and source default to AUDIO and UNKNOWN, the protobuf zero
    -- values that LiveKit's JSON leaves out; the room and participant are
    -- those of the winning event, else of any.
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
              FROM unnest(v_items) AS it
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
                                             t.last_event_time, t.last_event_id) AS n) AS c);

    -- Egress: the highest-ranked status any event reported (one absent from
    -- the JSON is EGRESS_STARTING, protobuf's zero value); rank and name are
    -- one sortable string so that max() picks it.
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
              FROM unnest(v_items) AS it
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
                                             t.last_event_time, t.last_event_id) AS n) AS c);

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
              FROM unnest(v_items) AS it
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

-- The "livekit" handler for one event, as the worker's SQL would apply it
-- if it were alone in its batch: p_body is the webhook, p_event_time the
-- envelope's event time (else its received time).
CREATE FUNCTION hookpipe_livekit_apply(p_body jsonb, p_event_time timestamptz, p_event_id text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_ev hookpipe_events;
BEGIN
    v_ev.source := 'livekit';
    v_ev.event_id := p_event_id;
    v_ev.event_time := p_event_time;
    v_ev.received_at := p_event_time;
    v_ev.body_json := p_body;
    v_ev.handler := 'livekit';
    PERFORM hookpipe_livekit_apply_events(ARRAY[v_ev]);
END
$$;
