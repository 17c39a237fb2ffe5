"""The clocks of one request: stage deadlines, pauses, extensions and the escalation ladder,
kept in the workflow (and carried across continue-as-new)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import MAX_PERIOD, Identifier
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


class FreezeLimitClock(State):
    """cf. EU 2018/1805 art. 12: the Court must answer a freeze-limit proposal in time."""

    asset_id: Identifier
    silence_due: AwareDatetime
    until: AwareDatetime
    objected: bool | None = None
    accepted_by_silence: bool = False
    lapsed: bool = False


class ChannelChange(State):
    """Rule 180: a change of channel or language takes effect 45 days after notice."""

    channel: str
    language: str
    effective_at: AwareDatetime


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
    channel: str | None = None
    language: str | None = None
    channel_change: ChannelChange | None = None
    freeze_limits: list[FreezeLimitClock] = []
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
    """The Court objects to, or accepts, a State's proposal to limit a freeze (cf. EU art. 12)."""

    asset_ids: tuple[Identifier, ...] = Field(min_length=1)
    objected: bool
    reasons: str = Field(min_length=1, max_length=5000)
