"""Deadline policy and the State directory (docs/legal-process.md, "Deadlines and escalation").

The Rome Statute sets no numeric deadlines ("without delay", "promptly", "a period agreed
with the Court"), so every number here is **policy**: versioned, reviewed, and kept apart
from legal obligations. Durations are ISO 8601 (``P7D``, ``PT8H``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from schemas.common import MAX_PERIOD, MAX_STATES, Frozen, Measure, StateCode, Urgency
from schemas.court import AllocationDestination
from schemas.situation import SituationRecord


class RequestKind(StrEnum):
    """Policy groups requests by what they ask for."""

    TRACING = "tracing"  # identify / trace only
    RESTRAINT = "restraint"  # freeze or seize

    @classmethod
    def of(cls, measures: tuple[Measure, ...]) -> RequestKind:
        restraint = {Measure.FREEZE, Measure.SEIZE}
        return cls.RESTRAINT if restraint & set(measures) else cls.TRACING


class StageDeadlines(Frozen):
    """Time allowed, from transmission, for each stage of a request to one State."""

    acknowledgement: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD)
    first_report: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD)
    full_execution: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD)

    @model_validator(mode="after")
    def _ordered(self) -> StageDeadlines:
        if not self.acknowledgement <= self.first_report <= self.full_execution:
            raise ValueError(
                "stages must be ordered: acknowledgement <= first_report <= full_execution"
            )
        return self


class LadderIntervals(Frozen):
    """How long each rung of the escalation ladder waits before the next is due or proposed."""

    reminder_lead: timedelta = Field(
        ge=timedelta(0), le=MAX_PERIOD, description="Reminder before a deadline"
    )
    registry_follow_up_after: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD)
    chamber_report_after: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD)
    chamber_order_period: timedelta = Field(
        gt=timedelta(0), le=MAX_PERIOD, description="Period a Chamber gives the State to report"
    )
    assembly_step_after: timedelta = Field(
        gt=timedelta(0), le=MAX_PERIOD, description="Between the steps of the Assembly's procedure"
    )
    assembly_letter_period: timedelta = Field(
        gt=timedelta(0), le=MAX_PERIOD, description="Deadline in the Assembly President's letter"
    )


class OtherClocks(Frozen):
    """Clocks beside the stage deadlines. None of them ends a measure: a reminder or an
    escalation inside the Court is all they produce (a freeze stays until a Chamber lifts it)."""

    urgent_confirmation: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD, description="RS 96(1)")
    channel_change_notice: timedelta = Field(
        default=timedelta(days=45),
        gt=timedelta(0),
        le=MAX_PERIOD,
        description="Rule 180(2): a change of channel or language, failing an agreed time, "
        "takes effect this long after notice, for future requests only",
    )
    freeze_limit_reminder_every: timedelta = Field(
        gt=timedelta(0),
        le=MAX_PERIOD,
        description="RS 97: how often the Court is reminded of a State's unanswered proposal "
        "to limit a freeze (the proposal never lapses on the Court's silence)",
    )
    freeze_limit_to_chamber_after: timedelta = Field(
        gt=timedelta(0),
        le=MAX_PERIOD,
        description="After this long unanswered, the proposal goes before the Chamber",
    )
    freeze_review_every: timedelta = Field(
        gt=timedelta(0),
        le=MAX_PERIOD,
        description="Period of the Chamber's review of a freeze or seizure in force (a "
        "reminder, never a release)",
    )
    national_order_lapse_reminder: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD)


class Deescalation(Frozen):
    """What a State's answer that meets the overdue stage does to the ladder."""

    keep_from_level: int = Field(
        default=4,
        ge=1,
        le=5,
        description="From this level on (RS 87(7) finding and after) the level stays recorded",
    )


class StageDefaults(Frozen):
    """Stage deadlines by urgency for one kind of request."""

    ordinary: StageDeadlines
    urgent: StageDeadlines

    def for_urgency(self, urgency: Urgency) -> StageDeadlines:
        return self.urgent if urgency is Urgency.URGENT else self.ordinary


