"""A case heals a report it never got, and takes further requests to a party it already asked.

- A report lost around a hand-over (a signal that never reached the case's state) cannot leave
  the case's view stale nor keep it from closing: each new run, and every ``RECONCILE_EVERY``
  of quiet, the case asks its open requests where they stand (``activities/case.py``) and
  keeps what is newer than what it holds.
- A further request to a party already in the case (RS 96(2), 93(1)(k): a new reference,
  linked to the first) is taken only if it names the request it supplements; the case closes
  only when every one of them is closed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from schemas.case import (
    AddState,
    CaseCarry,
    CaseInput,
    CaseOrder,
    CaseView,
    CloseCase,
    RequestSummary,
    request_key,
)
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from tests.builders import now
from tests.workflows.case_support import case_act, decided_now, until
from tests.workflows.support import (
    acknowledgement,
    close_action,
    court_request,
    freeze_account,
    no_assets,
    own_env,
    request_worker,
    send,
    start_request,
)
from workflows.case import RECONCILE_EVERY, CaseWorkflow


@pytest.fixture
async def case_queue(env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, str]]:
    async with request_worker(env, "case-heal", CaseWorkflow) as (task_queue, _published):
        yield env.client, task_queue


def _order(*requests: CourtRequest) -> CaseOrder:
    return CaseOrder(
        order_reference=f"ICC-01/22-ORD-{uuid.uuid4().hex[:8].upper()}",
        case_number=requests[0].case_number,
        requests=requests,
    )


async def _stale_case(
    client: Client, queue: str, request: CourtRequest
) -> WorkflowHandle[CaseWorkflow, CaseView]:
    """A later run of a case whose carried view of ``request`` is the transmission only, as if
    every report of the (running) request had been lost around the hand-over."""
    stale = RequestSummary.transmitted(request)
    order = _order(request)
    carried = CaseCarry(
        requests={stale.key: stale}, workflow_ids={stale.key: request.workflow_id}, runs=1
    )
    return await client.start_workflow(
        CaseWorkflow.run,
        CaseInput(order=order, carried=carried),
        id=order.workflow_id,
        task_queue=queue,
    )


async def _status(case: WorkflowHandle, party: str) -> RequestStatus:
    view: CaseView = await case.query(CaseWorkflow.view)
    return view.party(party).status


async def _healed_after_a_lost_freeze(
    client: Client, queue: str
) -> WorkflowHandle[CaseWorkflow, CaseView]:
    """NLD's request froze its account and its reports were lost; the case's next run has asked
    it (``_stale_case``) and shows it in execution."""
    nld = court_request(requested_state="NLD")
    handle = await start_request(client, queue, nld)
    await send(handle, acknowledgement(nld))
    await send(handle, freeze_account(nld))
    case = await _stale_case(client, queue, nld)

    async def healed() -> bool:
        return await _status(case, "NLD") is RequestStatus.IN_EXECUTION

    await until(healed)
    return case


async def test_a_new_run_asks_its_open_requests_and_heals_a_lost_report(case_queue) -> None:
    """The request froze an asset and told nobody the case holds (its report lost): the case's
    next run asks it and shows it in execution, with the asset, not as merely transmitted."""
    case = await _healed_after_a_lost_freeze(*case_queue)
    view: CaseView = await case.query(CaseWorkflow.view)
    assert view.party("NLD").assets == 3 and view.party("NLD").restrained == 1
    assert view.party("NLD").answers_seen == 2


async def test_a_lost_closure_is_healed_and_the_case_can_close(case_queue) -> None:
    """A request closed and its closure never reached the case: the next run learns it (a
    closed request still answers its query), so the case is not kept open for ever."""
    client, queue = case_queue
    bel = court_request(requested_state="BEL")
    handle = await start_request(client, queue, bel)
    await send(handle, acknowledgement(bel))
    await send(handle, no_assets(bel))
    await send(handle, close_action())
    await handle.result()
    case = await _stale_case(client, queue, bel)

    async def closed() -> bool:
        return await _status(case, "BEL") is RequestStatus.CLOSED

    await until(closed)
    view = await case_act(case, "close_case", decided_now(CloseCase, reason="done"))
    assert view.closed


async def test_a_quiet_case_asks_again_every_reconcile_period() -> None:
    """After the run's first reconciliation, the request changes without telling the case;
    once ``RECONCILE_EVERY`` has passed the case has asked again and shows the change. (Its own
    server: skipping a week would fire every other test's clocks.)"""
    async with own_env() as env, request_worker(env, "case-quiet", CaseWorkflow) as (queue, _):
        client = env.client
        nld = court_request(requested_state="NLD")
        handle = await start_request(client, queue, nld)
        case = await _stale_case(client, queue, nld)
        key = request_key(nld.reference, "NLD")

        async def asked_once() -> bool:
            view: CaseView = await case.query(CaseWorkflow.view)
            return view.requests[key].as_of is not None

        await until(asked_once)
        await send(handle, acknowledgement(nld))
        assert await _status(case, "NLD") is RequestStatus.TRANSMITTED
        await env.sleep(RECONCILE_EVERY + timedelta(hours=1))

        async def acknowledged() -> bool:
            return await _status(case, "NLD") is RequestStatus.ACKNOWLEDGED

        await until(acknowledged)


async def test_an_older_report_never_rolls_the_case_back(case_queue) -> None:
    """A late report (taken before the one the case holds) changes nothing."""
    case = await _healed_after_a_lost_freeze(*case_queue)
    held = (await case.query(CaseWorkflow.view)).party("NLD")
    assert held.as_of is not None
    late = held.model_copy(
        update={"status": RequestStatus.ACKNOWLEDGED, "as_of": held.as_of - timedelta(days=1)}
    )
    await case.signal(CaseWorkflow.request_changed, late)
    await case.signal(CaseWorkflow.request_changed, held)  # the signals are taken in order
    assert (await case.query(CaseWorkflow.view)).party("NLD") == held


async def test_a_further_request_to_a_party_in_the_case_names_the_one_it_supplements(
    case_queue,
) -> None:
    """RS 96(2), 93(1)(k): the Court may send the same party a further request in the case, a
    new reference linked to the first; one that names no request of that party in the case
    is refused, and the case closes only once both requests are closed."""
    client, queue = case_queue
    nld = court_request(requested_state="NLD")
    order = _order(nld)
    case = await client.start_workflow(
        CaseWorkflow.run, CaseInput(order=order), id=order.workflow_id, task_queue=queue
    )
    unlinked = court_request(requested_state="NLD", case_number=nld.case_number)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case_act(case, "add_state", decided_now(AddState, request=unlinked))
    assert "names the one it supplements" in str(err.value.cause)
    further = unlinked.model_copy(update={"supplements": nld.reference})
    view = await case_act(case, "add_state", decided_now(AddState, request=further))
    assert set(view.requests) == {request_key(r.reference, "NLD") for r in (nld, further)}
    assert view.parties() == ["NLD"] and view.party("NLD").reference == nld.reference
    again = decided_now(AddState, request=further)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case_act(case, "add_state", again)
    assert f"already has request {further.reference} to NLD" in str(err.value.cause)

    for request in (nld, further):
        handle = client.get_workflow_handle(request.workflow_id)
        await send(handle, acknowledgement(request))
        await send(handle, no_assets(request))
    await send(client.get_workflow_handle(nld.workflow_id), close_action())

    async def first_closed() -> bool:
        return await _status(case, "NLD") is RequestStatus.CLOSED

    await until(first_closed)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case_act(case, "close_case", decided_now(CloseCase, reason="early"))
    assert f"['{further.reference}/NLD'] are still open" in str(err.value.cause)
    await send(client.get_workflow_handle(further.workflow_id), close_action())

    async def all_closed() -> bool:
        view: CaseView = await case.query(CaseWorkflow.view)
        return all(s is RequestStatus.CLOSED for s in view.statuses.values())

    await until(all_closed)
    final = await case_act(case, "close_case", decided_now(CloseCase, reason="done"))
    assert final.closed and len(final.requests) == 2


async def test_a_signalled_closure_or_overflowing_figure_decides_nothing(case_queue) -> None:
    """A report is a signal anyone able to reach the case can send. A forged closure of a
    request still running closes nothing (the case asks the request itself, and it is open),
    so the case cannot be closed under it; a figure beyond any sum a State could report is
    refused where the report is decoded, so it cannot overflow the case's sums and stall it."""
    client, queue = case_queue
    nld = court_request(requested_state="NLD")
    order = _order(nld)
    case = await client.start_workflow(
        CaseWorkflow.run, CaseInput(order=order), id=order.workflow_id, task_queue=queue
    )
    forged = RequestSummary.transmitted(nld).model_copy(
        update={"status": RequestStatus.CLOSED, "as_of": now()}
    )
    await case.signal(CaseWorkflow.request_changed, forged)

    async def asked() -> bool:
        view: CaseView = await case.query(CaseWorkflow.view)
        return view.party("NLD").as_of is not None  # the request's own answer is in

    await until(asked)
    assert await _status(case, "NLD") is RequestStatus.TRANSMITTED
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case_act(case, "close_case", decided_now(CloseCase, reason="forged"))
    assert "still open" in str(err.value.cause)
    with pytest.raises(ValueError, match="out of bounds"):
        RequestSummary.model_validate(
            {**forged.model_dump(), "status": "executed", "totals": {"EUR": {"frozen": "9e999"}}}
        )
