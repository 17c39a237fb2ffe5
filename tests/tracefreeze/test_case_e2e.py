"""End to end on the real stack: a two-State case, from the freeze to allocation and closure.

The Court opens one case against the Netherlands and Belgium through the typed client. Every
State answer travels over Kafka as JSON signed with the State's demo key, from a plain producer,
through the bridge to the request it answers; every Court action is a typed update through
``RequestClient.act``. The Netherlands freezes two assets, one is claimed by a third party;
Belgium postpones under RS 94 for a period the Court agrees, then finds nothing. The claim is
dismissed, both assets are forfeited, transferred to the Court (RS 109(3)) and allocated,
reparations first (Rule 221). The case closes only after both requests are closed.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError

from schemas import court as c
from schemas.answers import (
    Acknowledgement,
    AnswerBase,
    AssetManagementKind,
    AssetManagementUpdate,
    AssetResult,
    ExecutionReport,
    NoAssetsReport,
    Postponement,
    PostponementGround,
    ThirdPartyClaim,
)
from schemas.case import AddState, CaseInput, CaseOrder, CaseView, CloseCase
from schemas.common import Measure, Money
from schemas.events import RequestEvent, RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.signed import signed_record
from tests.tracefreeze.test_bridge_e2e import (  # the worker + bridge fixture and helpers
    Running,
    read_until,
    running,  # noqa: F401  (fixture)
)
from tests.workflows.support import UPDATE_OF
from tracefreeze.case_client import CaseClient
from tracefreeze.client import RequestClient
from tracefreeze.errors import TracefreezeError
from workflows.case import CaseWorkflow
from workflows.request_publishing import PARENT_REPORT_INTERVAL

pytestmark = pytest.mark.stack

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "case-order.json"
WAIT_S = 30.0
T = TypeVar("T")

FROZEN = {"a-account-1": Decimal("398214.37"), "a-apartment-1": Decimal("860000.00")}
REPARATIONS = {"a-account-1": Decimal("300000.00"), "a-apartment-1": Decimal("600000.00")}
COURT = "Pre-Trial Chamber II, e2e test"
ASSET_EVENTS = {
    RequestEventType.ASSET_CONTESTED,
    RequestEventType.ASSET_FORFEITURE_ORDERED,
    RequestEventType.ASSET_TRANSFERRED,
    RequestEventType.ASSET_ALLOCATED,
    RequestEventType.CLOSED,
}


def fresh_order() -> CaseOrder:
    """The example two-State order under references no other run used."""
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    tag = uuid.uuid4().hex[:10].upper()
    doc["order_reference"] = f"{doc['order_reference']}-{tag}"
    for request in doc["requests"]:
        request["reference"] = f"{request['reference']}-{tag}"
    return CaseOrder.model_validate(doc)


async def until(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], what: str) -> T:
    """Poll ``probe`` until ``ok``; an unknown workflow counts as not yet."""
    last: T | None = None
    try:
        async with asyncio.timeout(WAIT_S):
            while True:
                try:
                    last = await probe()
                except TracefreezeError:
                    last = None
                if last is not None and ok(last):
                    return last
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}") from None


async def answer(r: Running, message: AnswerBase) -> None:
    """A State's system sends one answer: signed JSON, keyed by the request reference."""
    value, headers = signed_record(message, r.settings.state_dir)
    await r.producer.send_and_wait(
        r.settings.topics.state_answers,
        value=value,
        key=message.request_reference.encode(),
        headers=headers,
    )


def common(request: CourtRequest) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "request_reference": request.reference,
        "state": request.requested_state,
        "sent_at": datetime.now(UTC),
    }


def decided() -> dict[str, object]:
    return {"event_id": str(uuid.uuid4()), "decided_by": COURT, "decided_at": datetime.now(UTC)}


def eur(amount: Decimal) -> Money:
    return Money(amount=amount, currency="EUR")


