"""Multi-State cases (docs/legal-process.md, 'Several States'): one Court order, one request
per State, aggregated; a State added later; the case closes only when every request is closed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.case import AddState, CaseOrder, CaseView, CloseCase
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from tests.workflows.support import (
    PublishRecorder,
    acknowledgement,
    close_action,
    court_request,
    freeze_account,
    no_assets,
    send,
    start_request,
)
from workflows.case import CaseWorkflow
from workflows.request import RequestWorkflow


@pytest.fixture
async def case_queue(env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, str]]:
    task_queue = f"case-tests-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[RequestWorkflow, CaseWorkflow],
        activities=PublishRecorder().activities,
    ):
        yield env.client, task_queue


def _request(state: str, case: str = "ICC-01/22") -> CourtRequest:
    return court_request(requested_state=state, case_number=case)


def _action(cls: type, **fields: object):  # type: ignore[no-untyped-def]
    return cls(
        event_id=str(uuid.uuid4()),
        decided_by="Pre-Trial Chamber II",
        decided_at=datetime.now(UTC),
        **fields,
    )


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def _open(client: Client, task_queue: str, *requests: CourtRequest) -> WorkflowHandle:
    order = CaseOrder(
        order_reference=f"ICC-01/22-ORD-{uuid.uuid4().hex[:8].upper()}",
        case_number="ICC-01/22",
        requests=requests,
    )
    return await client.start_workflow(
        CaseWorkflow.run, order, id=order.workflow_id, task_queue=task_queue
    )


async def _view(handle: WorkflowHandle) -> CaseView:
    return await handle.query(CaseWorkflow.view)


async def test_case_fans_out_one_request_per_state_and_aggregates_ledgers(case_queue) -> None:
    """RS 93(1)(k) in several jurisdictions: one child request per State; the case sums the
    frozen value its requests report, per currency."""
    client, queue = case_queue
    nld, bel = _request("NLD"), _request("BEL")
    case = await _open(client, queue, nld, bel)
    await _until(lambda: _has_states(case, {"NLD", "BEL"}))
    handle = client.get_workflow_handle(nld.workflow_id)
    await send(handle, acknowledgement(nld))
    await send(handle, freeze_account(nld))

    async def nld_frozen() -> bool:
        totals = (await _view(case)).totals.get("EUR")
        return totals is not None and totals.frozen > Decimal(0)

    await _until(nld_frozen)
    view = await _view(case)
    assert view.statuses == {"NLD": RequestStatus.IN_EXECUTION, "BEL": RequestStatus.TRANSMITTED}
    assert view.requests["NLD"] is not None and view.requests["BEL"] is None
    nld_view = await handle.query(RequestWorkflow.view)
    assert view.totals["EUR"].frozen == nld_view.totals["EUR"].frozen


async def test_court_adds_a_state_later_and_a_duplicate_state_is_refused(case_queue) -> None:
    """Assets found in another jurisdiction: the Court adds a State to the open case; the
    same State twice, another case's request, or an existing request are refused."""
    client, queue = case_queue
    case = await _open(client, queue, _request("NLD"))
    fra = _request("FRA")
    view = await case.execute_update(CaseWorkflow.add_state, _action(AddState, request=fra))
    assert set(view.statuses) == {"NLD", "FRA"}
    described = await client.get_workflow_handle(fra.workflow_id).describe()
    assert described.parent_id == case.id
    for refused, reason in (
        (_request("FRA"), "already has a request to FRA"),
        (_request("DEU", case="ICC-02/05"), "belongs to case ICC-02/05"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await case.execute_update(CaseWorkflow.add_state, _action(AddState, request=refused))
        assert isinstance(err.value.cause, ApplicationError) and reason in err.value.cause.message
    existing = _request("ITA")
    await start_request(client, queue, existing)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.execute_update(CaseWorkflow.add_state, _action(AddState, request=existing))
    assert "already exists" in str(err.value.cause)
    assert set((await _view(case)).statuses) == {"NLD", "FRA"}


async def test_case_closes_only_when_every_request_is_closed(case_queue) -> None:
    """Closing a case cannot orphan a request: refused, naming the open States, until each
    request is closed; then the case workflow completes."""
    client, queue = case_queue
    nld, bel = _request("NLD"), _request("BEL")
    case = await _open(client, queue, nld, bel)
    await _until(lambda: _has_states(case, {"NLD", "BEL"}))
    for request in (nld, bel):
        handle = client.get_workflow_handle(request.workflow_id)
        await send(handle, acknowledgement(request))
        await send(handle, no_assets(request))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.execute_update(CaseWorkflow.close_case, _action(CloseCase, reason="done"))
    assert "['BEL', 'NLD'] are still open" in str(err.value.cause)
    await send(client.get_workflow_handle(nld.workflow_id), close_action())
    await _until(lambda: _status_is(case, "NLD", RequestStatus.CLOSED))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case.execute_update(CaseWorkflow.close_case, _action(CloseCase, reason="done"))
    assert "['BEL'] are still open" in str(err.value.cause)
    await send(client.get_workflow_handle(bel.workflow_id), close_action())
    await _until(lambda: _status_is(case, "BEL", RequestStatus.CLOSED))
    await case.execute_update(CaseWorkflow.close_case, _action(CloseCase, reason="done"))
    result = await case.result()
    assert result.closed and set(result.statuses.values()) == {RequestStatus.CLOSED}


async def _has_states(case: WorkflowHandle, states: set[str]) -> bool:
    return set((await _view(case)).statuses) == states


async def _status_is(case: WorkflowHandle, state: str, status: RequestStatus) -> bool:
    return (await _view(case)).statuses.get(state) is status


async def test_an_ex_parte_request_of_a_case_runs_under_its_opaque_id(
    case_queue: tuple[Client, str], tmp_path, monkeypatch
) -> None:
    """Rule 99(1): the Court's case client gives the case the opaque id of each ex parte
    request (and of an ex parte State added later); the case starts the child under it."""
    from tracefreeze.case_client import CaseClient
    from tracefreeze.config import Settings
    from tracefreeze.request_ids import KEY_ENV, workflow_id_of

    monkeypatch.setenv(KEY_ENV, "A" * 44)
    client, task_queue = case_queue
    cases = CaseClient(client, Settings(task_queue=task_queue, state_dir=tmp_path))
    nld = court_request(requested_state="NLD", confidentiality="ex_parte")
    bel = _request("BEL")
    order = CaseOrder(
        order_reference=f"ICC-01/22-ORD-{uuid.uuid4().hex[:8].upper()}",
        case_number="ICC-01/22",
        requests=(nld, bel),
    )
    await cases.open_case(order)
    key = b"\0" * 33
    opaque = workflow_id_of(nld, key)
    assert opaque.startswith("request/x") and nld.reference not in opaque
    await _until(lambda: _started(client, opaque))  # the child runs there
    await _until(lambda: _started(client, bel.workflow_id))  # plain, as before
    fra = court_request(requested_state="FRA", confidentiality="ex_parte")
    await cases.add_state(order.order_reference, _action(AddState, request=fra))
    await _until(lambda: _started(client, workflow_id_of(fra, key)))
    with pytest.raises(RPCError) as missing:  # nothing under the revealing plain id
        await client.get_workflow_handle(fra.workflow_id).describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND


async def _started(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
