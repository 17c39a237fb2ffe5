"""A case with assets in several States: one Court order fanned out as one request per State."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from schemas.common import (
    MAX_STATES,
    MAX_TEXT,
    CaseNumber,
    CurrencyCode,
    EventId,
    Frozen,
    Identifier,
    Money,
    RequestReference,
    StateCode,
    TopicName,
)
from schemas.completeness import CompletenessOverride
from schemas.court import (
    CaseRelease,
    CloseRequest,
    CourtAction,
    DecidingOrgan,
    EnforcementRequestMade,
    Judgment,
    ReleaseCase,
)
from schemas.escalations import EscalationEvent
from schemas.ledger import AssetStatus, CurrencyTotals, Ledger, RequestStatus
from schemas.organ_keys import OrganKeys
from schemas.organs import OrganName
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import DEDUPE_WINDOW

MAX_CURRENCIES = 5
"""Currencies a request reports to its case, the first by code; more are counted, not listed
(a request deals in a few: the local currency, the one its assets are valued in, EUR or USD).

The bound is set by Temporal's payload limit (2 MiB): a case carries every request's summary
across continue-as-new and shows them in its view, and a summary is a signal anyone able to
reach the case could send, so it is sized at its bounds, not at its usual size. Measured
(tests/workflows/test_list_bounds.py), one listed currency costs about 420 bytes at its widest
(seven figures in ``totals`` and one in ``secured``, each at most ``MAX_DIGITS`` digits, and
their names), a held asset about 90 (an id of 64 characters and its status), and the rest of a
summary about 300, its key in the carry about 70. So a summary takes at most
300 + 70 + 5 x 420 + 8 x 90 = 3,190 bytes, and ``MAX_CASE_REQUESTS`` (400) of them
1.28 MB. The rest of the carry at its bounds, measured the same way: the workflow ids 60 KB,
the Court actions seen 39 KB, the judgments 8 KB, the release record 0.30 MB (its reasons kept
short, ``workflows/case_release.py``), the Court actions on their way 0.25 MB (a judgment, the
release and a close for each request, each carried by its event id: ``CarriedDelivery``):
about 1.95 MB in all, under the 2 MiB limit. At the old bounds (64 currencies, 20 held assets)
a summary took about 29 KB and 400 of them 11.6 MB, the actions on their way 2.76 MB: the case
could never have handed over."""
MAX_COURT_ACTIONS = 1_000
"""Court actions (event ids) one case remembers across its runs."""
MAX_COUNT = 10**9
MAX_SUMMED = Decimal(10) ** 22
"""Largest figure a request's summary may carry: above any sum of amounts a State may report
(each below 10**18) over the assets of a request, far below what the case's sums can hold."""
MAX_HELD = 8
"""Assets not yet settled that a request lists to its case; more are counted, not listed (the
case carries every request's summary across continue-as-new: sized with ``MAX_CURRENCIES``)."""
MAX_DIGITS = 28
"""Most digits of a figure in a request's summary: the precision of the sums a request makes
(Python's decimal context, 28 digits); a figure of ten thousand digits, however small, would
take ten kilobytes of the case's carry."""
MAX_HELD_REPORTED = 1_000
"""Held assets a case's release report lists; more are counted, not listed."""
MAX_JUDGMENTS = 16
"""Judgments one case records (trial, appeal, and decisions ending the proceedings)."""
MAX_CASE_REQUESTS = 2 * MAX_STATES
"""Most requests one case holds: one per State at the opening, and the further
(supplementary) requests added later, each to a party already in the case."""

RequestWorkflowId = Annotated[str, StringConstraints(pattern=r"^request/[A-Za-z0-9/._-]{1,200}$")]