async def test_two_state_case_from_freeze_to_allocation_and_closure(
    running: Running,  # noqa: F811  (the fixture imported above)
) -> None:
    r, s = running, running.settings
    requests: RequestClient = r.client
    cases = CaseClient(requests.client, s)
    order = fresh_order()
    nld, bel = (next(q for q in order.requests if q.requested_state == st) for st in ("NLD", "BEL"))
    started = time.monotonic()

    await cases.open_case(order)
    with pytest.raises(TracefreezeError, match="already exists"):
        await cases.open_case(order)

    def view_of(request: CourtRequest) -> Callable[[], Awaitable[RequestView]]:
        return lambda: requests.view_id(request.workflow_id)

    for request in order.requests:  # both children run before any State answers
        await until(view_of(request), lambda v: v.status is RequestStatus.TRANSMITTED, "start")

    # --- the States answer over Kafka --------------------------------------------------
    claim_id = "claim-apartment-1"
    await answer(r, Acknowledgement(**common(nld), authority="Dutch Central Authority"))
    report = ExecutionReport(
        **common(nld),
        final=True,
        results=tuple(
            AssetResult(
                asset_id=asset_id,
                measures_executed=(Measure.IDENTIFY, Measure.TRACE, Measure.FREEZE),
                value=eur(amount),
                registry_reference=f"REG-{asset_id}",
                executing_authority="Public Prosecution Service",
            )
            for asset_id, amount in FROZEN.items()
        ),
    )
    await answer(r, report)
    await answer(
        r,
        ThirdPartyClaim(
            **common(nld),
            claim_id=claim_id,
            asset_id="a-apartment-1",
            claimant="Fictional Harbour Lettings B.V.",
            basis="Bought the apartment in good faith before the freeze.",
        ),
    )
    await answer(r, Acknowledgement(**common(bel), authority="Belgian Central Authority"))
    proposed = datetime.now(UTC) + timedelta(days=30)
    await answer(
        r,
        Postponement(
            **common(bel),
            ground=PostponementGround.ANOTHER_INVESTIGATION,
            proposed_until=proposed,
            reasons="Interferes with a national money-laundering investigation.",
        ),
    )

    nld_view = await until(
        view_of(nld),
        lambda v: (
            v.status is RequestStatus.EXECUTED and v.ledger.entries["a-apartment-1"].contested
        ),
        "NLD: both assets frozen, the apartment contested",
    )
    assert all(nld_view.ledger.entries[a].status is AssetStatus.FROZEN for a in FROZEN)
    assert nld_view.totals["EUR"].frozen == sum(FROZEN.values())
    await until(
        view_of(bel), lambda v: v.status is RequestStatus.POSTPONEMENT_PROPOSED, "BEL: RS 94"
    )
    print(f"\nanswers applied over Kafka: {time.monotonic() - started:.2f}s")

    # --- the Court agrees the RS 94 period; Belgium then reports no assets -------------
    until_agreed = datetime.now(UTC) + timedelta(days=30)
    receipt = await requests.act(
        bel.workflow_id,
        c.PostponementDecision(**decided(), agreed=True, until=until_agreed, reasons="Agreed."),
    )
    assert receipt.status is RequestStatus.POSTPONED
    await answer(r, NoAssetsReport(**common(bel), registers_searched=("bank accounts",)))
    bel_view = await until(
        view_of(bel), lambda v: v.status is RequestStatus.NO_ASSETS, "BEL: no assets"
    )
    assert bel_view.postponed_until is None  # the report ended the postponement

    # --- the Court's decisions on the Dutch assets --------------------------------------
    forfeit = c.ForfeitureOrder(
        **decided(), order_reference="ICC-01/22-FORF-1", asset_ids=tuple(FROZEN)
    )
    with pytest.raises(TracefreezeError, match="contested"):
        await requests.act(nld.reference, forfeit)
    await requests.act(
        nld.reference,
        c.ThirdPartyClaimDecision(**decided(), claim_id=claim_id, upheld=False, reasons="No."),
    )
    await requests.act(nld.reference, forfeit)
    await requests.act(nld.reference, forfeit)  # the same event again: recorded once

    close_case = CloseCase(**decided(), reason="Reparations funded; nothing left restrained.")
    with pytest.raises(TracefreezeError, match=r"\['BEL', 'NLD'\] are still open"):
        await cases.close_case(order.order_reference, close_case)

    for asset_id, amount in FROZEN.items():
        await requests.act(
            nld.reference, c.TransferToCourt(**decided(), asset_id=asset_id, amount=eur(amount))
        )
    for asset_id, amount in FROZEN.items():
        shares = (
            c.AllocationShare(
                destination=c.AllocationDestination.REPARATIONS, amount=eur(REPARATIONS[asset_id])
            ),
            c.AllocationShare(
                destination=c.AllocationDestination.TRUST_FUND_FOR_VICTIMS,
                amount=eur(amount - REPARATIONS[asset_id]),
            ),
        )
        await requests.act(
            nld.reference,
            c.Allocation(
                **{**decided(), "decided_by": "presidency"}, asset_id=asset_id, shares=shares
            ),
        )

    # --- closure: BEL, then NLD, and only then the case --------------------------------
    await requests.act(f"{bel.reference}/BEL", c.CloseRequest(**decided(), reason="No assets."))
    await until(
        lambda: cases.case_view(order.order_reference),
        lambda v: v.statuses["BEL"] is RequestStatus.CLOSED,
        "the case learns BEL closed",
    )
    with pytest.raises(TracefreezeError, match=r"\['NLD'\] are still open"):
        await cases.close_case(order.order_reference, close_case)
    await requests.act(nld.reference, c.CloseRequest(**decided(), reason="Allocated."))
    await until(
        lambda: cases.case_view(order.order_reference),
        lambda v: all(st is RequestStatus.CLOSED for st in v.statuses.values()),
        "the case learns NLD closed",
    )
    closed = await cases.close_case(order.order_reference, close_case)
    assert closed.closed

    handle = requests.client.get_workflow_handle_for(CaseWorkflow.run, order.workflow_id)
    final: CaseView = await asyncio.wait_for(handle.result(), timeout=WAIT_S)
    print(f"case closed: {time.monotonic() - started:.2f}s after opening")
    assert final.statuses == {"BEL": RequestStatus.CLOSED, "NLD": RequestStatus.CLOSED}
    total = sum(FROZEN.values())
    assert final.totals["EUR"].forfeited == total
    assert final.totals["EUR"].allocated == total
    assert final.totals["EUR"].frozen == Decimal(0)
    assert (final.requests["NLD"].assets, final.requests["NLD"].restrained) == (2, 0)
    nld_final = await requests.view_id(nld.workflow_id)
    assert {a: e.status for a, e in nld_final.ledger.entries.items()} == {
        a: AssetStatus.ALLOCATED for a in FROZEN
    }
    assert [sh.destination.value for sh in nld_final.ledger.entries["a-account-1"].allocations] == [
        "reparations",
        "trust_fund_for_victims",
    ]

    # --- what the NLD request announced, in order ----------------------------------------
    def nld_events(records: list) -> list[RequestEventType]:
        events = [RequestEvent.model_validate_json(rec.value) for rec in records]
        return [e.type for e in events if e.subject == nld.reference and e.type in ASSET_EVENTS]

    records = await read_until(
        s, s.topics.request_events, lambda rs: RequestEventType.CLOSED in nld_events(rs)
    )
    E = RequestEventType
    assert nld_events(records) == [
        E.ASSET_CONTESTED,
        E.ASSET_FORFEITURE_ORDERED,
        E.ASSET_FORFEITURE_ORDERED,
        E.ASSET_TRANSFERRED,
        E.ASSET_TRANSFERRED,
        E.ASSET_ALLOCATED,
        E.ASSET_ALLOCATED,
        E.CLOSED,
    ]
    print(f"events read: {time.monotonic() - started:.2f}s after opening")


