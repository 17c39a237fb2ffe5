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


class EscalationKind(StrEnum):
    DEADLINE_APPROACHING = "deadline_approaching"
    STEP_REACHED = "step_reached"
    STEP_PROPOSED = "step_proposed"
    STEP_DECLINED = "step_declined"
    DEESCALATED = "deescalated"
    DEADLINE_EXTENDED = "deadline_extended"
    URGENT_CONFIRMATION_OVERDUE = "urgent_confirmation_overdue"
    CHANNEL_CHANGE_NOTIFIED = "channel_change_notified"
    """Rule 180: for the Registry's directory (future requests); this request keeps its own."""
    FREEZE_LIMIT_PROPOSED = "freeze_limit_proposed"
    """RS 97: a State proposes to limit a freeze; the Court is consulted, the freeze stays."""
    FREEZE_LIMIT_REMINDER = "freeze_limit_reminder"
    """The Court is reminded of an unanswered proposal (never accepted by silence)."""
    FREEZE_LIMIT_BEFORE_CHAMBER = "freeze_limit_before_chamber"
    """Escalation inside the Court: the unanswered proposal goes before the Chamber."""
    FREEZE_LIMIT_DATE_PASSED = "freeze_limit_date_passed"
    """The State's proposed date came without a Chamber decision: the freeze is still in force."""
    FREEZE_LIFTED = "freeze_lifted"
    """The date a Chamber's decision set has come: the freeze is lifted by that decision."""
    FREEZE_LIFT_NOT_APPLIED = "freeze_lift_not_applied"
    """The date a Chamber's lift set has come, but the asset is no longer held by the measure
    the decision concerned (seized since): nothing is released; back to the Chamber."""
    DOMESTIC_REMEDY_UPHELD = "domestic_remedy_upheld"
    """A State reports its court upheld a domestic remedy against the measure on an asset:
    before the Chamber, which decides; nothing is released on the report alone."""
    FREEZE_REVIEW_DUE = "freeze_review_due"
    """Periodic review of a freeze or seizure in force by the Chamber: a reminder, no release."""
    NATIONAL_ORDER_LAPSING = "national_order_lapsing"
    POSTPONEMENT_PERIOD_ENDED = "postponement_period_ended"
    """RS 94: the period agreed with the Court has ended: the Court is reminded, the State
    told, and the request's clock resumes where it stopped."""
    RELEASES_PROPOSED = "releases_proposed"
    """Proportionality across parties: what the case's requests secure exceeds the amount to
    secure by more than the policy's margin; the case proposes releases to the Chamber, which
    decides (nothing is released on the proposal)."""


class DirectoryChange(Frozen):
    """Rule 180: a party's new channel or language, for requests made from ``effective_at``
    (the agreed time or, failing agreement, 45 days after notice); requests already made
    keep theirs."""

    channel: str = Field(min_length=1, max_length=100)
    language: str = Field(pattern=r"^[a-z]{2}$")
    effective_at: AwareDatetime
    noticed_at: AwareDatetime


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
    channel: str | None = Field(default=None, description="The request's own channel")
    asset_id: Identifier | None = None
    directory_change: DirectoryChange | None = Field(
        default=None, description="channel_change_notified: the party's change (Rule 180)"
    )
    policy_version: str | None = None
    caused_by: EventId | None = None
    party_kind: str | None = Field(
        default=None,
        description="What the party is to the Court, as recorded at start (state_party, "
        "non_state_party_arrangement, non_state_party, security_council_bound, "
        "international_organisation): it decides where the ladder ends",
    )
    basis: str | None = Field(
        default=None, max_length=300, description="The step's legal basis, e.g. RS 87(5)(b)"
    )
    decide: str | None = Field(
        default=None,
        max_length=500,
        description="A proposed step: the command a person runs to decide it, with what is "
        "known filled in (ORGAN and TEXT left for the person)",
    )
    referral_targets: tuple[str, ...] = Field(
        default=(),
        max_length=2,
        description="A proposed referral step: where the situation register lets it go "
        "(assembly, security_council)",
    )
