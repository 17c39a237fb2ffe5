"""Redelivered answers change nothing: the same update id returns the stored outcome, and the
same event id under another update id (as after continue-as-new) returns duplicate=True."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError

from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from schemas.views import RequestCarry, RequestInput
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    SHARES,
    UPDATE_EVENTS,
    VESSEL,
    acknowledgement,
    court_request,
    execution_report,
    new_event_id,
    no_assets,
    result,
    send,
    snapshot,
    wait_for_events,
)
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
    assert [t.event_id for t in view.timeline] == [ack.event_id, report.event_id, final.event_id]


async def test_carried_state_is_honoured_after_continue_as_new(worker) -> None:
    """What continue-as-new hands over (RequestCarry: status, ledger, timeline, seen event
    ids, unpublished events) is what the next run works from: the RS 99 report seen in the
    previous run is a duplicate, the ledger keeps its frozen asset, and the pending event is
    published before anything new while no second "transmitted" event is made.

    This drives the carry-in half only: the workflow continues as new when the server
    suggests it, which a test cannot force (see the report to the lead)."""
    # A previous run: acknowledged, then a partial report froze the account and apartment.
    req = court_request()
    previous = await worker.start(req)
    ack = acknowledgement(req)
    await send(previous, ack)
    report = execution_report(req)
    await send(previous, report)
    events = await wait_for_events(worker.published, req.reference, 5)
    old = await previous.query(RequestWorkflow.view)
    await previous.terminate("test: stand-in for continue-as-new")

    carried = RequestCarry(
        status=old.status,
        ledger=old.ledger,
        timeline=old.timeline,
        seen_event_ids=sorted({ack.event_id, report.event_id}),
        outbox=[events[-1]],  # as if the last publish had not happened yet
    )
    handle = await worker.client.start_workflow(
        RequestWorkflow.run,
        RequestInput(request=req, carried=carried),
        id=f"{req.workflow_id}/next-run",
        task_queue=worker.task_queue,
    )
    republished = await wait_for_events(worker.published, req.reference, 6)
    assert republished[5] == events[-1]

    again = await send(handle, report, update_id=new_event_id())
    assert (again.duplicate, again.status) == (True, RequestStatus.IN_EXECUTION)
    view = await handle.query(RequestWorkflow.view)
    assert view.ledger == old.ledger
    assert view.timeline == old.timeline
    assert view.answers_seen == 2
    assert view.ledger.entries[APARTMENT].status is AssetStatus.FROZEN

    # A no-assets report still contradicts the carried frozen assets, and new answers apply.
    with pytest.raises(WorkflowUpdateFailedError) as rejected:
        await send(handle, no_assets(req))
    assert "contradicts assets already frozen" in str(rejected.value.cause)
    final = execution_report(
        req,
        [result(SHARES, "identify", "freeze"), result(VESSEL, "freeze")],
        final=True,
    )
    assert (await send(handle, final)).status is RequestStatus.EXECUTED
    after = await wait_for_events(worker.published, req.reference, 9)
    assert [e.type for e in after[6:]] == [
        RequestEventType.ANSWER_ACCEPTED,
        RequestEventType.ASSET_FROZEN,
        RequestEventType.ASSET_FROZEN,
    ]
    assert RequestEventType.TRANSMITTED not in [e.type for e in after[5:]]