# --- one State's flood of answers cannot grow the case to death ---------------------------

FLOOD = 400
CASE_START_BYTES = 16_000
"""A case run's history before any report: its start (the order) and first tasks."""
REPORT_BYTES = 2_000
"""A report in the case's history: the signal and the workflow task that takes it."""


def case_run_bound(elapsed_s: float, requests: int) -> int:
    """What one run of the case may hold after ``elapsed_s``: each request reports at most
    once per interval, plus its first report and its last (the bound holds however slow the
    machine; before, 400 answers made 4.5 MB, and the server terminates a run near 50 MB)."""
    reports = requests * (elapsed_s / PARENT_REPORT_INTERVAL.total_seconds() + 2)
    return int(CASE_START_BYTES + reports * REPORT_BYTES)


def bel_freeze(bel: CourtRequest) -> ExecutionReport:
    return ExecutionReport(
        **common(bel),
        final=False,
        results=(
            AssetResult(
                asset_id="a-account-be-1",
                measures_executed=(Measure.IDENTIFY, Measure.FREEZE),
                value=eur(Decimal("50000.00")),
                executing_authority="Federal Public Service Justice",
            ),
        ),
    )


def valuation(bel: CourtRequest, n: int) -> AssetManagementUpdate:
    return AssetManagementUpdate(
        **common(bel),
        asset_id="a-account-be-1",
        kind=AssetManagementKind.VALUATION,
        value=eur(Decimal(50_000 + n) + Decimal("0.50")),
        asset_manager="Central Office for Seizure and Confiscation",
    )


