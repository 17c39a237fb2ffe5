"""One act releases a whole case (RS 74, 81(3)(c), 83(2); RS 61), on the time-skipping server.

A judgment is recorded at case level and told to every request; after an acquittal or a
termination one Chamber's act releases every frozen or seized asset in every request of the
case (States and international organisations alike), each request taking it through its own
rules; the case closes each request once its assets are settled and reports whatever is
still held, by party and asset, until nothing is. A request that refuses is reported and
never stalls the others. Forfeiture follows a conviction, on the Trial Chamber's order
(RS 77(2)(b), 76; RS 83(2)).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.party import party_messages
from schemas import court as c
from schemas.case import (
    MAX_HELD,
    CaseInput,
    CaseOrder,
    CaseReleaseRecord,
    CaseView,
    CloseCase,
    RequestRelease,
    RequestSummary,
)
from schemas.common import Money
from schemas.ledger import AssetStatus, Ledger, LedgerEntry, RequestStatus
from schemas.party import PartyMessageType
from schemas.request import CourtRequest
from tests.builders import court_action, now
from tests.workflows.case_support import (
    CASE,
    case_act,
    case_request,
    case_view,
    frozen_everywhere,
    judgment,
    open_case,
    release_act,
    started,
    unanswered,
    until,
)
from tests.workflows.support import (
    ACCOUNT,
    ORDER,
    PublishRecorder,
    acknowledgement,
    court_request,
    freeze_account,
    own_env,
    request_worker,
    send,
    start_request,
)
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows import catalog
from workflows.case import CaseWorkflow
from workflows.case_release import release_report
from workflows.outcome import Refusal, Rule
from workflows.request import RequestWorkflow


async def _update_refused(call: Awaitable[Any], fragment: str) -> None:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await call
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert fragment in cause.message, cause.message


async def test_rs74_acquittal_one_act_releases_every_asset_in_two_states_and_an_organisation(
    case_worker,
) -> None:
    """RS 74, 81(3)(c): after an acquittal one Trial Chamber act releases the account frozen
    in NLD, BEL and the organisation XIP; each request takes it through its own rules, tells
    its party a release decision on its own channel, and is closed by the case once settled;
    the report then holds nothing and is complete."""
    client, queue, recorder = case_worker
    requests = [case_request("NLD"), case_request("BEL"), case_request("XIP")]
    case = await open_case(client, queue, *requests)
    await frozen_everywhere(client, case, requests)

    acquittal = judgment("acquittal")
    view = await case_act(case, "record_judgment", acquittal)
    assert [j.outcome for j in view.judgments] == [c.JudgmentOutcome.ACQUITTAL]
    view = await case_act(case, "release_case", release_act(acquittal))
    assert view.release is not None and view.release.ground == "acquittal"
    assert {h.party for h in view.release.held} == {"NLD", "BEL", "XIP"}  # not yet taken

    async def complete() -> bool:
        release = (await case_view(case)).release
        return release is not None and release.complete

    await until(complete)
    view = await case_view(case)
    assert view.release is not None
    assert view.release.held == [] and view.release.not_closed == []
    assert {k: r.outcome for k, r in view.release.requests.items()} == {
        f"{r.reference}/{r.requested_state}": "taken" for r in requests
    }
    for request in requests:
        handle = client.get_workflow_handle(request.workflow_id)

        async def ended(h: Any = handle) -> bool:
            # The close reaches the case before the request's last publishing round is done.
            return (await h.describe()).status is not WorkflowExecutionStatus.RUNNING

        await until(ended)
        assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
        request_view = await handle.query(RequestWorkflow.view)
        assert request_view.status is RequestStatus.CLOSED
        account = request_view.ledger.entries[ACCOUNT]
        assert account.status is AssetStatus.RELEASED
        assert account.release_ground == "acquittal"
        # The party's release notice: the Court's decision on its own request, naming the asset.
        notices = [
            m
            for m in party_messages(request, recorder.events(request.reference), [])
            if m.type is PartyMessageType.DECISION and m.decision is not None
        ]
        release = [m.decision for m in notices if m.decision.action == "case_release"]
        assert len(release) == 1 and release[0].status is RequestStatus.WITHDRAWN
        assert [(a.asset_id, a.status) for a in release[0].assets] == [
            (ACCOUNT, AssetStatus.RELEASED)
        ]
        assert notices[-1].decision.status is RequestStatus.CLOSED
    # The Registry may now close the case: every request in it is closed.
    closed = await case_act(
        case, "close_case", court_action(CloseCase, decided_at=now(), reason="released")
    )
    assert closed.closed


async def test_rs83_acquittal_on_appeal_leaves_a_forfeited_asset_reported_until_released(
    case_worker,
) -> None:
    """RS 77(2)(b), 83(2): a conviction (appeal pending) lets the Trial Chamber order
    forfeiture of NLD's account; the Appeals Chamber acquits; the case act releases what is
    frozen, not what a forfeiture order holds: NLD's account stays in the report, by party and
    asset, and NLD's request stays open, until a Chamber releases it; then NLD is closed and
    the release is complete."""
    client, queue, _ = case_worker
    nld, bel = case_request("NLD"), case_request("BEL")
    case = await open_case(client, queue, nld, bel)
    await frozen_everywhere(client, case, [nld, bel])
    nld_handle = client.get_workflow_handle(nld.workflow_id)
    forfeit = court_action(
        c.ForfeitureOrder, decided_by="Trial Chamber IX", order_reference=ORDER, asset_ids=[ACCOUNT]
    )
    # RS 77(2)(b): no conviction recorded in the case yet
    await _update_refused(send(nld_handle, forfeit), "forfeiture follows a conviction")

    conviction = judgment("conviction", finality="appeal_pending")
    await case_act(case, "record_judgment", conviction)

    async def nld_knows_conviction() -> bool:
        return await _judgment_of(nld_handle) == conviction.judgment_reference

    await until(nld_knows_conviction)
    await send(nld_handle, forfeit)

    async def nld_forfeited() -> bool:
        held = (await case_view(case)).party("NLD").held
        return held.get(ACCOUNT) is AssetStatus.FORFEITURE_ORDERED

    await until(nld_forfeited)
    acquittal = judgment("acquittal", decided_by="appeals_chamber", delivered_on=date(2026, 4, 30))
    await case_act(case, "record_judgment", acquittal)
    await case_act(case, "release_case", release_act(acquittal, "appeals_chamber"))

    async def only_nld_left() -> bool:
        # Both requests' reports, not one: each reports to the case on its own interval.
        view = await case_view(case)
        return (
            view.release is not None
            and view.release.not_closed == [f"{nld.reference}/NLD"]
            and view.party_statuses().get("NLD") is RequestStatus.WITHDRAWN
        )

    await until(only_nld_left)
    view = await case_view(case)
    assert view.release is not None and not view.release.complete
    assert [(h.party, h.asset_id, h.status) for h in view.release.held] == [
        ("NLD", ACCOUNT, AssetStatus.FORFEITURE_ORDERED)
    ]
    assert view.party_statuses() == {"NLD": RequestStatus.WITHDRAWN, "BEL": RequestStatus.CLOSED}

    # The Appeals Chamber's own decision on the forfeited asset releases it: NLD closes.
    await send(
        nld_handle,
        court_action(
            c.Release,
            decided_by="appeals_chamber",
            asset_ids=[ACCOUNT],
            ground="acquittal",
            reasons="The forfeiture order falls with the conviction reversed on appeal",
            forfeiture_order_set_aside=ORDER,  # RS 83(2): names the order it sets aside
        ),
    )

    async def complete() -> bool:
        release = (await case_view(case)).release
        return release is not None and release.complete

    await until(complete)
    assert (await case_view(case)).party_statuses() == {
        "NLD": RequestStatus.CLOSED,
        "BEL": RequestStatus.CLOSED,
    }


async def _judgment_of(handle: WorkflowHandle) -> str | None:
    """The judgment reference a request holds, read from its timeline."""
    view = await handle.query(RequestWorkflow.view)
    for entry in reversed(view.timeline):
        if entry.what.startswith("judgment "):
            return entry.what.split(" ")[1].rstrip(":")
    return None


async def test_one_request_refusing_the_case_release_does_not_stall_the_others(
    case_worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RS 74 in several jurisdictions: BEL's request refuses the release (its rule says no);
    NLD and XIP take it and are closed; BEL's refusal is reported with its reason, its account
    stays in the report, and the release is not complete."""
    client, queue, _ = case_worker
    nld, bel, xip = case_request("NLD"), case_request("BEL"), case_request("XIP")
    case = await open_case(client, queue, nld, bel, xip)
    await frozen_everywhere(client, case, [nld, bel, xip])

    own = catalog.RULES["case_release"]

    def refuse_bel(record: Any, request: CourtRequest, m: Any) -> None:
        if request.requested_state == "BEL":
            raise Refusal("BEL's request refuses (test)")
        own.check(record, request, m)

    monkeypatch.setitem(catalog.RULES, "case_release", Rule(refuse_bel, own.apply))
    termination = judgment("termination", termination_cause="death")
    await case_act(case, "record_judgment", termination)
    await case_act(case, "release_case", release_act(termination))

    async def others_closed() -> bool:
        view = await case_view(case)
        return view.party("NLD").status is RequestStatus.CLOSED and (
            view.party("XIP").status is RequestStatus.CLOSED
        )

    await until(others_closed)

    async def bel_refused() -> bool:
        release = (await case_view(case)).release
        return release is not None and release.requests[f"{bel.reference}/BEL"].outcome == "refused"

    await until(bel_refused)
    release = (await case_view(case)).release
    assert release is not None and release.ground == "termination" and not release.complete
    assert release.requests[f"{bel.reference}/BEL"].reason == "BEL's request refuses (test)"
    assert [(h.party, h.asset_id) for h in release.held] == [("BEL", ACCOUNT)]
    assert release.not_closed == [f"{bel.reference}/BEL"]
    bel_view = await client.get_workflow_handle(bel.workflow_id).query(RequestWorkflow.view)
    assert bel_view.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN


