"""End to end on the real stack: a case under load. One State's flood of answers keeps every
run of the case small and leaves the other State's request untouched; a case that hands over
to a fresh run after every report loses no report and no Court action on the way."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from schemas import court as c
from schemas.case import AddState, CaseInput, CloseCase
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from tests.builders import (
    court_action,
    now,
)
from tests.replay_check import histories_that_do_not_replay
from tests.tracefreeze.case_e2e import (
    FLOOD,
    WAIT_S,
    case_run_bound,
    case_runs,
    finds_nothing,
    flood,
    fresh_order,
    started_and_bel_frozen,
    take,
    until,
)
from tests.tracefreeze.e2e import Running
from tests.workflows.case_support import case_act
from tracefreeze.case_client import CaseClient
from workflows.case import CaseWorkflow

pytestmark = pytest.mark.stack


async def test_one_states_flood_of_answers_keeps_the_case_small_and_the_other_state_unaffected(
    running_cold: Running,
) -> None:
    """One State must never be able to take another's request down (RS 93(1)(k) in several
    jurisdictions; each State's part stands on its own). Belgium sends 400 valuations of its
    frozen account; before, each made its request signal the whole request view to the case
    and the case's history grew quadratically toward the server's 50 MB limit (31 MB after
    400), where Temporal terminates it. Now every run of the case stays small, the case
    knows Belgium's last valuation, and the Netherlands' request and its part in the case
    go on as if Belgium had sent nothing."""
    r, client = running_cold, running_cold.client.client
    cases = CaseClient(client, r.settings)
    order = fresh_order(r.settings)
    opened = time.monotonic()
    nld, bel = (next(q for q in order.requests if q.requested_state == st) for st in ("NLD", "BEL"))
    await cases.open_case(order)
    await started_and_bel_frozen(r, order)

    await asyncio.gather(flood(client, bel, FLOOD), finds_nothing(client, nld))

    view = await until(
        lambda: cases.case_view(order.order_reference),
        # Each request reports on its own interval: wait for both last reports, not one.
        lambda v: v.party("BEL").answers_seen == FLOOD + 2 and v.party("NLD").answers_seen == 2,
        "the case learns Belgium's last valuation and the Netherlands' finding",
    )
    assert view.party_statuses() == {
        "NLD": RequestStatus.NO_ASSETS,
        "BEL": RequestStatus.IN_EXECUTION,
    }
    bel_view = await r.client.view_id(bel.workflow_id)
    assert view.totals["EUR"].frozen == bel_view.totals["EUR"].frozen  # the last valuation
    nld_view = await r.client.view_id(nld.workflow_id)
    assert (nld_view.status, nld_view.answers_seen) == (RequestStatus.NO_ASSETS, 2)
    described = await client.get_workflow_handle(order.workflow_id).describe()
    assert described.status is WorkflowExecutionStatus.RUNNING
    runs = await case_runs(client, order.workflow_id)
    bound = case_run_bound(time.monotonic() - opened, len(order.requests))
    print(f"\ncase after {FLOOD} valuations: runs (bytes, events) {runs}; bound {bound:,} B")
    assert max(size for size, _ in runs) < bound, runs
    assert await histories_that_do_not_replay(client, r.settings.task_queue) == {}


async def test_the_case_continues_as_new_without_losing_a_report_or_a_court_action(
    running_cold: Running,
) -> None:
    """A case lives as long as its requests: it hands over to a fresh run, here after every
    report, while Belgium floods its request, the Netherlands answers, and the Court adds
    France and tries to close the case too early, all at once. Every report and every Court
    action lands in whichever run is current: the requests report by the case's workflow id;
    the case drains its handlers before it continues. Then the case closes normally, and
    every run of every workflow replays (refused Court actions leave no event, so nothing
    may depend on the activations they make)."""
    r, client = running_cold, running_cold.client.client
    order = fresh_order(r.settings)
    nld, bel = (next(q for q in order.requests if q.requested_state == st) for st in ("NLD", "BEL"))
    case = await client.start_workflow(
        CaseWorkflow.run,
        CaseInput(order=order, reports_per_run=1),
        id=order.workflow_id,
        task_queue=r.settings.task_queue,
    )
    await started_and_bel_frozen(r, order)
    fra = CourtRequest.model_validate(
        {
            **bel.model_dump(mode="json"),
            "requested_state": "FRA",
            "reference": f"ICC-01/22-REQ-FRA-{uuid.uuid4().hex[:8].upper()}",
        }
    )
    refusals: list[str] = []

    async def court() -> None:
        for _ in range(5):
            try:
                await case_act(
                    case, "close_case", court_action(CloseCase, decided_at=now(), reason="x")
                )
            except WorkflowUpdateFailedError as err:
                refusals.append(str(err.cause))
        add = court_action(AddState, decided_at=now(), request=fra)
        await case_act(case, "add_state", add)
        await case_act(case, "add_state", add)  # once

    await asyncio.gather(flood(client, bel, 200), finds_nothing(client, nld), court())
    assert len(refusals) == 5 and all("are still open" in reason for reason in refusals)
    view = await until(
        lambda: case.query(CaseWorkflow.view),
        lambda v: v.party("BEL").answers_seen == 202 and v.party("NLD").answers_seen == 2,
        "the case learns every request's last state",
    )
    assert set(view.parties()) == {"NLD", "BEL", "FRA"}
    assert view.run >= 2, view.run  # each report a hand-over: at least one happened
    print(f"\ncase continued as new {view.run - 1} times")
    await until(
        lambda: r.client.view_id(fra.workflow_id),
        lambda v: v.status is RequestStatus.TRANSMITTED,
        "France's request started once",
    )
    await finds_nothing(client, fra)
    await take(client, bel, court_action(c.Withdrawal, decided_at=now(), reasons="Withdrawn."))
    for request in (nld, bel, fra):
        await take(client, request, court_action(c.CloseRequest, decided_at=now(), reason="Done."))
    await until(
        lambda: case.query(CaseWorkflow.view),
        lambda v: all(st is RequestStatus.CLOSED for st in v.statuses.values()),
        "the case learns every request closed",
    )
    closed = await case_act(
        case, "close_case", court_action(CloseCase, decided_at=now(), reason="x")
    )
    assert closed.closed
    final = await asyncio.wait_for(case.result(), timeout=WAIT_S)
    assert final.party_statuses() == {s: RequestStatus.CLOSED for s in ("NLD", "BEL", "FRA")}
    assert final.party("BEL").answers_seen == 204
    # A worker that caches two workflows replayed nearly every task: every run replays again.
    assert await histories_that_do_not_replay(client, r.settings.task_queue) == {}
