"""Outbound lifecycle events on ``tracefreeze.request-events``.

Event ids are made in the workflow (deterministically), so a retried publish carries the
same id and downstream consumers can deduplicate. Events carry no names of persons and no
asset descriptions: only ids, kinds, statuses and values — and for an ex parte request
(Rule 99) not even those.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from schemas.assets import AssetKind
from schemas.common import (
    Confidentiality,
    EventId,
    Frozen,
    Identifier,
    Money,
    Origin,
    RequestReference,
    StateCode,
)
from schemas.completeness import CompletenessOverride
from schemas.ledger import AssetStatus, CurrencyTotals, RequestStatus

EVENT_SOURCE = "tracefreeze/request-workflow"


class RequestEventType(StrEnum):
    TRANSMITTED = "int.icc.tracefreeze.request.transmitted.v1"
    ANSWER_ACCEPTED = "int.icc.tracefreeze.answer.accepted.v1"
    COURT_ACTION = "int.icc.tracefreeze.court.action.v1"
    ASSET_FROZEN = "int.icc.tracefreeze.asset.frozen.v1"
    ASSET_SEIZED = "int.icc.tracefreeze.asset.seized.v1"
    ASSET_CONTESTED = "int.icc.tracefreeze.asset.contested.v1"
    ASSET_FORFEITURE_ORDERED = "int.icc.tracefreeze.asset.forfeiture_ordered.v1"
    ASSET_TRANSFERRED = "int.icc.tracefreeze.asset.transferred.v1"
    ASSET_ALLOCATED = "int.icc.tracefreeze.asset.allocated.v1"
    ASSET_RELEASED = "int.icc.tracefreeze.asset.released.v1"
    CLOSED = "int.icc.tracefreeze.request.closed.v1"

    @classmethod
    def for_asset(cls, status: AssetStatus) -> RequestEventType:
        """The event that announces an asset reaching ``status``."""
        return cls[f"ASSET_{status.name}"]


class AssetEventData(Frozen):
    asset_id: Identifier
    kind: AssetKind
    status: AssetStatus
    value: Money | None = None
    held_up_to: Money | None = Field(
        default=None, description="A Rule 99(3) modification holds the asset only up to this"
    )


class CourtActionAudit(Frozen):
    """Who took a Court action, for which organ, with which key, when (the event's ``time``
    says when the request took it, ``subject`` on which request, ``action`` what). The
    signature and the digest of what it signed let the signed original be matched."""

    principal: str | None = Field(
        default=None, max_length=100, description="The Court user who sent it, as the client knew"
    )
    decided_by: str = Field(max_length=200, description="The organ whose act it is")
    decided_at: AwareDatetime
    key_id: str | None = Field(default=None, max_length=64)
    signature: str | None = Field(default=None, max_length=100)
    signed_digest: str | None = Field(
        default=None,
        max_length=64,
        description="SHA-256 (hex) of the bytes the signature covers (docs/signed-decisions.md)",
    )


class RequestEvent(Frozen):
    """One lifecycle event of a request (CloudEvents attributes plus the request's facts)."""

    specversion: str = "1.0"
    id: EventId
    source: str = EVENT_SOURCE
    type: RequestEventType
    time: AwareDatetime
    subject: RequestReference = Field(description="The request reference (also the Kafka key)")
    case_number: str
    requested_state: StateCode
    status: RequestStatus
    caused_by: EventId | None = Field(
        default=None, description="The State answer or Court action that caused this event"
    )
    answer_type: str | None = None
    action: str | None = Field(default=None, description="The Court action, if one caused it")
    confidentiality: Confidentiality = Confidentiality.CONFIDENTIAL
    origin: Origin = Origin.CHAMBER
    asset: AssetEventData | None = Field(
        default=None, description="Omitted for ex parte requests (Rule 99)"
    )
    totals: dict[str, CurrencyTotals] = Field(
        default={}, description="Omitted for ex parte requests (Rule 99)"
    )
    supplements: RequestReference | None = Field(
        default=None, description="On transmission: the earlier request this one supplements"
    )
    completeness_override: CompletenessOverride | None = Field(
        default=None,
        description="On transmission: who had an incomplete request transmitted, why, and the "
        "findings overridden (RS 96(2); Rule 176(2))",
    )
    audit: CourtActionAudit | None = Field(
        default=None, description="A Court action's event: who, for which organ, signed how"
    )
