"""A request that lives for years keeps every run bounded, in events and in bytes.

Ten years of a request (RS 93(1)(k), 96, 99): a frozen account revalued day after day (cf. EU
2018/1805 art. 28), the State consulting the Court and the Court modifying the request each
time (RS 93(3), 96(3)). Time skips a day between runs, so the dedupe window slides as it does
over a real request's life. From the second run on, no run's first event (the carried state)
and no run's history grows, while the count of answers, the ledger's value and totals and the
count of timeline entries stay exact, and an answer re-sent within the window is still a
duplicate after the hand-over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from schemas import court as c
from schemas.answers import AnswerBatch
from schemas.ledger import AssetStatus, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    chain_of_runs,
    consultation,
    court_action,
    court_request,
    freeze_account,
    new_event_id,
    own_env,
    send,
    settle,
)
from workflows.carry import TIMELINE_CARRIED
from workflows.request import RequestWorkflow


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """Its own time-skipping server: time skips only when no other module's workflow holds a
    workflow task outstanding."""
    async with own_env() as env:
        yield env


PER_RUN = 50
"""answers_per_run: small (and a batch holds at most 50), so a few hundred make many runs."""
RUNS = 9
WINDOW = timedelta(days=1)
"""The dedupe window the request is started with (the intake's answer age limit, shortened)."""
FIRST_EVENT_BOUND = 64 * 1024
"""The carried input of any run, whatever the number of answers before it."""
HISTORY_BOUND = 256 * 1024
"""History bytes of any run: its carried input, its answers and what it published."""
EVENTS_BOUND = 4 * PER_RUN + 60
"""History events of any run: an update is accepted and completed; a batch of answers is one
update; with the workflow tasks, publishes and the hand-over."""


def amount(i: int) -> str:
    return f"{9000000 - i}.00"


def modified(req: Any) -> dict[str, Any]:
    """The request as the Court modifies it after consultation (RS 93(3), 96(3))."""
    return req.model_dump(mode="json")


async def per_run(client: Client, workflow_id: str, runs: list[str]) -> list[tuple[int, int, int]]:
    """(bytes of the first event's input, events, history bytes) of each run."""
    out = []
    for run_id in runs:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        first = sum(len(p.data) for p in started.input.payloads)
        out.append((first, len(history.events), sum(e.ByteSize() for e in history.events)))
    return out


async def test_every_run_of_a_long_life_stays_bounded_and_the_counts_exact(env, worker) -> None:
    req = court_request()
    first = await worker.start(req, answers_per_run=PER_RUN, dedupe_window=WINDOW)
    handle = worker.client.get_workflow_handle_for(RequestWorkflow.run, req.workflow_id)
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req))
    answers, actions, taken = 2, 0, []
    for run in range(RUNS):
        # RS 93(3), 96(3): the State consults, the Court modifies the request (a version).
        await send(handle, consultation(req))
        response = court_action(
            c.ConsultationResponse, resolution="request_modified", modified_request=modified(req)
        )
        assert (await send(handle, response)).status is RequestStatus.IN_EXECUTION
        actions += 2
        batch = [asset_management(req, ACCOUNT, amount(answers + i)) for i in range(PER_RUN - 2)]
        receipt = await handle.execute_update(
            RequestWorkflow.take_answers, AnswerBatch(answers=batch), id=new_event_id()
        )
        assert all(not r.duplicate and r.rejected is None for r in receipt.receipts)
        answers += len(batch)
        taken += batch
        await settle(handle)
        if run < RUNS - 1:
            await env.sleep(WINDOW + timedelta(hours=1))  # the next day: the window slides

    runs = await chain_of_runs(worker.client, req.workflow_id, first.first_execution_run_id)
    assert len(runs) >= RUNS
    sizes = await per_run(worker.client, req.workflow_id, runs)
    print(f"per run (first-event bytes, events, history bytes): {sizes}")
    carried = [s[0] for s in sizes[1:]]
    assert max(carried) <= FIRST_EVENT_BOUND, carried
    assert max(s[1] for s in sizes) <= EVENTS_BOUND, sizes
    # Not merely small so far: once its windows are full (the last to fill, the carried
    # timeline, after TIMELINE_CARRIED entries) a run carries no more than the one before it:
    # a day's ids, the last timeline entries, versions and valuations.
    filled = 1 + TIMELINE_CARRIED // PER_RUN  # the first run that starts with them full
    full = carried[filled - 1 :]
    assert len(full) >= 4 and max(full) - min(full) <= 1024, carried
    histories = [s[2] for s in sizes[filled:-1]]  # the last run is still open
    assert max(histories) <= HISTORY_BOUND and max(histories) - min(histories) <= 2048, sizes

    v = await handle.query(RequestWorkflow.view)
    assert v.answers_seen == answers + actions
    account = v.ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FROZEN
    assert account.value is not None and account.value.amount == Decimal(amount(answers - 1))
    assert v.totals["EUR"].frozen == Decimal(amount(answers - 1))
    assert len(account.history) - 1 + account.history_collapsed == len(taken)
    assert len(v.timeline) + v.timeline_elided == 1 + answers + actions  # with transmission
    assert v.version == RUNS + 1

    # Within the window, after the hand-over: a repeat is a duplicate that changes nothing.
    again = await send(handle, taken[-1], update_id=new_event_id())
    assert (again.event_id, again.duplicate) == (taken[-1].event_id, True)
    await settle(handle)
    assert await handle.query(RequestWorkflow.view) == v
