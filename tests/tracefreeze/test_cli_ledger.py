"""``tracefreeze ledger`` rendering and ``tracefreeze act`` input checks: no server needed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from schemas.answers import (
    STATE_ANSWER,
    AssetManagementKind,
    AssetManagementUpdate,
    ExecutionReport,
    ThirdPartyClaim,
)
from schemas.common import Money
from schemas.ledger import Contest, RequestStatus
from schemas.request import CourtRequest
from schemas.views import RequestView
from tracefreeze.cli.court import ACTION_MODELS
from tracefreeze.cli.main import main
from tracefreeze.client import COURT_UPDATES
from tracefreeze.demo.simulator import check_script
from tracefreeze.errors import TracefreezeError
from tracefreeze.report.status import render_asset_ledger
from workflows.asset_rules import apply_contest, apply_management
from workflows.carry import RequestCarry
from workflows.catalog import COURT_ACTIONS
from workflows.ledger import apply_result, ledger_from_request

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
AT = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 4, 2, 15, 30, tzinfo=UTC)


def _load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _contested_view() -> RequestView:
    """The example request after its first execution report, a valuation and a claim."""
    request = CourtRequest.model_validate(_load("court-request.json"))
    report = STATE_ANSWER.validate_python(_load("execution-report.json"))
    assert isinstance(report, ExecutionReport)
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
            event_id="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c41",
            asset_id="a-apartment-1",
            kind=AssetManagementKind.VALUATION,
            value=Money(amount=Decimal("842000.00"), currency="EUR"),
            asset_manager="Asset Management Office",
        ),
        LATER,
    )
    apply_contest(
        record,
        request,
        ThirdPartyClaim(
            **common,
            event_id="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c42",
            claim_id="claim-apartment-1",
            asset_id="a-apartment-1",
            claimant="Fictional Harbour Lettings B.V.",
            basis="Bought in good faith",
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
        timeline=[],
        answers_seen=3,
    )


def _block(text: str, asset_id: str) -> str:
    """The lines of one asset's block in the rendering."""
    start = text.index(f"Asset {asset_id} ")
    end = text.find("\n\n", start)
    return text[start : end if end >= 0 else None]


def test_ledger_shows_history_contested_flag_holder_and_totals() -> None:
    view = _contested_view()
    text = render_asset_ledger(view)
    apartment = _block(text, "a-apartment-1")
    assert "status: frozen   contested: yes" in apartment
    assert (
        "executing authority" in apartment and "asset manager Asset Management Office" in apartment
    )
    assert "value: 842,000.00 EUR" in apartment
    assert "third party claim claim-apartment-1: pending" in apartment
    history = [line for line in apartment.splitlines() if line.startswith("    2026-")]
    assert len(history) == 2  # frozen by the report, then the valuation
    assert "2026-03-20 10:00:00 UTC" in history[0] and "frozen" in history[0]
    assert "842,000.00 EUR" in history[1] and "valuation by Asset Management Office" in history[1]

    account = _block(text, "a-account-1")
    assert "contested: no" in account
    totals = text[text.index("Totals") :]
    for column in ("identified", "frozen", "seized", "forfeited", "released", "allocated"):
        assert column in totals
    assert f"{view.totals['EUR'].frozen:,.2f}" in totals


def _act(tmp_path: Path, action: str, doc: object) -> tuple[int, str]:
    path = tmp_path / "action.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(main, ["act", "ICC-01/22-REQ-0007", action, str(path)])
    return result.exit_code, result.output


def test_act_with_an_invalid_file_lists_field_errors_and_exits_2(tmp_path: Path) -> None:
    doc = {
        "decided_by": "Presidency",
        "asset_id": "A Apartment",
        "shares": [{"destination": "reparations", "amount": {"amount": "-5", "currency": "EUR"}}],
    }
    code, output = _act(tmp_path, "allocation", doc)
    assert code == 2
    assert "the allocation action is invalid" in output
    assert "asset_id: String should match pattern" in output
    assert "shares.0.amount.amount: Value error, an amount is a plain decimal string" in output
    assert "event_id" not in output and "decided_at" not in output  # filled by the CLI
    assert "Traceback" not in output


def test_act_with_a_cross_field_error_and_with_no_json_exits_2(tmp_path: Path) -> None:
    code, output = _act(
        tmp_path,
        "consultation_response",
        {"decided_by": "Pre-Trial Chamber II", "resolution": "request_modified"},
    )
    assert code == 2
    assert "modified_request: a modification carries the new version" in output
    code, output = _act(tmp_path, "close", "{not json")
    assert code == 2 and "not valid JSON" in output


def test_every_court_action_has_a_contract_and_an_update() -> None:
    assert set(ACTION_MODELS) == set(COURT_ACTIONS)
    assert set(ACTION_MODELS.values()) == set(COURT_UPDATES)


@pytest.mark.parametrize("script", ["postpone-94", "no-assets", "claim:a-apartment-1"])
def test_simulator_scripts(script: str) -> None:
    check_script(script)


@pytest.mark.parametrize("script", ["claim:", "claim:A Apartment", "postpone-95"])
def test_simulator_refuses_unknown_scripts(script: str) -> None:
    with pytest.raises(TracefreezeError, match="unknown script"):
        check_script(script)


def test_ledger_shows_what_awaits_the_court_and_what_is_unallocated() -> None:
    """What a Registry officer reads on one asset: a domestic remedy upheld and before the
    Chamber (nothing released on the State's report), a Rule 99(3) modification with its
    terms, and the value still to allocate (Rule 221, amount by amount)."""
    view = _contested_view()
    apartment = view.ledger.entries["a-apartment-1"]
    apartment.contests.append(
        Contest(
            contest_id="ch-1",
            kind="domestic_challenge",
            lodged_by_event="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c43",
            pending=False,
            outcome="upheld",
            awaits_court=True,
        )
    )
    apartment.rule99_modifications = ["Frozen up to EUR 500,000 only."]
    account = view.ledger.entries["a-account-1"]
    account.unallocated = Money(amount=Decimal("98000.00"), currency="EUR")
    text = render_asset_ledger(view)
    block = _block(text, "a-apartment-1")
    assert "status: frozen" in block
    assert "domestic challenge ch-1: upheld (before the Chamber: awaits the Court's decision)" in (
        block
    )
    assert "measure modified (Rule 99(3)): Frozen up to EUR 500,000 only." in block
    assert "still unallocated: 98,000.00 EUR" in _block(text, "a-account-1")
