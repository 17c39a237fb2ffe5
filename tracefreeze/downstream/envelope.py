"""One Kafka record of the Court's outbound topics, read: a typed event, or why it is not one.

The worker publishes each event in CloudEvents' Kafka binary mode (``activities/publish.py``):
the value is the event's JSON, which itself carries the CloudEvents attributes (``specversion``,
``id``, ``source``, ``type``, ``time``, ``subject``), the same attributes travel as ``ce_*``
headers with ``content-type: application/json``, and the key is the request reference. Here:

- the body must be a JSON object whose ``type`` is one this kit knows for the topic it came
  from (``KNOWN_TYPES``: a request event on the request events topic, an escalation on the
  escalations topic), parsed into that type's pydantic model (``schemas/events.py``,
  ``schemas/escalations.py``);
- each ``ce_*`` header present appears once and agrees with the body (``ce_specversion``,
  ``ce_id``, ``ce_source``, ``ce_type``, ``ce_subject``; ``ce_time`` the same instant), the
  content type is JSON, and the key is the request reference (``subject``): per-request order
  rests on it;
- fields a newer publisher added to a ``.v1`` type are ignored and named
  (``Received.unknown_fields``): a ``.v1`` only gains optional fields; a change of meaning or
  a field removed is a new type (``.v2``), which this kit reports as unknown until it knows it.

Anything else is an ``Unreadable`` with its position and a reason, never an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import RequestEvent, RequestEventType
from tracefreeze.config import Topics

CourtEvent = RequestEvent | EscalationEvent
SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
MAX_VALUE_BYTES = 1_048_576
"""The broker's default record size: nothing larger is one of our events."""
ATTRIBUTES = ("specversion", "id", "source", "type", "subject")
"""The CloudEvents attributes compared as text between a ``ce_*`` header and the body."""


def escalation_type(kind: EscalationKind, version: str = "v1") -> str:
    return f"int.icc.tracefreeze.escalation.{kind.value}.{version}"


REQUEST_EVENT_TYPES: dict[str, type[CourtEvent]] = {t.value: RequestEvent for t in RequestEventType}
ESCALATION_TYPES: dict[str, type[CourtEvent]] = {
    escalation_type(k): EscalationEvent for k in EscalationKind
}


def known_types(topics: Topics) -> dict[str, dict[str, type[CourtEvent]]]:
    """Topic -> the event types it carries -> their model."""
    return {topics.request_events: REQUEST_EVENT_TYPES, topics.escalations: ESCALATION_TYPES}


@dataclass(frozen=True)
class Position:
    """Where a record is: its topic, partition and offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True)
class Received:
    """A readable event, typed, and where it was read."""

    event: CourtEvent
    position: Position
    unknown_fields: tuple[str, ...] = ()
    """Fields a newer publisher added that this kit's model does not know (ignored)."""

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def request_reference(self) -> str:
        return self.event.subject


@dataclass(frozen=True)
class Unreadable:
    """A record that is not an event this kit can read, and why (its contents are not kept)."""

    position: Position
    reason: str
    key: str | None = None


def read(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Any,
    types: dict[str, type[CourtEvent]],
) -> Received | Unreadable:
    """Check one record's envelope and parse its event; ``types`` are the topic's."""
    at = Position(topic, partition, offset)
    shown_key = _clip(key.decode(errors="replace")) if key is not None else None

    def unreadable(reason: str) -> Unreadable:
        return Unreadable(at, reason, shown_key)

    if not value:
        return unreadable("empty value")
    if len(value) > MAX_VALUE_BYTES:
        return unreadable(f"value of {len(value)} bytes exceeds {MAX_VALUE_BYTES}")
    try:
        body = json.loads(value)
    except (ValueError, RecursionError) as err:
        return unreadable(f"value is not JSON: {_clip(str(err))}")
    if not isinstance(body, dict):
        return unreadable("value is not a JSON object")
    kind = body.get("type")
    if not isinstance(kind, str):
        return unreadable("no event type in the body")
    model = types.get(kind)
    if model is None:
        return unreadable(f"unknown event type {_clip(kind)!r} on {topic}")
    known = {k: v for k, v in body.items() if k in model.model_fields}
    try:
        event = model.model_validate(known)
    except ValidationError as err:
        return unreadable(f"{kind}: {_clip(_first_error(err))}")
    problem = _envelope_problem(event, key, headers)
    if problem is not None:
        return unreadable(problem)
    return Received(event, at, tuple(sorted(set(body) - set(known))))


def _envelope_problem(event: CourtEvent, key: bytes | None, headers: Any) -> str | None:
    """What of the headers and the key disagrees with the event, or None."""
    found: dict[str, str] = {}
    for name, raw in headers or ():
        lowered = str(name).lower()
        if not (lowered.startswith("ce_") or lowered == "content-type"):
            continue
        if lowered in found:
            return f"header {name} appears more than once"
        try:
            found[lowered] = bytes(raw or b"").decode()
        except (UnicodeDecodeError, TypeError):
            return f"header {name} is not UTF-8 text"
    if event.specversion != SPECVERSION:
        return f"specversion {_clip(event.specversion)!r} is not {SPECVERSION}"
    for attribute in ATTRIBUTES:
        header = f"ce_{attribute}"
        wanted = str(getattr(event, attribute))
        if header in found and found[header] != wanted:
            return f"{header} {_clip(found[header])!r} differs from the body's {wanted!r}"
    if "ce_time" in found and not _same_instant(found["ce_time"], event.time):
        return f"ce_time {_clip(found['ce_time'])!r} differs from the body's time"
    media = found.get("content-type", CONTENT_TYPE).split(";")[0].strip().lower()
    if media != CONTENT_TYPE:
        return f"content-type {_clip(media)!r} is not {CONTENT_TYPE}"
    if isinstance(event, EscalationEvent) and event.type != escalation_type(event.kind):
        return f"type {event.type!r} does not name the escalation's kind {event.kind.value!r}"
    if key != event.subject.encode():
        shown = _clip(key.decode(errors="replace")) if key is not None else None
        return f"Kafka key {shown!r} differs from the request reference {event.subject!r}"
    return None


def _same_instant(text: str, at: datetime) -> bool:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return False
    return parsed.tzinfo is not None and parsed == at


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"{where}: {first.get('msg', 'invalid')} ({err.error_count()} error(s))"


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