class CaseOrder(Frozen):
    """A Court order to restrain assets in several jurisdictions (docs/legal-process.md,
    'Several States')."""

    order_reference: RequestReference
    case_number: CaseNumber
    requests: tuple[CourtRequest, ...] = Field(min_length=1, max_length=MAX_STATES)
    events_topic: TopicName = "tracefreeze.request-events"
    escalations_topic: TopicName = "tracefreeze.escalations"
    policies: dict[StateCode, ResolvedPolicy] = Field(
        default={},
        max_length=MAX_STATES,
        description="Deadline policy per State, recorded at start",
    )
    workflow_ids: dict[StateCode, RequestWorkflowId] = Field(
        default={},
        max_length=MAX_STATES,
        description="Where a State's request runs, if not under its plain id: the opaque id "
        "of an ex parte request (Rule 99(2)), set by the Court's client",
    )
    dedupe_window: timedelta = Field(
        default=DEDUPE_WINDOW,
        gt=timedelta(0),
        le=timedelta(days=3660),
        description="How long each request remembers an event id (RequestInput), set by the "
        "Court's client from the intake's answer age limit",
    )
    completeness_overrides: dict[StateCode, CompletenessOverride] = Field(
        default={},
        max_length=MAX_STATES,
        description="A named person's decision to transmit a request the completeness check "
        "found incomplete (seed para 11; RS 96(2)), per State, set by the Court's client from "
        "its check and recorded with that request",
    )

    @model_validator(mode="after")
    def _one_case_one_request_per_state(self) -> CaseOrder:
        for request in self.requests:
            if request.case_number != self.case_number:
                raise ValueError(
                    f"requests: {request.reference} belongs to case {request.case_number}, "
                    f"not {self.case_number}"
                )
            if request.enforcement is not None:
                raise ValueError(
                    f"requests: {request.reference} is an enforcement request (RS 109): it "
                    "follows the case's final conviction, so it is added to the case once the "
                    "judgment is recorded (Rule 217), not in the order opening it"
                )
        states = [r.requested_state for r in self.requests]
        if len(set(states)) != len(states):
            raise ValueError("requests: one request per State")
        return self

    @property
    def workflow_id(self) -> str:
        return case_workflow_id(self.order_reference)


def case_workflow_id(order_reference: str) -> str:
    return f"case/{order_reference}"


class AddState(CourtAction):
    """The Court adds a State to the case: assets were found in another jurisdiction."""

    request: CourtRequest
    policy: ResolvedPolicy | None = None
    workflow_id: RequestWorkflowId | None = Field(
        default=None, description="The opaque id of an ex parte request (Rule 99(2))"
    )
    completeness_override: CompletenessOverride | None = Field(
        default=None,
        description="The override of an incomplete request's check, set by the Court's client",
    )
    enforcement_notice: EnforcementRequestMade | None = Field(
        default=None,
        description="An enforcement request (RS 109, Rule 217) supplementing an earlier one: "
        "the Presidency's act telling that request, signed for it by the Court's client, which "
        "the enforcement request relays as signed",
    )


class CloseCase(CourtAction):
    """The case closes only when every request in it is closed: no child is orphaned."""

    reason: str = Field(min_length=1, max_length=2000)


class Secured(Frozen):
    """What restrained assets secure in one currency (frozen, seized, or held under a
    forfeiture order), unconverted, with the oldest valuation date among them: a total is only
    as fresh as its stalest value."""

    amount: Decimal = Decimal(0)
    assets: int = Field(default=0, ge=0, le=MAX_COUNT)
    valued_on: date | None = Field(
        default=None, description="The oldest valuation date among the assets counted"
    )

    def plus(self, other: Secured) -> Secured:
        dates = [d for d in (self.valued_on, other.valued_on) if d is not None]
        return Secured(
            amount=self.amount + other.amount,
            assets=min(self.assets + other.assets, MAX_COUNT),
            valued_on=min(dates) if dates else None,
        )