async def test_case_release_refused_without_an_acquittal_or_termination_in_force(
    case_worker,
) -> None:
    """RS 74, 83(2): a case is released only on the acquittal or termination in force: not
    without a recorded judgment, not on a conviction, not on a judgment an appeal replaced,
    and only once; an older judgment never replaces the one in force, nor anything follow a
    final one."""
    client, queue, _ = case_worker
    case = await open_case(client, queue, case_request("NLD"))
    conviction = judgment("conviction", finality="appeal_pending")
    await _update_refused(case_act(case, "release_case", release_act(conviction)), "no judgment")
    await case_act(case, "record_judgment", conviction)
    await _update_refused(case_act(case, "release_case", release_act(conviction)), "conviction")
    older = judgment("acquittal", delivered_on=date(2026, 1, 1))
    await _update_refused(case_act(case, "record_judgment", older), "older")
    final = judgment("acquittal", decided_by="appeals_chamber", delivered_on=date(2026, 5, 1))
    await case_act(case, "record_judgment", final)
    await _update_refused(
        case_act(case, "release_case", release_act(conviction)),
        "not the one in force",
    )
    await case_act(case, "release_case", release_act(final, "appeals_chamber"))
    await _update_refused(case_act(case, "release_case", release_act(final)), "already released")
    await _update_refused(case_act(case, "record_judgment", judgment("conviction")), "is final")


