"""What the case workflow's tests share: a Court action decided now, waiting on the case, and a
case opened, frozen everywhere, judged and released."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from schemas import court as c
from schemas.case import CaseInput, CaseOrder, CaseView, ReleaseCase
from schemas.ledger import AssetStatus
from schemas.request import CourtRequest
from tests.builders import ActionT, court_action, now
from tests.workflows.support import ACCOUNT, acknowledgement, court_request, freeze_account, send
from tracefreeze.court_signing import execute_signed
from workflows.case import CaseWorkflow

CASE = "ICC-02/05-01/20"


async def case_act(case: WorkflowHandle, update: str, action: c.CourtAction) -> CaseView:
    """A Court action on the case as the Court's case client sends it: signed by its organ
    for this case (``case/ORDER``), once more after the case read its organ keys again if
    it did not know the key (``tracefreeze/court_signing.py``)."""
    return await execute_signed(case, update, action, action.event_id, result_type=CaseView)


def decided_now(cls: type[ActionT], **fields: Any) -> ActionT:
    """A Court action of type ``cls`` decided now (``tests/builders.py``, ``court_action``)."""
    return court_action(cls, decided_at=now(), **fields)


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 60.0) -> None:
    """Until ``check()`` holds (a case learns of its requests through their reports), failing
    the test after ``timeout_s``: a bound on waiting, never a measure of speed. It allows for
    a workflow task the test server fails and the worker retries after the task timeout (10 s)
    on a loaded machine; a call left unanswered (``unanswered``) is asked again."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    last: RPCError | None = None
    while True:
        try:
            if await check():
                return
        except RPCError as err:
            if not unanswered(err):
                raise
            last = err
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"condition not reached in time (last call unanswered: {last})"
        await asyncio.sleep(0.1)


def unanswered(err: RPCError) -> bool:
    """A call left unanswered: timed out by the server (a busy worker), or by this client
    (``QUERY_WITHIN``) when a query raced the case handing over to a new run, which the test
    server may never answer."""
    timed_out_here = err.status is RPCStatusCode.CANCELLED and "Timeout expired" in err.message
    return err.status is RPCStatusCode.DEADLINE_EXCEEDED or timed_out_here


def case_request(party: str) -> CourtRequest:
    return court_request(requested_state=party, case_number=CASE)


def judgment(outcome: str, **fields: Any) -> c.Judgment:
    """A judgment of the case: by the Trial Chamber, final, unless ``fields`` say otherwise."""
    data: dict[str, Any] = {
        "decided_by": "trial_chamber",
        "judgment_reference": f"{CASE}-J-{uuid.uuid4().hex[:6]}",
        "outcome": outcome,
        "delivered_on": date(2026, 4, 30),
        "finality": "final",
        "decided_at": now(),
        **fields,
    }
    if outcome == "termination" and "termination_cause" not in fields:
        data["termination_cause"] = "death"
    return court_action(c.Judgment, **data)


def release_act(j: c.Judgment, decided_by: str = "trial_chamber") -> ReleaseCase:
    return court_action(
        ReleaseCase,
        decided_by=decided_by,
        judgment_reference=j.judgment_reference,
        reasons="The accused is acquitted: the measures of RS 57(3)(e) have no object",
        decided_at=now(),
    )


async def open_case(client: Client, queue: str, *requests: CourtRequest) -> WorkflowHandle:
    order = CaseOrder(
        order_reference=f"{CASE}-ORD-{uuid.uuid4().hex[:8].upper()}",
        case_number=CASE,
        requests=requests,
    )
    return await client.start_workflow(
        CaseWorkflow.run, CaseInput(order=order), id=order.workflow_id, task_queue=queue
    )


QUERY_WITHIN = timedelta(seconds=20)
"""How long a query of the case waits for its answer before it is asked again (``until``)."""


async def case_view(case: WorkflowHandle) -> CaseView:
    return await case.query(CaseWorkflow.view, rpc_timeout=QUERY_WITHIN)


async def frozen_everywhere(
    client: Client, case: WorkflowHandle, requests: list[CourtRequest]
) -> None:
    """Each party acknowledged and froze the account; the case has heard it from each."""
    for request in requests:
        handle = client.get_workflow_handle(request.workflow_id)
        await until(lambda h=handle: started(h))
        await send(handle, acknowledgement(request))
        await send(handle, freeze_account(request))

    async def all_frozen() -> bool:
        view = await case_view(case)
        return all(s.held.get(ACCOUNT) is AssetStatus.FROZEN for s in view.requests.values())

    await until(all_frozen)


async def started(handle: WorkflowHandle) -> bool:
    try:
        await handle.describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
