-- The record store of tracefreeze (tracefreeze/record/): the Court's system of record for
-- every request, kept after Temporal's retention deletes the request's history.
--
-- Search columns hold no names of persons and no asset details; for an ex parte request
-- (Rule 99(2)) not even its reference, case or State (the request is found by its opaque
-- key). Every payload column is sealed (AES-GCM under the payload codec's keys).

CREATE TABLE key_registry_versions (
    fingerprint text PRIMARY KEY CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    registry jsonb NOT NULL,            -- the States' public keys as they were (no secret)
    first_seen timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE requests (
    request_key text PRIMARY KEY,       -- opaque: HMAC of reference and State (request-id key)
    reference text,                     -- plain only once known not to be ex parte
    requested_state text,
    case_number text,
    confidentiality text,
    origin text,
    legal_basis text,
    party_kind text,
    status text,
    transmitted_at timestamptz,
    acknowledged_at timestamptz,
    first_report_at timestamptz,
    ended_at timestamptz,
    closed_at timestamptz,
    last_event_at timestamptz,
    max_escalation_level int NOT NULL DEFAULT 0,
    facts bytea                         -- sealed JSON: values per currency (RS 87(3))
);
CREATE INDEX requests_reference ON requests (reference) WHERE reference IS NOT NULL;
CREATE INDEX requests_transmitted ON requests (transmitted_at);

CREATE TABLE entries (
    seq bigserial UNIQUE,               -- order of recording (in order per partition)
    topic text NOT NULL,
    kafka_partition int NOT NULL,
    kafka_offset bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('event', 'escalation', 'party_message', 'answer')),
    request_key text,                   -- null: an answer that names no request
    event_id text,
    type text,
    occurred_at timestamptz,
    kafka_time timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    body bytea NOT NULL,                -- sealed: the record's value, byte for byte
    headers bytea NOT NULL,             -- sealed: the record's headers, byte for byte
    key_id text,                        -- answers: the signing key named
    verdict text,                       -- answers: 'verified' or the rejection's reason code
    verdict_detail bytea,               -- answers: sealed detail of a rejection
    checked_at timestamptz,             -- answers: the moment verified at
    registry_fingerprint text REFERENCES key_registry_versions (fingerprint),
    PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
-- A retried publish repeats an event with its id: recorded once. Answers are all kept (a
-- replayed or forged copy is evidence too).
CREATE UNIQUE INDEX entries_event_once ON entries (topic, event_id)
    WHERE event_id IS NOT NULL AND kind <> 'answer';
CREATE INDEX entries_request ON entries (request_key, seq);

-- Reader roles (granted to login roles by the Registry's DBA; NOLOGIN here).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tracefreeze_record_registry') THEN
        CREATE ROLE tracefreeze_record_registry NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tracefreeze_record_report') THEN
        CREATE ROLE tracefreeze_record_report NOLOGIN;
    END IF;
END
$$;

-- The report's view: per-request figures without reference or case, never a payload.
CREATE VIEW report_requests AS
    SELECT request_key, requested_state, confidentiality, origin, legal_basis, party_kind,
           status,
           transmitted_at, acknowledged_at, first_report_at, ended_at, closed_at,
           max_escalation_level, facts
    FROM requests;

REVOKE ALL ON key_registry_versions, requests, entries, report_requests FROM PUBLIC;
GRANT SELECT ON key_registry_versions, requests, entries, report_requests
    TO tracefreeze_record_registry;
GRANT SELECT ON report_requests TO tracefreeze_record_report;