def test_judgment_contract_bounds_the_chamber_and_the_termination_cause() -> None:
    """RS 74 and 83(2): a conviction or acquittal is the Trial or Appeals Chamber's; RS 61: a
    termination may come before trial and names its cause; only a termination has one."""
    with pytest.raises(ValueError, match="decided_by"):
        judgment("conviction", decided_by="pre_trial_chamber")
    with pytest.raises(ValueError, match="termination_cause"):
        judgment("termination", termination_cause=None)
    with pytest.raises(ValueError, match="termination_cause"):
        judgment("acquittal", termination_cause="death")
    judgment(
        "termination", decided_by="pre_trial_chamber", termination_cause="withdrawal_of_charges"
    )


async def test_rs74_release_stops_every_ladder_and_no_reminder_follows() -> None:
    """RS 74, 61: NLD froze its account, BEL never answered; both run under the policy's
    ladder. After the case release on a termination both requests end: 200 days on, neither
    has sent a reminder or an escalation, while a request to FRA under the same policy, not
    in the case, climbed its ladder meanwhile (old code: reminders ran on while each asset was
    released request by request, and ``close`` was refused). On a server of its own: the
    200 days pass for this case alone."""
    async with (
        own_env() as env,
        request_worker(env, "case-ladder", CaseWorkflow) as (queue, recorder),
    ):
        await _release_stops_the_ladders(env, env.client, queue, recorder)


async def _release_stops_the_ladders(
    env: WorkflowEnvironment, client: Client, queue: str, recorder: PublishRecorder
) -> None:
    nld, bel = case_request("NLD"), case_request("BEL")
    fra = court_request(requested_state="FRA", case_number="ICC-01/22")
    policy = {
        r.requested_state: resolve(load_policy(), load_directory(), r) for r in (nld, bel, fra)
    }
    order = CaseOrder(
        order_reference=f"{CASE}-ORD-{uuid.uuid4().hex[:8].upper()}",
        case_number=CASE,
        requests=(nld, bel),
        policies={p: policy[p] for p in ("NLD", "BEL")},
    )
    case = await client.start_workflow(
        CaseWorkflow.run, CaseInput(order=order), id=order.workflow_id, task_queue=queue
    )
    await start_request(client, queue, fra, policy=policy["FRA"])
    nld_handle = client.get_workflow_handle(nld.workflow_id)
    await until(lambda: started(nld_handle))
    await send(nld_handle, acknowledgement(nld))
    await send(nld_handle, freeze_account(nld))

    termination = judgment("termination", termination_cause="withdrawal_of_charges")
    await case_act(case, "record_judgment", termination)
    await case_act(case, "release_case", release_act(termination))

    async def complete() -> bool:
        release = (await case_view(case)).release
        return release is not None and release.complete

    await until(complete)
    sent = {r.reference: len(recorder.escalations(r.reference)) for r in (nld, bel)}
    await env.sleep(timedelta(days=200))
    assert {r.reference: len(recorder.escalations(r.reference)) for r in (nld, bel)} == sent
    assert len(recorder.escalations(fra.reference)) >= 3  # the control's ladder ran on
    for request in (nld, bel):  # each request's workflow has ended, closed
        handle = client.get_workflow_handle_for(RequestWorkflow.run, request.workflow_id)
        assert (await asyncio.wait_for(handle.result(), 10)).status is RequestStatus.CLOSED