async def take(client: Client, request: CourtRequest, answer: AnswerBase | c.CourtAction) -> None:
    """An answer or Court action straight to the request, as the intake delivers it."""
    handle = client.get_workflow_handle(request.workflow_id)
    await handle.execute_update(UPDATE_OF[type(answer)], answer, id=answer.event_id)


async def flood(client: Client, request: CourtRequest, count: int, streams: int = 8) -> None:
    """``count`` valuations to one request, ``streams`` at a time."""
    pending = iter(range(count))

    async def stream() -> None:
        for n in pending:
            await take(client, request, valuation(request, n))

    await asyncio.gather(*(stream() for _ in range(streams)))


async def case_runs(client: Client, workflow_id: str) -> list[tuple[int, int]]:
    """(history bytes, events) of every run of a workflow, oldest first, as the server
    counts them (walked back from the latest run through each run's predecessor)."""
    out: list[tuple[int, int]] = []
    run_id: str | None = (await client.get_workflow_handle(workflow_id).describe()).run_id
    while run_id:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        info = (await handle.describe()).raw_description.workflow_execution_info
        out.append((info.history_size_bytes, info.history_length))
        first = await anext(aiter(handle.fetch_history_events()))
        run_id = first.workflow_execution_started_event_attributes.continued_execution_run_id
        run_id = run_id or None
    return out[::-1]


async def test_one_states_flood_of_answers_keeps_the_case_small_and_the_other_state_unaffected(
    running: Running,  # noqa: F811  (the fixture imported above)
) -> None:
    """One State must never be able to take another's request down (RS 93(1)(k) in several
    jurisdictions; each State's part stands on its own). Belgium sends 400 valuations of its
    frozen account; before, each made its request signal the whole request view to the case
    and the case's history grew quadratically toward the server's 50 MB limit (31 MB after
    400), where Temporal terminates it. Now every run of the case stays small, the case
    knows Belgium's last valuation, and the Netherlands' request and its part in the case
    go on as if Belgium had sent nothing."""
    r, client = running, running.client.client
    cases = CaseClient(client, r.settings)
    order = fresh_order()
    opened = time.monotonic()
    nld, bel = (next(q for q in order.requests if q.requested_state == st) for st in ("NLD", "BEL"))
    await cases.open_case(order)
    for request in order.requests:
        await until(
            lambda request=request: r.client.view_id(request.workflow_id),
            lambda v: v.status is RequestStatus.TRANSMITTED,
            f"{request.requested_state} started",
        )
    await take(client, bel, Acknowledgement(**common(bel), authority="Belgian Central Authority"))
    await take(client, bel, bel_freeze(bel))

    async def netherlands() -> None:
        await take(client, nld, Acknowledgement(**common(nld), authority="Dutch Authority"))
        await take(client, nld, NoAssetsReport(**common(nld), registers_searched=("banks",)))

    await asyncio.gather(flood(client, bel, FLOOD), netherlands())

    view = await until(
        lambda: cases.case_view(order.order_reference),
        lambda v: v.requests["BEL"] is not None and v.requests["BEL"].answers_seen == FLOOD + 2,
        "the case learns Belgium's last valuation",
    )
    assert view.statuses == {"NLD": RequestStatus.NO_ASSETS, "BEL": RequestStatus.IN_EXECUTION}
    bel_view = await r.client.view_id(bel.workflow_id)
    assert view.totals["EUR"].frozen == bel_view.totals["EUR"].frozen  # the last valuation
    nld_view = await r.client.view_id(nld.workflow_id)
    assert (nld_view.status, nld_view.answers_seen) == (RequestStatus.NO_ASSETS, 2)
    described = await client.get_workflow_handle(order.workflow_id).describe()
    assert described.status is WorkflowExecutionStatus.RUNNING
    runs = await case_runs(client, order.workflow_id)
    bound = case_run_bound(time.monotonic() - opened, len(order.requests))
    print(f"\ncase after {FLOOD} valuations: runs (bytes, events) {runs}; bound {bound:,} B")
    assert max(size for size, _ in runs) < bound, runs


