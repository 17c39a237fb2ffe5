"""The cooperation report at every size, for circulation: the PDF beside the HTML (one
request, many, 150 States), withholding what the HTML withholds (RS 87(3), Rule 99(2)); the
Assembly's "outstanding by age" (seed para 28 of ICC-ASP/14/Res.3); time axes in the units
of the figures, and no chart of one point."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

from schemas.common import Confidentiality
from schemas.ledger import CurrencyTotals
from schemas.views import ReportMemo
from tests.tracefreeze.report_support import pdf_text
from tracefreeze.report.cooperation import CooperationReport, RequestFacts, aggregate, year_query
from tracefreeze.report.disclosure import WITHHELD
from tracefreeze.report.plots import time_to_acknowledgement
from tracefreeze.report.published import publish
from tracefreeze.report.render import write_report

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PUBLIC, CONFIDENTIAL = Confidentiality.PUBLIC, Confidentiality.CONFIDENTIAL
_n = iter(range(1, 10**9))


def request(
    state: str = "NLD",
    conf: Confidentiality = PUBLIC,
    *,
    age_days: float = 1.0,
    ack_s: float | None = None,
    eur: str | None = None,
    running: bool = True,
) -> RequestFacts:
    started = NOW - timedelta(days=age_days)
    totals = {}
    if eur is not None:
        totals["EUR"] = CurrencyTotals(identified=Decimal(eur), frozen=Decimal(eur))
    return RequestFacts(
        workflow_id=f"request/ICC-R-{next(_n):06d}/{state}",
        state=state,
        started_at=started,
        running=running,
        status="transmitted",
        memo=ReportMemo(
            confidentiality=conf,
            totals=totals,
            acknowledged_at=None if ack_s is None else started + timedelta(seconds=ack_s),
        ),
    )


def report(facts: list[RequestFacts]) -> CooperationReport:
    return aggregate(2026, facts, year_query(2026), NOW)


def html_text(path: Path) -> str:
    """The HTML page's visible text (tags and the inline images gone)."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)
    return html.unescape(page)


def test_one_request_renders_html_and_pdf_with_no_chart_of_one_point(tmp_path: Path) -> None:
    paths = write_report(report([request(ack_s=7200, eur="1000.50")]), tmp_path)
    assert paths["pdf"].name == "cooperation-report-2026.pdf"
    assert paths["pdf"].read_bytes().startswith(b"%PDF")
    text = pdf_text(paths["pdf"])
    for title in ("Requests per State", "Requests outstanding, by age", "Assets released"):
        assert title in text and title in html_text(paths["html"])
    assert "1,000.50" in text and "2h 00m" in text
    # A header as a person writes it, never a field name with its underscore.
    assert "Management costs" in html_text(paths["html"]) and "Management_" not in text
    # One measured time is a table cell, not a chart on an axis of millionths of a day.
    assert time_to_acknowledgement(publish(report([request(ack_s=7200)]))) is None
    assert "Time to acknowledgement: too few figures for a chart" in text
    assert not any("e-0" in line for line in text.splitlines())


def test_many_requests_and_150_states_render_every_plot_on_its_page(tmp_path: Path) -> None:
    facts = [
        request(f"S{i:03d}", age_days=1 + i, ack_s=3600.0 * (1 + i % 7), eur="10.00")
        for i in range(150)
    ]
    paths = write_report(report(facts), tmp_path)
    reader = PdfReader(paths["pdf"])
    assert len(reader.pages) > 3
    images = sum(len(page.images) for page in reader.pages)
    pngs = [p for p in paths.values() if p.suffix == ".png"]
    # A plot of 150 rows runs over pages in slices at a readable width, like its table.
    assert images > len(pngs) == 3
    text = pdf_text(paths["pdf"])
    assert "S000" in text and "S149" in text and "All States" in text
    # The heading row repeats on every page the table runs over.
    assert text.count("Median to ack.") > 1


def test_the_pdf_withholds_what_the_html_withholds(tmp_path: Path) -> None:
    """Six public DEU requests beside two confidential BEL ones (value 4,242.42) and three
    confidential KEN ones: BEL and KEN merged and withheld (5 confidential in all, but the
    merge shows at most what the HTML shows); the PDF's withheld cells are the HTML's."""
    facts = [request("DEU", eur="1.00", age_days=3) for _ in range(6)]
    facts += [request("BEL", CONFIDENTIAL, eur="4242.42", age_days=400) for _ in range(2)]
    facts += [request("KEN", CONFIDENTIAL, eur="9.00", age_days=100) for _ in range(2)]
    paths = write_report(report(facts), tmp_path)
    page, text = html_text(paths["html"]), pdf_text(paths["pdf"])
    assert page.count(WITHHELD) == text.count(WITHHELD) > 0
    for hidden in ("4,242.42", "8,484.84", "BEL", "KEN"):
        assert hidden not in page and hidden not in text, hidden
    assert "DEU" in page and "DEU" in text


def test_outstanding_requests_by_age() -> None:
    facts = [request(age_days=d) for d in (2, 10, 45, 45, 200, 400, 800)]
    facts += [request(age_days=500, running=False)]  # ended: not outstanding
    facts += [request(age_days=3, ack_s=60)]
    rows = publish(report(facts)).table("outstanding_by_age").rows
    assert rows == (
        ("under 30 days", "3", "1", "0"),
        ("30 to 89 days", "2", "0", "0"),
        ("180 to 364 days", "1", "0", "0"),
        ("a year or more", "2", "0", "0"),
        ("All outstanding", "8", "1", "0"),
    )


def test_confidential_outstanding_requests_are_merged_by_age() -> None:
    """Two confidential requests a year old would be a row of two: merged, and then the
    youngest band with them, so neither can be computed from the total."""
    facts = [request(conf=CONFIDENTIAL, age_days=5) for _ in range(6)]
    facts += [request(conf=CONFIDENTIAL, age_days=400) for _ in range(2)]
    rows = publish(report(facts)).table("outstanding_by_age").rows
    assert rows == (
        ("Other age bands (2, merged)", "8", "0", "0"),
        ("All outstanding", "8", "0", "0"),
    )
