"""A State's acknowledgement of a request and its reports on its execution (RS 99(1): execution
report, partial then complete; no-assets report), driven through the real workflow on a
time-skipping test server (docs/legal-process.md, 'What a State may answer'): the request's
status and the ledger they leave, that acknowledgement comes once, that a report implies
receipt, and their rejection where the request cannot take them (nothing written, nothing
published).
"""

from __future__ import annotations

from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    ACCOUNT_EUR,
    acknowledged,
    acknowledgement,
    assert_rejected,
    court_request,
    example,
    execution_report,
    freeze_account,
    in_execution,
    no_assets,
    published_count,
    published_since,
    result,
    send,
    view,
)

S = RequestStatus


# --- Acknowledgement ---------------------------------------------------------------------


async def test_acknowledgement_starts_execution_and_comes_once(worker) -> None:
    """Acknowledgement of receipt (practice) moves the request to acknowledged; a second one
    is rejected (the clock starts once)."""
    req = court_request()
    handle = await worker.start(req)
    ack = acknowledgement(req)
    assert (await send(handle, ack)).status is S.ACKNOWLEDGED
    v = await view(handle)
    assert v.status is S.ACKNOWLEDGED
    assert v.timeline[-1].event_id == ack.event_id
    assert ack.authority in v.timeline[-1].what

    await assert_rejected(
        handle,
        worker.published,
        acknowledgement(req),
        "acknowledgement is not allowed while the request is acknowledged",
    )


# --- Execution report and no assets: RS 99 -------------------------------------------------


async def test_execution_report_partial_then_complete(worker) -> None:
    """RS 99: per-measure progress — identified and traced in a partial report, frozen in the
    final one; the request goes in_execution, then executed; one frozen event per asset."""
    req = court_request(known_assets=[example("court-request")["known_assets"][0]])
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    count = await published_count(handle, worker.published)

    partial = execution_report(
        req, [result(ACCOUNT, "identify", "trace", value=("401000.00", "EUR"))]
    )
    assert (await send(handle, partial)).status is S.IN_EXECUTION
    entry = (await view(handle)).ledger.entries[ACCOUNT]
    assert (entry.status, entry.measures_executed) == (AssetStatus.TRACED, ["identify", "trace"])

    final = execution_report(
        req, [result(ACCOUNT, "freeze", value=("398214.37", "EUR"))], final=True
    )
    assert (await send(handle, final)).status is S.EXECUTED
    v = await view(handle)
    entry = v.ledger.entries[ACCOUNT]
    assert entry.status is AssetStatus.FROZEN
    assert entry.measures_executed == ["identify", "trace", "freeze"]
    assert [(h.event_id, h.status) for h in entry.history] == [
        (partial.event_id, AssetStatus.TRACED),
        (final.event_id, AssetStatus.FROZEN),
    ]
    assert v.totals["EUR"].frozen == ACCOUNT_EUR

    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.caused_by) for e in events] == [
        (RequestEventType.ANSWER_ACCEPTED, partial.event_id),
        (RequestEventType.ANSWER_ACCEPTED, final.event_id),
        (RequestEventType.ASSET_FROZEN, final.event_id),
    ]

    await assert_rejected(
        handle,
        worker.published,
        execution_report(req, [result(ACCOUNT, "freeze")]),
        "the request is executed: a supplementary execution report records newly found "
        "assets only (RS 93(1)(k), 99), and a-account-1 is already in the ledger",
    )


async def test_an_execution_report_without_an_acknowledgement_has_acknowledged(worker) -> None:
    """Receipt is practice, and an RS 99 execution report implies it: a State that reports
    without first acknowledging is taken as having acknowledged — the report is accepted
    from *transmitted*, the request is in execution, the cooperation report counts receipt at
    the report, and a separate acknowledgement afterwards has nothing left to acknowledge."""
    req = court_request()
    handle = await worker.start(req)
    report = freeze_account(req)
    assert (await send(handle, report)).status is S.IN_EXECUTION
    v = await view(handle)
    assert v.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    assert v.timeline[-1].event_id == report.event_id
    await assert_rejected(
        handle,
        worker.published,
        acknowledgement(req),
        "acknowledgement is not allowed while the request is in_execution",
    )


async def test_no_assets_without_an_acknowledgement_has_acknowledged(worker) -> None:
    """RS 99 'no assets found' implies receipt as an execution report does."""
    req = court_request()
    handle = await worker.start(req)
    assert (await send(handle, no_assets(req))).status is S.NO_ASSETS


async def test_no_assets_ends_execution_and_is_refused_once_assets_are_frozen(worker) -> None:
    """RS 99: 'no assets found' ends execution for the State; after a report froze assets it
    contradicts the ledger and is rejected."""
    req, handle = await acknowledged(worker)
    answer = no_assets(req)
    assert (await send(handle, answer)).status is S.NO_ASSETS
    assert (await view(handle)).timeline[-1].what == "no assets found"

    req, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        no_assets(req),
        "no-assets report contradicts assets already frozen or seized",
    )
