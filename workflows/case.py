"""A multi-State case: one Court order fanned out to one request per State.

Assets sit in several jurisdictions, so one case spawns one request per State
(docs/legal-process.md, 'Several States'). Each request is a child workflow that reports
every change back here, so the case aggregates their statuses and ledgers. The Court may add
a State later. The case closes only once every request in it is closed: closing a case
cannot orphan a request that still holds frozen assets.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from schemas.case import AddState, CaseOrder, CaseView, CloseCase, add_totals
    from schemas.ledger import RequestStatus
    from schemas.policy import ResolvedPolicy
    from schemas.request import CourtRequest
    from schemas.views import RequestInput, RequestView
    from workflows.details import static_details
    from workflows.request import RequestWorkflow


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, order: CaseOrder) -> None:
        self._order = order
        self._statuses: dict[str, RequestStatus] = {}
        self._views: dict[str, RequestView | None] = {}
        self._children: list[asyncio.Task[None]] = []
        self._seen: set[str] = set()
        self._closed = False
        for request in order.requests:  # known from the start, even to an early update
            self._statuses[request.requested_state] = RequestStatus.TRANSMITTED
            self._views[request.requested_state] = None

    @workflow.run
    async def run(self, order: CaseOrder) -> CaseView:
        for request in order.requests:
            await self._start(request, order.policies.get(request.requested_state))
        await workflow.wait_condition(lambda: self._closed and workflow.all_handlers_finished())
        if workflow.patched("case-closes-after-its-requests"):
            # Each request signalled its closure before it completed; its completion can reach
            # the case in the very task that takes close_case. Completing the case in that
            # task is refused by the server (an unhandled event), and the update with it: so
            # the case completes only once every request's completion is in.
            await workflow.wait_condition(lambda: all(t.done() for t in self._children))
        return self.view()

    @workflow.signal
    def request_changed(self, view: RequestView) -> None:
        """A request of this case changed: keep its latest status and ledger."""
        self._views[view.requested_state] = view
        self._statuses[view.requested_state] = view.status

    @workflow.update
    async def add_state(self, action: AddState) -> CaseView:
        """The Court adds a State to the case (assets found in another jurisdiction)."""
        if action.event_id not in self._seen:
            self._seen.add(action.event_id)
            try:
                await self._start(action.request, action.policy, action.workflow_id)
            except WorkflowAlreadyStartedError:
                self._seen.discard(action.event_id)
                self._reject(f"a request {action.request.workflow_id} already exists")
        return self.view()

    @add_state.validator
    def _validate_add_state(self, action: AddState) -> None:
        if action.event_id in self._seen:
            return
        if self._closed:
            self._reject("the case is closed")
        request = action.request
        if request.case_number != self._order.case_number:
            self._reject(f"{request.reference} belongs to case {request.case_number}")
        if request.requested_state in self._statuses:
            self._reject(f"the case already has a request to {request.requested_state}")

    @workflow.update
    def close_case(self, action: CloseCase) -> CaseView:
        """The case closes once every request in it is closed."""
        self._seen.add(action.event_id)
        self._closed = True
        return self.view()

    @close_case.validator
    def _validate_close_case(self, action: CloseCase) -> None:
        if action.event_id in self._seen:
            return
        still_open = sorted(s for s, st in self._statuses.items() if st is not RequestStatus.CLOSED)
        if still_open:
            self._reject(f"requests to {still_open} are still open: close them first")

    @workflow.query
    def view(self) -> CaseView:
        return CaseView(
            order_reference=self._order.order_reference,
            case_number=self._order.case_number,
            closed=self._closed,
            statuses=dict(self._statuses),
            requests=dict(self._views),
            totals=add_totals([v for v in self._views.values() if v is not None]),
        )

    async def _start(
        self, request: CourtRequest, policy: ResolvedPolicy | None, workflow_id: str | None = None
    ) -> None:
        """Start the request to one State as a child; it outlives nothing it should not. An ex
        parte request runs under the opaque id the Court's client gave (Rule 99(1))."""
        state = request.requested_state
        workflow_id = workflow_id or self._order.workflow_ids.get(state) or request.workflow_id
        handle = await workflow.start_child_workflow(
            RequestWorkflow.run,
            RequestInput(
                request=request,
                events_topic=self._order.events_topic,
                escalations_topic=self._order.escalations_topic,
                policy=policy,
            ),
            id=workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=request.ui_summary(),
            static_details=static_details(request),
        )
        self._statuses[request.requested_state] = RequestStatus.TRANSMITTED
        self._views[request.requested_state] = None
        self._children.append(asyncio.create_task(self._follow(request, handle)))

    async def _follow(self, request: CourtRequest, handle: workflow.ChildWorkflowHandle) -> None:
        view: RequestView = await handle
        self.request_changed(view)

    @staticmethod
    def _reject(reason: str) -> None:
        raise ApplicationError(reason, type="CaseActionRejected", non_retryable=True)
