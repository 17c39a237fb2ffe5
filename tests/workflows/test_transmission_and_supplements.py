"""On the time-skipping server: what the request records of its transmission (an override of
the completeness check, RS 96(2), Rule 176(2); the request it supplements), a supplementary
execution report after execution (RS 93(1)(k), 96, 99), and receipt implied by a report
(RS 99)."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.completeness import CompletenessOverride, Finding, FindingKind
from schemas.court import Stage
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    VESSEL,
    assert_rejected,
    court_request,
    example,
    execution_report,
    freeze_account,
    published_count,
    published_since,
    release,
    result,
    send,
    vessel_asset,
)
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows.catalog import KINDS
from workflows.request import RequestWorkflow

OVERRIDE = CompletenessOverride(
    by="Deputy Registrar",
    reason="The assets are about to be moved; the Chamber completes the grounds tomorrow",
    at=datetime(2026, 2, 10, 9, 0, tzinfo=UTC),
    findings=(
        Finding(
            kind=FindingKind.MISSING,
            field="grounds",
            article="RS 96(2)(a), 96(2)(c)",
            what="the grounds and essential facts are no statement of substance",
        ),
    ),
)


async def test_an_override_of_the_completeness_check_is_recorded_with_the_request(
    worker,
) -> None:
    """RS 96(2), seed para 11; Rule 176(2) (the Registry transmits): who overrode, why and the
    findings overridden are in the timeline, the memo and the ``request.transmitted`` event."""
    req = court_request(tag="OVERRIDE")
    handle = await worker.start(req, completeness_override=OVERRIDE)
    view = await handle.query(RequestWorkflow.view)
    assert view.timeline[0].what == (
        "transmitted to the State; incomplete (1 findings: RS 96(2)(a), 96(2)(c)), "
        f"transmitted by decision of Deputy Registrar: {OVERRIDE.reason}"
    )
    (event,) = worker.published.events(req.reference)
    assert event.type is RequestEventType.TRANSMITTED
    assert event.completeness_override == OVERRIDE
    memo = await (await handle.describe()).memo()
    assert memo["report"]["completeness_override"]["by"] == "Deputy Registrar"
    assert memo["report"]["completeness_override"]["findings"][0]["field"] == "grounds"


async def test_a_complete_request_records_no_override_and_names_what_it_supplements(
    worker,
) -> None:
    first = court_request(tag="FIRST")
    second = court_request(tag="SECOND", supplements=first.reference)
    handle = await worker.start(second)
    view = await handle.query(RequestWorkflow.view)
    assert view.timeline[0].what == (
        f"transmitted to the State, supplementing request {first.reference}"
    )
    (event,) = worker.published.events(second.reference)
    assert (event.supplements, event.completeness_override) == (first.reference, None)
    memo = await (await handle.describe()).memo()
    assert memo["report"]["completeness_override"] is None


async def executed(worker):
    """A request for the account alone, reported frozen in a final report: executed."""
    req = court_request(known_assets=[example("court-request")["known_assets"][0]])
    handle = await worker.start(req)
    assert (await send(handle, freeze_account(req, final=True))).status is RequestStatus.EXECUTED
    return req, handle


def _vessel(*measures: str) -> dict:
    return result(
        VESSEL,
        *measures,
        value=("2100000.00", "EUR"),
        asset=vessel_asset(),
        registry_reference="IMO 9876543",
    )


async def test_a_supplementary_report_records_assets_found_after_execution(worker) -> None:
    """RS 93(1)(k), 96, 99: a new lead after execution is reported on the same request (EU
    2018/1805 art. 22 keeps a certificate executable later; the benchmark only): the vessel is
    frozen in the ledger and announced, the request stays executed."""
    req, handle = await executed(worker)
    count = await published_count(handle, worker.published)
    report = execution_report(req, [_vessel("identify", "freeze")], final=True)
    assert (await send(handle, report)).status is RequestStatus.EXECUTED
    view = await handle.query(RequestWorkflow.view)
    assert view.ledger.entries[VESSEL].status is AssetStatus.FROZEN
    assert view.timeline[-1].what == f"supplementary final execution report on {VESSEL}"
    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.caused_by) for e in events] == [
        (RequestEventType.ANSWER_ACCEPTED, report.event_id),
        (RequestEventType.ASSET_FROZEN, report.event_id),
    ]
    # The same answer again (under another update id) is the same answer: taken once.
    assert (await send(handle, report, update_id=f"again-{report.event_id}")).duplicate
    assert (await handle.query(RequestWorkflow.view)).timeline[-1].event_id == report.event_id


async def test_a_partial_supplementary_report_keeps_the_request_ended(worker) -> None:
    """RS 93(1)(k), 99: a partial report of a newly found asset records it and leaves the
    request executed (never back to in execution: a State's reports cannot keep the request,
    or its case, from closing); the final one on it keeps it ended too."""
    req, handle = await executed(worker)
    partial = execution_report(req, [_vessel("identify")])
    assert (await send(handle, partial)).status is RequestStatus.EXECUTED
    view = await handle.query(RequestWorkflow.view)
    assert view.status is RequestStatus.EXECUTED
    assert view.ledger.entries[VESSEL].status is AssetStatus.IDENTIFIED
    assert view.timeline[-1].what == f"supplementary partial execution report on {VESSEL}"
    final = execution_report(req, [_vessel("identify", "freeze")], final=True)
    assert (await send(handle, final)).status is RequestStatus.EXECUTED


async def test_no_supplementary_report_once_every_asset_is_released(worker) -> None:
    """RS 93(1)(k), 99: once every asset of the request is released on a Court decision (an
    acquittal), nothing is left to execute: a supplementary report is refused with its reason
    and the request stays executed."""
    req, handle = await executed(worker)
    await send(handle, release(ACCOUNT))
    view = await handle.query(RequestWorkflow.view)
    assert view.ledger.entries[ACCOUNT].status is AssetStatus.RELEASED
    await assert_rejected(
        handle,
        worker.published,
        execution_report(req, [_vessel("identify", "freeze")], final=True),
        "every asset of it is released: nothing is left to execute",
    )
    view = await handle.query(RequestWorkflow.view)
    assert view.status is RequestStatus.EXECUTED and VESSEL not in view.ledger.entries


async def test_a_supplementary_report_on_an_asset_already_reported_is_refused(worker) -> None:
    """RS 93(1)(k), 99: after execution, only newly found assets; the account's report stands."""
    req, handle = await executed(worker)
    await assert_rejected(
        handle,
        worker.published,
        execution_report(req, [_vessel("identify"), result(ACCOUNT, "identify", "freeze")]),
        "a supplementary execution report records newly found assets only (RS 93(1)(k), 99), "
        "and a-account-1 is already in the ledger",
    )


