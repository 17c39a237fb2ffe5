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
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from schemas import court as c
from schemas.case import CaseView, CloseCase
from schemas.events import RequestEvent, RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.builders import (
    acknowledgement,
    court_action,
    execution_report,
    frozen_at,
    no_assets,
    now,
    postponement,
    third_party_claim,
)
from tests.tracefreeze.case_e2e import (
    WAIT_S,
    answer,
    eur,
    fresh_order,
    until,
)
from tests.tracefreeze.e2e import Running, read_until
from tracefreeze.case_client import CaseClient
from tracefreeze.client import RequestClient
from tracefreeze.errors import TracefreezeError
from workflows.case import CaseWorkflow

pytestmark = pytest.mark.stack

FROZEN = {"a-account-1": Decimal("398214.37"), "a-apartment-1": Decimal("860000.00")}
REPARATIONS = {"a-account-1": Decimal("300000.00"), "a-apartment-1": Decimal("600000.00")}
ASSET_EVENTS = {
    RequestEventType.ASSET_CONTESTED,
    RequestEventType.ASSET_FORFEITURE_ORDERED,
    RequestEventType.ASSET_TRANSFERRED,
    RequestEventType.ASSET_ALLOCATED,
    RequestEventType.CLOSED,
}


async def test_two_state_case_from_freeze_to_allocation_and_closure(
    running: Running,
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
    await answer(r, acknowledgement(nld, sent_at=now(), authority="Dutch Central Authority"))
    frozen = frozen_at(FROZEN, "identify", "trace", "freeze")
    report = execution_report(nld, frozen, final=True, sent_at=now())
    await answer(r, report)
    claimant = "Fictional Harbour Lettings B.V."
    claim = third_party_claim(nld, "a-apartment-1", claim_id, claimant=claimant, sent_at=now())
    await answer(r, claim)
    await answer(r, acknowledgement(bel, sent_at=now(), authority="Belgian Central Authority"))
    proposed = datetime.now(UTC) + timedelta(days=30)
    reasons = "Interferes with a national money-laundering investigation."
    await answer(
        r, postponement(bel, "RS 94", proposed.isoformat(), reasons=reasons, sent_at=now())
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
    decision = {"agreed": True, "until": until_agreed, "reasons": "Agreed."}
    agreed = court_action(c.PostponementDecision, decided_at=now(), **decision)
    receipt = await requests.act(bel.workflow_id, agreed)
    assert receipt.status is RequestStatus.POSTPONED
    await answer(r, no_assets(bel, sent_at=now(), registers_searched=["bank accounts"]))
    bel_view = await until(
        view_of(bel), lambda v: v.status is RequestStatus.NO_ASSETS, "BEL: no assets"
    )
    assert bel_view.postponed_until is None  # the report ended the postponement

    # --- the Court's decisions on the Dutch assets --------------------------------------
    # RS 74, 77(2)(b): the conviction, recorded on the case, reaches NLD's request before the
    # Trial Chamber orders forfeiture.
    conviction = court_action(
        c.Judgment,
        decided_at=now(),
        judgment_reference="ICC-01/22-T-J-1",
        outcome="conviction",
        delivered_on=datetime.now(UTC).date(),
        finality="final",
    )
    await cases.record_judgment(order.order_reference, conviction)
    await until(
        view_of(nld),
        lambda v: any(e.what.startswith("judgment ICC-01/22-T-J-1") for e in v.timeline),
        "NLD learns the conviction",
    )
    forfeit = court_action(
        c.ForfeitureOrder,
        decided_at=now(),
        order_reference="ICC-01/22-FORF-1",
        asset_ids=tuple(FROZEN),
    )
    with pytest.raises(TracefreezeError, match="contested"):
        await requests.act(nld.reference, forfeit)
    dismissal = {"claim_id": claim_id, "upheld": False, "reasons": "No."}
    dismissed = court_action(c.ThirdPartyClaimDecision, decided_at=now(), **dismissal)
    await requests.act(nld.reference, dismissed)
    await requests.act(nld.reference, forfeit)
    await requests.act(nld.reference, forfeit)  # the same event again: recorded once

    close_case = court_action(
        CloseCase, decided_at=now(), reason="Reparations funded; nothing left restrained."
    )
    still_open = sorted([f"{bel.reference}/BEL", f"{nld.reference}/NLD"])
    with pytest.raises(TracefreezeError, match=re.escape(f"{still_open} are still open")):
        await cases.close_case(order.order_reference, close_case)

    for asset_id, amount in FROZEN.items():
        await requests.act(
            nld.reference,
            court_action(
                c.TransferToCourt, decided_at=now(), asset_id=asset_id, amount=eur(amount)
            ),
        )
    for asset_id, amount in FROZEN.items():
        shares = (
            c.AllocationShare(
                destination=c.AllocationDestination.REPARATIONS, amount=eur(REPARATIONS[asset_id])
            ),
            c.AllocationShare(
                destination=c.AllocationDestination.TRUST_FUND_FOR_VICTIMS,
                amount=eur(amount - REPARATIONS[asset_id]),
                basis=c.TrustFundBasis.AWARD_THROUGH_THE_FUND,
            ),
        )
        await requests.act(
            nld.reference,
            court_action(c.Allocation, decided_at=now(), asset_id=asset_id, shares=shares),
        )

    # --- closure: BEL, then NLD, and only then the case --------------------------------
    await requests.act(
        f"{bel.reference}/BEL", court_action(c.CloseRequest, decided_at=now(), reason="No assets.")
    )
    await until(
        lambda: cases.case_view(order.order_reference),
        lambda v: v.party("BEL").status is RequestStatus.CLOSED,
        "the case learns BEL closed",
    )
    with pytest.raises(
        TracefreezeError, match=re.escape(f"['{nld.reference}/NLD'] are still open")
    ):
        await cases.close_case(order.order_reference, close_case)
    await requests.act(
        nld.reference, court_action(c.CloseRequest, decided_at=now(), reason="Allocated.")
    )
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
    assert final.party_statuses() == {"BEL": RequestStatus.CLOSED, "NLD": RequestStatus.CLOSED}
    total = sum(FROZEN.values())
    assert final.totals["EUR"].forfeited == total
    assert final.totals["EUR"].allocated == total
    assert final.totals["EUR"].frozen == Decimal(0)
    assert (final.party("NLD").assets, final.party("NLD").restrained) == (2, 0)
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
