"""The requests of a case, one per State (RS 93(1)(k), 96(2)): each started as a child workflow,
and asked where it stands when its report may not have reached the case.

The case keeps only each request's summary (``RequestSummary``); which summary is news is
decided here (``is_news``), so a late report or a reconciliation overtaken by a report never
rolls the case's view back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from schemas.case import (
        REQUEST_SUMMARIES,
        AddState,
        CaseOrder,
        RequestSummaries,
        RequestSummary,
        request_key,
    )
    from schemas.completeness import CompletenessOverride
    from schemas.court import EnforcementRequestMade
    from schemas.ledger import RequestStatus
    from schemas.policy import ResolvedPolicy
    from schemas.request import CourtRequest
    from workflows.carry import RequestRun
    from workflows.details import static_details
    from workflows.request import RequestWorkflow


class StartWith(NamedTuple):
    """How one request of the case starts: its policy, its opaque id if ex parte (Rule 99(2)),
    the override of an incomplete request's check, and for an enforcement request the
    Presidency's signed act telling the request it supplements (RS 109, Rule 217)."""

    policy: ResolvedPolicy | None
    workflow_id: str | None
    override: CompletenessOverride | None
    notice: EnforcementRequestMade | None = None

    @classmethod
    def of_order(cls, order: CaseOrder, party: str) -> StartWith:
        return cls(
            order.policies.get(party),
            order.workflow_ids.get(party),
            order.completeness_overrides.get(party),
        )

    @classmethod
    def of_action(cls, action: AddState) -> StartWith:
        return cls(
            action.policy,
            action.workflow_id,
            action.completeness_override,
            action.enforcement_notice,
        )


async def start_request(
    order: CaseOrder,
    request: CourtRequest,
    how: StartWith,
    workflow_id: str,
    starting: set[str],
) -> workflow.ChildWorkflowHandle:
    """Start the request to one State as a child of the case, under its workflow id; it runs
    on should the case end first (it may still hold frozen assets). The override of an
    incomplete request's check, if any, is recorded with it. The request is in ``starting``
    until the server confirms its start: no Court action is sent to it before (a release
    ordered meanwhile would find no such workflow, and take it for one that has ended)."""
    key = request_key(request.reference, request.requested_state)
    starting.add(key)
    try:
        return await _start_child(order, request, how, workflow_id)
    finally:
        starting.discard(key)


async def _start_child(
    order: CaseOrder, request: CourtRequest, how: StartWith, workflow_id: str
) -> workflow.ChildWorkflowHandle:
    return await workflow.start_child_workflow(
        RequestWorkflow.run,
        RequestRun(
            request=request,
            events_topic=order.events_topic,
            escalations_topic=order.escalations_topic,
            policy=how.policy,
            dedupe_window=order.dedupe_window,
            completeness_override=how.override,
            enforcement_notice=how.notice,
        ),
        id=workflow_id,
        parent_close_policy=ParentClosePolicy.ABANDON,
        static_summary=request.ui_summary(),
        static_details=static_details(request),
    )


def news(known: RequestSummary, summary: RequestSummary, now: datetime) -> RequestSummary | None:
    """The summary to keep, if it is news (``is_news``), its ``as_of`` bounded by the case's
    now: a report is a signal anyone able to reach the case could send, and one dated in the
    future would make every true report after it look older, freezing the case's view of the
    request until its closure. A report is never taken as made later than the case's now."""
    if summary.as_of is not None and summary.as_of > now:
        summary = summary.model_copy(update={"as_of": now})
    return summary if is_news(known, summary) else None


def is_news(known: RequestSummary, summary: RequestSummary) -> bool:
    """A closed request stays closed, and an older summary than the one held never replaces
    it; a closure always does."""
    closing = summary.status is RequestStatus.CLOSED
    if known.status is RequestStatus.CLOSED and not closing:
        return False
    return closing or not summary.older_than(known)


async def where_they_stand(
    requests: dict[str, RequestSummary], workflow_ids: dict[str, str]
) -> list[RequestSummary]:
    """Ask each open request where it stands (``activities/case.py``): the summaries found, in
    the case's order. A request that cannot answer now is asked next time (none found)."""
    keys = [
        k for k, s in requests.items() if s.status is not RequestStatus.CLOSED and k in workflow_ids
    ]
    if not keys:
        return []
    try:
        found = await workflow.execute_activity(
            REQUEST_SUMMARIES,
            RequestSummaries(workflow_ids=tuple(workflow_ids[k] for k in keys)),
            result_type=list[RequestSummary | None],
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="where each open request stands",
        )
    except ActivityError as err:
        workflow.logger.warning("the requests could not be asked", extra={"error": str(err)})
        return []
    return [s for key, s in zip(keys, found, strict=True) if s is not None and s.key == key]