async def test_an_execution_report_meets_the_acknowledgement_stage(worker) -> None:
    """RS 99 (and RS 96: a request duly transmitted): an execution report without a separate
    acknowledgement shows receipt; taken from *transmitted*, it meets the acknowledgement
    stage, and the cooperation report counts receipt at the report."""
    kind = KINDS["execution_report"]
    assert RequestStatus.TRANSMITTED in kind.allowed
    assert Stage.ACKNOWLEDGEMENT in kind.meets
    req = court_request(tag="NOACK")
    policy = resolve(load_policy(), load_directory(), req)
    handle = await worker.start(req, policy=policy)
    await send(handle, freeze_account(req))
    view = await handle.query(RequestWorkflow.view)
    assert view.status is RequestStatus.IN_EXECUTION
    assert view.next_deadline is not None
    assert view.next_deadline > view.timeline[0].at + policy.deadlines.acknowledgement
    report = (await (await handle.describe()).memo())["report"]
    assert report["acknowledged_at"] is not None
    assert report["acknowledged_at"] == report["first_report_at"]


async def test_an_ex_parte_request_keeps_the_override_details_out_of_its_events(worker) -> None:
    """Rule 99(2): the event of an ex parte request says who overrode and which articles,
    never the reason or the findings' details; the request's own timeline keeps them."""
    req = court_request(tag="EXPARTE", confidentiality="ex_parte")
    handle = await worker.start(req, completeness_override=OVERRIDE)
    (event,) = worker.published.events(req.reference)
    shown = event.completeness_override
    assert shown is not None and shown.by == "Deputy Registrar"
    assert [(f.kind, f.article) for f in shown.findings] == [
        (FindingKind.MISSING, "RS 96(2)(a), 96(2)(c)")
    ]
    assert OVERRIDE.reason not in event.model_dump_json()
    assert "grounds" not in event.model_dump_json()
    view = await handle.query(RequestWorkflow.view)
    assert OVERRIDE.reason in view.timeline[0].what
