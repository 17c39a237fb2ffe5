"""Multi-State cases (docs/legal-process.md, 'Several States'): one Court order, one request
per State, aggregated; a State added later; the case closes only when every request is closed;
one State's stream of answers reaches the case as few small reports, and the case continues as
new without losing a report or a Court action."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from schemas.case import AddState, CaseInput, CaseOrder, CaseView, CloseCase, RequestSummary
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from tests.workflows.case_support import case_act, decided_now, until
from tests.workflows.stopping import terminate
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    close_action,
    court_request,
    freeze_account,
    no_assets,
    own_env,
    request_worker,
    send,
    start_request,
)
from workflows.case import CaseWorkflow
from workflows.request import RequestWorkflow
from workflows.request_publishing import PARENT_REPORT_ATTEMPTS, PARENT_REPORT_INTERVAL


@pytest.fixture
async def case_queue(env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, str]]:
    async with request_worker(env, "case-tests", CaseWorkflow) as (task_queue, _published):
        yield env.client, task_queue


def _request(state: str, case: str = "ICC-01/22") -> CourtRequest:
    return court_request(requested_state=state, case_number=case)


async def _open(
    client: Client, task_queue: str, *requests: CourtRequest, reports_per_run: int | None = None
) -> WorkflowHandle:
    order = CaseOrder(
        order_reference=f"ICC-01/22-ORD-{uuid.uuid4().hex[:8].upper()}",
        case_number="ICC-01/22",
        requests=requests,
    )
    return await client.start_workflow(
        CaseWorkflow.run,
        CaseInput(order=order, reports_per_run=reports_per_run),
        id=order.workflow_id,
        task_queue=task_queue,
    )


async def _view(handle: WorkflowHandle) -> CaseView:
    return await handle.query(CaseWorkflow.view)


async def test_case_fans_out_one_request_per_state_and_aggregates_ledgers(case_queue) -> None:
    """RS 93(1)(k) in several jurisdictions: one child request per State; the case sums the
    frozen value its requests report, per currency."""
    client, queue = case_queue
    nld, bel = _request("NLD"), _request("BEL")
    case = await _open(client, queue, nld, bel)
    await until(lambda: _has_states(case, {"NLD", "BEL"}))
    handle = client.get_workflow_handle(nld.workflow_id)
    await send(handle, acknowledgement(nld))
    await send(handle, freeze_account(nld))

    async def nld_frozen() -> bool:
        totals = (await _view(case)).totals.get("EUR")
        return totals is not None and totals.frozen > Decimal(0)

    await until(nld_frozen)
    view = await _view(case)
    assert view.party_statuses() == {
        "NLD": RequestStatus.IN_EXECUTION,
        "BEL": RequestStatus.TRANSMITTED,
    }
    assert view.party("NLD").as_of is not None and view.party("NLD").assets == 3
    assert view.party("BEL").as_of is None  # BEL has not answered: nothing reported
    nld_view = await handle.query(RequestWorkflow.view)
    assert view.totals["EUR"].frozen == nld_view.totals["EUR"].frozen


async def test_court_adds_a_state_later_and_a_duplicate_state_is_refused(case_queue) -> None:
    """Assets found in another jurisdiction: the Court adds a State to the open case; the
    same State twice, another case's request, or an existing request are refused."""
    client, queue = case_queue
    case = await _open(client, queue, _request("NLD"))
    fra = _request("FRA")
    view = await case_act(case, "add_state", decided_now(AddState, request=fra))
    assert set(view.parties()) == {"NLD", "FRA"}
    described = await client.get_workflow_handle(fra.workflow_id).describe()
    assert described.parent_id == case.id
    for refused, reason in (
        (_request("FRA"), "already has a request to FRA"),
        (_request("DEU", case="ICC-02/05"), "belongs to case ICC-02/05"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await case_act(case, "add_state", decided_now(AddState, request=refused))
        assert isinstance(err.value.cause, ApplicationError) and reason in err.value.cause.message
    existing = _request("ITA")
    await start_request(client, queue, existing)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case_act(case, "add_state", decided_now(AddState, request=existing))
    assert "already exists" in str(err.value.cause)
    assert set((await _view(case)).parties()) == {"NLD", "FRA"}


async def test_case_closes_only_when_every_request_is_closed(case_queue) -> None:
    """Closing a case cannot orphan a request: refused, naming the open States, until each
    request is closed; then the case workflow completes."""
    client, queue = case_queue
    nld, bel = _request("NLD"), _request("BEL")
    case = await _open(client, queue, nld, bel)
    await until(lambda: _has_states(case, {"NLD", "BEL"}))
    for request in (nld, bel):
        handle = client.get_workflow_handle(request.workflow_id)
        await send(handle, acknowledgement(request))
        await send(handle, no_assets(request))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case_act(case, "close_case", decided_now(CloseCase, reason="done"))
    open_ = sorted([f"{bel.reference}/BEL", f"{nld.reference}/NLD"])
    assert f"{open_} are still open" in str(err.value.cause)
    await send(client.get_workflow_handle(nld.workflow_id), close_action())
    await until(lambda: _status_is(case, "NLD", RequestStatus.CLOSED))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await case_act(case, "close_case", decided_now(CloseCase, reason="done"))
    assert f"['{bel.reference}/BEL'] are still open" in str(err.value.cause)
    await send(client.get_workflow_handle(bel.workflow_id), close_action())
    await until(lambda: _status_is(case, "BEL", RequestStatus.CLOSED))
    await case_act(case, "close_case", decided_now(CloseCase, reason="done"))
    result = await case.result()
    assert result.closed and set(result.statuses.values()) == {RequestStatus.CLOSED}


async def _has_states(case: WorkflowHandle, states: set[str]) -> bool:
    """The case knows these States and has started each one's request."""
    if set((await _view(case)).parties()) != states:
        return False
    started = [
        e
        for e in (await case.fetch_history()).events
        if e.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED
    ]
    return len(started) >= len(states)


async def _status_is(case: WorkflowHandle, state: str, status: RequestStatus) -> bool:
    return (await _view(case)).party_statuses().get(state) is status


async def _reports(case: WorkflowHandle) -> list[RequestSummary]:
    """The reports every run of the case received, oldest first (signals in its histories)."""
    out: list[RequestSummary] = []
    async for run in _runs(case):
        for event in run.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                payload = event.workflow_execution_signaled_event_attributes.input.payloads[0]
                out.append(RequestSummary.model_validate_json(payload.data))
    return out


async def _runs(case: WorkflowHandle):  # type: ignore[no-untyped-def]
    """The history of each run of the case, oldest first (walked back from the latest)."""
    histories = []
    run_id: str | None = (await case.describe()).run_id
    while run_id:
        history = await case._client.get_workflow_handle(case.id, run_id=run_id).fetch_history()
        histories.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
    for history in reversed(histories):
        yield history


async def test_a_stream_of_answers_reaches_the_case_as_few_small_reports(case_queue) -> None:
    """One State's many answers must not grow the case (one State never stalls another): the
    request reports a small summary, only when it changed, at most once per interval of its
    workflow time; the last change still reaches the case (a timer brings it)."""
    client, queue = case_queue
    nld, bel = _request("NLD"), _request("BEL")
    case = await _open(client, queue, nld, bel)
    await until(lambda: _has_states(case, {"NLD", "BEL"}))
    bel_handle = client.get_workflow_handle(bel.workflow_id)
    await send(bel_handle, acknowledgement(bel))
    await send(bel_handle, freeze_account(bel))
    answers = 60
    for n in range(answers):
        await send(bel_handle, asset_management(bel, ACCOUNT, f"{400000 + n}.00"))
    bel_view = await bel_handle.query(RequestWorkflow.view)
    assert bel_view.answers_seen == answers + 2

    async def all_reported() -> bool:
        return (await _view(case)).party("BEL").answers_seen == answers + 2

    await until(all_reported)
    view = await _view(case)
    assert view.totals["EUR"].frozen == Decimal(f"{400000 + answers - 1}.00")
    assert view.party_statuses() == {
        "BEL": RequestStatus.IN_EXECUTION,
        "NLD": RequestStatus.TRANSMITTED,
    }
    reports = [r for r in await _reports(case) if r.requested_state == "BEL"]
    stamps = [r.as_of for r in reports if r.as_of is not None]
    assert len(stamps) == len(reports)
    for earlier, later in itertools.pairwise(stamps):
        assert later - earlier >= PARENT_REPORT_INTERVAL  # never two within one interval
    assert len(reports) < answers // 2, [r.answers_seen for r in reports]
    for report in reports:  # small and bounded, whatever the request's timeline holds
        assert len(report.model_dump_json()) < 1_000


async def test_a_report_for_a_request_not_in_the_case_is_ignored(case_queue) -> None:
    """Only the case's own requests change it: a report naming another State or another
    reference changes nothing."""
    client, queue = case_queue
    nld = _request("NLD")
    case = await _open(client, queue, nld)
    await until(lambda: _has_states(case, {"NLD"}))
    other = _request("BEL")
    for stray in (
        RequestSummary.transmitted(other).model_copy(update={"status": RequestStatus.CLOSED}),
        RequestSummary.transmitted(_request("NLD")).model_copy(
            update={"status": RequestStatus.CLOSED}
        ),
    ):
        await case.signal(CaseWorkflow.request_changed, stray)
    view = await _view(case)
    assert view.party_statuses() == {"NLD": RequestStatus.TRANSMITTED}
    assert view.party("NLD").reference == nld.reference


async def test_a_request_whose_case_is_gone_goes_on() -> None:
    """Each State's request stands on its own (RS 93(1)(k)): if its case is terminated (as
    the server does to a run near 50 MB), the request is not failed by its next report to
    the case; it tries a few times (a signal can miss a case continuing as new), then takes
    its answers as before without telling it. On a server of its own: it lets time pass."""
    async with own_env() as env, request_worker(env, "case-gone", CaseWorkflow) as (queue, _):
        await _goes_on_without_its_case(env, env.client, queue)


async def _goes_on_without_its_case(env: WorkflowEnvironment, client: Client, queue: str) -> None:
    nld, bel = _request("NLD"), _request("BEL")
    case = await _open(client, queue, nld, bel)
    await until(lambda: _has_states(case, {"NLD", "BEL"}))
    requests = [client.get_workflow_handle(r.workflow_id) for r in (nld, bel)]
    await terminate(case, "as the server terminates a run over its history limit", *requests)
    handle = client.get_workflow_handle(nld.workflow_id)
    await send(handle, acknowledgement(nld))
    await send(handle, freeze_account(nld))
    view = await handle.query(RequestWorkflow.view)
    assert view.status is RequestStatus.IN_EXECUTION and view.answers_seen == 2
    await env.sleep(PARENT_REPORT_INTERVAL * (PARENT_REPORT_ATTEMPTS + 2))  # retries due
    await send(handle, asset_management(nld, ACCOUNT, "400000.00"))
    view = await handle.query(RequestWorkflow.view)
    assert view.answers_seen == 3
    described = await handle.describe()
    assert described.status is WorkflowExecutionStatus.RUNNING
    history = [e.event_type async for e in handle.fetch_history_events()]
    failed = EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED
    assert history.count(failed) == PARENT_REPORT_ATTEMPTS  # tried again, then given up


async def test_an_ex_parte_request_of_a_case_runs_under_its_opaque_id(
    case_queue: tuple[Client, str], tmp_path, monkeypatch
) -> None:
    """Rule 99(2): the Court's case client gives the case the opaque id of each ex parte
    request (and of an ex parte State added later); the case starts the child under it."""
    from tracefreeze.case_client import CaseClient
    from tracefreeze.config import Settings
    from tracefreeze.security.request_ids import KEY_ENV, workflow_id_of

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
    await until(lambda: _started(client, opaque))  # the child runs there
    await until(lambda: _started(client, bel.workflow_id))  # plain, as before
    fra = court_request(requested_state="FRA", confidentiality="ex_parte")
    await cases.add_state(order.order_reference, decided_now(AddState, request=fra))
    await until(lambda: _started(client, workflow_id_of(fra, key)))
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
