"""A backlog of answers to one request applied in one update (``take_answers``): each answer
takes effect exactly as it would alone — in order, deduplicated by event id, refused by its
own rule with the reason — and the round's events are published by one activity."""

from __future__ import annotations

import logging

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from schemas.answers import AnswerBatch
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    court_request,
    execution_report,
    new_event_id,
    no_assets,
    postponement,
    published_count,
    published_since,
    send,
    settle,
    snapshot,
    visibility,
)
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows.request import RequestWorkflow


async def take(handle, *answers):
    return await handle.execute_update(
        RequestWorkflow.take_answers, AnswerBatch(answers=list(answers)), id=new_event_id()
    )


async def test_a_batch_applies_its_answers_in_order_as_one_by_one(worker) -> None:
    """Acknowledgement then an RS 99 report freezing the account, in one update: the same
    ledger, status and events as two updates, published in one activity round."""
    req = court_request()
    handle = await worker.start(req)
    ack, report = acknowledgement(req), execution_report(req)
    before = await published_count(handle, worker.published)
    rounds_before = len(worker.published.rounds)

    receipt = await take(handle, ack, report)

    assert [r.event_id for r in receipt.receipts] == [ack.event_id, report.event_id]
    assert [(r.duplicate, r.rejected) for r in receipt.receipts] == [(False, None)] * 2
    view = await handle.query(RequestWorkflow.view)
    assert view.status is RequestStatus.IN_EXECUTION
    assert view.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    assert view.answers_seen == 2
    progress = await handle.query(RequestWorkflow.progress)
    assert (progress.status, progress.answers_seen) == (view.status, 2)
    assert [t.event_id for t in view.timeline[-2:]] == [ack.event_id, report.event_id]
    events = await published_since(handle, worker.published, before)
    accepted = [e.answer_type for e in events if e.type is RequestEventType.ANSWER_ACCEPTED]
    assert accepted == ["acknowledgement", "execution_report"]
    assert len(worker.published.rounds) == rounds_before + 1  # one activity for the round
    # The request's text rides in its transmission's round only (RS 96(2)): an answer's round,
    # written to history at every answer, names its confidentiality alone.
    mine = [r for r in worker.published.rounds if r.events and r.events[0].subject == req.reference]
    assert mine[0].events[0].type is RequestEventType.TRANSMITTED and mine[0].request == req
    assert (mine[-1].request, mine[-1].confidentiality) == (None, req.confidentiality)
    frozen = float(view.totals["EUR"].frozen)
    assert await visibility(handle) == (RequestStatus.IN_EXECUTION.value, frozen)


async def test_a_refused_or_repeated_answer_in_a_batch_leaves_the_others_applied(worker) -> None:
    """A postponement before acknowledgement is refused with its rule's reason (RS 94: the
    State postpones execution it has received), an answer seen before is a duplicate, and
    the acknowledgement between them is applied."""
    req = court_request()
    handle = await worker.start(req)
    ack = acknowledgement(req)
    await send(handle, ack)

    receipt = await take(handle, ack, no_assets(req, event_id=new_event_id()))
    first, second = receipt.receipts
    assert first.duplicate is True and first.rejected is None
    assert second.rejected is None and second.duplicate is False
    assert (await handle.query(RequestWorkflow.view)).status is RequestStatus.NO_ASSETS

    req2 = court_request()
    handle2 = await worker.start(req2)
    early = postponement(req2, "RS 95")
    ack2 = acknowledgement(req2)
    receipt2 = await take(handle2, early, ack2)
    refused, accepted = receipt2.receipts
    assert refused.rejected == (
        "postponement is not allowed while the request is transmitted "
        "(allowed when: acknowledged, in_execution)"
    ), refused
    assert accepted.rejected is None and accepted.duplicate is False
    view = await handle2.query(RequestWorkflow.view)
    assert view.answers_seen == 1 and view.status is RequestStatus.ACKNOWLEDGED
    # Refused, so not seen: the same postponement is taken when it comes again in order.
    again = await send(handle2, early)
    assert again.duplicate is False


async def test_a_misaddressed_batch_is_refused_whole_and_writes_nothing(worker) -> None:
    """One answer signed for another State (or another request) in the batch: the validator
    refuses the update before anything is written (the bridge then delivers one by one)."""
    req = court_request()
    handle = await worker.start(req)
    before = await snapshot(handle, worker.published)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await take(handle, acknowledgement(req), acknowledgement(req, state="BEL"))
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "AnswerRejected"
    assert "BEL" in cause.message
    assert await snapshot(handle, worker.published) == before


async def test_an_answer_that_changes_nothing_shown_writes_no_visibility(worker) -> None:
    """A second, identical RS 99 report: the ledger records it, but status, frozen value and
    the report memo are unchanged, so no search-attribute or memo write is made (each would
    be a history event and a visibility-store write). Its events are still published."""
    req = court_request()
    handle = await worker.start(req)
    await take(handle, acknowledgement(req), execution_report(req))
    before, rounds = await settle(handle), len(worker.published.rounds)

    await take(handle, execution_report(req), execution_report(req))  # two new event ids

    added = set((await settle(handle))[len(before) :])
    assert len(worker.published.rounds) == rounds + 1  # its events published, in one round
    assert EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES not in added
    assert EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED not in added
    assert (await handle.query(RequestWorkflow.view)).answers_seen == 4


async def test_an_answer_that_moves_no_deadline_keeps_the_clock_timer(worker) -> None:
    """Under the default deadline policy, an acknowledgement moves the next deadline (the
    timer is replaced), a valuation does not: its task neither cancels nor re-arms the
    timer (one timer waits for the next deadline across rounds)."""
    req = court_request()
    handle = await worker.start(req, policy=resolve(load_policy(), load_directory(), req))
    await take(handle, acknowledgement(req), execution_report(req))
    before = await settle(handle)

    await send(handle, asset_management(req, ACCOUNT, "400000.00"))

    added = set((await settle(handle))[len(before) :])
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED in added
    assert EventType.EVENT_TYPE_TIMER_CANCELED not in added
    assert EventType.EVENT_TYPE_TIMER_STARTED not in added


async def test_a_batch_logs_one_line_with_its_answers_ids(
    worker, caplog: pytest.LogCaptureFixture
) -> None:
    """A backlog's batch is one line (ids and counts), an answer alone its own line: the
    worker's log is not what bounds a drain. Ids only, never the answers' bodies."""
    caplog.set_level(logging.INFO, logger="temporalio.workflow")
    req = court_request()
    handle = await worker.start(req)
    ack, report = acknowledgement(req), execution_report(req)

    # Refused (a postponement before the State acknowledged), taken, repeated; then alone.
    await take(handle, postponement(req, "RS 95"), ack, ack)
    await send(handle, report)

    lines = [r for r in caplog.records if r.name == "temporalio.workflow"]
    said = [(r.getMessage().split(" (")[0], r.__dict__) for r in lines]  # the SDK's ids after
    batch = [fields for message, fields in said if message == "answer batch taken"]
    alone = [fields["event_id"] for message, fields in said if message == "answer accepted"]
    assert len(batch) == 1
    fields = batch[0]
    assert fields["event_ids"] == [ack.event_id]
    assert fields["actions"] == {"acknowledgement": 1}
    assert (fields["duplicates"], fields["refused"]) == (1, 1)
    assert fields["request_reference"] == req.reference and fields["state"] == "NLD"
    assert alone == [report.event_id]
    assert ACCOUNT not in str(fields) and "RS 95" not in str(fields)
