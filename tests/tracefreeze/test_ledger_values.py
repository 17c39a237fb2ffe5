"""``tracefreeze ledger`` and ``status`` show value as it happens (docs/legal-process.md,
'Value as it happens'): amounts in their currency's ISO 4217 minor units, an asset's
management costs (they reduce what reaches victims, RS 75(2), 79(2)) in its block and in the
totals, and converted totals only at a recorded rate, with the rate and its date. No server."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from schemas.answers import STATE_ANSWER, AssetManagementKind, AssetManagementUpdate
from schemas.common import Money
from schemas.court import ExchangeRate
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from schemas.views import RequestView
from tracefreeze.report.status import render_asset_ledger, render_view
from workflows.asset_rules import apply_management
from workflows.carry import RequestCarry
from workflows.ledger import apply_result, ledger_from_request
from workflows.valuation_rules import apply_exchange_rate

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
AT = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 4, 2, 15, 30, tzinfo=UTC)


def _view(*, with_rate: bool) -> RequestView:
    request = CourtRequest.model_validate(
        json.loads((EXAMPLES / "court-request.json").read_text(encoding="utf-8"))
    )
    report = STATE_ANSWER.validate_python(
        json.loads((EXAMPLES / "execution-report.json").read_text(encoding="utf-8"))
    )
    record = RequestCarry(
        status=RequestStatus.IN_EXECUTION,
        ledger=ledger_from_request(request),
        timeline=[],
        seen_event_ids=[],
    )
    for result in report.results:
        apply_result(record.ledger, result, report.event_id, AT)
    common = {"request_reference": request.reference, "state": "NLD", "sent_at": LATER}
    apply_management(
        record,
        request,
        AssetManagementUpdate(
            **common,
            event_id="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c61",
            asset_id="a-account-1",
            kind=AssetManagementKind.VALUATION,
            value=Money(amount=Decimal("2082145.125"), currency="LYD"),
            costs=Money(amount=Decimal("700000.00"), currency="EUR"),
            asset_manager="Libyan Asset Recovery Office",
        ),
        LATER,
    )
    if with_rate:
        apply_exchange_rate(
            record,
            request,
            ExchangeRate(
                event_id="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c62",
                decided_by="Registry",
                decided_at=LATER,
                from_currency="LYD",
                to_currency="EUR",
                rate="0.1912",
                rate_date=date(2026, 3, 2),
                source="Central Bank of Libya",
            ),
            LATER,
        )
    return RequestView(
        reference=request.reference,
        case_number=request.case_number,
        requested_state="NLD",
        status=record.status,
        ledger=record.ledger,
        totals=record.ledger.totals(),
        converted_totals=record.ledger.converted_totals(),
        timeline=[],
        answers_seen=2,
    )


def test_ledger_shows_local_currency_in_its_minor_units_and_the_management_costs() -> None:
    text = render_asset_ledger(_view(with_rate=False))
    account = text[text.index("Asset a-account-1 ") :]
    account = account[: account.index("\n\n")]
    assert "value: 2,082,145.125 LYD (as of 2026-04-02)" in account  # three decimals, dated
    assert "management costs so far: 700,000.00 EUR" in account
    totals = text[text.index("Totals") :]
    assert "management_costs" in totals
    lyd = next(line for line in totals.splitlines() if line.startswith("LYD"))
    assert "2,082,145.125" in lyd
    eur = next(line for line in totals.splitlines() if line.startswith("EUR"))
    assert "700,000.00" in eur
    assert "Converted" not in text  # no rate recorded: nothing converted


def test_converted_totals_only_with_the_recorded_rate_and_its_date() -> None:
    for text in (render_asset_ledger(_view(with_rate=True)), render_view(_view(with_rate=True))):
        converted = text[text.index("Converted at recorded rates") :]
        row = next(line for line in converted.splitlines() if line.startswith("LYD -> EUR"))
        assert "0.1912" in row and "2026-03-02" in row and "Central Bank of Libya" in row
        assert "398,106.15" in row  # 2,082,145.125 LYD x 0.1912