def test_a_judgment_is_dated_between_the_statute_and_its_recording() -> None:
    """RS 126: no judgment of the Court is delivered before the Statute entered into force,
    nor after the date it is recorded as decided."""
    with pytest.raises(ValueError, match="RS 126"):
        judgment("acquittal", delivered_on=date(2001, 1, 1))
    with pytest.raises(ValueError, match="after the date"):
        judgment("acquittal", delivered_on=date(2199, 1, 1))


def test_a_request_lists_at_most_max_held_assets_to_its_case_and_counts_the_rest() -> None:
    """Bounded reports (one party never grows the case): 25 frozen assets are told as the
    first MAX_HELD by id and the rest counted; the release report lists them by party and asset."""
    request = case_request("NLD")
    template = request.known_assets[0]
    entries = {}
    for n in range(25):
        asset = template.model_copy(update={"asset_id": f"a-account-{n:02d}"})
        entries[asset.asset_id] = LedgerEntry(
            asset=asset, status=AssetStatus.FROZEN, value=Money(amount="1.00", currency="EUR")
        )
    summary = RequestSummary.of(request, RequestStatus.WITHDRAWN, Ledger(entries=entries), 1, now())
    assert len(summary.held) == MAX_HELD and summary.held_left_out == 25 - MAX_HELD
    assert summary.secured["EUR"].amount == Decimal("25.00") and summary.secured["EUR"].assets == 25
    acquittal = judgment("acquittal")
    record = CaseReleaseRecord(
        order=release_act(acquittal), ground="acquittal", requests={summary.key: RequestRelease()}
    )
    report = release_report(record, {summary.key: summary})
    assert report is not None and not report.complete
    assert len(report.held) == MAX_HELD and report.held_left_out == 25 - MAX_HELD
    assert {h.party for h in report.held} == {"NLD"}


async def test_a_release_survives_the_case_continuing_as_new() -> None:
    """RS 74 over a case's long life: the case hands over to a new run after every report;
    the judgment, the release, its actions on their way and the report of what is held are
    carried, so every request is still released and closed, and the release completes.

    On a time-skipping server of its own: a query racing the hand-over may go unanswered on
    the test server and then hold its clock, which would stop every later test's sleep on a
    shared server."""
    async with own_env() as env, request_worker(env, "case-handover", CaseWorkflow) as (queue, _):
        await _released_across_runs(env.client, queue)


async def _released_across_runs(client: Client, queue: str) -> None:
    nld, bel = case_request("NLD"), case_request("BEL")
    order = CaseOrder(
        order_reference=f"{CASE}-ORD-{uuid.uuid4().hex[:8].upper()}",
        case_number=CASE,
        requests=(nld, bel),
    )
    case = await client.start_workflow(
        CaseWorkflow.run,
        CaseInput(order=order, reports_per_run=1),
        id=order.workflow_id,
        task_queue=queue,
    )
    await frozen_everywhere(client, case, [nld, bel])
    acquittal = judgment("acquittal")
    await case_act(case, "record_judgment", acquittal)
    await case_act(case, "release_case", release_act(acquittal))

    seen: list[CaseView] = []

    async def complete() -> bool:
        # A query racing the hand-over to a new run may go unanswered on the test server:
        # asked again (a short RPC timeout), never taken as an answer.
        try:
            view = await case.query(CaseWorkflow.view, rpc_timeout=timedelta(seconds=3))
        except RPCError as err:
            if not unanswered(err):
                raise
            return False
        seen.append(view)
        return view.release is not None and view.release.complete

    await until(complete, timeout_s=60)
    view = seen[-1]
    assert view.run > 2  # it did continue as new on the way
    assert [j.judgment_reference for j in view.judgments] == [acquittal.judgment_reference]
    assert view.party_statuses() == {"NLD": RequestStatus.CLOSED, "BEL": RequestStatus.CLOSED}