class AllocationPolicy(Frozen):
    """The purposes beyond reparations and the Trust Fund for Victims to which the Presidency's
    allocation may go (Rule 221(1)), each with the basis recorded on its shares. Reparations
    (RS 75(2)) and the Trust Fund (RS 75(2), 79(2)) rest on the Statute and need no entry; a
    purpose not listed here is refused (nothing allocated beyond what the policy allows)."""

    other_purposes: dict[AllocationDestination, str] = Field(
        default={},
        description="Other purposes allowed, each with its basis, e.g. fine = "
        '"RS 77(2)(a); Rules 217-218"',
    )

    @model_validator(mode="after")
    def _only_other_purposes(self) -> AllocationPolicy:
        statutory = sorted(d.value for d in self.other_purposes if d.statutory)
        if statutory:
            raise ValueError(f"other_purposes: {statutory} rest on the Statute, not on policy")
        for purpose, basis in self.other_purposes.items():
            if not 0 < len(basis.strip()) <= 300:
                raise ValueError(f"other_purposes: {purpose.value} needs a basis (1-300 chars)")
        return self


class DeadlinePolicy(Frozen):
    """The reviewed policy file: defaults per request kind and urgency, the ladder, clocks."""

    version: str = Field(min_length=1, max_length=50)
    deadlines: dict[RequestKind, StageDefaults]
    ladder: dict[Urgency, LadderIntervals]
    clocks: OtherClocks
    deescalation: Deescalation = Deescalation()
    allocation: AllocationPolicy = AllocationPolicy()
    state_overrides: bool = Field(
        default=True, description="Apply the State directory's overrides (off for demo policies)"
    )
    proportionality_margin: Decimal = Field(
        default=Decimal("0.25"),
        ge=0,
        le=10,
        max_digits=6,
        description="How far above a case's amount to secure what its requests secure may go "
        "before the case proposes releases to the Chamber (0.25: 25 %); policy, not law",
    )

    @model_validator(mode="after")
    def _every_kind(self) -> DeadlinePolicy:
        missing = set(RequestKind) - set(self.deadlines)
        if missing:
            raise ValueError(f"deadlines: no defaults for {sorted(k.value for k in missing)}")
        missing_ladders = set(Urgency) - set(self.ladder)
        if missing_ladders:
            raise ValueError(f"ladder: no intervals for {sorted(u.value for u in missing_ladders)}")
        return self


class StagePatch(Frozen):
    acknowledgement: timedelta | None = Field(default=None, gt=timedelta(0), le=MAX_PERIOD)
    first_report: timedelta | None = Field(default=None, gt=timedelta(0), le=MAX_PERIOD)
    full_execution: timedelta | None = Field(default=None, gt=timedelta(0), le=MAX_PERIOD)


class PartyKind(StrEnum):
    """What the requested party is to the Court, which decides where the escalation ladder
    ends (docs/legal-process.md, "Who is asked")."""

    STATE_PARTY = "state_party"
    """Part 9 (RS 86, 93(1)(k)); non-compliance: RS 87(7) finding and referral."""
    NON_STATE_PARTY_ARRANGEMENT = "non_state_party_arrangement"
    """RS 87(5)(a): an ad hoc arrangement or agreement; failure: RS 87(5)(b), never 87(7)."""
    NON_STATE_PARTY = "non_state_party"
    """RS 87(5)(a): the request invites an arrangement; no compulsion, no finding."""
    SECURITY_COUNCIL_BOUND = "security_council_bound"
    """A State bound by a Security Council resolution (RS 13(b)): the Council is informed."""
    INTERNATIONAL_ORGANISATION = "international_organisation"
    """RS 87(6): information, documents, other forms of cooperation agreed with it."""


class KindSince(Frozen):
    """The party's kind from a date (a ratification, an arrangement, its end)."""

    kind: PartyKind
    since: date
    basis: str | None = Field(
        default=None, max_length=200, description="e.g. the instrument or arrangement"
    )


