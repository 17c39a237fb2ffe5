"""Record the case histories that test_case_replay.py replays, from real runs of CaseWorkflow
(and its requests) on a time-skipping test server.

Run from the repository root after a deliberate change to the case workflow (and commit the
result with the change):

    PYTHONPATH=. python -m tests.workflows.record_case_histories [SCENARIO ...]

The request histories are recorded by ``record_histories.py``; these live apart, under
``histories/case/``, because they replay against CaseWorkflow.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

import tests.organ_keys  # noqa: F401  (organ signing keys for the recorded runs)
from schemas import court as c
from schemas.case import AddState, CaseInput, CaseOrder, CaseView, CloseCase, ReleaseCase
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from tests.workflows.case_support import case_act, decided_now, until
from tests.workflows.stopping import terminate
from tests.workflows.support import (
    ACCOUNT,
    HISTORIES,
    acknowledgement,
    asset_management,
    close_action,
    court_action,
    court_request,
    freeze_account,
    no_assets,
    own_env,
    reasons,
    request_worker,
    save_history,
    send,
)
from workflows.case import CaseWorkflow

CASE_HISTORIES = HISTORIES / "case"
Case = WorkflowHandle[CaseWorkflow, CaseView]


async def _children_started(case: Case, count: int) -> bool:
    events = (await case.fetch_history()).events
    started = EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED
    return sum(e.event_type == started for e in events) >= count


async def _status_is(case: Case, state: str, status: RequestStatus) -> bool:
    return (await case.query(CaseWorkflow.view)).party_statuses().get(state) is status


async def two_states_to_closure(client: Client, case: Case, requests: list[CourtRequest]) -> None:
    """NLD freezes its account and values it, BEL finds nothing; the Court adds FRA, refuses
    to close the case early, withdraws NLD's request; every request closes, then the case."""
    nld, bel = requests
    await until(lambda: _children_started(case, 2))
    handles = {r.requested_state: client.get_workflow_handle(r.workflow_id) for r in requests}
    await send(handles["NLD"], acknowledgement(nld))
    await send(handles["NLD"], freeze_account(nld))
    await send(handles["NLD"], asset_management(nld, ACCOUNT, "401000.00"))
    await send(handles["BEL"], acknowledgement(bel))
    await send(handles["BEL"], no_assets(bel))
    fra = court_request(requested_state="FRA", case_number=nld.case_number)
    await case_act(case, "add_state", decided_now(AddState, request=fra))
    try:
        await case_act(case, "close_case", decided_now(CloseCase, reason="early"))
    except Exception:  # refused: the requests are open
        pass
    fra_handle = client.get_workflow_handle(fra.workflow_id)
    await send(fra_handle, acknowledgement(fra))
    await send(fra_handle, no_assets(fra))
    await send(handles["NLD"], court_action(c.Withdrawal, **reasons()))
    for handle in (handles["NLD"], handles["BEL"], fra_handle):
        await send(handle, close_action())
    for state in ("NLD", "BEL", "FRA"):
        await until(lambda state=state: _status_is(case, state, RequestStatus.CLOSED))
    await case_act(case, "close_case", decided_now(CloseCase, reason="done"))
    await case.result()


async def first_run_continued_as_new(
    client: Client, case: Case, requests: list[CourtRequest]
) -> None:
    """One report per run: the first report makes the case continue as new."""
    nld, _ = requests
    await until(lambda: _children_started(case, 2))
    await send(client.get_workflow_handle(nld.workflow_id), acknowledgement(nld))
    first = client.get_workflow_handle(case.id, run_id=case.first_execution_run_id)

    async def continued() -> bool:
        last = (await first.fetch_history()).events[-1].event_type
        return last == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW

    await until(continued)


async def second_run_reconciles(
    client: Client, case: Case, requests: list[CourtRequest]
) -> str | None:
    """The first report makes the case continue as new; the second run asks its open requests
    where they stand (a lost report heals) and takes what is newer. Its run is recorded."""
    await first_run_continued_as_new(client, case, requests)
    current = client.get_workflow_handle(case.id)

    async def asked() -> bool:
        events = (await current.fetch_history()).events
        return any(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED for e in events)

    await until(asked)
    return (await current.describe()).run_id