class RequestSummary(Frozen):
    """What a request of a case tells its case, and all the case keeps of it: its status,
    per-currency totals and counts. Small and bounded: a request sends it only when it
    changed, at most once per few seconds, so one State's stream of answers cannot grow
    the case (RS 93(1)(k) in several jurisdictions; one State never stalls another)."""

    reference: RequestReference
    requested_state: StateCode
    status: RequestStatus
    totals: dict[CurrencyCode, CurrencyTotals] = Field(default={}, max_length=MAX_CURRENCIES)
    currencies_left_out: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="Currencies beyond the bound, not listed"
    )
    answers_seen: int = Field(default=0, ge=0, le=MAX_COUNT)
    assets: int = Field(default=0, ge=0, le=MAX_COUNT)
    restrained: int = Field(default=0, ge=0, le=MAX_COUNT)
    held: dict[Identifier, AssetStatus] = Field(
        default={},
        max_length=MAX_HELD,
        description="Assets not yet settled (frozen, seized, under a forfeiture order, "
        "transferred and not yet allocated), the first by id: what a case release still waits "
        "for",
    )
    held_left_out: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="Assets not settled beyond the bound"
    )
    secured: dict[CurrencyCode, Secured] = Field(
        default={},
        max_length=MAX_CURRENCIES,
        description="What its restrained assets secure, per currency (the first by code)",
    )
    unvalued: int = Field(
        default=0, ge=0, le=MAX_COUNT, description="Restrained assets with no value reported"
    )
    as_of: AwareDatetime | None = Field(
        default=None, description="The request's workflow time when it reported; none yet"
    )

    @model_validator(mode="after")
    def _amounts_bounded(self) -> RequestSummary:
        """Every figure a finite amount below ``MAX_SUMMED``: a report (a signal anyone able to
        reach the case could send) never overflows the case's sums and stalls it."""
        figures = [getattr(t, n) for t in self.totals.values() for n in CurrencyTotals.model_fields]
        figures += [s.amount for s in self.secured.values()]
        for figure in figures:
            if (
                not isinstance(figure, Decimal)
                or not figure.is_finite()
                or abs(figure) > MAX_SUMMED
            ):
                raise ValueError(f"an amount in a request's summary is out of bounds: {figure}")
            if len(figure.as_tuple().digits) > MAX_DIGITS:
                raise ValueError(f"an amount in a request's summary has over {MAX_DIGITS} digits")
        return self

    @property
    def key(self) -> str:
        """The request within its case: ``REFERENCE/PARTY`` (a party may have several)."""
        return request_key(self.reference, self.requested_state)

    def older_than(self, known: RequestSummary) -> bool:
        """Taken before what the case already knows of the request: a late or replayed
        report never rolls the case's view back."""
        return known.as_of is not None and (self.as_of is None or self.as_of < known.as_of)

    @classmethod
    def transmitted(cls, request: CourtRequest) -> RequestSummary:
        """A request just started, before it reported anything."""
        return cls(
            reference=request.reference,
            requested_state=request.requested_state,
            status=RequestStatus.TRANSMITTED,
        )

    @classmethod
    def of(
        cls,
        request: CourtRequest,
        status: RequestStatus,
        ledger: Ledger,
        answers_seen: int,
        as_of: datetime,
    ) -> RequestSummary:
        """The summary of a request's state; totals for the first currencies by code."""
        totals = ledger.totals()
        codes = sorted(totals)
        held = sorted(a for a, e in ledger.entries.items() if not e.status.settled)
        secured = secured_by(ledger)
        return cls(
            reference=request.reference,
            requested_state=request.requested_state,
            status=status,
            totals={c: totals[c] for c in codes[:MAX_CURRENCIES]},
            currencies_left_out=len(codes[MAX_CURRENCIES:]),
            answers_seen=min(answers_seen, MAX_COUNT),
            assets=min(len(ledger.entries), MAX_COUNT),
            restrained=min(len(ledger.restrained()), MAX_COUNT),
            held={a: ledger.entries[a].status for a in held[:MAX_HELD]},
            held_left_out=min(len(held[MAX_HELD:]), MAX_COUNT),
            secured=dict(sorted(secured.items())[:MAX_CURRENCIES]),
            unvalued=min(sum(1 for e in ledger.restrained() if e.value is None), MAX_COUNT),
            as_of=as_of,
        )

    def same_as(self, other: RequestSummary | None) -> bool:
        """Equal but for the time it was taken: nothing new to tell the case."""
        return other is not None and self.model_copy(update={"as_of": None}) == other.model_copy(
            update={"as_of": None}
        )


