"""What a rule returns when an answer or Court action is applied, and how it says no."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.answers import AnswerBase
from schemas.escalations import DirectoryChange
from schemas.ledger import LedgerEntry, RequestStatus
from schemas.request import CourtRequest
from workflows.carry import RequestCarry


class Refusal(ValueError):
    """The request cannot take this answer or action; the message says why."""


@dataclass
class Outcome:
    """The effect of one accepted answer or action, for the timeline and the outbound events."""

    what: str
    status: RequestStatus | None = None
    assets: list[LedgerEntry] = field(default_factory=list)
    contested: list[LedgerEntry] = field(default_factory=list)
    firings: list[Any] = field(default_factory=list)  # workflows.deadlines.Firing
    directory: DirectoryChange | None = None
    """Rule 180: a change of the party's directory, forwarded to it for future requests."""


@dataclass(frozen=True)
class Rule:
    """How one kind of answer or action is checked (no writes) and then applied."""

    check: Callable[[RequestCarry, CourtRequest, Any], None]
    apply: Callable[[RequestCarry, CourtRequest, Any, datetime], Outcome]


def entry_of(record: RequestCarry, asset_id: str) -> LedgerEntry:
    entry = record.ledger.entries.get(asset_id)
    if entry is None:
        raise Refusal(f"unknown asset {asset_id!r}: not in this request's ledger")
    return entry


def no_check(record: RequestCarry, request: CourtRequest, message: Any) -> None:
    """Nothing beyond the state machine to check."""


def addressed_to(request: CourtRequest, m: AnswerBase) -> None:
    """A State's answer must name this request and come from the State it is addressed to."""
    if m.request_reference != request.reference:
        raise Refusal(f"answer is for request {m.request_reference}, not {request.reference}")
    if m.state != request.requested_state:
        raise Refusal(
            f"State {m.state} answered request {request.reference}, "
            f"which is addressed to {request.requested_state}"
        )
