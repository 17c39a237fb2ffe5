"""Verifying a State's answer: signed by a valid key of its own State, fresh, not replayed.

``verify`` checks, in this order, each failure one ``Rejection`` naming the event id and key
id: oversize; missing headers; unknown key id; undecodable signature; body not JSON (or with
duplicate keys, which could make two parsers disagree on what was signed); bad signature
(over ``canonical.signed_message``, ``tracefreeze/security/canonical.py``); body not a valid
answer; key of another State (``misaddressed``); key outside its validity window now;
``sent_at`` too old or from the future (``replay_guard.Tolerance``); key outside its window at
``sent_at`` (a key signs only within its window, and is accepted only while it is valid: when
rotating, let the old key's window overlap the new one's by at least ``Tolerance.max_age``
so that a backlog signed with the old key still verifies); (State, event id) replayed
(``replay_guard.ReplayGuard``). The replay guard is keyed by the answering State *and* the
event id: another State reusing a State's event id (ids may be predictable) never makes that
State's own answer a "replay". The keys come from the State key registry
(``tracefreeze/security/key_registry.py``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature

from schemas.deadletter import DeadLetterReason
from tracefreeze.intake.routing import MAX_ANSWER_BYTES, Answer, Verdict, decode_answer
from tracefreeze.security.canonical import (
    HEADER_KEY_ID,
    HEADER_SIGNATURE,
    SIGNATURE_BYTES,
    CanonicalError,
    canonical_bytes,
    signed_message,
)
from tracefreeze.security.key_registry import KeyRegistry, StateKey
from tracefreeze.security.replay_guard import DEFAULT_TOLERANCE, Position, ReplayGuard, Tolerance

MAX_HEADER_CHARS = 200
"""A header value longer than this is not shown in a rejection's detail."""


class SignatureReason(StrEnum):
    """Why a State's answer failed verification (``Rejection.reason``)."""

    MISSING_SIGNATURE = "missing_signature"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    KEY_NOT_VALID = "key_not_valid"
    MISADDRESSED = "misaddressed"
    """The key's State is not the answer's ``state``: a State may answer only as itself.

    A State answering, as itself, a request addressed to another State is caught later, by
    routing: the workflow id is (reference, answering State), and no such request exists, so
    the bridge dead-letters it as ``unknown_request``."""
    REPLAYED = "replayed"
    TOO_OLD = "too_old"
    FROM_FUTURE = "from_future"


@dataclass(frozen=True)
class Rejection:
    """Why a message on ``tracefreeze.state-answers`` reaches no workflow.

    ``reason`` is a ``SignatureReason`` or, when the body itself is not an answer (oversize,
    not JSON, invalid), the ``DeadLetterReason`` that ``routing.decode_answer`` gives.
    """

    reason: SignatureReason | DeadLetterReason
    detail: str
    event_id: str | None = None
    key_id: str | None = None

    @property
    def reason_code(self) -> str:
        return self.reason.value

    def as_verdict(self) -> Verdict:
        """The dead-letter verdict: every rejection reason is a dead-letter reason code."""
        return Verdict(DeadLetterReason(self.reason.value), self.detail)


