"""A case with assets in several States: one Court order fanned out as one request per State."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from schemas.common import (
    MAX_STATES,
    CaseNumber,
    CurrencyCode,
    Frozen,
    RequestReference,
    StateCode,
    TopicName,
)
from schemas.completeness import CompletenessOverride
from schemas.court import CourtAction
from schemas.ledger import CurrencyTotals, Ledger, RequestStatus
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import DEDUPE_WINDOW

MAX_CURRENCIES = 64
"""Currencies a request reports to its case; more are counted, not listed."""
MAX_COURT_ACTIONS = 1_000
"""Court actions (event ids) one case remembers across its runs."""
MAX_COUNT = 10**9
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
        "of an ex parte request (Rule 99(1)), set by the Court's client",
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
        default=None, description="The opaque id of an ex parte request (Rule 99(1))"
    )
    completeness_override: CompletenessOverride | None = Field(
        default=None,
        description="The override of an incomplete request's check, set by the Court's client",
    )


class CloseCase(CourtAction):
    """The case closes only when every request in it is closed: no child is orphaned."""

    reason: str = Field(min_length=1, max_length=2000)


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
    as_of: AwareDatetime | None = Field(
        default=None, description="The request's workflow time when it reported; none yet"
    )

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
        return cls(
            reference=request.reference,
            requested_state=request.requested_state,
            status=status,
            totals={c: totals[c] for c in codes[:MAX_CURRENCIES]},
            currencies_left_out=len(codes[MAX_CURRENCIES:]),
            answers_seen=min(answers_seen, MAX_COUNT),
            assets=min(len(ledger.entries), MAX_COUNT),
            restrained=min(len(ledger.restrained()), MAX_COUNT),
            as_of=as_of,
        )

    def same_as(self, other: RequestSummary | None) -> bool:
        """Equal but for the time it was taken: nothing new to tell the case."""
        return other is not None and self.model_copy(update={"as_of": None}) == other.model_copy(
            update={"as_of": None}
        )


def request_key(reference: str, party: str) -> str:
    """How a case names one of its requests: the reference and the party asked."""
    return f"{reference}/{party}"


class CaseCarry(Frozen):
    """A case's state handed from one run to the next (continue-as-new): bounded."""

    requests: dict[str, RequestSummary] = Field(
        max_length=MAX_CASE_REQUESTS, description="Per request (``REFERENCE/PARTY``)"
    )
    workflow_ids: dict[str, RequestWorkflowId] = Field(
        default={},
        max_length=MAX_CASE_REQUESTS,
        description="Where each request runs (an ex parte one under its opaque id, Rule 99(1))",
    )
    seen_event_ids: tuple[str, ...] = Field(default=(), max_length=MAX_COURT_ACTIONS)
    runs: int = Field(default=1, ge=1, le=MAX_COUNT, description="Runs so far, this one included")


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
