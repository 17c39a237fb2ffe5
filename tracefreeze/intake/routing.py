"""Decoding a State's answer from Kafka and routing it to the request it answers.

Pure functions, no I/O: the bytes on ``tracefreeze.state-answers`` either become one typed
answer bound for one request workflow and one of its updates, or one dead-letter verdict
(oversize, malformed, invalid) with a reason a focal point can act on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from schemas.answers import STATE_ANSWER, AnswerBase
from schemas.deadletter import DeadLetterReason
from schemas.request import request_workflow_id
from workflows import catalog

MAX_ANSWER_BYTES = 256 * 1024
"""A State's answer larger than this is dead-lettered unread (OVERSIZE)."""
MAX_REASON_CHARS = 1000
MAX_ERRORS_SHOWN = 5

Answer = AnswerBase

UPDATES: dict[str, str] = {
    kind.name: kind.update for kind in catalog.CATALOG if kind.party == "state"
}
"""Which update of the request workflow takes each kind of answer (from the catalog)."""


@dataclass(frozen=True)
class Verdict:
    """Why a message cannot reach any request: it goes to the dead-letter topic."""

    reason: DeadLetterReason
    detail: str


@dataclass(frozen=True)
class Route:
    """Where a valid answer goes: the request workflow and the name of the update that takes
    it, under ``update_id`` (None: the answer's event id; see ``ReceivedAnswer.update_id``)."""

    answer: Answer
    workflow_id: str
    update_name: str
    update_id: str | None = None

    @property
    def delivery_id(self) -> str:
        return self.update_id or self.answer.event_id


def decode_answer(value: bytes | None) -> Answer | Verdict:
    """Validate the bytes of one message as a State's answer, or say why they are not one."""
    if value is None:
        return Verdict(DeadLetterReason.MALFORMED, "empty message (no value)")
    if len(value) > MAX_ANSWER_BYTES:
        return Verdict(
            DeadLetterReason.OVERSIZE,
            f"answer of {len(value)} bytes exceeds the limit of {MAX_ANSWER_BYTES} bytes",
        )
    try:
        return STATE_ANSWER.validate_json(value)
    except ValidationError as err:
        errors = err.errors(include_url=False, include_input=False)
        if any(e["type"] in ("json_invalid", "json_type") for e in errors):
            return Verdict(DeadLetterReason.MALFORMED, _clip(f"not JSON: {errors[0]['msg']}"))
        return Verdict(DeadLetterReason.INVALID, summarize(err))


def route(answer: Answer) -> Route:
    """The request (reference, State) the answer names, and the update for its kind."""
    return Route(
        answer=answer,
        workflow_id=request_workflow_id(answer.request_reference, answer.state),
        update_name=UPDATES[answer.answer_type],
    )


def summarize(err: ValidationError) -> str:
    """A short, one-line account of what is wrong with an answer."""
    errors = err.errors(include_url=False, include_input=False)
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or '(answer)'}: {e['msg']}"
        for e in errors[:MAX_ERRORS_SHOWN]
    ]
    more = len(errors) - MAX_ERRORS_SHOWN
    if more > 0:
        parts.append(f"... and {more} more")
    return _clip(f"{len(errors)} validation error(s): " + "; ".join(parts))


def peek_event_id(value: bytes | None) -> str | None:
    """Best-effort event id of an answer we could not validate, for the logs."""
    try:
        data = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    event_id = data.get("event_id") if isinstance(data, dict) else None
    return event_id if isinstance(event_id, str) else None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."
