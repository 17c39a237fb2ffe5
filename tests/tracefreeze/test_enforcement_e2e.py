"""End to end on the real stack (Temporal dev server, Kafka broker, the bridge): the
Presidency's enforcement request (RS 109, Rules 217-218) reaches the State on its channel with
the order it enforces (Rule 218), the State's signed enforcement report travels back over Kafka
(RS 109(1)-(2)), and the Court records the transfer of what the State holds (RS 109(3))
(docs/legal-process.md, 'Enforcement after conviction'). The Court's client that submits an
enforcement request supplementing a protective one signs the Presidency's notice to it, which
the enforcement request relays as signed (Rule 217; review M2, #17)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from schemas.answers import EnforcementReport
from schemas.court import ForfeitureOrder, TransferToCourt
from schemas.ledger import AssetStatus, RequestStatus
from schemas.views import RequestView
from tests.builders import (
    acknowledgement,
    court_action,
    court_request,
    enforcement_request,
    execution_report,
    money,
    now,
    state_answer,
)
from tests.decisions import conviction
from tests.tracefreeze.e2e import Running, on_channel, send_signed, wait_view

pytestmark = pytest.mark.stack

ACCOUNT, APARTMENT = "a-account-1", "a-apartment-1"


async def test_enforcement_request_and_report_over_kafka(running: Running) -> None:
    r, s = running, running.settings
    request = enforcement_request(issued_at=now().isoformat(), supplements=None)
    await r.client.submit(request)
    (transmitted,) = await on_channel(s, "NLD", request.reference, 1)
    assert transmitted.request is not None
    order = transmitted.request.enforcement
    assert order is not None and order.order_reference == "ICC-01/22-388"
    assert order.order == "forfeiture" and order.person_party_id == "p-suspect"

    await send_signed(r, acknowledgement(request, sent_at=now()))
    report = state_answer(
        EnforcementReport,
        request,
        sent_at=now().isoformat(),
        final=True,
        results=[
            {"asset_id": ACCOUNT, "outcome": "forfeited", "amount": money("398214.37")},
            {
                "asset_id": APARTMENT,
                "outcome": "value_recovered",
                "amount": money("640000.00"),
                "reasons": "Sold in good faith before the order; the proceeds were recovered.",
            },
        ],
    )
    await send_signed(r, report)

    def executed(v: RequestView) -> bool:
        return v.status is RequestStatus.EXECUTED

    view = await wait_view(r.client, request.reference, executed)
    assert view.ledger.entries[APARTMENT].recovered is not None
    assert view.ledger.entries[APARTMENT].recovered.amount == Decimal("640000.00")

    # Outside a case the Court records the final conviction the order follows (RS 81(4)),
    # decided before the Presidency's request: a decision in the case may predate the request.
    before = request.issued_at - timedelta(days=30)
    final = conviction(judgment_reference="ICC-01/22-377", decided_at=before)
    await r.client.act(request.reference, final)
    moved = court_action(
        TransferToCourt, asset_id=APARTMENT, amount=money("640000.00"), decided_at=now()
    )
    await r.client.act(request.reference, moved)

    def transferred(v: RequestView) -> bool:
        return v.ledger.entries[APARTMENT].status is AssetStatus.TRANSFERRED

    view = await wait_view(r.client, request.reference, transferred)
    assert view.ledger.entries[ACCOUNT].status is AssetStatus.FORFEITURE_ORDERED


async def test_the_presidencys_request_tells_the_protective_request_it_supplements(
    running: Running,
) -> None:
    """``submit`` signs the Presidency's notice for the protective request (its key, on this
    installation) and starts the enforcement request with it; the protective request verifies
    it and marks the account it holds under the forfeiture order as enforced there (RS 109(3):
    one transfer, recorded on the enforcement request)."""
    r = running
    protective = court_request()
    await r.client.submit(protective)
    await send_signed(r, acknowledgement(protective, sent_at=now()))
    await send_signed(r, execution_report(protective, sent_at=now().isoformat()))

    def frozen(v: RequestView) -> bool:
        return v.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN

    await wait_view(r.client, protective.reference, frozen)
    final = conviction(judgment_reference="ICC-01/22-377", decided_at=now())
    await r.client.act(protective.reference, final)
    order = court_action(
        ForfeitureOrder, order_reference="ICC-01/22-388", asset_ids=[ACCOUNT], decided_at=now()
    )
    await r.client.act(protective.reference, order)
    request = enforcement_request(issued_at=now().isoformat(), supplements=protective.reference)
    await r.client.submit(request)

    def enforced(v: RequestView) -> bool:
        return v.ledger.entries[ACCOUNT].enforced_by == request.reference

    await wait_view(r.client, protective.reference, enforced)
