"""Outbound escalation events on ``tracefreeze.escalations`` (CloudEvents-style attributes).

One event per step a request takes up the ladder — or down it, or aside (a reminder before a
deadline, a clock that ran out) — so the Registry, the Chamber and the Assembly's focal
points see the same sequence. No personal data: ids, steps, levels and dates only.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from schemas.common import EventId, Frozen, Identifier, RequestReference, StateCode

ESCALATION_SOURCE = "tracefreeze/deadlines"
PUBLISH_ESCALATION_EVENT = "publish_escalation_event"


class EscalationKind(StrEnum):
    DEADLINE_APPROACHING = "deadline_approaching"
    STEP_REACHED = "step_reached"
    STEP_PROPOSED = "step_proposed"
    STEP_DECLINED = "step_declined"
    DEESCALATED = "deescalated"
    DEADLINE_EXTENDED = "deadline_extended"
    URGENT_CONFIRMATION_OVERDUE = "urgent_confirmation_overdue"
    CHANNEL_CHANGE_EFFECTIVE = "channel_change_effective"
    FREEZE_LIMIT_ACCEPTED_BY_SILENCE = "freeze_limit_accepted_by_silence"
    FREEZE_LIMIT_LAPSED = "freeze_limit_lapsed"
    NATIONAL_ORDER_LAPSING = "national_order_lapsing"


class EscalationEvent(Frozen):
    specversion: str = "1.0"
    id: EventId
    source: str = ESCALATION_SOURCE
    type: str = Field(description="int.icc.tracefreeze.escalation.<kind>.v1")
    time: AwareDatetime
    subject: RequestReference
    case_number: str
    requested_state: StateCode
    kind: EscalationKind
    level: int = Field(ge=0, le=5, description="0 none, 1 reminder ... 5 Assembly procedure")
    step: str | None = Field(default=None, description="The ladder step, e.g. chamber_report")
    stage: str | None = None
    deadline: AwareDatetime | None = None
    next_deadline: AwareDatetime | None = None
    addressee: str | None = Field(default=None, description="Focal point or organ addressed")
    channel: str | None = None
    asset_id: Identifier | None = None
    policy_version: str | None = None
    caused_by: EventId | None = None


class PublishEscalationEvent(Frozen):
    topic: str
    event: EscalationEvent