def secured_by(ledger: Ledger) -> dict[str, Secured]:
    """Per currency, what the ledger's restrained assets secure and how fresh their values
    are: each asset's valuation date is when its current value was recorded."""
    out: dict[str, Secured] = {}
    for entry in ledger.restrained():
        if entry.value is None:
            continue
        valued = next(
            (c.at.date() for c in reversed(entry.history) if c.value == entry.value), None
        )
        one = Secured(amount=entry.value.amount, assets=1, valued_on=valued)
        out[entry.value.currency] = out.get(entry.value.currency, Secured()).plus(one)
    return out


def request_key(reference: str, party: str) -> str:
    """How a case names one of its requests: the reference and the party asked."""
    return f"{reference}/{party}"


RequestUpdate = Literal["record_judgment", "release_for_case", "close", "note_enforcement_request"]
"""The request updates a case sends its requests (``workflows/catalog.py``); an enforcement
request sends the last to the request it supplements (``workflows/request_links.py``)."""
CaseToRequest = Annotated[
    Judgment | CaseRelease | CloseRequest | EnforcementRequestMade,
    Field(discriminator="action_type"),
]


class Delivery(Frozen):
    """A Court action the case sends one of its requests, taken there through the request's
    own rules; kept until the request took or refused it (bounded: at most one per request and
    update, a newer judgment replacing one not yet delivered)."""

    key: str = Field(max_length=300, description="The request (``REFERENCE/PARTY``)")
    update: RequestUpdate
    action: CaseToRequest
    failures: int = Field(
        default=0,
        ge=0,
        le=MAX_COUNT,
        description="Times in a row it did not reach its request or was not taken there "
        "(its workflow stopped); 0 once sent afresh",
    )
    retry_at: AwareDatetime | None = Field(
        default=None,
        description="Not delivered yet: sent again at this time (``None``: on its way or due)",
    )

    @property
    def failed(self) -> bool:
        """Waiting to be sent again (``retry_at``)."""
        return self.retry_at is not None


class CarriedDelivery(Frozen):
    """A Court action on its way to a request, as the case carries it to its next run: its
    event id and what the case's own record does not hold (the judgment it names; a close's
    time). The action is rebuilt from the case's judgments and release on the next run
    (``workflows/case_deliveries.py``): carried whole, each release would repeat the Chamber's
    reasons and judgment once per request (2.8 MB for 400 requests at their bounds)."""

    key: str = Field(max_length=300, description="The request (``REFERENCE/PARTY``)")
    update: RequestUpdate
    event_id: EventId
    judgment: int | None = Field(
        default=None,
        ge=0,
        lt=MAX_JUDGMENTS,
        description="record_judgment: the judgment it sends, by its place in the case's "
        "judgments (recorded in order, never removed)",
    )
    decided_at: AwareDatetime | None = Field(default=None, description="close: when decided")
    failures: int = Field(default=0, ge=0, le=MAX_COUNT)
    retry_at: AwareDatetime | None = None


class RequestRelease(Frozen):
    """How one request took the case's release: ``stopped`` when its workflow was stopped
    outside the Court's process (terminated, failed, timed out) and did not take it: its
    measures stand, the release is not complete, and the request must be restored to take
    it (an operator's act, docs/operations.md)."""

    outcome: Literal["pending", "taken", "refused", "already_closed", "stopped"] = "pending"
    reason: str | None = Field(default=None, max_length=MAX_TEXT)
    close: Literal["pending", "refused"] | None = Field(
        default=None, description="The case's closing of the request, once its assets settled"
    )
    close_reason: str | None = Field(default=None, max_length=MAX_TEXT)


class CaseReleaseRecord(Frozen):
    """The case-level release and how each request took it."""

    order: ReleaseCase
    ground: Literal["acquittal", "termination"]
    requests: dict[str, RequestRelease] = Field(max_length=MAX_CASE_REQUESTS)
    completed_at: AwareDatetime | None = Field(
        default=None, description="When the last request reported nothing held any more"
    )


