"""The plain-text timeline and ledger a Registry officer reads in `tracefreeze status`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from schemas.answers import STATE_ANSWER, ExecutionReport
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from schemas.views import RequestView, TimelineEntry
from tracefreeze.report.status import render_view
from workflows.ledger import apply_result, ledger_from_request

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def _load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_render_shows_transmission_ledger_and_totals() -> None:
    request = CourtRequest.model_validate(_load("court-request.json"))
    report = STATE_ANSWER.validate_python(_load("execution-report.json"))
    assert isinstance(report, ExecutionReport)
    ledger = ledger_from_request(request)
    at = datetime(2026, 3, 20, tzinfo=UTC)
    for result in report.results:
        apply_result(ledger, result, report.event_id, at)
    view = RequestView(
        reference=request.reference,
        case_number=request.case_number,
        requested_state=request.requested_state,
        status=RequestStatus.IN_EXECUTION,
        ledger=ledger,
        totals=ledger.totals(),
        timeline=[
            TimelineEntry(
                at=at, event_id=None, what="transmitted", status=RequestStatus.TRANSMITTED
            )
        ],
        answers_seen=1,
    )
    text = render_view(view)
    assert "transmitted" in text
    frozen = [r.asset_id for r in report.results if "freeze" in r.measures_executed]
    for asset_id in frozen:
        line = next(li for li in text.splitlines() if asset_id in li)
        assert "frozen" in line
    total = ledger.totals()["EUR"].frozen
    assert total > Decimal(0)
    assert f"{total:,.2f}" in text
