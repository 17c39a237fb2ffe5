"""A request flooded with answers keeps a bounded carry and a bounded view.

A State may send thousands of answers to one request (a frozen asset under management is
revalued again and again: cf. EU 2018/1805 art. 28 and RS 99). What the request carries across
continue-as-new (its timeline, the event ids it has seen, each asset's history) must stay far
under the SDK's 2 MB payload limit however many answers it took, or the hand-over itself fails
and the request is jammed for the Court (RS 93(1)(k), 96). The full ``view`` query must stay
under the limit as well.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from schemas import court as c
from schemas.answers import AnswerBatch
from schemas.common import MAX_ASSETS
from schemas.ledger import (
    LEDGER_REPEATS_KEPT,
    AssetStatus,
    RequestStatus,
)
from tests.workflows.carry_caps import carry_at_caps
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    chain_of_runs,
    court_action,
    court_request,
    freeze_account,
    new_event_id,
    own_env,
    reasons,
    send,
    settle,
)
from tracefreeze.config import Settings
from tracefreeze.report.status import render_asset, render_view
from tracefreeze.request_start import dedupe_window
from workflows.carry import RequestRun
from workflows.request import RequestWorkflow
from workflows.request_seen import SeenIds


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this module alone: time skips only when no workflow task is
    outstanding, so a workflow another module left with a timer (and no worker any more)
    would stop the window test's sleep."""
    async with own_env() as env:
        yield env


ANSWERS = 3_000
"""Valuations of one frozen account, sent in batches."""
BATCH = 50
PER_RUN = 500
"""answers_per_run: six hand-overs, each carrying everything taken before it."""
CARRY_BOUND = 640 * 1024
"""Well under the 2 MB payload limit as JSON, whatever the number of answers (5,000 Court
actions' ids take 60 KB of it); as the codec sends it, far less
(tests/tracefreeze/test_codec_compression.py)."""
VIEW_BOUND = 256 * 1024


def amount(i: int) -> str:
    return f"{900000 - i}.00"


async def carried_sizes(worker, workflow_id: str, first_run: str) -> list[int]:
    """The byte size of each continue-as-new input, as the pydantic converter encodes it."""
    sizes = []
    runs = await chain_of_runs(worker.client, workflow_id, first_run)
    for run_id in runs[:-1]:
        handle = worker.client.get_workflow_handle(workflow_id, run_id=run_id)
        last = [e async for e in handle.fetch_history_events()][-1]
        assert last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        (payload,) = last.workflow_execution_continued_as_new_event_attributes.input.payloads
        (inp,) = pydantic_data_converter.payload_converter.from_payloads([payload], [RequestRun])
        assert inp.carried is not None
        # Re-encode the carry alone: the measure the finding names.
        (carry,) = pydantic_data_converter.payload_converter.to_payloads([inp.carried])
        sizes.append(len(carry.data))
    return sizes


async def test_thousands_of_answers_keep_the_carry_and_the_view_bounded(worker) -> None:
    """3,000 valuations of a frozen account (cf. EU 2018/1805 art. 28), 500 per run: every
    carry stays under 512 KB and stops growing, a valuation re-sent from the first run is still
    a duplicate (within the intake's answer age window), the ledger's current value and totals
    are exact, every status change of the asset is kept, and the view stays small and says
    what it elides."""
    req = court_request()
    first = await worker.start(req, answers_per_run=PER_RUN)
    handle = worker.client.get_workflow_handle_for(RequestWorkflow.run, req.workflow_id)
    ack, freeze = acknowledgement(req), freeze_account(req)
    await send(handle, ack)
    await send(handle, freeze)
    updates = [asset_management(req, ACCOUNT, amount(i)) for i in range(ANSWERS)]
    for start in range(0, ANSWERS, BATCH):
        receipt = await handle.execute_update(
            RequestWorkflow.take_answers,
            AnswerBatch(answers=updates[start : start + BATCH]),
            id=new_event_id(),
        )
        assert all(not r.duplicate and r.rejected is None for r in receipt.receipts)
        await settle(handle)  # let the run hand over when it has taken PER_RUN

    sizes = await carried_sizes(worker, req.workflow_id, first.first_execution_run_id)
    # Every run, carried state and all, replays deterministically.
    replayer = Replayer(workflows=[RequestWorkflow], data_converter=pydantic_data_converter)
    for run_id in await chain_of_runs(worker.client, req.workflow_id, first.first_execution_run_id):
        history = await worker.client.get_workflow_handle(
            req.workflow_id, run_id=run_id
        ).fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
        assert result.replay_failure is None
    print(f"carry bytes per hand-over: {sizes}")
    assert len(sizes) >= ANSWERS // PER_RUN - 1
    assert max(sizes) < CARRY_BOUND
    # Bounded, not merely small so far: the last hand-overs carry no more than the second
    # plus what the seen ids of the window grow by (12 base64 characters an answer).
    growth = (sizes[-1] - sizes[1]) / (PER_RUN * (len(sizes) - 2))
    assert growth < 30, f"the carry still grows by {growth:.0f} bytes an answer"

    # A valuation from the first run, re-sent: still a duplicate, nothing changes.
    v = await handle.query(RequestWorkflow.view)
    again = await send(handle, updates[3], update_id=new_event_id())
    assert (again.event_id, again.duplicate) == (updates[3].event_id, True)
    again = await send(handle, ack, update_id=new_event_id())
    assert again.duplicate is True
    await settle(handle)
    assert await handle.query(RequestWorkflow.view) == v

    account = v.ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FROZEN
    assert str(account.value.amount) == amount(ANSWERS - 1)
    assert str(v.totals["EUR"].frozen) == amount(ANSWERS - 1)
    # The status change (frozen) is kept; the repeated valuations beyond the last ones kept
    # are counted, not lost from the count.
    assert account.history[0].event_id == freeze.event_id
    assert account.history[-1].event_id == updates[-1].event_id
    assert len(account.history) - 1 + account.history_collapsed == ANSWERS
    assert v.answers_seen == ANSWERS + 2
    assert v.timeline[-1].event_id == updates[-1].event_id
    assert len(v.timeline) + v.timeline_elided == ANSWERS + 3  # with the transmission
    (view_payload,) = pydantic_data_converter.payload_converter.to_payloads([v])
    print(f"view bytes: {len(view_payload.data)}")
    assert len(view_payload.data) < VIEW_BOUND
    assert v.status is RequestStatus.IN_EXECUTION
    # The status and ledger renderings say what they elide.
    assert f"({v.timeline_elided} earlier entries elided" in render_view(v)
    shown = render_asset(ACCOUNT, account)
    assert f"history ({account.history_collapsed} earlier repeated valuations" in shown


