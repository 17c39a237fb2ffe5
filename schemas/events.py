"""Outbound lifecycle events on ``tracefreeze.request-events``.

Event ids are made in the workflow (deterministically), so a retried publish carries the
same id and downstream consumers can deduplicate. Events carry no names of persons and no
asset descriptions: only ids, kinds, statuses and values.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from schemas.assets import AssetKind
from schemas.common import EventId, Frozen, Identifier, Money, RequestReference, StateCode
from schemas.ledger import AssetStatus, CurrencyTotals, RequestStatus

EVENT_SOURCE = "tracefreeze/request-workflow"


class RequestEventType(StrEnum):
    TRANSMITTED = "int.icc.tracefreeze.request.transmitted.v1"
    ANSWER_ACCEPTED = "int.icc.tracefreeze.answer.accepted.v1"
    ASSET_FROZEN = "int.icc.tracefreeze.asset.frozen.v1"
    ASSET_SEIZED = "int.icc.tracefreeze.asset.seized.v1"
    CLOSED = "int.icc.tracefreeze.request.closed.v1"


class AssetEventData(Frozen):
    asset_id: Identifier
    kind: AssetKind
    status: AssetStatus
    value: Money | None = None


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
    asset: AssetEventData | None = None
    totals: dict[str, CurrencyTotals] = {}


PUBLISH_REQUEST_EVENT = "publish_request_event"
"""Name of the activity that publishes a request event to Kafka."""


class PublishRequestEvent(Frozen):
    """Input of the publishing activity: the topic and the event made in the workflow."""

    topic: str
    event: RequestEvent
