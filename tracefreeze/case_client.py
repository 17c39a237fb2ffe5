"""The typed client for multi-State cases: one Court order, one request per State.

A case (``workflows/case.py``) starts one request workflow per State as its child and follows
them; its id derives from the order reference (its runs change: it continues as new). The
Court may add a State later, or a further request to a party already asked (it names the
request it supplements), and closes the case only once every request in it is closed.

Each request of a case leaves the Court as a single request does (``tracefreeze/client.py``):
checked for completeness first (seed para 11; RS 96(2), 87(2)), incomplete only with a named
person's override, with the deadline policy in force and the party's contact in force in its
directory workflow on the day (Rule 180: a notified change applies to future requests).
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from schemas.case import (
    AddState,
    CaseInput,
    CaseOrder,
    CaseView,
    CloseCase,
    ReleaseCase,
    SecureAmount,
    case_workflow_id,
)
from schemas.completeness import CompletenessOverride
from schemas.court import CourtAction, Judgment
from schemas.request import CourtRequest
from tracefreeze.client import RequestClient, cleared, plain_errors
from tracefreeze.config import Settings
from tracefreeze.court_signing import acting_as, by_user, execute_signed, presidency_notice
from tracefreeze.errors import TracefreezeError
from tracefreeze.request_start import dedupe_window
from tracefreeze.security.identity import Principal
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

    async def open_case(
        self,
        order: CaseOrder,
        *,
        override_by: str | None = None,
        override_reason: str | None = None,
    ) -> str:
        """Open the case and transmit its requests; an order or request reference is never
        reopened. Lifecycle events go to this deployment's topic. Returns the workflow id.

        Each request is checked as ``RequestClient.submit`` checks one: an incomplete request
        leaves only with ``override_by`` and ``override_reason`` (recorded with that request,
        naming its own findings), a blocking finding never; nothing starts unless every
        request of the order may leave."""
        overrides: dict[str, CompletenessOverride] = {}
        for request in order.requests:
            await self._refuse_existing(request)
            override = await self._cleared(request, override_by, override_reason)
            if override is not None:
                overrides[request.requested_state] = override
        requests = RequestClient(self.client, self.settings)
        policies = {r.requested_state: await requests.policy_in_force(r) for r in order.requests}
        order = order.model_copy(
            update={
                "events_topic": self.settings.topics.request_events,
                "escalations_topic": self.settings.topics.escalations,
                "policies": policies,
                "completeness_overrides": overrides,
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

    async def case_view(self, order_reference: str) -> CaseView:
        """Each State's request status and latest view, and the case's per-currency totals."""
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self.handle(order_reference).query(CaseWorkflow.view)

    async def add_state(
        self,
        order_reference: str,
        action: AddState,
        *,
        override_by: str | None = None,
        override_reason: str | None = None,
    ) -> CaseView:
        """The Court adds a State to the case (assets found in another jurisdiction), or a
        further request to a party already asked, naming the request it supplements. Checked,
        overridden and given its policy and contact as ``open_case`` does; a given policy keeps
        its numbers, never its own party kind or situation (RS 13(b), 87(5)-(7))."""
        await self._refuse_existing(action.request)
        override = await self._cleared(action.request, override_by, override_reason)
        policy = await RequestClient(self.client, self.settings).policy_in_force(
            action.request, action.policy
        )
        acting = acting_as(self.settings)
        notice = action.enforcement_notice or presidency_notice(action.request, acting)  # RS 109
        update = {"policy": policy, "completeness_override": override, "enforcement_notice": notice}
        action = action.model_copy(update=update)
        if action.request.ex_parte and action.workflow_id is None:
            action = action.model_copy(update={"workflow_id": self._workflow_id(action.request)})
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self._signed(order_reference, "add_state", action)

    async def close_case(self, order_reference: str, action: CloseCase) -> CaseView:
        """Close the case; refused, naming the States, while any request in it is open."""
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self._signed(order_reference, "close_case", action)

    async def record_judgment(self, order_reference: str, judgment: Judgment) -> CaseView:
        """Record a judgment of the case (RS 74, 83(2); RS 61): every request is told it, so
        a forfeiture order may follow a conviction (RS 77(2)(b)); refused, with the reason, if
        older than the one in force or after a final one."""
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self._signed(order_reference, "record_judgment", judgment)

    async def release_case(self, order_reference: str, act: ReleaseCase) -> CaseView:
        """One Chamber's act releasing the whole case after the acquittal or termination in
        force (RS 74, 81(3)(c), 83(2); RS 61): each request takes it by its own rules; the
        case's view reports what is still held until nothing is."""
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self._signed(order_reference, "release_case", act)

    async def secure_amount(self, order_reference: str, act: SecureAmount) -> CaseView:
        """Set the amount the case is to secure, with the margin of the policy in force
        (``proportionality_margin``, its version recorded): the case proposes releases to the
        Chamber when its requests secure more than the amount plus the margin."""
        from tracefreeze.policy import load_policy

        policy = load_policy(self.settings.policy_file)
        act = act.model_copy(
            update={"margin": policy.proportionality_margin, "policy_version": policy.version}
        )
        act = SecureAmount.model_validate(act.model_dump())
        workflow_id = case_workflow_id(order_reference)
        with plain_errors(workflow_id, "case"):
            return await self._signed(order_reference, "secure_amount", act)

    def handle(self, order_reference: str) -> WorkflowHandle:
        return self.client.get_workflow_handle(case_workflow_id(order_reference))

    async def _signed(self, order_reference: str, update: str, action: CourtAction) -> CaseView:
        """``action`` signed by its organ and sent as ``update``, as this client's principal."""
        return await _act(self.handle(order_reference), update, action, acting_as(self.settings))

    def _workflow_id(self, request: CourtRequest) -> str:
        """Where the request runs: opaque if ex parte (Rule 99(2)), else its plain id."""
        return workflow_id_of(request, request_id_key(self.settings.state_dir, ensure=True))

    async def _cleared(
        self, request: CourtRequest, override_by: str | None, override_reason: str | None
    ) -> CompletenessOverride | None:
        """Only complete requests leave the Court (seed para 11; RS 96(2), 87(2)): the same
        check and override as a single request's submission (``tracefreeze/client.py``)."""
        report = await RequestClient(self.client, self.settings).check(request)
        return cleared(report, override_by, override_reason)

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


async def _act(
    handle: WorkflowHandle, update: str, action: CourtAction, acting: Principal | None
) -> CaseView:
    """``action`` naming who sends it, signed by its organ for this case order only
    (``case_address``: no other case takes it), if the person ``acting`` may, and sent as
    ``update``; once more after the case read its organ keys again if it did not know the key
    (``court_signing``)."""
    sent = by_user(action, acting)
    return await execute_signed(
        handle, update, sent, action.event_id, result_type=CaseView, acting=acting
    )
