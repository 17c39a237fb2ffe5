"""Inputs and outputs of the request workflow: its start input, update receipts and query view."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import AwareDatetime, Field, field_validator

from schemas.common import Confidentiality, EventRef, Frozen, LegalBasis, Origin, TopicName
from schemas.completeness import CompletenessOverride
from schemas.denials import DenialRecord, NationalSecurityConsultation
from schemas.ledger import ConvertedTotals, CurrencyTotals, Ledger, RequestStatus, State
from schemas.policy import PartyKind, ResolvedPolicy
from schemas.request import CourtRequest, Rule99Application


class TimelineEntry(State):
    at: AwareDatetime
    event_id: EventRef | None = Field(description="The answer or action; none for transmission")
    what: str
    status: RequestStatus


class ReleaseTally(State):
    """The assets of one request released on one ground, and their values per currency."""

    assets: int = 0
    values: dict[str, Decimal] = {}


class ReportMemo(State):
    """What the annual cooperation report (seed para 28) reads from visibility, one memo per
    request: when the State answered, how far it escalated, and the values per currency.
    Memos pass through the payload codec; search attributes never carry these values."""

    transmitted_at: AwareDatetime | None = Field(
        default=None, description="Start of the first run (survives continue-as-new)"
    )
    acknowledged_at: AwareDatetime | None = None
    first_report_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = Field(
        default=None, description="Final report, no assets, denial or withdrawal"
    )
    max_escalation_level: int = 0
    totals: dict[str, CurrencyTotals] = {}
    completeness_override: CompletenessOverride | None = Field(
        default=None, description="Transmitted incomplete by a named person's decision"
    )
    confidentiality: Confidentiality | None = Field(
        default=None,
        description="RS 87(3), Rule 99(2): what the report may disclose of this request "
        "(none: a memo written before it was recorded, read as confidential)",
    )
    legal_basis: LegalBasis | None = None
    origin: Origin | None = Field(default=None, description="Chamber, Prosecution or Defence")
    party_kind: PartyKind | None = Field(
        default=None, description="What the requested party is to the Court (its policy)"
    )
    released: dict[str, ReleaseTally] = Field(
        default={}, description="Released assets by the ground of the Court's decision"
    )


TIMELINE_SHOWN = 100
"""Timeline entries the ``view`` query returns: the most recent ones (``timeline_elided``)."""
SEEN_IDS_CAP = 16_000
"""Default cap on event ids a request holds within its dedupe window (12 bytes each)."""
DEDUPE_WINDOW = timedelta(days=22)
"""Default dedupe window: the intake's default answer age limit (21 days) and a day's margin.
The Court's client passes its own settings' limit (``tracefreeze/client.py``)."""

SERVER_UPDATES_PER_RUN = 2_000
"""The Temporal server's limit of updates one workflow run can receive (dynamic config
``history.maxTotalUpdates``, default 2,000; rejected updates do not count): past it the
server refuses every update to the run, and a request under a flood of answers would take
none. The server suggests continue-as-new at 90% of it
(``history.maxTotalUpdates.suggestContinueAsNewThreshold``), but only from the versions that
know it, and a run winding down still admits up to 10 updates in flight
(``history.maxInFlightUpdates``)."""
ANSWERS_PER_RUN = 500
"""Default ``answers_per_run``: a quarter of ``SERVER_UPDATES_PER_RUN``. The request counts
every update its run took (answers, duplicates, Court actions, refusals after validation; a
batch counts its answers); the margin leaves room for updates in flight while the run hands
over."""
MAX_ANSWERS_PER_RUN = 1_000
"""The most ``answers_per_run`` may be: half the server's limit, never near it."""