async def test_the_case_continues_as_new_without_losing_a_report_or_a_court_action(
    running: Running,  # noqa: F811  (the fixture imported above)
) -> None:
    """A case lives as long as its requests: it hands over to a fresh run, here after every
    report, while Belgium floods its request, the Netherlands answers, and the Court adds
    France and tries to close the case too early, all at once. Every report and every Court
    action lands in whichever run is current: the requests report by the case's workflow id;
    the case drains its handlers before it continues. Then the case closes normally."""
    r, client = running, running.client.client
    order = fresh_order()
    nld, bel = (next(q for q in order.requests if q.requested_state == st) for st in ("NLD", "BEL"))
    case = await client.start_workflow(
        CaseWorkflow.run,
        CaseInput(order=order, reports_per_run=1),
        id=order.workflow_id,
        task_queue=r.settings.task_queue,
    )
    for request in order.requests:
        await until(
            lambda request=request: r.client.view_id(request.workflow_id),
            lambda v: v.status is RequestStatus.TRANSMITTED,
            f"{request.requested_state} started",
        )
    await take(client, bel, Acknowledgement(**common(bel), authority="Belgian Central Authority"))
    await take(client, bel, bel_freeze(bel))
    fra = CourtRequest.model_validate(
        {
            **bel.model_dump(mode="json"),
            "requested_state": "FRA",
            "reference": f"ICC-01/22-REQ-FRA-{uuid.uuid4().hex[:8].upper()}",
        }
    )
    refusals: list[str] = []

    async def court() -> None:
        for _ in range(5):
            try:
                await case.execute_update(
                    CaseWorkflow.close_case, CloseCase(**decided(), reason="x")
                )
            except WorkflowUpdateFailedError as err:
                refusals.append(str(err.cause))
        add = AddState(**decided(), request=fra)
        await case.execute_update(CaseWorkflow.add_state, add, id=add.event_id)
        await case.execute_update(CaseWorkflow.add_state, add, id=add.event_id)  # once

    async def netherlands() -> None:
        await take(client, nld, Acknowledgement(**common(nld), authority="Dutch Authority"))
        await take(client, nld, NoAssetsReport(**common(nld), registers_searched=("banks",)))

    await asyncio.gather(flood(client, bel, 200), netherlands(), court())
    assert len(refusals) == 5 and all("are still open" in reason for reason in refusals)
    view = await until(
        lambda: case.query(CaseWorkflow.view),
        lambda v: v.requests["BEL"].answers_seen == 202 and v.requests["NLD"].answers_seen == 2,
        "the case learns every request's last state",
    )
    assert set(view.statuses) == {"NLD", "BEL", "FRA"}
    assert view.run >= 2, view.run  # each report a hand-over: at least one happened
    print(f"\ncase continued as new {view.run - 1} times")
    await until(
        lambda: r.client.view_id(fra.workflow_id),
        lambda v: v.status is RequestStatus.TRANSMITTED,
        "France's request started once",
    )
    await take(client, fra, Acknowledgement(**common(fra), authority="French Authority"))
    await take(client, fra, NoAssetsReport(**common(fra), registers_searched=("banks",)))
    await take(client, bel, c.Withdrawal(**decided(), reasons="Withdrawn."))
    for request in (nld, bel, fra):
        await take(client, request, c.CloseRequest(**decided(), reason="Done."))
    await until(
        lambda: case.query(CaseWorkflow.view),
        lambda v: all(st is RequestStatus.CLOSED for st in v.statuses.values()),
        "the case learns every request closed",
    )
    closed = await case.execute_update(CaseWorkflow.close_case, CloseCase(**decided(), reason="x"))
    assert closed.closed
    final = await asyncio.wait_for(case.result(), timeout=WAIT_S)
    assert final.statuses == {s: RequestStatus.CLOSED for s in ("NLD", "BEL", "FRA")}
    assert final.requests["BEL"].answers_seen == 204