def verify(
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    registry: KeyRegistry,
    now: datetime,
    seen: ReplayGuard,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    *,
    position: Position | None = None,
) -> Answer | Rejection:
    """The answer, if it is signed by a valid key of its own State, fresh and not replayed.

    Never raises on any input. ``now`` is aware (the bridge passes ``datetime.now(UTC)``);
    ``position`` is the record's (topic, partition, offset), so that a redelivery of the same
    record is not mistaken for a replay. An accepted answer's event id is recorded in
    ``seen``; a rejected one's is not.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime, e.g. datetime.now(UTC)")
    if value is None or len(value) > MAX_ANSWER_BYTES:
        return _from_verdict(decode_answer(value), None, None)
    event_id = _peek_event_id(value)
    ev = f"answer {event_id}" if event_id else "answer (no readable event id)"

    signature_b64, key_id, problem = _envelope(headers)
    if problem:
        return Rejection(SignatureReason.MISSING_SIGNATURE, f"{ev}: {problem}", event_id, key_id)
    assert signature_b64 is not None and key_id is not None
    key = registry.get(key_id)
    if key is None:
        return Rejection(
            SignatureReason.UNKNOWN_KEY,
            f"{ev}: key id {_show(key_id)} is not in the State key registry",
            event_id,
            key_id,
        )
    signature = _unbase64url(signature_b64)
    if signature is None or len(signature) != SIGNATURE_BYTES:
        return Rejection(
            SignatureReason.BAD_SIGNATURE,
            f"{ev}: header {HEADER_SIGNATURE} is not base64url of a {SIGNATURE_BYTES}-byte "
            f"Ed25519 signature (key {key_id})",
            event_id,
            key_id,
        )

    body = _parse(value)
    if isinstance(body, str):
        return Rejection(DeadLetterReason.MALFORMED, f"{ev}: {body}", event_id, key_id)
    try:
        key.verifier().verify(signature, signed_message(canonical_bytes(body)))
    except CanonicalError as err:
        return Rejection(DeadLetterReason.MALFORMED, f"{ev}: {err}", event_id, key_id)
    except (InvalidSignature, ValueError):
        return Rejection(
            SignatureReason.BAD_SIGNATURE,
            f"{ev}: signature does not match the body under key {key_id} of {key.state}",
            event_id,
            key_id,
        )

    decoded = decode_answer(value)
    if isinstance(decoded, Verdict):
        return _from_verdict(decoded, event_id, key_id)
    answer = decoded
    ev = f"answer {answer.event_id}"
    if key.state != answer.state:
        return Rejection(
            SignatureReason.MISADDRESSED,
            f"{ev}: signed with key {key_id} of {key.state} but answers as {answer.state}; "
            "a State may answer only as itself",
            answer.event_id,
            key_id,
        )
    if not key.valid_at(now):
        return _key_not_valid(answer.event_id, key, "now", now)
    if answer.sent_at < now - tolerance.max_age:
        return Rejection(
            SignatureReason.TOO_OLD,
            f"{ev}: sent_at {answer.sent_at.isoformat()} is more than {tolerance.max_age} "
            f"before now ({now.isoformat()}); key {key_id}",
            answer.event_id,
            key_id,
        )
    if answer.sent_at > now + tolerance.max_skew:
        return Rejection(
            SignatureReason.FROM_FUTURE,
            f"{ev}: sent_at {answer.sent_at.isoformat()} is more than {tolerance.max_skew} "
            f"after now ({now.isoformat()}); key {key_id}",
            answer.event_id,
            key_id,
        )
    if not key.valid_at(answer.sent_at):
        return _key_not_valid(answer.event_id, key, "at sent_at", answer.sent_at)
    if seen.replayed(answer.state, answer.event_id, now, position):
        return Rejection(
            SignatureReason.REPLAYED,
            f"{ev}: event id already seen from {answer.state} by this bridge (key {key_id}); "
            "a replay of a verified answer",
            answer.event_id,
            key_id,
        )
    seen.record(answer.state, answer.event_id, now, position)
    return answer


def _key_not_valid(event_id: str, key: StateKey, moment: str, when: datetime) -> Rejection:
    return Rejection(
        SignatureReason.KEY_NOT_VALID,
        f"answer {event_id}: key {key.key_id} of {key.state} is not valid {moment} "
        f"({when.isoformat()}); its window is {key.window()}",
        event_id,
        key.key_id,
    )


def _from_verdict(verdict: Any, event_id: str | None, key_id: str | None) -> Rejection:
    assert isinstance(verdict, Verdict)
    prefix = f"answer {event_id}: " if event_id else ""
    return Rejection(verdict.reason, prefix + verdict.detail, event_id, key_id)


def _envelope(
    headers: Sequence[tuple[str, bytes | None]] | None,
) -> tuple[str | None, str | None, str | None]:
    """(signature, key id, problem): exactly one of each header, ASCII."""
    found: dict[str, list[bytes | None]] = {HEADER_SIGNATURE: [], HEADER_KEY_ID: []}
    try:
        for name, raw in headers or ():
            if name in found:
                found[name].append(raw)
    except (TypeError, ValueError):
        return None, None, "headers are not (name, value) pairs"
    texts: dict[str, str] = {}
    for name, values in found.items():
        if not values:
            return None, None, f"no {name} header (unsigned)"
        if len(values) > 1:
            return None, None, f"header {name} appears {len(values)} times"
        raw = values[0]
        if not isinstance(raw, bytes | bytearray) or not raw:
            return None, None, f"header {name} is empty"
        try:
            texts[name] = bytes(raw).decode("ascii")
        except UnicodeDecodeError:
            return None, None, f"header {name} is not ASCII"
    return texts[HEADER_SIGNATURE], texts[HEADER_KEY_ID], None


def _unbase64url(text: str) -> bytes | None:
    text = text.strip().rstrip("=")
    if not text or len(text) > 2 * SIGNATURE_BYTES:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _parse(value: bytes) -> dict[str, Any] | str:
    """The body as a JSON object, or what is wrong with it (duplicate keys are refused)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for k, v in pairs:
            if k in obj:
                raise CanonicalError(f"duplicate key {_show(k)}")
            obj[k] = v
        return obj

    def no_constant(name: str) -> Any:
        raise CanonicalError(f"{name} is not JSON")

    try:
        body = json.loads(value, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except CanonicalError as err:
        return f"not canonical-able JSON: {err}"
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        return f"not JSON: {type(err).__name__}: {str(err)[:200]}"
    if not isinstance(body, dict):
        return f"not a JSON object but {type(body).__name__}"
    return body


def _peek_event_id(value: bytes) -> str | None:
    try:
        data = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    event_id = data.get("event_id") if isinstance(data, dict) else None
    return _show(event_id) if isinstance(event_id, str) and event_id else None


def _show(text: str) -> str:
    text = text if len(text) <= MAX_HEADER_CHARS else text[:MAX_HEADER_CHARS] + "..."
    return repr(text)[1:-1] if text.isprintable() else repr(text)
