"""Redelivered answers change nothing: the same update id returns the stored outcome, and the
same event id under another update id (as after continue-as-new) returns duplicate=True."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    SHARES,
    UPDATE_EVENTS,
    VESSEL,
    PublishRecorder,
    acknowledgement,
    court_request,
    execution_report,
    new_event_id,
    no_assets,
    request_worker,
    result,
    send,
    settle,
    snapshot,
    start_request,
    vessel_asset,
    visibility,
    wait_for_events,
)
from workflows import search_attributes as sa
from workflows.request import RequestWorkflow


async def test_same_update_id_twice_returns_the_same_receipt_and_changes_nothing(worker) -> None:
    """RS 99 execution report delivered twice by the intake under the same update id (the
    State's event id): the second delivery is a no-op with the first receipt."""
    req = court_request()
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    report = execution_report(req)
    first = await send(handle, report)
    before = await snapshot(handle, worker.published)

    second = await send(handle, report)

    assert second == first
    assert second.duplicate is False  # the stored outcome, not a re-run of the handler
    assert await snapshot(handle, worker.published) == before
    assert [h.event_id for h in before.view.ledger.entries[ACCOUNT].history] == [report.event_id]


async def test_same_event_id_under_another_update_id_is_a_duplicate(worker) -> None:
    """The State's event id is the dedupe key (RS 99 reports may be resent); a redelivery
    under a fresh update id, as after continue-as-new when the server no longer knows the
    update, returns duplicate=True and changes nothing, not even the status it reports."""
    req = court_request()
    handle = await worker.start(req)
    ack = acknowledgement(req)
    await send(handle, ack)
    report = execution_report(req)
    await send(handle, report)
    before = await snapshot(handle, worker.published)

    again = await send(handle, report, update_id=new_event_id())
    assert (again.event_id, again.duplicate, again.status) == (
        report.event_id,
        True,
        RequestStatus.IN_EXECUTION,
    )
    # An acknowledgement is no longer allowed in execution, but its redelivery is no error.
    ack_again = await send(handle, ack, update_id=new_event_id())
    assert (ack_again.duplicate, ack_again.status) == (True, RequestStatus.IN_EXECUTION)
    after = await snapshot(handle, worker.published)
    assert after.view == before.view
    assert after.events_published == before.events_published
    # The history records the two updates and their receipts, and nothing else.
    assert after.history == before.history + UPDATE_EVENTS * 2

    # The next new answer is the next thing published: the duplicates queued nothing.
    final = execution_report(req, [result(SHARES, "identify")], final=True)
    await send(handle, final)
    events = await wait_for_events(worker.published, req.reference, before.events_published + 1)
    assert [(e.type, e.caused_by) for e in events[before.events_published :]] == [
        (RequestEventType.ANSWER_ACCEPTED, final.event_id)
    ]
    view = await handle.query(RequestWorkflow.view)
    assert view.answers_seen == 3
    assert [t.event_id for t in view.timeline] == [
        None,  # transmission
        ack.event_id,
        report.event_id,
        final.event_id,
    ]


async def drive_across_runs(
    client: Client, task_queue: str, recorder: PublishRecorder, **input_fields: Any
) -> None:
    """Acknowledge, freeze the account, then report on the shares until the request has
    continued as new; then check that the new run kept everything and dedupes old answers."""
    req = court_request()
    started = await start_request(client, task_queue, req, **input_fields)
    first_run = client.get_workflow_handle_for(
        RequestWorkflow.run, req.workflow_id, run_id=started.result_run_id
    )
    await wait_for_events(recorder, req.reference, 1)
    handle = client.get_workflow_handle_for(RequestWorkflow.run, req.workflow_id)  # latest run
    ack = acknowledgement(req)
    await send(handle, ack)
    await settle(first_run)
    freeze = execution_report(req, [result(ACCOUNT, "identify", "freeze")])
    reports = [freeze]
    await send(handle, freeze)
    await settle(first_run)  # the run has published and, if it was time, continued as new
    while (await first_run.describe()).status is WorkflowExecutionStatus.RUNNING:
        assert len(reports) < 20, "the request never continued as new"
        reports.append(execution_report(req, [result(SHARES, "identify")]))
        await send(handle, reports[-1])
        await settle(first_run)
    assert (await first_run.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert (await handle.describe()).run_id != started.result_run_id

    # Answers from before are duplicates in the new run, whatever their type.
    again = await send(handle, freeze, update_id=new_event_id())
    assert (again.duplicate, again.status) == (True, RequestStatus.IN_EXECUTION)
    assert (await send(handle, ack, update_id=new_event_id())).duplicate is True

    view = await handle.query(RequestWorkflow.view)
    assert view.answers_seen == 1 + len(reports)
    assert [t.event_id for t in view.timeline] == [None, ack.event_id] + [
        r.event_id for r in reports
    ]
    assert view.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    assert [h.event_id for h in view.ledger.entries[SHARES].history] == [
        r.event_id for r in reports[1:]
    ]
    assert await visibility(handle) == ("in_execution", 412500.0)  # the Court's estimate

    # The new run carries on: it rejects what the carried ledger contradicts, takes new
    # answers, and never announces the request a second time nor repeats an event.
    with pytest.raises(WorkflowUpdateFailedError) as rejected:
        await send(handle, no_assets(req))
    assert "contradicts assets already frozen" in str(rejected.value.cause)
    final = execution_report(
        req,
        [
            result(SHARES, "freeze"),
            result(APARTMENT, "freeze"),
            result(VESSEL, "identify", "freeze", asset=vessel_asset()),  # newly identified
        ],
        final=True,
    )
    assert (await send(handle, final)).status is RequestStatus.EXECUTED
    await settle(handle)
    events = recorder.events(req.reference)
    # transmitted, one accepted per answer, account frozen, then the final report's four
    assert len(events) == 1 + 1 + len(reports) + 1 + 4
    assert [e.type for e in events].count(RequestEventType.TRANSMITTED) == 1
    assert len({e.id for e in events}) == len(events)
    assert [e.caused_by for e in events[-4:]] == [final.event_id] * 4


async def test_continue_as_new_after_answers_per_run_keeps_ledger_and_seen_ids(worker) -> None:
    """RS 99 reports keep coming for years (Kenya: 2012-2016), so the workflow continues as
    new; the next run must keep the per-asset ledger, the timeline and the seen event ids, so
    a report redelivered from before is still a duplicate (here: after 3 answers per run)."""
    await drive_across_runs(worker.client, worker.task_queue, worker.published, answers_per_run=3)


SUGGEST_CONTINUE_AS_NEW_AFTER = 40
"""History length at which the dev server below suggests continue-as-new (default: 4 Ki)."""


@pytest.fixture(scope="module")
async def short_history_env() -> AsyncIterator[WorkflowEnvironment]:
    """A local dev server (the time-skipping one never suggests continue-as-new) that suggests
    it after a few dozen history events."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=sa.ALL,
        dev_server_existing_path=shutil.which("temporal"),
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_AFTER}",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_continue_as_new_when_the_server_suggests_it(
    short_history_env: WorkflowEnvironment,
) -> None:
    """The production trigger: the server suggests continue-as-new as the history grows (no
    answers_per_run); the same guarantees hold across the runs (RS 99 reports deduplicated)."""
    async with request_worker(short_history_env, "request-tests") as (task_queue, recorder):
        await drive_across_runs(short_history_env.client, task_queue, recorder)
