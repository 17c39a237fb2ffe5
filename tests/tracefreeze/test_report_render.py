"""Cooperation report without a server: statistics, aggregation, Markdown, HTML, JSON, files.

The requests here are public (``Confidentiality.PUBLIC``): what the report withholds of
confidential and ex parte ones is tested in ``test_report_disclosure.py``."""

from __future__ import annotations

import io
import json
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from schemas.common import Confidentiality
from schemas.ledger import CurrencyTotals
from schemas.views import ReportMemo
from tracefreeze.cli.main import main
from tracefreeze.report.cooperation import (
    CooperationReport,
    Progress,
    RequestFacts,
    aggregate,
    decode_memo,
    format_duration,
    median,
    merge_runs,
    p90,
    quantile,
    year_query,
)
from tracefreeze.report.published import publish
from tracefreeze.report.render import render_html, render_markdown, write_report

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HOUR = 3600.0
PNG = b"\x89PNG\r\n\x1a\n"


def test_median_and_p90_of_known_inputs() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert p90([float(x) for x in range(1, 11)]) == pytest.approx(9.1)
    assert p90([10.0]) == 10.0
    assert median([]) is None and p90([]) is None
    data = [5.0, 1.0, 9.0, 7.0, 2.0, 8.0]
    assert p90(data) == pytest.approx(statistics.quantiles(data, n=10, method="inclusive")[8])
    assert quantile(data, 0) == 1.0 and quantile(data, 1) == 9.0
    with pytest.raises(ValueError):
        quantile(data, 1.5)


def test_format_duration() -> None:
    assert format_duration(None) == "-"
    assert format_duration(0.84) == "0.8s"
    assert format_duration(250) == "4m 10s"
    assert format_duration(2 * HOUR + 300) == "2h 05m"
    assert format_duration(3 * 24 * HOUR + 4 * HOUR) == "3d 4h"


def test_year_query_is_one_listing_with_an_optional_filter() -> None:
    assert year_query(2026) == (
        'WorkflowType = "RequestWorkflow" AND StartTime >= "2026-01-01T00:00:00Z" '
        'AND StartTime < "2027-01-01T00:00:00Z"'
    )
    assert year_query(2026, 'CaseNumber = "ICC-09/26"').endswith(' AND (CaseNumber = "ICC-09/26")')


def test_decode_memo_tolerates_absence_and_new_keys() -> None:
    assert decode_memo(None) == ReportMemo()
    memo = decode_memo({"max_escalation_level": 2, "added_later": "x"})
    assert memo.max_escalation_level == 2


def facts(
    state: str,
    *,
    ack_h: float | None = None,
    end_h: float | None = None,
    running: bool = True,
    status: str | None = "transmitted",
    level: int = 0,
    sa_level: int = 0,
    eur_frozen: str | None = None,
    started: datetime = T0,
) -> RequestFacts:
    totals = {}
    if eur_frozen is not None:
        amount = Decimal(eur_frozen)
        totals["EUR"] = CurrencyTotals(identified=amount, frozen=amount)
    memo = ReportMemo(
        acknowledged_at=None if ack_h is None else started + timedelta(hours=ack_h),
        ended_at=None if end_h is None else started + timedelta(hours=end_h),
        max_escalation_level=level,
        totals=totals,
        confidentiality=Confidentiality.PUBLIC,
    )
    return RequestFacts(
        workflow_id=f"request/R-{state}-{ack_h}-{end_h}-{level}/{state}",
        state=state,
        started_at=started,
        running=running,
        status=status,
        memo=memo,
        escalation_level=sa_level,
    )


def hand_built() -> CooperationReport:
    seeded = [
        facts("NLD", ack_h=1, end_h=10, eur_frozen="1000.50", status="executed"),
        facts("NLD", ack_h=3, end_h=None, eur_frozen="250.00", status="in_execution"),
        facts("NLD"),
        facts("BEL", ack_h=2, end_h=5, status="no_assets"),
        facts("BEL", level=1),
        facts("DEU", sa_level=2),
        facts("DEU", ack_h=4, end_h=4, status="closed", running=False),
    ]
    seeded[2].memo.totals["USD"] = CurrencyTotals(identified=Decimal("99.99"))
    return aggregate(2026, seeded, year_query(2026), now=T0)


