"""The clocks of one request: stage deadlines, pauses, extensions and the escalation ladder,
kept in the workflow (and carried across continue-as-new)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from schemas.common import MAX_PERIOD, MAX_TEXT, EventId, Identifier, Ids, Instant
from schemas.court import CourtAction
from schemas.ledger import State
from schemas.policy import ResolvedPolicy


class Stage(StrEnum):
    """The stages a State's execution passes, each with a policy deadline."""

    ACKNOWLEDGEMENT = "acknowledgement"
    FIRST_REPORT = "first_report"
    FULL_EXECUTION = "full_execution"


class Ladder(State):
    """How far up the escalation ladder the request has gone (``rung`` 0 = not escalated)."""

    rung: int = 0
    reached_at: AwareDatetime | None = None
    proposed: int | None = Field(default=None, description="Rung awaiting a Court decision")
    proposed_at: AwareDatetime | None = None


class FreezeLimitConsultation(State):
    """A State's proposal to limit how long a freeze lasts, consulted with the Court (RS 97).

    Part 9 has no silence rule: the proposal never lapses and is never accepted by the
    Court's silence (the six-week rule of EU Regulation 2018/1805 art. 12 is not ICC law).
    The Court is reminded on the policy's schedule and the proposal goes before the Chamber;
    the freeze stays in force until a Chamber decides, however late."""

    asset_id: Identifier
    proposed_at: AwareDatetime
    proposed_until: AwareDatetime
    reminders: int = Field(default=0, description="Reminders sent to the Court so far")
    before_chamber: bool = Field(default=False, description="Escalated to the Chamber")
    date_passed: bool = Field(default=False, description="The proposed date came unanswered")
    decision: Literal["freeze_maintained", "freeze_limited"] | None = None
    decision_event_id: EventId | None = None
    lift_at: AwareDatetime | None = Field(
        default=None, description="When the Chamber's decision lifts the freeze"
    )
    lifted: bool = False
    held_as: str | None = Field(
        default=None,
        description="The measure (frozen or seized) in force when the Chamber limited it",
    )
    lift_not_applied: bool = Field(
        default=False, description="The asset was no longer held by that measure on the date"
    )

    @property
    def pending(self) -> bool:
        return self.decision is None


class Clocks(State):
    policy: ResolvedPolicy
    started_at: AwareDatetime
    paused_since: AwareDatetime | None = None
    paused_total: timedelta = timedelta(0)
    extensions: dict[Stage, timedelta] = {}
    met: list[Stage] = []
    reminded: list[Stage] = []
    ladder: Ladder = Ladder()
    urgent_overdue_flagged: bool = False
    channel: str | None = Field(
        default=None, description="The request's channel, kept to its end (Rule 180(2))"
    )
    language: str | None = Field(
        default=None, description="The request's language, kept to its end (Rule 180(2))"
    )
    freeze_limits: list[FreezeLimitConsultation] = []
    freeze_reviews: dict[Identifier, int] = Field(
        default={}, description="Periodic Chamber reviews of a freeze in force, per asset"
    )
    lapse_reminded: list[Identifier] = []


class DeadlineExtension(CourtAction):
    """A Chamber extends a stage's deadline (audited); an overdue stage may stop being one."""

    stage: Stage
    by: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD)
    reasons: str = Field(min_length=1, max_length=2000)


class EscalationDecision(CourtAction):
    """Steps 3-5 of the ladder need a person's decision: the system proposes, a person decides."""

    step: str = Field(max_length=64, description="The proposed step, e.g. chamber_report")
    proceed: bool
    referral_to: Literal["assembly", "security_council"] | None = Field(
        default=None, description="RS 87(7): with a finding, refer to the Assembly or the UNSC"
    )
    reasons: str = Field(min_length=1, max_length=5000)


class FreezeLimitResponse(CourtAction):
    """A Chamber answers a State's proposal to limit a freeze (RS 97 consultation), at any
    time: there is no deadline after which its answer comes too late. ``freeze_maintained``
    keeps the freeze as it is; ``freeze_limited`` is the Chamber's decision to lift it on
    ``lift_at`` (the proposed date unless the Chamber sets another; at once if that date has
    passed). Only a Chamber lifts a freeze: nothing is released without this decision."""

    asset_ids: Ids = Field(min_length=1)
    outcome: Literal["freeze_maintained", "freeze_limited"]
    chamber: Literal["pre_trial_chamber", "trial_chamber", "appeals_chamber"] = Field(
        description="The Chamber whose decision this is"
    )
    lift_at: Instant | None = Field(
        default=None, description="freeze_limited: when the freeze is lifted"
    )
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _lift_only_when_limited(self) -> FreezeLimitResponse:
        if self.outcome == "freeze_maintained" and self.lift_at is not None:
            raise ValueError("lift_at: a maintained freeze is not lifted")
        return self
