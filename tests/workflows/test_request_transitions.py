"""The request's life, driven through the real workflow on a time-skipping test server: the
status each answer leads to, the per-asset ledger, search attributes and lifecycle events."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, CurrencyTotals, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    SHARES,
    VESSEL,
    PublishRecorder,
    acknowledgement,
    close_action,
    court_request,
    execution_report,
    no_assets,
    result,
    send,
    settle,
    start_request,
    vessel_asset,
    visibility,
    wait_for_events,
)
from workflows.request import RequestWorkflow

EUR_FROZEN_AFTER_PARTIAL = Decimal("398214.37") + Decimal("860000.00")  # account + apartment


async def test_full_execution_then_close_refused_while_assets_frozen(worker) -> None:
    """RS 93(1)(k) measures reported under RS 99: acknowledgement, a partial then a final
    execution report freezing every asset (executed); the Registry may not close the request
    while assets stay frozen (RS 93(1)(k): held for eventual forfeiture)."""
    req = court_request()
    handle = await worker.start(req)
    assert await visibility(handle) == ("transmitted", 0.0)

    ack = acknowledgement(req)
    receipt = await send(handle, ack)
    assert (receipt.event_id, receipt.duplicate, receipt.status) == (
        ack.event_id,
        False,
        RequestStatus.ACKNOWLEDGED,
    )
    assert await visibility(handle) == ("acknowledged", 0.0)

    partial = execution_report(req)  # account + apartment frozen, vessel identified and traced
    receipt = await send(handle, partial)
    assert receipt.status is RequestStatus.IN_EXECUTION
    assert await visibility(handle) == ("in_execution", float(EUR_FROZEN_AFTER_PARTIAL))

    final = execution_report(
        req,
        [
            result(VESSEL, "freeze", value=("1100000.00", "EUR")),
            result(SHARES, "identify", "freeze", value=("300000.00", "EUR")),
        ],
        final=True,
    )
    receipt = await send(handle, final)
    assert receipt.status is RequestStatus.EXECUTED
    all_frozen = EUR_FROZEN_AFTER_PARTIAL + Decimal("1400000.00")
    assert await visibility(handle) == ("executed", float(all_frozen))

    view = await handle.query(RequestWorkflow.view)
    assert {a: e.status for a, e in view.ledger.entries.items()} == {
        ACCOUNT: AssetStatus.FROZEN,
        APARTMENT: AssetStatus.FROZEN,
        SHARES: AssetStatus.FROZEN,
        VESSEL: AssetStatus.FROZEN,
    }
    assert view.totals == {
        "EUR": CurrencyTotals(identified=all_frozen, frozen=all_frozen, seized=Decimal(0))
    }

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await send(handle, close_action())
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "AnswerRejected"
    assert "still frozen or seized" in cause.message
    for asset_id in (ACCOUNT, APARTMENT, SHARES, VESSEL):
        assert asset_id in cause.message
    assert (await handle.query(RequestWorkflow.view)).status is RequestStatus.EXECUTED
    assert await visibility(handle) == ("executed", float(all_frozen))

    # Lifecycle events: answer first, then one event per newly frozen asset, in order.
    await settle(handle)
    events = worker.published.events(req.reference)
    assert [(e.type, e.caused_by, e.asset.asset_id if e.asset else None) for e in events] == [
        (RequestEventType.TRANSMITTED, None, None),
        (RequestEventType.ANSWER_ACCEPTED, ack.event_id, None),
        (RequestEventType.ANSWER_ACCEPTED, partial.event_id, None),
        (RequestEventType.ASSET_FROZEN, partial.event_id, ACCOUNT),
        (RequestEventType.ASSET_FROZEN, partial.event_id, APARTMENT),
        (RequestEventType.ANSWER_ACCEPTED, final.event_id, None),
        (RequestEventType.ASSET_FROZEN, final.event_id, VESSEL),
        (RequestEventType.ASSET_FROZEN, final.event_id, SHARES),
    ]
    assert len({e.id for e in events}) == len(events)
    assert [e.status for e in events] == [
        RequestStatus.TRANSMITTED,
        RequestStatus.ACKNOWLEDGED,
        *[RequestStatus.IN_EXECUTION] * 3,
        *[RequestStatus.EXECUTED] * 3,
    ]
    assert [e.answer_type for e in events if e.type is RequestEventType.ANSWER_ACCEPTED] == [
        "acknowledgement",
        "execution_report",
        "execution_report",
    ]
    assert all(c.topic == "tracefreeze.request-events" for c in worker.published.calls)
    assert all(e.subject == req.reference and e.requested_state == "NLD" for e in events)


async def test_no_assets_then_close_completes_the_request(worker) -> None:
    """RS 99: the State reports no assets, which ends execution for that State; the Registry
    then closes the request and the workflow completes with a closed view."""
    req = court_request()
    handle = await worker.start(req)

    ack = acknowledgement(req)
    assert (await send(handle, ack)).status is RequestStatus.ACKNOWLEDGED
    none_found = no_assets(req)
    assert (await send(handle, none_found)).status is RequestStatus.NO_ASSETS
    assert await visibility(handle) == ("no_assets", 0.0)

    close = close_action()
    receipt = await send(handle, close)
    assert (receipt.event_id, receipt.duplicate, receipt.status) == (
        close.event_id,
        False,
        RequestStatus.CLOSED,
    )

    view = await handle.result()
    assert view.status is RequestStatus.CLOSED
    assert [(t.event_id, t.status) for t in view.timeline] == [
        (None, RequestStatus.TRANSMITTED),
        (ack.event_id, RequestStatus.ACKNOWLEDGED),
        (none_found.event_id, RequestStatus.NO_ASSETS),
        (close.event_id, RequestStatus.CLOSED),
    ]
    assert close.reason in view.timeline[-1].what
    assert view.answers_seen == 3  # the acknowledgement, the report and the closure
    assert all(e.status is AssetStatus.KNOWN for e in view.ledger.entries.values())
    assert view.totals == {}
    assert await visibility(handle) == ("closed", 0.0)

    events = worker.published.events(req.reference)
    assert [(e.type, e.caused_by, e.answer_type) for e in events] == [
        (RequestEventType.TRANSMITTED, None, None),
        (RequestEventType.ANSWER_ACCEPTED, ack.event_id, "acknowledgement"),
        (RequestEventType.ANSWER_ACCEPTED, none_found.event_id, "no_assets"),
        (RequestEventType.CLOSED, close.event_id, None),
    ]
    assert len({e.id for e in events}) == 4
    assert events[-1].status is RequestStatus.CLOSED


async def test_final_report_with_an_asset_only_identified_is_partially_executed(worker) -> None:
    """RS 99 final report where the shares were identified but not frozen: the request asked
    for freezing (RS 93(1)(k)), so execution is only partial."""
    req = court_request()
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))

    final = execution_report(
        req,
        [
            result(ACCOUNT, "identify", "freeze", value=("398214.37", "EUR")),
            result(APARTMENT, "identify", "freeze"),
            result(SHARES, "identify"),
        ],
        final=True,
    )
    receipt = await send(handle, final)
    assert receipt.status is RequestStatus.PARTIALLY_EXECUTED

    view = await handle.query(RequestWorkflow.view)
    assert view.status is RequestStatus.PARTIALLY_EXECUTED
    assert view.ledger.entries[SHARES].status is AssetStatus.IDENTIFIED
    assert view.timeline[-1].what == (f"final execution report on {ACCOUNT}, {APARTMENT}, {SHARES}")
    # The apartment carried no reported value: the Court's estimate (EUR 875,000) is used.
    assert view.ledger.entries[APARTMENT].value.amount == Decimal("875000.00")
    frozen_eur = Decimal("398214.37") + Decimal("875000.00")
    assert await visibility(handle) == ("partially_executed", float(frozen_eur))

    events = await wait_for_events(worker.published, req.reference, 4)
    assert [e.type for e in events] == [
        RequestEventType.TRANSMITTED,
        RequestEventType.ANSWER_ACCEPTED,
        RequestEventType.ANSWER_ACCEPTED,
        RequestEventType.ASSET_FROZEN,
        RequestEventType.ASSET_FROZEN,
    ][: len(events)]
    events = await wait_for_events(worker.published, req.reference, 5)
    assert [e.asset.asset_id for e in events[3:]] == [ACCOUNT, APARTMENT]
    assert events[2].status is RequestStatus.PARTIALLY_EXECUTED


async def test_ledger_keeps_per_asset_history_values_and_per_currency_totals(worker) -> None:
    """RS 99 execution reports give inventory, location, registry references, value and
    currency per asset; assets the State identified itself join the ledger with their
    description (RS 93(1)(k): identify and trace); totals stay per currency, never converted."""
    req = court_request()
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))

    swiss_account = {
        "asset_id": "a-account-ch",
        "kind": "bank_account",
        "description": "Deposit account of the suspect's company at a Zurich bank",
        "location_country": "CHE",
        "registry_reference": "CH00TEST0000000001",
        "owner_party_ids": ["c-northwind"],
    }
    first = execution_report(
        req,
        [
            result(
                ACCOUNT,
                "identify",
                value=("401000.00", "EUR"),
                executing_authority="Public Prosecution Service, Amsterdam",
            ),
            result(VESSEL, "identify", "trace", value=("1150000.00", "EUR"), asset=vessel_asset()),
            result(
                "a-account-ch",
                "identify",
                "freeze",
                value=("250000.00", "CHF"),
                location="Zurich",
                asset=swiss_account,
            ),
        ],
    )
    await send(handle, first)
    second = execution_report(
        req, [result(ACCOUNT, "freeze", value=("398214.37", "EUR"), location="Amsterdam")]
    )
    await send(handle, second)

    view = await handle.query(RequestWorkflow.view)
    account = view.ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FROZEN
    assert account.measures_executed == ["identify", "freeze"]
    assert (account.value.amount, account.value.currency) == (Decimal("398214.37"), "EUR")
    assert account.location == "Amsterdam"
    assert account.executing_authority == "Public Prosecution Service, Amsterdam"
    assert [(h.event_id, h.status, h.value.amount) for h in account.history] == [
        (first.event_id, AssetStatus.IDENTIFIED, Decimal("401000.00")),
        (second.event_id, AssetStatus.FROZEN, Decimal("398214.37")),
    ]

    vessel = view.ledger.entries[VESSEL]
    assert vessel.asset.kind == "vessel"
    assert vessel.asset.description == vessel_asset()["description"]
    assert vessel.status is AssetStatus.TRACED
    assert [h.event_id for h in vessel.history] == [first.event_id]

    swiss = view.ledger.entries["a-account-ch"]
    assert swiss.asset.description == swiss_account["description"]
    assert swiss.status is AssetStatus.FROZEN
    assert swiss.location == "Zurich"

    # Assets nobody has reported on yet stay "known" and count in no total.
    assert view.ledger.entries[APARTMENT].status is AssetStatus.KNOWN
    assert view.ledger.entries[APARTMENT].history == []
    assert view.ledger.entries[SHARES].status is AssetStatus.KNOWN

    assert view.totals == {
        "CHF": CurrencyTotals(
            identified=Decimal("250000.00"), frozen=Decimal("250000.00"), seized=Decimal(0)
        ),
        "EUR": CurrencyTotals(
            identified=Decimal("398214.37") + Decimal("1150000.00"),
            frozen=Decimal("398214.37"),
            seized=Decimal(0),
        ),
    }
    # FrozenValueEUR counts euros only: the francs are not converted.
    assert await visibility(handle) == ("in_execution", 398214.37)

    events = await wait_for_events(worker.published, req.reference, 6)
    frozen = [e for e in events if e.type is RequestEventType.ASSET_FROZEN]
    assert [(e.asset.asset_id, e.caused_by) for e in frozen] == [
        ("a-account-ch", first.event_id),
        (ACCOUNT, second.event_id),
    ]
    assert (frozen[0].asset.value.amount, frozen[0].asset.value.currency) == (
        Decimal("250000.00"),
        "CHF",
    )
    assert frozen[1].totals == view.totals


async def test_transmitted_event_comes_first_when_an_answer_arrives_with_the_start(env) -> None:
    """The request is transmitted (Rule 176) before any State can answer it: its transmitted
    event must be published first and with status transmitted, even when the State's
    acknowledgement reaches the workflow in the same workflow task as the start (a fast State,
    or a worker that was down when both arrived)."""
    recorder = PublishRecorder()
    task_queue = f"request-tests-{uuid.uuid4()}"
    req = court_request()
    handle = await start_request(env.client, task_queue, req)
    ack = acknowledgement(req)
    pending = asyncio.create_task(send(handle, ack))
    await asyncio.sleep(0.3)  # no worker yet: the start and the update wait together
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[RequestWorkflow],
        activities=recorder.activities,
    ):
        assert (await pending).status is RequestStatus.ACKNOWLEDGED
        events = await wait_for_events(recorder, req.reference, 2)
        view = await handle.query(RequestWorkflow.view)
    # The scenario is the one meant: the answer was taken in the very first workflow task,
    # before the transmitted event could be published (the events a workflow task's commands
    # record follow its completion: the update was accepted by the first task).
    types = [e.event_type async for e in handle.fetch_history_events()]
    accepted = types.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    assert types[:accepted].count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
    assert [(e.type, e.status, e.caused_by) for e in events] == [
        (RequestEventType.TRANSMITTED, RequestStatus.TRANSMITTED, None),
        (RequestEventType.ANSWER_ACCEPTED, RequestStatus.ACKNOWLEDGED, ack.event_id),
    ]
    assert [(t.event_id, t.status) for t in view.timeline] == [
        (None, RequestStatus.TRANSMITTED),
        (ack.event_id, RequestStatus.ACKNOWLEDGED),
    ]
