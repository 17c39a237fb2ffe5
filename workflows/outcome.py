"""What a rule returns when an answer or Court action is applied, and how it says no."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.exceptions import ApplicationError

from schemas.answers import AnswerBase
from schemas.escalations import DirectoryChange
from schemas.ledger import LedgerEntry, RequestStatus
from schemas.request import CourtRequest
from workflows.carry import RequestCarry


class Refusal(ValueError):
    """The request cannot take this answer or action; the message says why."""


class PublicRefusal(Refusal):
    """A refusal whose reason quotes only the sender's own input and the law (who signed,
    which organ, which action, which rule), nothing of the request's state: shown in clear
    (``Rejection.public_reason``)."""


class Rejection(ApplicationError):
    """An update refused by its validator, before anything is written.

    ``reason`` is the whole reason: like every failure, it is encrypted by the payload codec
    (``tracefreeze/security/codec.py``), since it may quote the request's confidential state
    (an ex parte reference, an asset, a value). ``public_reason`` is what stays in clear as the
    failure's message, for the Temporal UI's "Send an Update" dialog, which shows only that:
    it must say nothing about the request beyond what its search attributes already show (a
    state-machine refusal names the action and the status), else the generic ``REFUSED``.
    ``kind`` is the failure type callers sort on (``AnswerRejected`` for a request)."""

    def __init__(self, reason: str, kind: str = "AnswerRejected", public_reason: str = "") -> None:
        super().__init__(reason, type=kind, non_retryable=True)
        self.public_reason = public_reason or REFUSED

    @classmethod
    def of(cls, refusal: Refusal) -> Rejection:
        """A request's refusal: in clear only if it is a ``PublicRefusal``."""
        public = str(refusal) if isinstance(refusal, PublicRefusal) else ""
        return cls(str(refusal), public_reason=public)


REFUSED = (
    "refused; the reason is encrypted: `tracefreeze act` (any client with the codec key) shows it"
)


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
