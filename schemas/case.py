"""A case with assets in several States: one Court order fanned out as one request per State."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from schemas.common import MAX_STATES, CaseNumber, Frozen, RequestReference, StateCode, TopicName
from schemas.court import CourtAction
from schemas.ledger import CurrencyTotals, RequestStatus
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import RequestView

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


class CloseCase(CourtAction):
    """The case closes only when every request in it is closed: no child is orphaned."""

    reason: str = Field(min_length=1, max_length=2000)


class CaseView(Frozen):
    """Where the case stands: each State's request and the totals across them."""

    order_reference: str
    case_number: str
    closed: bool
    statuses: dict[str, RequestStatus]
    requests: dict[str, RequestView | None] = Field(
        description="Latest view per State; none until the State's first answer"
    )
    totals: dict[str, CurrencyTotals]


def add_totals(views: list[RequestView]) -> dict[str, CurrencyTotals]:
    """Per-currency sums across the requests of a case (no conversion)."""
    out: dict[str, CurrencyTotals] = {}
    for view in views:
        for currency, t in view.totals.items():
            acc = out.setdefault(currency, CurrencyTotals())
            for name in CurrencyTotals.model_fields:
                setattr(acc, name, getattr(acc, name) + getattr(t, name, Decimal(0)))
    return dict(sorted(out.items()))