def test_aggregate_counts_per_state() -> None:
    report = hand_built()
    by_state = {s.state: s for s in report.states}
    assert list(by_state) == ["BEL", "DEU", "NLD"]
    nld, bel, deu = by_state["NLD"], by_state["BEL"], by_state["DEU"]
    assert (nld.sent, nld.answered, nld.outstanding, nld.escalated) == (3, 2, 2, 0)
    assert nld.answered_outstanding == 1
    assert (bel.sent, bel.answered, bel.outstanding, bel.escalated) == (2, 1, 1, 1)
    assert (deu.sent, deu.answered, deu.outstanding, deu.escalated) == (2, 1, 1, 1)
    assert nld.to_acknowledgement.median == 2 * HOUR
    assert nld.to_acknowledgement.p90 == pytest.approx(2.8 * HOUR)
    assert nld.to_execution_end.seconds == (10 * HOUR,)
    assert nld.totals["EUR"].frozen == Decimal("1250.50")
    assert report.totals["USD"].identified == Decimal("99.99")
    assert (report.sent, report.answered, report.outstanding, report.escalated) == (7, 4, 4, 2)


def test_runs_of_one_request_are_merged() -> None:
    first = facts("NLD", running=False, started=T0)
    latest = facts("NLD", ack_h=1, started=T0 + timedelta(days=2))
    merged = merge_runs([latest, first])
    assert merged.started_at == T0 and merged.running and merged.answered


def test_markdown_rows() -> None:
    md = render_markdown(publish(hand_built()), {"requests-per-state": "r.png"})
    assert md.startswith("# Cooperation report 2026\n")
    assert "| NLD | 3 | 2 | 2 | 0 | 2h 00m | 2h 48m | - | - | 10h 00m | 10h 00m |" in md
    assert "| BEL | 2 | 1 | 1 | 1 | 2h 00m | 2h 00m | - | - | 5h 00m | 5h 00m |" in md
    assert "| All States | 7 | 4 | 4 | 2 | 2h 30m | 3h 42m | - | - | 5h 00m | 9h 00m |" in md
    assert "| NLD | EUR | 1,250.50 | 1,250.50 | 0.00 | 0.00 | 0.00 | 0.00 |" in md
    assert "| All States | USD | 99.99 |" in md
    assert "![Requests per State](r.png)" in md


def test_html_is_self_contained_and_escaped() -> None:
    html = render_html(publish(hand_built()), {"requests-per-state": PNG})
    assert html.count('<img alt="Requests per State" src="data:image/png;base64,') == 1
    assert "<td>NLD</td><td>3</td><td>2</td><td>2</td>" in html
    assert "<style>" in html and "http" not in html.replace("lang=", "")
    assert "<script" not in html


def test_write_report_files_with_real_plots(tmp_path: Path) -> None:
    paths = write_report(hand_built(), tmp_path / "out")
    assert paths["markdown"].name == "cooperation-report-2026.md"
    assert paths["html"].name == "cooperation-report-2026.html"
    assert paths["json"].name == "cooperation-report-2026.json"
    pngs = sorted(p.name for k, p in paths.items() if p.suffix == ".png")
    # Four acknowledgements are too few for a chart of times: the table has them.
    assert pngs == [
        "cooperation-report-2026-requests-per-state.png",
        "cooperation-report-2026-value-per-status.png",
    ]
    for name in pngs:
        assert (tmp_path / "out" / name).read_bytes().startswith(PNG)
    assert paths["html"].read_text(encoding="utf-8").count("data:image/png;base64,") == 2
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "Time to acknowledgement: too few figures for a chart" in md
    document = json.loads(paths["json"].read_text(encoding="utf-8"))
    states = next(t for t in document["tables"] if t["key"] == "requests_per_state")
    assert states["rows"][-1][:5] == ["All States", "7", "4", "4", "2"]


def test_empty_year_renders(tmp_path: Path) -> None:
    paths = write_report(aggregate(2025, [], year_query(2025), now=T0), tmp_path)
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "0 sent" in md and "No valued asset." in md


def test_progress_counter() -> None:
    out = io.StringIO()
    bar = Progress(4, out)
    for _ in range(4):
        bar.advance()
    bar.close()
    assert "\r" in out.getvalue() and "4/4 (100%)" in out.getvalue()
    assert out.getvalue().endswith("\n")


def test_cli_registers_report() -> None:
    result = CliRunner().invoke(main, ["report", "--help"])
    assert result.exit_code == 0, result.output
    assert "--year" in result.output and "--no-progress" in result.output