async def acquit_and_release(case: Case, judgment_reference: str) -> None:
    """The Trial Chamber's final acquittal recorded, and its act releasing the case."""
    acquittal = decided_now(
        c.Judgment,
        judgment_reference=judgment_reference,
        outcome="acquittal",
        delivered_on="2026-04-30",
        finality="final",
    )
    await case_act(case, "record_judgment", acquittal)
    act = decided_now(
        ReleaseCase, decided_by="trial_chamber", judgment_reference=judgment_reference, **reasons()
    )
    await case_act(case, "release_case", act)


async def released_on_acquittal(client: Client, case: Case, requests: list[CourtRequest]) -> None:
    """NLD and BEL freeze the account; the Trial Chamber's acquittal is recorded and one act
    releases the case (RS 74, 81(3)(c)): each request takes it, the case closes both once
    settled, and the Registry closes the case."""
    await until(lambda: _children_started(case, 2))
    for request in requests:
        handle = client.get_workflow_handle(request.workflow_id)
        await send(handle, acknowledgement(request))
        await send(handle, freeze_account(request))
    await acquit_and_release(case, "ICC-01/22-T-J-HIST")

    async def complete() -> bool:
        release = (await case.query(CaseWorkflow.view)).release
        return release is not None and release.complete

    await until(complete)
    await case_act(case, "close_case", decided_now(CloseCase, reason="released"))
    await case.result()


async def release_to_a_stopped_request(
    client: Client, case: Case, requests: list[CourtRequest]
) -> None:
    """NLD and BEL freeze the account; BEL's request is terminated by an operator; the
    acquittal and the case's release follow (RS 74, 81(3)(c)): NLD takes the release, BEL is
    reported ``stopped`` (its measures stand), the release and the judgment stay queued for
    BEL and the hour's retry is armed. Recorded while the case waits."""
    await until(lambda: _children_started(case, 2))
    for request in requests:
        handle = client.get_workflow_handle(request.workflow_id)
        await send(handle, acknowledgement(request))
        await send(handle, freeze_account(request))
    await terminate(
        client.get_workflow_handle(requests[1].workflow_id), "operator (recorded)", case
    )
    await acquit_and_release(case, "ICC-01/22-T-J-STOP")

    async def bel_stopped() -> bool:
        release = (await case.query(CaseWorkflow.view)).release
        return (
            release is not None
            and release.requests[f"{requests[1].reference}/BEL"].outcome == "stopped"
        )

    await until(bel_stopped)


SCENARIOS: dict[str, tuple[int | None, Callable[[Client, Case, list[CourtRequest]], Any]]] = {
    "case-two-states-to-closure": (None, two_states_to_closure),
    "case-first-run-continued-as-new": (1, first_run_continued_as_new),
    "case-second-run-reconciles": (1, second_run_reconciles),
    "case-released-on-acquittal": (None, released_on_acquittal),
    "case-release-to-a-stopped-request": (None, release_to_a_stopped_request),
}
"""Name: (reports per run, scenario); a scenario may return the run to record (else the
first)."""


async def record(names: list[str]) -> None:
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios {sorted(unknown)}; known: {list(SCENARIOS)}")
    CASE_HISTORIES.mkdir(parents=True, exist_ok=True)
    async with (
        own_env() as env,
        request_worker(env, "record-case", CaseWorkflow) as (task_queue, _published),
    ):
        for number, (name, (per_run, scenario)) in enumerate(SCENARIOS.items(), start=1):
            if names and name not in names:
                continue
            requests = [
                court_request(
                    requested_state=state, reference=f"ICC-01/22-REQ-CASE-{number:02d}{i}"
                )
                for i, state in enumerate(("NLD", "BEL"))
            ]
            order = CaseOrder(
                order_reference=f"ICC-01/22-ORD-HIST-{number:04d}",
                case_number=requests[0].case_number,
                requests=tuple(requests),
            )
            case = await env.client.start_workflow(
                CaseWorkflow.run,
                CaseInput(order=order, reports_per_run=per_run),
                id=order.workflow_id,
                task_queue=task_queue,
            )
            run_id = await scenario(env.client, case, requests) or case.first_execution_run_id
            history = await env.client.get_workflow_handle(case.id, run_id=run_id).fetch_history()
            save_history(CASE_HISTORIES / f"{name}.json", history)
            print(f"{name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:]))