class StateEntry(Frozen):
    """One party in the directory (seed para 9): what it is to the Court and from when, who
    receives, how, in which language. A party's code is three letters: ISO 3166-1 alpha-3
    for a State; for an international organisation, a code of the user-assigned range
    ``XAA``-``XZZ`` (ISO 3166-1 reserves it for users: no State ever takes one), declared
    here, e.g. ``XIP``."""

    kinds: tuple[KindSince, ...] = Field(
        default=(),
        max_length=50,
        description="The party's kind history; the kind in force on the transmission date "
        "governs a request. No kind in force: the mildest ladder (RS 87(5)(a): no finding)",
    )

    central_authority: str = Field(min_length=1, max_length=200)
    focal_point: str = Field(min_length=1, max_length=200, description="Office, not a person")
    channel: str = Field(min_length=1, max_length=100, description="RS 87(1)(a)")
    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1, RS 87(2)")
    time_zone: str = Field(min_length=1, max_length=64)
    overrides: dict[RequestKind, dict[Urgency, StagePatch]] = {}

    @model_validator(mode="after")
    def _kinds_in_order(self) -> StateEntry:
        days = [k.since for k in self.kinds]
        if days != sorted(set(days)):
            raise ValueError("kinds: one entry per date, in order of date")
        if any(k.kind is PartyKind.SECURITY_COUNCIL_BOUND for k in self.kinds):
            raise ValueError(
                "kinds: a Council resolution binds a State in the situation it referred only "
                "(RS 13(b)): say so in the situation register's bound_states, not here"
            )
        return self

    def kind_on(self, day: date) -> PartyKind | None:
        """The kind in force on ``day`` (the latest entry from on or before it)."""
        found = [k.kind for k in self.kinds if k.since <= day]
        return found[-1] if found else None


class StateDirectory(Frozen):
    states: dict[StateCode, StateEntry] = Field(max_length=MAX_STATES)

    @model_validator(mode="after")
    def _organisation_codes(self) -> StateDirectory:
        for code, entry in self.states.items():
            organisation = any(k.kind is PartyKind.INTERNATIONAL_ORGANISATION for k in entry.kinds)
            if organisation != code.startswith("X"):
                raise ValueError(
                    f"{code}: an international organisation, and only it, takes a "
                    "user-assigned code XAA-XZZ (ISO 3166-1)"
                )
        return self


class StateContact(Frozen):
    """How the requested State is reached, as recorded in the request at start."""

    state: StateCode
    central_authority: str = Field(min_length=1, max_length=200)
    focal_point: str = Field(min_length=1, max_length=200)
    channel: str = Field(min_length=1, max_length=100)
    language: str = Field(pattern=r"^[a-z]{2}$")
    time_zone: str = Field(min_length=1, max_length=64)


class ResolvedPolicy(Frozen):
    """The policy in force for one request, recorded in the workflow at start, so a later
    policy change never rewrites a running request's past."""

    version: str = Field(min_length=1, max_length=50)
    kind: RequestKind
    deadlines: StageDeadlines
    ladder: LadderIntervals
    clocks: OtherClocks
    deescalation: Deescalation
    allocation: AllocationPolicy = AllocationPolicy()
    contact: StateContact | None = None
    party_kind: PartyKind = Field(
        default=PartyKind.STATE_PARTY,
        description="The party's kind in force on the transmission date: the end of its "
        "ladder (a later change in the directory never changes a running request's)",
    )
    situation: SituationRecord | None = Field(
        default=None,
        description="The request's situation from the register (RS 13); none if unregistered: "
        "then nothing is referred to the Security Council",
    )


RESOLVE_POLICY = "resolve_policy"
"""The activity that resolves the policy in force for a request started without one
(``activities/policy.py``)."""


class PolicyAtStart(Frozen):
    """The policy in force for a request started without one (by a client other than the
    Court's own), or why none could be had."""

    policy: ResolvedPolicy | None = None
    reason: str | None = Field(default=None, max_length=2000)