class RequestInput(Frozen):
    """Start input of a request workflow (one request to one State), as the Court's client
    sends it. Later runs of the same request start with ``workflows.carry.RequestRun``: this
    input and the workflow's own carried state, which is no contract."""

    request: CourtRequest
    events_topic: TopicName = Field(
        default="tracefreeze.request-events", description="Where lifecycle events are published"
    )
    policy: ResolvedPolicy | None = Field(
        default=None, description="Deadline policy in force at start (none: no clocks)"
    )
    escalations_topic: TopicName = "tracefreeze.escalations"
    completeness_override: CompletenessOverride | None = Field(
        default=None,
        description="The named person who had the request transmitted although the "
        "completeness check found it incomplete (RS 96(2); Rule 176(2)), why, and the findings",
    )
    answers_per_run: int = Field(
        default=ANSWERS_PER_RUN,
        ge=1,
        le=MAX_ANSWERS_PER_RUN,
        description="Continue-as-new after this many updates in one run (answers, repeats, "
        "Court actions, refusals after validation; a batch counts its answers), or earlier "
        "when the server suggests it, well before the server's limit of updates per run",
    )
    dedupe_window: timedelta = Field(
        default=DEDUPE_WINDOW,
        gt=timedelta(0),
        le=timedelta(days=3660),
        description="How long an event id is remembered: at least the intake's answer age "
        "limit (answer_max_age_days), past which the bridge refuses an answer anyway",
    )
    seen_ids_cap: int = Field(
        default=SEEN_IDS_CAP,
        ge=1,
        le=100_000,
        description="Most ids held within the window; past it new answers are refused",
    )

    @field_validator("answers_per_run", mode="before")
    @classmethod
    def _never_unbounded(cls, value: object) -> object:
        """An input that names no limit (null: a run that waited for the server's
        suggestion alone) takes the default: a run never runs into the server's limit."""
        return ANSWERS_PER_RUN if value is None else value


class AnswerReceipt(Frozen):
    """What an accepted update returns; a duplicate event id returns ``duplicate=True``.
    In a batch, an answer its rule refused carries the reason in ``rejected``."""

    event_id: EventRef
    duplicate: bool
    status: RequestStatus
    rejected: str | None = None


class BatchReceipt(Frozen):
    """One receipt per answer of an ``AnswerBatch``, in the batch's order."""

    receipts: list[AnswerReceipt]


class RequestProgress(Frozen):
    """Where a request stands, without ledger or timeline: cheap enough to poll."""

    status: RequestStatus
    answers_seen: int = Field(ge=0)
    """Distinct State answers and Court actions taken (their event ids)."""


class RequestView(Frozen):
    """The query answer: status, ledger with per-currency totals, and the timeline."""

    reference: str
    case_number: str
    requested_state: str
    status: RequestStatus
    ledger: Ledger
    totals: dict[str, CurrencyTotals]
    converted_totals: list[ConvertedTotals] = Field(
        default=[],
        description="A currency's totals converted at a dated rate the Registry recorded, "
        "with the rate, its date and source; beside the unconverted totals, never added",
    )
    timeline: list[TimelineEntry] = Field(description="The most recent entries")
    timeline_elided: int = Field(
        default=0,
        ge=0,
        description="Older entries not shown: each left as a request event when it was made "
        "(Kafka, and the record store keeps them); shown plus elided is every entry",
    )
    answers_seen: int
    version: int = 1
    resume_status: RequestStatus | None = None
    postponed_until: AwareDatetime | None = None
    postponement_challenge: str | None = Field(
        default=None, description="RS 95: the admissibility challenge the postponement waits for"
    )
    urgent_confirmed_at: AwareDatetime | None = None
    rule99_notified_at: AwareDatetime | None = None
    rule99_application: Rule99Application | None = Field(
        default=None, description="Rule 99(1): on whose initiative the measures were requested"
    )
    policy_version: str | None = None
    escalation_level: int = 0
    escalation_step: str | None = None
    proposed_step: str | None = Field(default=None, description="Awaiting a Court decision")
    overdue: bool = False
    next_deadline: AwareDatetime | None = None
    party_kind: str | None = Field(
        default=None, description="The party's kind recorded at start: where its ladder ends"
    )
    national_security_consultations: list[NationalSecurityConsultation] = Field(
        default=[], description="art. 72(5) consultations and their outcomes"
    )
    denials: list[DenialRecord] = Field(
        default=[], description="RS 93(4) denials, in whole or in part, and art. 72(7) steps"
    )