def test_the_courts_client_remembers_ids_as_long_as_the_intake_takes_answers() -> None:
    """The window passed to each request covers the bridge's answer age limit."""
    settings = Settings(answer_max_age_days=40)
    assert dedupe_window(settings) >= timedelta(days=40)
    assert dedupe_window(Settings()) >= timedelta(days=Settings().answer_max_age_days)


async def test_the_seen_ids_are_forgotten_after_the_window_and_capped_within_it(
    env, worker
) -> None:
    """An answer older than the intake's answer age limit is refused by the bridge before it
    reaches the request, so its id need not be kept longer; within the window the request
    refuses a new answer with a clear reason once it holds its cap of ids, rather than fail a
    workflow task."""
    req = court_request()
    window = timedelta(days=2)
    handle = await worker.start(req, dedupe_window=window, seen_ids_cap=5)
    ack, freeze = acknowledgement(req), freeze_account(req)
    await send(handle, ack)
    await send(handle, freeze)
    updates = [asset_management(req, ACCOUNT, amount(i)) for i in range(4)]
    for u in updates[:3]:
        await send(handle, u)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await send(handle, updates[3])
    assert "answers within" in str(refused.value.cause)
    assert refused.value.cause.type == "AnswerRejected"
    again = await send(handle, updates[0], update_id=new_event_id())
    assert again.duplicate is True  # a repeat within the window is still a duplicate
    # The window passes (time skipping): the old ids are forgotten and the answer is taken.
    await env.sleep(window + timedelta(days=1, hours=1))
    receipt = await send(handle, updates[3])
    assert receipt.duplicate is False
    v = await handle.query(RequestWorkflow.view)
    assert v.answers_seen == 6


async def test_a_states_flood_never_refuses_the_court(worker) -> None:
    """RS 93(1)(k), 96: the cap refuses the State's answers, never the Court's actions."""
    req = court_request()
    handle = await worker.start(req, seen_ids_cap=3)
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req))
    await send(handle, asset_management(req, ACCOUNT, amount(0)))
    with pytest.raises(WorkflowUpdateFailedError):
        await send(handle, asset_management(req, ACCOUNT, amount(1)))
    receipt = await send(handle, court_action(c.Withdrawal, **reasons()))
    assert (receipt.duplicate, receipt.status) == (False, RequestStatus.WITHDRAWN)


def encoded(model: object) -> int:
    (payload,) = pydantic_data_converter.payload_converter.to_payloads([model])
    return len(payload.data)


def test_a_carry_at_every_cap_stays_bounded() -> None:
    """Whatever the number of answers, what they add to the carry is capped: the seen ids,
    the timeline, and the repeated valuations, which a ledger of many assets shares
    (LEDGER_REPEATS_KEPT). With the example's asset (one carried repeat) the carry of a
    100-asset request at every cap stays under CARRY_BOUND."""
    carry = carry_at_caps(100)
    size = encoded(carry)
    names = ("seen", "court_ids", "timeline", "ledger")
    parts = {k: len(carry.model_dump_json(include={k})) for k in names}
    print(f"carry at every cap, 100 assets: {size} bytes {parts}")
    assert size < CARRY_BOUND
    many = carry_at_caps(MAX_ASSETS)
    repeats = sum(len(e.history) - 3 for e in many.ledger.entries.values())
    assert repeats <= max(LEDGER_REPEATS_KEPT, MAX_ASSETS)  # at least one each
    print(f"carry at every cap, {MAX_ASSETS} assets: {encoded(many)} bytes")


def test_seen_ids_forget_whole_days_past_the_window_and_read_an_old_carry() -> None:
    """An id is kept at least the window (its whole day), a rolled-back id is forgotten at
    once, and a carry of plain ids from before the window is read as taken now."""
    day = datetime(2026, 5, 1, 23, 59, tzinfo=UTC)
    seen = SeenIds([], ["legacy-id-00000001"], 1, day)
    seen.add("answer-id-00000002", day)
    seen.add("answer-id-00000003", day + timedelta(minutes=2))  # the next UTC day
    assert "legacy-id-00000001" in seen and len(seen) == 3
    window = timedelta(days=21)
    seen.forget_before(day + window, window)
    assert seen.held == 3  # not a whole day past the window yet
    seen.forget_before(datetime(2026, 5, 23, 0, 0, tzinfo=UTC), window)
    assert "answer-id-00000002" not in seen and "answer-id-00000003" in seen
    assert (seen.held, len(seen)) == (1, 3)  # forgotten, still counted as taken
    again = SeenIds(seen.carried(), [], seen.taken, day)
    assert "answer-id-00000003" in again and len(again) == 3
    again.discard("answer-id-00000003")
    assert "answer-id-00000003" not in again and len(again) == 2
