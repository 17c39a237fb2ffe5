"""Proportionality across parties (RS 57(3)(e), 93(1)(k), 75, 77(2)), on the time-skipping
server: a case carries the amount to secure and the running total of what its requests secure
in every party, per currency with its valuation date; past the policy's margin it proposes
releases to the Chamber (an event inside the Court) and releases nothing itself."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from temporalio.client import Client, WorkflowHandle

from schemas.case import CaseInput, CaseOrder, CaseView, SecureAmount
from schemas.escalations import EscalationKind
from schemas.ledger import AssetStatus
from schemas.request import CourtRequest
from tests.builders import court_action, money, now
from tests.workflows.case_support import case_act, until
from tests.workflows.support import (
    ACCOUNT,
    ACCOUNT_EUR,
    PublishRecorder,
    acknowledgement,
    asset_management,
    court_request,
    execution_report,
    freeze_account,
    result,
    send,
)
from tracefreeze.case_status import render_judgment_and_release
from workflows.case import CaseWorkflow
from workflows.request import RequestWorkflow

CASE = "ICC-02/04-01/15"


def secure(amount: str, currency: str = "EUR", margin: str = "0.25") -> SecureAmount:
    return court_action(
        SecureAmount,
        decided_by="trial_chamber",
        decided_at=now(),
        basis="estimated_reparations_liability",
        amount=money(amount, currency),
        margin=margin,
        policy_version="test",
    )


async def _view(case: WorkflowHandle) -> CaseView:
    return await case.query(CaseWorkflow.view)


async def _case_with_two_freezes(
    client: Client, queue: str
) -> tuple[WorkflowHandle, CourtRequest, CourtRequest]:
    """NLD and BEL each froze the account at EUR 398,214.37: EUR 796,428.74 secured."""
    nld, bel = (court_request(requested_state=p, case_number=CASE) for p in ("NLD", "BEL"))
    order = CaseOrder(
        order_reference=f"{CASE}-ORD-{uuid.uuid4().hex[:8].upper()}",
        case_number=CASE,
        requests=(nld, bel),
    )
    case = await client.start_workflow(
        CaseWorkflow.run, CaseInput(order=order), id=order.workflow_id, task_queue=queue
    )

    async def started() -> bool:
        return len((await _view(case)).requests) == 2 and all(
            [await _exists(client, r) for r in (nld, bel)]
        )

    await until(started)
    for request in (nld, bel):
        handle = client.get_workflow_handle(request.workflow_id)
        await send(handle, acknowledgement(request))
        await send(handle, freeze_account(request))

    async def both_secured() -> bool:
        secured = (await _view(case)).requests
        return all(s.secured.get("EUR") is not None for s in secured.values())

    await until(both_secured)
    return case, nld, bel


async def _exists(client: Client, request: CourtRequest) -> bool:
    try:
        await client.get_workflow_handle(request.workflow_id).query(RequestWorkflow.view)
    except Exception:  # not started yet
        return False
    return True


def _proposals(recorder: PublishRecorder, *requests: CourtRequest) -> dict[str, int]:
    return {
        r.requested_state: sum(
            e.kind is EscalationKind.RELEASES_PROPOSED for e in recorder.escalations(r.reference)
        )
        for r in requests
    }


async def test_proportionality_over_the_margin_proposes_releases_to_the_chamber_only(
    case_worker,
) -> None:
    """RS 57(3)(e), 75: EUR 500,000 to secure, margin 25 %: EUR 796,428.74 secured across NLD
    and BEL is over EUR 625,000, so the case proposes releases to the Chamber, one event per
    request holding EUR assets, inside the Court; both accounts stay frozen (no decision)."""
    client, queue, recorder = case_worker
    case, nld, bel = await _case_with_two_freezes(client, queue)
    view = await case_act(case, "secure_amount", secure("500000.00"))
    p = view.proportionality
    assert p is not None
    assert (p.counted, p.threshold, p.over_secured) == (
        2 * ACCOUNT_EUR,
        Decimal("625000.00"),
        True,
    )
    assert p.excess == 2 * ACCOUNT_EUR - Decimal("500000.00")
    assert p.secured["EUR"].assets == 2 and p.secured["EUR"].valued_on is not None
    assert p.proposals == 1 and p.proposed_at is not None

    async def proposed() -> bool:
        return _proposals(recorder, nld, bel) == {"NLD": 1, "BEL": 1}

    await until(proposed)
    event = next(
        e for e in recorder.escalations(nld.reference) if e.kind is EscalationKind.RELEASES_PROPOSED
    )
    assert event.basis is not None and "releases proposed to the Chamber" in event.basis
    assert "EUR 796428.74 secured across the case exceeds EUR 500000.00" in event.basis
    for request in (nld, bel):
        ledger = (
            await client.get_workflow_handle(request.workflow_id).query(RequestWorkflow.view)
        ).ledger
        assert ledger.entries[ACCOUNT].status is AssetStatus.FROZEN  # nothing released
    assert "over the margin: releases proposed" in render_judgment_and_release(view)


async def test_proportionality_within_the_margin_proposes_nothing_until_values_change(
    case_worker,
) -> None:
    """RS 57(3)(e): EUR 700,000 to secure (threshold EUR 875,000): EUR 796,428.74 is within
    the margin, nothing is proposed. NLD's new valuation (EUR 600,000) takes the running total
    to EUR 998,214.37: over, one proposal; a lower valuation brings it back within, and a
    later excess proposes again (once per excess, never one per report)."""
    client, queue, recorder = case_worker
    case, nld, bel = await _case_with_two_freezes(client, queue)
    view = await case_act(case, "secure_amount", secure("700000.00"))
    assert view.proportionality is not None and not view.proportionality.over_secured
    nld_handle = client.get_workflow_handle(nld.workflow_id)

    async def counted(amount: str) -> bool:
        p = (await _view(case)).proportionality
        return p is not None and p.counted == Decimal(amount)

    await send(nld_handle, asset_management(nld, ACCOUNT, "600000.00"))
    await until(lambda: counted("998214.37"))
    await send(nld_handle, asset_management(nld, ACCOUNT, "610000.00"))  # still over
    await until(lambda: counted("1008214.37"))
    await send(nld_handle, asset_management(nld, ACCOUNT, "300000.00"))  # within again
    await until(lambda: counted("698214.37"))
    await send(nld_handle, asset_management(nld, ACCOUNT, "500000.00"))  # over again
    await until(lambda: counted("898214.37"))
    p = (await _view(case)).proportionality
    assert p is not None and p.over_secured and p.proposals == 2

    async def two_each() -> bool:
        return _proposals(recorder, nld, bel) == {"NLD": 2, "BEL": 2}

    await until(two_each)


async def test_proportionality_counts_one_currency_and_shows_the_others_unconverted(
    case_worker,
) -> None:
    """No rate is recorded: a USD asset frozen by BEL is shown per currency, not counted
    against an amount in EUR (the conservative reading: no conversion is invented)."""
    client, queue, _ = case_worker
    case, _nld, bel = await _case_with_two_freezes(client, queue)
    bel_handle = client.get_workflow_handle(bel.workflow_id)
    yacht = {
        "asset_id": "a-yacht-1",
        "kind": "vessel",
        "description": "Motor yacht, 31 m",
        "location_country": "BEL",
        "owner_party_ids": ["p-suspect"],
    }
    usd = result("a-yacht-1", "identify", "freeze", value=("2500000.00", "USD"), asset=yacht)
    await send(bel_handle, execution_report(bel, [usd]))

    async def usd_seen() -> bool:
        return "USD" in (await _view(case)).totals

    await until(usd_seen)
    view = await case_act(case, "secure_amount", secure("700000.00"))
    p = view.proportionality
    assert p is not None and not p.over_secured
    assert p.not_counted == ["USD"] and p.secured["USD"].amount == Decimal("2500000.00")
    assert "not counted: no rate recorded" in render_judgment_and_release(view)


def test_the_amount_to_secure_is_more_than_zero() -> None:
    with pytest.raises(ValueError, match="more than zero"):
        secure("0.00")
