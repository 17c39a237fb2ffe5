"""Why an inbound message went to ``tracefreeze.dead-letter`` instead of a workflow.

The dead-letter record keeps the original bytes as its value; the reason and the original
topic, partition and offset travel in headers named below.
"""

from __future__ import annotations

from enum import StrEnum

HEADER_REASON_CODE = "tf_reason_code"
HEADER_REASON = "tf_reason"
HEADER_TOPIC = "tf_original_topic"
HEADER_PARTITION = "tf_original_partition"
HEADER_OFFSET = "tf_original_offset"
HEADER_REPLAYED_FROM = "tf_replayed_from"
"""On a replayed answer (``tracefreeze dlq replay``): the dead-letter record it came from."""


class DeadLetterReason(StrEnum):
    MALFORMED = "malformed"
    INVALID = "invalid"
    OVERSIZE = "oversize"
    UNKNOWN_REQUEST = "unknown_request"
    REQUEST_CLOSED = "request_closed"
    # The request's workflow was terminated, failed or timed out: stopped outside the Court's
    # process, not closed (tracefreeze/standing.py). Replayable once it is restored.
    REQUEST_STOPPED = "request_stopped"
    REJECTED = "rejected"
    # Parked by the bridge so that its partition moves on (tracefreeze/intake/bridge.py):
    # the request did not take the answer within the retry budget, or an earlier answer to the same
    # request was parked (order per request is kept). Replayable once the cause is fixed.
    STUCK = "stuck"
    # Parked because its State was over its answer budget for longer than the bridge waits.
    THROTTLED = "throttled"
    # Missing or invalid CloudEvents headers, or headers (or key) disagreeing with the body
    # (tracefreeze/intake/envelope.py).
    ENVELOPE = "envelope"
    # A State's answer that failed signature verification (tracefreeze/security/verify.py).
    MISSING_SIGNATURE = "missing_signature"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    KEY_NOT_VALID = "key_not_valid"
    MISADDRESSED = "misaddressed"
    REPLAYED = "replayed"
    TOO_OLD = "too_old"
    FROM_FUTURE = "from_future"
