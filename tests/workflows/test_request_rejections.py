"""Answers the request cannot take are rejected by the update validators with a reason, and
nothing is written: same view, same history length, no event published."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from schemas.ledger import RequestStatus
from schemas.views import RequestView
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    PublishRecorder,
    acknowledgement,
    close_action,
    court_request,
    execution_report,
    no_assets,
    result,
    send,
    snapshot,
)
from workflows.request import RequestWorkflow


async def assert_rejected(
    handle: WorkflowHandle[RequestWorkflow, RequestView],
    recorder: PublishRecorder,
    answer: Any,
    fragment: str,
) -> None:
    before = await snapshot(handle, recorder)
    with pytest.raises(WorkflowUpdateFailedError) as rejected:
        await send(handle, answer)
    cause = rejected.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == "AnswerRejected"
    assert fragment in cause.message, cause.message
    after = await snapshot(handle, recorder)
    assert after == before
    assert after.view.answers_seen == before.view.answers_seen
    assert len(after.view.timeline) == len(before.view.timeline)


async def acknowledged(worker) -> tuple[Any, WorkflowHandle[RequestWorkflow, RequestView]]:
    req = court_request()
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    return req, handle


async def test_answer_for_another_request_is_rejected(worker) -> None:
    """RS 96 / RS 87(3): an answer belongs to the request it names; one naming another
    reference must not touch this request."""
    req = court_request()
    handle = await worker.start(req)
    other = court_request().reference
    await assert_rejected(
        handle,
        worker.published,
        acknowledgement(req, request_reference=other),
        f"answer is for request {other}, not {req.reference}",
    )
    assert (await handle.query(RequestWorkflow.view)).status is RequestStatus.TRANSMITTED


async def test_answer_from_another_state_is_rejected(worker) -> None:
    """RS 87(1)(a), 93(1)(k): a request is addressed to one State; only that State answers."""
    req, handle = await acknowledged(worker)
    await assert_rejected(
        handle,
        worker.published,
        execution_report(req, state="BEL"),
        f"State BEL answered request {req.reference}, which is addressed to NLD",
    )


async def test_second_acknowledgement_with_a_new_event_id_is_rejected(worker) -> None:
    """Acknowledgement of receipt (practice) happens once; a new event id is a new answer, not
    a redelivery, and the request is no longer awaiting one."""
    req, handle = await acknowledged(worker)
    await assert_rejected(
        handle,
        worker.published,
        acknowledgement(req),
        "acknowledgement is not allowed while the request is acknowledged",
    )


async def test_unknown_asset_without_description_rejects_the_whole_report(worker) -> None:
    """RS 99 / RS 96(2): an asset the State identified must come with its description; the
    valid results of the same report are not applied either (all or nothing)."""
    req, handle = await acknowledged(worker)
    report = execution_report(
        req,
        [result(ACCOUNT, "identify", "freeze"), result("a-unknown-9", "identify")],
    )
    await assert_rejected(handle, worker.published, report, "unknown asset 'a-unknown-9'")
    view = await handle.query(RequestWorkflow.view)
    assert view.ledger.entries[ACCOUNT].status == "known"
    assert "a-unknown-9" not in view.ledger.entries


async def test_asset_reported_with_a_different_kind_is_rejected(worker) -> None:
    """RS 99: a report on a known asset must describe the same asset (the account is no
    vehicle); FollowTheMoney kinds must not drift."""
    req, handle = await acknowledged(worker)
    vehicle = {"asset_id": ACCOUNT, "kind": "vehicle", "description": "A car"}
    await assert_rejected(
        handle,
        worker.published,
        execution_report(req, [result(ACCOUNT, "identify", asset=vehicle)]),
        f"asset '{ACCOUNT}' is a bank_account in the ledger, not a vehicle",
    )


async def test_measure_not_requested_is_rejected(worker) -> None:
    """RS 93(1)(k) and 96(2): the State executes the measures the Court requested; seizure was
    not asked for (identify, trace, freeze only)."""
    req, handle = await acknowledged(worker)
    await assert_rejected(
        handle,
        worker.published,
        execution_report(req, [result(APARTMENT, "identify", "seize")]),
        f"asset '{APARTMENT}': measures ['seize'] were not requested by the Court",
    )


async def test_no_assets_after_assets_were_frozen_is_rejected(worker) -> None:
    """RS 99: "no assets found" cannot follow a report that froze assets under RS 93(1)(k)."""
    req, handle = await acknowledged(worker)
    await send(handle, execution_report(req))
    await assert_rejected(
        handle,
        worker.published,
        no_assets(req),
        "no-assets report contradicts assets already frozen or seized",
    )
    assert (await handle.query(RequestWorkflow.view)).status is RequestStatus.IN_EXECUTION


@pytest.mark.parametrize("reported", [False, True], ids=["acknowledged", "in_execution"])
async def test_close_before_execution_ended_is_rejected(worker, reported: bool) -> None:
    """The Registry closes a request only once execution under RS 99 has ended."""
    req, handle = await acknowledged(worker)
    status = "acknowledged"
    if reported:
        await send(handle, execution_report(req, [result(APARTMENT, "identify")]))
        status = "in_execution"
    await assert_rejected(
        handle,
        worker.published,
        close_action(),
        f"close is not allowed while the request is {status}",
    )


async def test_any_answer_after_close_fails_and_changes_nothing(worker) -> None:
    """RS 99 / Registry closure: once closed the workflow has completed; a late answer cannot
    reach it (the server refuses the update) and the closed result stands."""
    req, handle = await acknowledged(worker)
    await send(handle, no_assets(req))
    await send(handle, close_action())
    closed = await handle.result()
    published = len(worker.published.events(req.reference))

    for late in (
        execution_report(req),
        no_assets(req),
        acknowledgement(req),
        close_action(),
    ):
        with pytest.raises(RPCError) as refused:
            await send(handle, late)
        assert not isinstance(refused.value, WorkflowUpdateFailedError)

    assert await handle.result() == closed
    assert await handle.query(RequestWorkflow.view) == closed
    assert closed.status is RequestStatus.CLOSED
    assert len(worker.published.events(req.reference)) == published
