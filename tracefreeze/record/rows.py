"""What the store keeps of one Kafka record: its ``Entry`` and, for the Court's own events,
what it changes in the request's search row (``RequestFacts``). Pure functions, no I/O.

Every request is keyed by ``request_key``: the opaque id the Court derives for an ex parte
request's workflow (``schemas.request.opaque_request_workflow_id``, an HMAC of reference and
State under the request-id key, ``tracefreeze/security/request_ids.py``), for every request
alike, so that an answer can be filed before the store knows whether its request is ex parte.
The plain reference, case and State are written to the search row only from an event that
says the request is not ex parte (Rule 99(2)).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from schemas.common import Confidentiality
from schemas.court import Stage
from schemas.court_record import SignedCourtAction
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent, RequestEventType
from schemas.party import PartyMessage
from schemas.request import opaque_request_workflow_id
from tracefreeze.config import Settings
from workflows.catalog import ENDED, KINDS


class EntryKind(StrEnum):
    EVENT = "event"
    ESCALATION = "escalation"
    PARTY_MESSAGE = "party_message"
    ANSWER = "answer"
    COURT_ACTION = "court_action"


def kind_of(settings: Settings, topic: str) -> EntryKind | None:
    t = settings.topics
    if topic == t.request_events:
        return EntryKind.EVENT
    if topic == t.escalations:
        return EntryKind.ESCALATION
    if topic == t.state_answers:
        return EntryKind.ANSWER
    if topic == t.court_actions:
        return EntryKind.COURT_ACTION
    if topic.startswith(t.party_channels + ".") and topic.endswith(".outbound"):
        return EntryKind.PARTY_MESSAGE
    return None


def request_key(reference: str, state: str, key: bytes) -> str:
    """The request's key in the store (never its reference)."""
    return opaque_request_workflow_id(reference, state, key)


@dataclass
class RequestFacts:
    """What one Court event changes in its request's search row (None: unchanged)."""

    request_key: str
    reference: str | None = None
    requested_state: str | None = None
    case_number: str | None = None
    confidentiality: str | None = None
    origin: str | None = None
    legal_basis: str | None = None
    party_kind: str | None = None
    status: str | None = None
    at: datetime | None = None
    transmitted_at: datetime | None = None
    acknowledged_at: datetime | None = None
    first_report_at: datetime | None = None
    ended_at: datetime | None = None
    closed_at: datetime | None = None
    escalation_level: int = 0
    totals: dict[str, Any] | None = None


@dataclass
class Entry:
    """One record as kept: where it was, whose it is, what it is, its exact bytes."""

    kind: EntryKind
    topic: str
    partition: int
    offset: int
    value: bytes
    headers: list[tuple[str, bytes | None]]
    kafka_time: datetime
    request_key: str | None = None
    event_id: str | None = None
    type: str | None = None
    occurred_at: datetime | None = None
    facts: RequestFacts | None = None
    answer_names: tuple[str, str] | None = field(default=None)
    """An answer's (reference, State) as its body states them, signed or not."""


def entry_of(
    kind: EntryKind,
    topic: str,
    partition: int,
    offset: int,
    value: bytes | None,
    headers: list[tuple[str, bytes | None]],
    timestamp_ms: int,
    id_key: bytes,
) -> Entry:
    """The entry of one record; a record that does not parse is kept whole, unattributed."""
    entry = Entry(
        kind, topic, partition, offset, value or b"", list(headers),
        datetime.fromtimestamp(timestamp_ms / 1000, UTC),
    )  # fmt: skip
    try:
        if kind is EntryKind.EVENT:
            _event(entry, RequestEvent.model_validate_json(entry.value), id_key)
        elif kind is EntryKind.ESCALATION:
            _escalation(entry, EscalationEvent.model_validate_json(entry.value), id_key)
        elif kind is EntryKind.PARTY_MESSAGE:
            m = PartyMessage.model_validate_json(entry.value)
            entry.request_key = request_key(m.subject, m.requested_state, id_key)
            entry.event_id, entry.type, entry.occurred_at = str(m.id), m.type.value, m.time
            if m.request is not None:
                entry.facts = RequestFacts(
                    entry.request_key, legal_basis=m.request.legal_basis.value
                )
        elif kind is EntryKind.COURT_ACTION:
            a = SignedCourtAction.model_validate_json(entry.value)
            entry.request_key = request_key(a.subject, a.requested_state, id_key)
            entry.event_id, entry.type, entry.occurred_at = a.id, a.type, a.time
        else:
            _answer(entry, id_key)
    except (ValidationError, ValueError, RecursionError):
        pass  # kept whole, unattributed: nothing is lost
    return entry


def _event(entry: Entry, e: RequestEvent, id_key: bytes) -> None:
    key = request_key(e.subject, e.requested_state, id_key)
    entry.request_key, entry.event_id, entry.type, entry.occurred_at = key, e.id, e.type, e.time
    plain = e.confidentiality is not Confidentiality.EX_PARTE
    facts = RequestFacts(
        key,
        reference=e.subject if plain else None,
        requested_state=e.requested_state if plain else None,
        case_number=e.case_number if plain else None,
        confidentiality=e.confidentiality.value,
        origin=e.origin.value,
        status=e.status.value,
        at=e.time,
        totals={c: t.model_dump(mode="json") for c, t in e.totals.items()} if plain else None,
    )
    if e.type is RequestEventType.TRANSMITTED:
        facts.transmitted_at = e.time
    if e.type is RequestEventType.ANSWER_ACCEPTED and e.answer_type in KINDS:
        meets = KINDS[e.answer_type].meets
        facts.acknowledged_at = e.time if Stage.ACKNOWLEDGEMENT in meets else None
        facts.first_report_at = e.time if Stage.FIRST_REPORT in meets else None
    if e.status in ENDED:
        facts.ended_at = e.time
    if e.type is RequestEventType.CLOSED:
        facts.closed_at = e.time
    entry.facts = facts


def _escalation(entry: Entry, e: EscalationEvent, id_key: bytes) -> None:
    key = request_key(e.subject, e.requested_state, id_key)
    entry.request_key, entry.event_id, entry.type, entry.occurred_at = key, e.id, e.type, e.time
    entry.facts = RequestFacts(key, party_kind=e.party_kind, escalation_level=e.level)


def _answer(entry: Entry, id_key: bytes) -> None:
    """Attributed by what the body names; the recorder files it there only if that State
    signed it (``evidence.SIGNED_BY_ITS_STATE``)."""
    body = json.loads(entry.value)
    if not isinstance(body, dict):
        return
    reference, state = body.get("request_reference"), body.get("state")
    event_id, answer_type = body.get("event_id"), body.get("answer_type")
    if isinstance(event_id, str) and len(event_id) <= 100:
        entry.event_id = event_id
    if isinstance(answer_type, str) and len(answer_type) <= 100:
        entry.type = answer_type
    if isinstance(reference, str) and isinstance(state, str):
        if 0 < len(reference) <= 100 and 0 < len(state) <= 10:
            entry.request_key = request_key(reference, state, id_key)
            entry.answer_names = (reference, state)