class HeldAsset(Frozen):
    """An asset still held somewhere after the case's release, by party and asset."""

    request: str = Field(description="``REFERENCE/PARTY``")
    party: StateCode
    asset_id: Identifier
    status: AssetStatus


class CaseReleaseReport(Frozen):
    """What the case's release still waits for: every asset held anywhere, by party and asset;
    the requests that refused it (with their reasons) or have not taken it yet; the requests
    not yet closed. ``complete`` once nothing is held and every request took it."""

    ordered_at: AwareDatetime
    decided_by: OrganName
    ground: Literal["acquittal", "termination"]
    judgment_reference: str
    requests: dict[str, RequestRelease]
    held: list[HeldAsset]
    held_left_out: int = Field(default=0, description="Held assets beyond each request's bound")
    not_closed: list[str]
    complete: bool
    completed_at: AwareDatetime | None = None


SecuredBasis = Literal["estimated_reparations_liability", "fine", "reparations_award"]


class SecureAmount(CourtAction):
    """The amount the case's measures are to secure: the estimated reparations liability
    (RS 57(3)(e), 75), a fine (RS 77(2)(a)) or a reparations award once made (RS 75(2)), with
    the margin of the policy in force beyond which frozen assets across all parties exceed
    it. The latest replaces the one before. When what is secured exceeds it by more than the
    margin, the case proposes releases to the Chamber; it releases nothing itself."""

    decided_by: DecidingOrgan = Field(description="The Chamber or the Presidency")
    basis: SecuredBasis
    amount: Money
    margin: Decimal = Field(
        ge=0,
        le=10,
        max_digits=6,
        description="The fraction above the amount beyond which the case proposes releases "
        "(0.25: more than 25 % above), from the policy in force, set by the Court's client",
    )
    policy_version: str | None = Field(default=None, max_length=50)
    reasons: str = Field(default="", max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _positive(self) -> SecureAmount:
        if self.amount.amount <= 0:
            raise ValueError("amount: the amount to secure is more than zero")
        return self


class Proportionality(Frozen):
    """Proportionality across parties: the amount to secure, what is secured per currency
    across every request of the case (unconverted, with the oldest valuation date), and
    whether the total in the amount's currency exceeds it by more than the margin. Other
    currencies are shown, not counted: no rate is recorded to convert them."""

    to_secure: SecureAmount
    secured: dict[CurrencyCode, Secured]
    counted: Decimal = Field(description="What is secured in the amount's currency")
    threshold: Decimal = Field(description="The amount plus the margin")
    excess: Decimal = Field(description="What is secured beyond the amount (0 if less)")
    over_secured: bool
    not_counted: list[CurrencyCode] = Field(description="Currencies secured, not converted")
    unvalued: int = Field(description="Restrained assets with no value reported")
    proposed_at: AwareDatetime | None = Field(
        default=None, description="When the case last proposed releases to the Chamber"
    )
    proposals: int = 0


class CaseCarry(Frozen):
    """A case's state handed from one run to the next (continue-as-new): bounded."""

    requests: dict[str, RequestSummary] = Field(
        max_length=MAX_CASE_REQUESTS, description="Per request (``REFERENCE/PARTY``)"
    )
    workflow_ids: dict[str, RequestWorkflowId] = Field(
        default={},
        max_length=MAX_CASE_REQUESTS,
        description="Where each request runs (an ex parte one under its opaque id, Rule 99(2))",
    )
    seen_event_ids: tuple[str, ...] = Field(
        default=(),
        max_length=MAX_COURT_ACTIONS + 2,
        description="Court actions taken: up to the cap, and the release and closure past it",
    )
    runs: int = Field(default=1, ge=1, le=MAX_COUNT, description="Runs so far, this one included")
    judgments: tuple[Judgment, ...] = Field(default=(), max_length=MAX_JUDGMENTS)
    release: CaseReleaseRecord | None = None
    deliveries: tuple[CarriedDelivery | Delivery, ...] = Field(
        default=(), max_length=3 * MAX_CASE_REQUESTS
    )
    to_secure: SecureAmount | None = None
    proposed_at: AwareDatetime | None = None
    proposals: int = Field(default=0, ge=0, le=MAX_COUNT)
    over_secured: bool = False
    outbox: tuple[EscalationEvent, ...] = Field(default=(), max_length=4 * MAX_CASE_REQUESTS)
    organ_keys: OrganKeys | None = Field(
        default=None,
        description="The organ key registry the case verifies the Court's acts against, read "
        "at its first run's start (``workflows/case_keys.py``)",
    )


DELIVER_TO_REQUEST = "deliver_to_request"
"""The activity a case sends one of its requests a Court action with (``activities/case.py``)."""


class RequestDelivery(Frozen):
    """One Court action for one request of the case, by workflow id and update."""

    workflow_id: RequestWorkflowId
    update: RequestUpdate
    action: CaseToRequest


class DeliveryResult(Frozen):
    """What the request did with it: taken, refused by its rules (with the reason), not there
    any more (the request was closed by the Court: ``ended``), not taken because its
    workflow was stopped outside the Court's process (terminated, failed, timed out:
    ``stopped``; its measures stand, and it takes nothing until restored), or no such
    workflow on the server (``gone``: the case, which knows whether it saw the request
    closed, says which of ``ended`` and ``stopped`` it was)."""

    outcome: Literal["taken", "refused", "ended", "stopped", "gone"]
    status: RequestStatus | None = None
    reason: str | None = Field(default=None, max_length=MAX_TEXT)


REQUEST_SUMMARIES = "request_summaries"
"""The activity a case asks its open requests where they stand with (``activities/case.py``)."""


class RequestSummaries(Frozen):
    """The requests a case asks, by workflow id."""

    workflow_ids: tuple[RequestWorkflowId, ...] = Field(max_length=MAX_CASE_REQUESTS)


class CaseInput(Frozen):
    """The case workflow's input: the order, and from the second run on what it carries."""

    order: CaseOrder
    carried: CaseCarry | None = None
    reports_per_run: int | None = Field(
        default=None,
        ge=1,
        description="Continue as new after this many request reports (default: by history)",
    )


class CaseView(Frozen):
    """Where the case stands: each request (``REFERENCE/PARTY``) and the totals across them."""

    order_reference: str
    case_number: str
    closed: bool
    statuses: dict[str, RequestStatus] = Field(description="Per request (``REFERENCE/PARTY``)")
    requests: dict[str, RequestSummary] = Field(
        description="Latest summary per request (``REFERENCE/PARTY``), as it last reported"
    )
    totals: dict[str, CurrencyTotals]
    run: int = Field(default=1, description="The case workflow's run (continue-as-new)")
    judgments: list[Judgment] = Field(
        default=[], description="The judgments recorded, in order; the last is in force"
    )
    release: CaseReleaseReport | None = Field(
        default=None, description="The case-level release, and what it still waits for"
    )
    proportionality: Proportionality | None = Field(
        default=None, description="The amount to secure against what is secured, once set"
    )

    def party(self, code: str) -> RequestSummary:
        """The first request of the case to ``code`` (the one a further request supplements)."""
        for summary in self.requests.values():
            if summary.requested_state == code:
                return summary
        raise KeyError(f"the case has no request to {code}")

    def party_statuses(self) -> dict[str, RequestStatus]:
        """Each party's first request's status."""
        return {code: self.party(code).status for code in self.parties()}

    def parties(self) -> list[str]:
        """The parties asked, in the order the case asked them."""
        return list(dict.fromkeys(s.requested_state for s in self.requests.values()))


def add_totals(summaries: list[RequestSummary]) -> dict[str, CurrencyTotals]:
    """Per-currency sums across the requests of a case (no conversion)."""
    out: dict[str, CurrencyTotals] = {}
    for summary in summaries:
        for currency, t in summary.totals.items():
            acc = out.setdefault(currency, CurrencyTotals())
            for name in CurrencyTotals.model_fields:
                setattr(acc, name, getattr(acc, name) + getattr(t, name, Decimal(0)))
    return dict(sorted(out.items()))
