"""Requests live for years (Kenya: 2012 to the RS 87(7) finding in 2016), and a frozen asset
under management gathers valuations all that time (cf. EU 2018/1805 art. 28). Hundreds of
answers later, after several continues-as-new, nothing is forgotten and nothing re-applied."""

from __future__ import annotations

import time
from decimal import Decimal

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from schemas.events import RequestEventType
from schemas.ledger import HISTORY_REPEATS_KEPT, AssetStatus, RequestStatus
from schemas.organ_keys import REFRESH_ORGAN_KEYS
from schemas.views import TIMELINE_SHOWN
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    chain_of_runs,
    court_request,
    freeze_account,
    new_event_id,
    send,
    settle,
)
from workflows.request import RequestWorkflow

UPDATES = 300
"""Asset-management answers in one test (~10 ms each on the time-skipping server)."""
PER_RUN = 50
"""answers_per_run: the request continues as new after this many accepted answers."""


def amount(i: int) -> str:
    return f"{400000 - i * 100}.00"  # a slowly depreciating asset


async def test_hundreds_of_answers_across_several_runs_keep_everything(worker) -> None:
    """cf. EU 2018/1805 art. 28 and RS 99: 300 valuations of a frozen account, 50 answers
    per run, so the request continues as new six times; the valuation history, the timeline
    and the seen event ids survive every hand-over, so a valuation re-sent from the first run
    is still a duplicate that changes nothing. Bounded (the carry must stay under the payload
    limit): the history keeps the status changes and the last valuations, the view the most
    recent timeline entries, each with a count of the rest."""
    started = time.monotonic()
    req = court_request()
    first = await worker.start(req, answers_per_run=PER_RUN)
    handle = worker.client.get_workflow_handle_for(RequestWorkflow.run, req.workflow_id)
    ack = acknowledgement(req)
    freeze = freeze_account(req)
    await send(handle, ack)
    await send(handle, freeze)

    updates = [asset_management(req, ACCOUNT, amount(i)) for i in range(UPDATES)]
    for number, update in enumerate(updates, start=3):
        receipt = await send(handle, update)
        assert (receipt.duplicate, receipt.status) == (False, RequestStatus.IN_EXECUTION)
        if number % PER_RUN == 0:
            # Let the run hand over before the next answer: under a steady stream it never
            # does (see test_a_steady_stream_of_answers_still_continues_as_new).
            await settle(handle)
    await settle(handle)

    answers = 2 + UPDATES
    latest = await handle.describe()
    assert latest.status is WorkflowExecutionStatus.RUNNING
    assert latest.run_id != first.first_execution_run_id
    runs = await chain_of_runs(worker.client, req.workflow_id, first.first_execution_run_id)
    assert runs[-1] == latest.run_id
    assert len(set(runs)) == answers // PER_RUN + 1  # six hand-overs, seven runs

    v = await handle.query(RequestWorkflow.view)
    account = v.ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FROZEN
    # Every status change is kept, and the last HISTORY_REPEATS_KEPT valuations; the older
    # ones are counted (each left as a request event when it was taken).
    kept = UPDATES - HISTORY_REPEATS_KEPT
    assert [h.event_id for h in account.history] == [freeze.event_id] + [
        u.event_id for u in updates[kept:]
    ]
    assert account.history_collapsed == kept
    assert [h.value.amount for h in account.history[1:]] == [
        Decimal(amount(i)) for i in range(kept, UPDATES)
    ]
    assert account.value.amount == Decimal(amount(UPDATES - 1))
    assert v.totals["EUR"].frozen == Decimal(amount(UPDATES - 1))
    assert v.answers_seen == answers
    timeline = [None, ack.event_id, freeze.event_id] + [u.event_id for u in updates]
    assert [t.event_id for t in v.timeline] == timeline[-TIMELINE_SHOWN:]
    assert v.timeline_elided == len(timeline) - TIMELINE_SHOWN

    # An early valuation re-sent under a new update id (as the intake does after a restart):
    # a duplicate in the latest run, which changes nothing and publishes nothing.
    published = len(worker.published.events(req.reference))
    for early in (updates[3], ack, freeze):
        again = await send(handle, early, update_id=new_event_id())
        assert (again.event_id, again.duplicate) == (early.event_id, True)
    await settle(handle)
    after = await handle.query(RequestWorkflow.view)
    assert after == v
    assert len(worker.published.events(req.reference)) == published

    # Every answer was announced exactly once, across all runs.
    events = worker.published.events(req.reference)
    assert [e.type for e in events].count(RequestEventType.TRANSMITTED) == 1
    accepted = [e.caused_by for e in events if e.type is RequestEventType.ANSWER_ACCEPTED]
    assert accepted == [ack.event_id, freeze.event_id] + [u.event_id for u in updates]
    assert len({e.id for e in events}) == len(events)

    assert time.monotonic() - started < 30


async def accepted_per_run(client: Client, workflow_id: str, runs: list[str]) -> list[int]:
    counts = []
    for run_id in runs:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        types = [e.event_type async for e in handle.fetch_history_events()]
        counts.append(types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED))
    return counts


async def test_a_steady_stream_of_answers_still_continues_as_new(worker) -> None:
    """RS 99 / cf. EU art. 28: a backlog of answers (the bridge catching up after an outage)
    arrives back to back; the request must still hand over to a fresh run about every
    answers_per_run answers, or its history grows without bound."""
    burst = 3 * PER_RUN
    req = court_request()
    first = await worker.start(req, answers_per_run=PER_RUN)
    handle = worker.client.get_workflow_handle_for(RequestWorkflow.run, req.workflow_id)
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req))
    for i in range(burst):
        await send(handle, asset_management(req, ACCOUNT, amount(i)))
    await settle(handle)
    v = await handle.query(RequestWorkflow.view)
    account = v.ledger.entries[ACCOUNT]
    # Nothing lost, whatever runs: the changes kept plus those counted.
    assert len(account.history) + account.history_collapsed == 1 + burst
    runs = await chain_of_runs(worker.client, req.workflow_id, first.first_execution_run_id)
    counts = await accepted_per_run(worker.client, req.workflow_id, runs)
    assert sum(counts) == 2 + burst
    assert len(runs) >= 3, counts
    assert max(counts) <= 2 * PER_RUN, counts


async def test_a_flood_of_key_refreshes_hands_the_request_over(worker) -> None:
    """Anyone who can reach a request may ask it to read its organ key registry again
    (``refresh_organ_keys``); each read is an activity in its history. Each counts toward the
    hand-over as an answer does, so a flood of them cannot grow one run's history toward
    Temporal's limit (where the server would terminate the request, and with it the State's
    part of the case, RS 93(1)(k))."""
    req = court_request()
    first = await worker.start(req, answers_per_run=3)
    handle = worker.client.get_workflow_handle_for(RequestWorkflow.run, req.workflow_id)
    for _ in range(4):
        await handle.execute_update(REFRESH_ORGAN_KEYS, id=new_event_id(), result_type=str)
    await settle(handle)
    latest = await handle.describe()
    assert latest.status is WorkflowExecutionStatus.RUNNING
    assert latest.run_id != first.first_execution_run_id  # handed over
