"""What a request workflow carries from one run to the next: its own state, never a contract.

Nothing here crosses a boundary. The Court's client starts a request with a ``RequestInput``
(``schemas/views.py``); each later run of the same request starts with a ``RequestRun``, the
same input with the state the previous run handed over (continue-as-new). The clocks,
the ledger's versions and the seen-ids live here with the workflow that writes them
(``workflows/request.py``); what others read of them leaves through the query view, the
events and the memo, whose contracts are in ``schemas/``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import MAX_ASSETS, EventId, EventRef, Identifier
from schemas.court import EnforcementRequestMade, Judgment, Stage
from schemas.court_record import SignedCourtAction
from schemas.denials import DenialRecord, NationalSecurityConsultation
from schemas.directory import DirectoryNotice
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from schemas.ledger import Ledger, RequestStatus, State
from schemas.organ_keys import OrganKeys
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import ReportMemo, RequestInput, TimelineEntry


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


TIMELINE_CARRIED = 200
"""Timeline entries a request carries across continue-as-new: the most recent ones. Every
entry also became a request event when it was made, published to Kafka from the outbox, which
is carried whole until then (the record of the request's life); the carry counts the older
ones it no longer holds (``timeline_dropped``)."""


class RequestVersion(State):
    """One version of the request: the original, or a modification after consultation."""

    version: int
    at: AwareDatetime
    event_id: EventRef | None = None
    request: CourtRequest


class SeenDay(State):
    """Event ids taken on one UTC day, as concatenated 12-character digests
    (``workflows/request_seen.py``)."""

    day: date
    digests: str = Field(pattern=r"^[A-Za-z0-9+/=]*$")


MAX_REQUEST_COURT_ACTIONS = 3 * MAX_ASSETS + 2_000
"""Court actions one request takes in its life, each id kept for ever (``request_seen.py``):
room for the procedure on the largest request (a transfer to the Court and allocations of
each of ``MAX_ASSETS`` assets, RS 109, Rule 221, and as many again) with 2,000 to spare; 60 KB
of its carry (12 characters an id; the payload codec compresses a carry that large,
``tracefreeze/security/compression.py``). Past it, a new Court action is refused with the
reason; the Registry's acts stop short of it, so a Chamber's or the Presidency's decision
always has room (``workflows/court_admission.py``)."""


class RequestCarry(State):
    """What a request carries across continue-as-new so nothing is forgotten or re-applied,
    bounded whatever the number of answers (the SDK refuses a payload over 2 MB): the most
    recent timeline entries (older ones left as request events on Kafka when they were made),
    the event ids taken within the dedupe window, and each asset's history with every status
    change but only its last repeated valuations (``LedgerEntry.collapse_history``)."""

    status: RequestStatus
    ledger: Ledger
    timeline: list[TimelineEntry]
    timeline_dropped: int = Field(default=0, ge=0, description="Older entries not carried")
    seen_event_ids: list[EventRef] = Field(
        default=[], description="Ids carried before the dedupe window (read, never written)"
    )
    seen: list[SeenDay] = Field(default=[], description="Ids taken within the dedupe window")
    answers_taken: int = Field(default=0, ge=0, description="Distinct ids ever taken")
    court_ids: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9+/=]*$",
        max_length=12 * MAX_REQUEST_COURT_ACTIONS,
        description="The Court actions' ids taken, kept for the request's life (digests)",
    )
    outbox: list[RequestEvent] = []
    versions: list[RequestVersion] = []
    resume_status: RequestStatus | None = Field(
        default=None, description="Where a consultation or postponement returns to"
    )
    consultation_ground: str | None = None
    postponed_until: AwareDatetime | None = None
    postponement_challenge: str | None = Field(
        default=None, description="RS 95: the admissibility challenge a postponement waits for"
    )
    admissibility_rulings: list[str] = Field(
        default=[], description="Challenges the Court recorded as decided or overridden (RS 95)"
    )
    urgent_confirmed_at: AwareDatetime | None = None
    rule99_notified_at: AwareDatetime | None = None
    supplementary_assets: list[str] = Field(
        default=[],
        description="Assets first recorded by a supplementary execution report (RS 99): "
        "further reports on them are taken after execution ended",
    )
    report: ReportMemo = ReportMemo()
    met_before_clocks: list[Stage] = Field(
        default=[],
        description="Stages met while the request's policy was being resolved at start",
    )
    supplemented_told: bool = Field(
        default=False,
        description="An enforcement request (RS 109) has told the request it supplements",
    )
    clocks: Clocks | None = Field(default=None, description="Deadlines; none without a policy")
    escalation_outbox: list[EscalationEvent] = []
    signed_outbox: list[SignedCourtAction] = Field(
        default=[], description="Signed originals of Court actions, for the record store"
    )
    directory_outbox: list[DirectoryNotice] = Field(
        default=[], description="Rule 180 notices to forward to the party's directory"
    )
    national_security_consultations: list[NationalSecurityConsultation] = Field(
        default=[], description="art. 72(5) consultations, each replaced, never changed"
    )
    denials: list[DenialRecord] = Field(
        default=[], description="RS 93(4) denials, each replaced, never changed"
    )
    organ_keys: OrganKeys | None = Field(
        default=None,
        description="The organ key registry Court actions are verified against, as read by "
        "the worker (workflows/request_keys.py)",
    )
    judgment: Judgment | None = Field(
        default=None,
        description="The judgment in force in the request's case, as the case told it "
        "(RS 74, 83; a forfeiture order follows a conviction, RS 77(2)(b))",
    )


class RequestRun(RequestInput):
    """The input of every run of a request: the Court's start input and, from the second
    run on, what the previous run carried over (``RequestCarry``)."""

    carried: RequestCarry | None = None
    enforcement_notice: EnforcementRequestMade | None = Field(
        default=None,
        description="An enforcement request (RS 109, Rule 217) that supplements an earlier "
        "request: the Presidency's own act telling that request (``enforcement_request_made``), "
        "signed for it, which this request relays as signed (``workflows/request_links.py``)",
    )
