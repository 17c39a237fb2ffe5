"""The typed client for multi-State cases: one Court order, one request per State.

A case (``workflows/case.py``) starts one request workflow per State as its child and follows
them; its id derives from the order reference (its runs change: it continues as new). The
Court may add a State later, and closes the case only once every request in it is closed.
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from schemas.case import AddState, CaseInput, CaseOrder, CaseView, CloseCase, case_workflow_id
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest
from tracefreeze.client import IncompleteRequest, RequestClient, dedupe_window, plain_errors
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import load_directory, load_policy, load_situations, resolve
from tracefreeze.security.request_ids import request_id_key, workflow_id_of
from tracefreeze.temporal import connect
from workflows.case import CaseWorkflow


class CaseClient:
    """Multi-State cases as the Court sees them: one workflow per order reference."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    @classmethod
    async def connect(cls, settings: Settings) -> CaseClient:
        return cls(await connect(settings), settings)

    async def open_case(self, order: CaseOrder) -> str:
        """Open the case and transmit its requests; an order or request reference is never
        reopened. Lifecycle events go to this deployment's topic. Returns the workflow id."""
        for request in order.requests:
            await self._refuse_existing(request)
            await self._refuse_incomplete(request)
        order = order.model_copy(
            update={
                "events_topic": self.settings.topics.request_events,
                "escalations_topic": self.settings.topics.escalations,
                "policies": {r.requested_state: self._policy(r) for r in order.requests},
                "dedupe_window": dedupe_window(self.settings),
                "workflow_ids": {
                    r.requested_state: self._workflow_id(r) for r in order.requests if r.ex_parte
                },
            }
        )
        try:
            handle = await self.client.start_workflow(
                CaseWorkflow.run,
                CaseInput(order=order),
                id=order.workflow_id,
                task_queue=self.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=(
                    f"case {order.case_number}, order {order.order_reference}: "
                    f"{len(order.requests)} State(s)"
                ),
            )
        except WorkflowAlreadyStartedError as err:
            raise TracefreezeError(f"case order {order.order_reference} already exists") from err
        return handle.id

    def _policy(self, request: CourtRequest) -> ResolvedPolicy:
        """The deadline policy in force for one request of the case, recorded at start."""
        return resolve(
            load_policy(self.settings.policy_file),
            load_directory(self.settings.state_directory_file),
            request,
            load_situations(self.settings.situation_register_file),
        )

    async def case_view(self, order_reference: str) -> CaseView:
        """Each State's request status and latest view, and the case's per-currency totals."""
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self.handle(order_reference).query(CaseWorkflow.view)

    async def add_state(self, order_reference: str, action: AddState) -> CaseView:
        """The Court adds a State to the case (assets found in another jurisdiction)."""
        await self._refuse_existing(action.request)
        await self._refuse_incomplete(action.request)
        # A given policy keeps its numbers, never its own party kind or situation (RS 13(b),
        # 87(5)-(7)): those are the directory's and the situation register's.
        resolved = self._policy(action.request)
        fixed = {"party_kind": resolved.party_kind, "situation": resolved.situation}
        policy = action.policy.model_copy(update=fixed) if action.policy else resolved
        action = action.model_copy(update={"policy": policy})
        if action.request.ex_parte and action.workflow_id is None:
            action = action.model_copy(update={"workflow_id": self._workflow_id(action.request)})
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self.handle(order_reference).execute_update(
                CaseWorkflow.add_state, action, id=action.event_id
            )

    async def close_case(self, order_reference: str, action: CloseCase) -> CaseView:
        """Close the case; refused, naming the States, while any request in it is open."""
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self.handle(order_reference).execute_update(
                CaseWorkflow.close_case, action, id=action.event_id
            )

    def handle(self, order_reference: str) -> WorkflowHandle:
        return self.client.get_workflow_handle(case_workflow_id(order_reference))

    def _workflow_id(self, request: CourtRequest) -> str:
        """Where the request runs: opaque if ex parte (Rule 99(1)), else its plain id."""
        return workflow_id_of(request, request_id_key(self.settings.state_dir, ensure=True))

    async def _refuse_incomplete(self, request: CourtRequest) -> None:
        """Only complete requests leave the Court (seed para 11; RS 96(2), 87(2)): the same
        check as a single request's submission (``tracefreeze/completeness.py``); a case has
        no override, so an incomplete request is completed or submitted on its own."""
        report = await RequestClient(self.client, self.settings).check(request)
        if not report.complete:
            raise IncompleteRequest(report)

    async def _refuse_existing(self, request: CourtRequest) -> None:
        """A request reference already transmitted to that State is never reused."""
        workflow_id = self._workflow_id(request) if request.ex_parte else request.workflow_id
        try:
            await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return
            raise TracefreezeError(f"{workflow_id}: {err.message}") from err
        raise TracefreezeError(
            f"request {request.reference} to {request.requested_state} already exists"
        )
