-- The projector's read model of the ledger and the escalations (tracefreeze/downstream/
-- projector.py), in a schema of its own. No personal data: the events carry none (ids, kinds,
-- statuses, dates, levels and values), and the one person an event may name (who had an
-- incomplete request transmitted, RS 96(2)) is not kept. Ex parte requests' events carry no
-- asset (Rule 99(2)): they reach `requests` only.
CREATE SCHEMA IF NOT EXISTS tracefreeze_read;

-- Every event applied, once: the event id is the key of idempotence, written in the same
-- transaction as the change it caused.
CREATE TABLE tracefreeze_read.applied_events (
    event_id uuid PRIMARY KEY,
    type text NOT NULL,
    request_reference text NOT NULL,
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset bigint NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Each request's latest status (ordered by event time, then offset on its partition).
CREATE TABLE tracefreeze_read.requests (
    request_reference text PRIMARY KEY,
    case_number text NOT NULL,
    party text NOT NULL,
    status text NOT NULL,
    confidentiality text NOT NULL,
    origin text NOT NULL,
    transmitted_at timestamptz,
    closed_at timestamptz,
    changed_at timestamptz NOT NULL,
    event_offset bigint NOT NULL,
    event_id uuid NOT NULL
);

-- Every change of an asset's status or value, with its event time: assets over time.
CREATE TABLE tracefreeze_read.asset_changes (
    event_id uuid PRIMARY KEY,
    request_reference text NOT NULL,
    case_number text NOT NULL,
    party text NOT NULL,
    asset_id text NOT NULL,
    asset_kind text NOT NULL,
    status text NOT NULL,
    currency text,
    amount numeric,
    held_up_to_currency text,
    held_up_to_amount numeric,
    confidentiality text NOT NULL,
    event_type text NOT NULL,
    changed_at timestamptz NOT NULL,
    event_offset bigint NOT NULL
);
CREATE INDEX asset_changes_by_party ON tracefreeze_read.asset_changes
    (party, currency, status, changed_at);

-- Each asset's current state: the latest of its changes (an older event never overwrites).
CREATE TABLE tracefreeze_read.assets (
    request_reference text NOT NULL,
    asset_id text NOT NULL,
    case_number text NOT NULL,
    party text NOT NULL,
    asset_kind text NOT NULL,
    status text NOT NULL,
    currency text,
    amount numeric,
    held_up_to_currency text,
    held_up_to_amount numeric,
    confidentiality text NOT NULL,
    changed_at timestamptz NOT NULL,
    event_offset bigint NOT NULL,
    event_id uuid NOT NULL,
    PRIMARY KEY (request_reference, asset_id)
);
CREATE INDEX assets_by_party ON tracefreeze_read.assets (party, currency, status);

-- Every escalation event (a step reached, proposed, declined, a de-escalation, a reminder).
CREATE TABLE tracefreeze_read.escalation_events (
    event_id uuid PRIMARY KEY,
    request_reference text NOT NULL,
    case_number text NOT NULL,
    party text NOT NULL,
    kind text NOT NULL,
    level smallint NOT NULL,
    step text,
    stage text,
    deadline timestamptz,
    at timestamptz NOT NULL,
    event_offset bigint NOT NULL
);
CREATE INDEX escalation_events_by_request ON tracefreeze_read.escalation_events
    (request_reference, kind, at);

-- Records the consumer kit could not read (tracefreeze/downstream/envelope.py), with the
-- reason; their contents are not kept.
CREATE TABLE tracefreeze_read.unreadable (
    topic text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset bigint NOT NULL,
    kafka_key text,
    reason text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_partition, kafka_offset)
);

-- One row per step of the ladder reached: open until the ladder steps down below its level
-- (a de-escalation after it) or the request is closed. Computed from the events, so the
-- order they arrive in does not matter.
CREATE VIEW tracefreeze_read.escalations AS
SELECT
    e.event_id AS opened_by,
    e.request_reference,
    e.case_number,
    e.party,
    e.level,
    e.step,
    e.at AS opened_at,
    LEAST(
        (SELECT min(d.at) FROM tracefreeze_read.escalation_events d
          WHERE d.request_reference = e.request_reference
            AND d.kind = 'deescalated'
            AND d.level < e.level
            AND (d.at, d.event_offset) > (e.at, e.event_offset)),
        r.closed_at
    ) AS resolved_at
FROM tracefreeze_read.escalation_events e
LEFT JOIN tracefreeze_read.requests r USING (request_reference)
WHERE e.kind = 'step_reached';

-- Requests escalated now, by the level they stand at (the highest step still open; a request
-- at level 2 is not counted again at level 1), and since when the oldest of them stands there.
CREATE VIEW tracefreeze_read.open_escalations_by_level AS
WITH standing AS (
    SELECT DISTINCT ON (request_reference) request_reference, party, level, opened_at
    FROM tracefreeze_read.escalations
    WHERE resolved_at IS NULL
    ORDER BY request_reference, level DESC, opened_at DESC
)
SELECT level, count(*) AS requests, count(DISTINCT party) AS parties, min(opened_at) AS oldest
FROM standing
GROUP BY level;
