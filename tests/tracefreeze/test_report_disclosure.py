"""What the cooperation report (seed para 28) may disclose: confidential requests (RS 87(3))
only in figures over at least ``min_group`` of them, ex parte requests (Rule 99(2)) in no
table, plot or total; the same in every output (Markdown, HTML, JSON, PNG). The Assembly's
questions (party kind, legal basis, Defence requests under RS 57(3)(b), completeness
overrides under RS 96(2) and Rule 176(2), releases after acquittal) and plots that read for
one request as for thousands. Constructed data only; no server."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from pydantic import ValidationError

from schemas.common import Confidentiality, LegalBasis, Money, Origin
from schemas.completeness import CompletenessOverride, Finding, FindingKind
from schemas.ledger import AssetStatus, CurrencyTotals, Ledger, LedgerEntry, RequestStatus
from schemas.policy import PartyKind
from schemas.request import OPAQUE_ID_PREFIX
from schemas.views import ReleaseTally, ReportMemo
from tests.builders import court_request
from tests.tracefreeze.report_support import pdf_text
from tracefreeze.config import Settings
from tracefreeze.report.cooperation import RequestFacts, aggregate, year_query
from tracefreeze.report.disclosure import WITHHELD, partition, protected_count, safe
from tracefreeze.report.plots import (
    time_to_acknowledgement,
    time_unit,
    upper_limit,
    value_per_status,
)
from tracefreeze.report.published import PLOT_MIN_POINTS, publish
from tracefreeze.report.render import write_report
from tracefreeze.report.table import NOT_RECORDED_YET
from workflows.carry import RequestCarry
from workflows.request_publishing import report_memo

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PUBLIC, CONFIDENTIAL, EX_PARTE = (
    Confidentiality.PUBLIC,
    Confidentiality.CONFIDENTIAL,
    Confidentiality.EX_PARTE,
)
_ids = iter(range(1, 10**9))


def request(
    state: str = "NLD",
    conf: Confidentiality | None = PUBLIC,
    *,
    eur: str | None = None,
    currency: str = "EUR",
    ack_s: float | None = None,
    first_report_s: float | None = None,
    **memo: object,
) -> RequestFacts:
    n = next(_ids)
    totals = {}
    if eur is not None:
        amount = Decimal(eur)
        totals[currency] = CurrencyTotals(identified=amount, frozen=amount)

    def at(s: float | None) -> datetime | None:
        return None if s is None else T0 + timedelta(seconds=s)

    workflow_id = (
        f"{OPAQUE_ID_PREFIX}{n:032x}" if conf is EX_PARTE else f"request/ICC-R-{n:06d}/{state}"
    )
    return RequestFacts(
        workflow_id=workflow_id,
        # What facts_of makes of an opaque id: its tail, never a State.
        state=workflow_id.rsplit("/", 1)[-1] if conf is EX_PARTE else state,
        started_at=T0,
        running=True,
        status="transmitted",
        memo=ReportMemo(
            confidentiality=conf,
            totals=totals,
            acknowledged_at=at(ack_s),
            first_report_at=at(first_report_s),
            **memo,  # type: ignore[arg-type]
        ),
    )


def outputs(tmp_path: Path, facts: list[RequestFacts], min_group: int = 5) -> dict[str, str]:
    """Every text output of the report (the PDF's text as a reader copies it), and the names
    of the PNGs written."""
    paths = write_report(aggregate(2026, facts, year_query(2026), T0, min_group), tmp_path)
    texts = {
        k: p.read_text(encoding="utf-8")
        for k, p in paths.items()
        if p.suffix not in (".png", ".pdf")
    }
    texts["pdf"] = pdf_text(paths["pdf"])
    texts["png"] = " ".join(sorted(k for k, p in paths.items() if p.suffix == ".png"))
    return texts


def table(facts: list[RequestFacts], key: str, min_group: int = 5) -> list[tuple[str, ...]]:
    return list(publish(aggregate(2026, facts, "", T0, min_group)).table(key).rows)


# --- the rule -----------------------------------------------------------------------------


def test_partition_merges_small_groups_and_then_the_smallest_shown_one() -> None:
    """Primary suppression: BEL (2 protected) goes to "other". Secondary: "other" alone (2)
    could be read as total minus the shown rows, so the shown row with the fewest protected
    (DEU, 6) joins it; NLD stays. FRA has no protected member: shown whatever its size."""
    protected = {"p"}
    groups = {
        "NLD": ["p"] * 30,
        "DEU": ["p"] * 6 + ["o"],
        "BEL": ["p", "p", "o"],
        "FRA": ["o"],
    }
    part = partition(groups, lambda m: m in protected, 5)
    assert [k for k, _ in part.shown] == ["FRA", "NLD"]
    assert part.other_groups == 2 and len(part.other) == 10 and part.other_shown
    assert part.total_shown and len(part.total) == 41


def test_partition_withholds_other_and_total_when_too_few_in_all() -> None:
    groups = {"NLD": ["p", "p"], "BEL": ["o", "o", "o"], "DEU": ["p"]}
    part = partition(groups, lambda m: m == "p", 5)
    assert [k for k, _ in part.shown] == ["BEL"]
    assert part.other_groups == 2 and not part.other_shown and not part.total_shown


@pytest.mark.parametrize("seed", range(25))
def test_every_figure_shown_covers_none_or_enough_protected(seed: int) -> None:
    """Random mixes: each shown row, the other row and the total are safe, and total minus
    the shown rows (what a reader can compute) is the other row, itself safe or withheld
    together with the total."""
    rng = random.Random(seed)
    k = rng.randint(2, 7)
    groups = {f"S{i}": [rng.random() < 0.6 for _ in range(rng.randint(0, 12))] for i in range(8)}
    part = partition(groups, bool, k)
    for _, members in part.shown:
        assert safe(members, bool, k)
    assert sum(len(m) for _, m in part.shown) + len(part.other) == len(part.total)
    if part.total_shown:
        assert part.other_shown
    if not part.other_shown:
        assert all(sum(m) == 0 for _, m in part.shown)
        assert not part.total_shown


def test_a_threshold_of_one_is_refused() -> None:
    with pytest.raises(ValueError, match="single confidential request"):
        aggregate(2026, [], "", T0, min_group=1)
    with pytest.raises(ValidationError):
        Settings(report_min_group=1)
    assert Settings().report_min_group == 5
    assert Settings(report_min_group=12).report_min_group == 12


def test_protected_count_never_says_none() -> None:
    assert protected_count(0, 5) == protected_count(4, 5) == "fewer than 5"
    assert protected_count(5, 5) == "5"


# --- one request, many, mixes --------------------------------------------------------------


def test_one_public_request_is_shown_in_full_as_tables(tmp_path: Path) -> None:
    out = outputs(tmp_path, [request("NLD", eur="1000.50", ack_s=0.08)])
    md = out["markdown"]
    assert "| NLD | 1 | 1 | 1 | 0 | 0.1s | 0.1s | - | - | - | - |" in md
    assert "| NLD | EUR | 1,000.50 | 1,000.50 |" in md
    # One State, one measured time: no bar or time chart, the table says it.
    assert out["png"] == "value-per-status"
    assert "Time to acknowledgement: too few figures for a chart" in md
    assert "Requests per State: too few figures for a chart" in md


def test_one_confidential_request_shows_nowhere(tmp_path: Path) -> None:
    """RS 87(3): a year of one confidential request discloses no figure of it: not its
    value, not its time, not even its State's count."""
    out = outputs(tmp_path, [request("NLD", CONFIDENTIAL, eur="123456.78", ack_s=7200)])
    for kind, text in out.items():
        assert "123,456.78" not in text and "123456.78" not in text, kind
        assert "| NLD" not in text and '"NLD"' not in text, kind
        assert "2h 00m" not in text, kind
    assert out["png"] == ""
    assert f"| All States | EUR | {WITHHELD} |" in out["markdown"]
    assert "figures withheld (fewer than 5 confidential requests)" in out["markdown"]


def test_a_memo_without_confidentiality_is_read_as_confidential(tmp_path: Path) -> None:
    out = outputs(tmp_path, [request("NLD", None, eur="55.00")])
    assert "55.00" not in out["markdown"] and "55.00" not in out["json"]


def test_ex_parte_requests_are_in_no_output(tmp_path: Path) -> None:
    """Rule 99(2): beside six public requests, six ex parte ones with their values: no row
    (the old report made one per opaque id, with its value), no total, no plot shows them;
    the report gives only their number."""
    public = [request("NLD", eur="100.00", ack_s=3600 * (i + 1)) for i in range(6)]
    hidden = [request(conf=EX_PARTE, eur=f"98765{i}.43", ack_s=60) for i in range(6)]
    out = outputs(tmp_path, public + hidden)
    for kind, text in out.items():
        assert "98765" not in text and "987,65" not in text, kind
        assert all(h.state not in text for h in hidden), kind
    md = out["markdown"]
    assert "| All States | EUR | 600.00 | 600.00 |" in md
    assert "| All States | 6 | 6 | 6 | 0 |" in md
    assert "Ex parte requests (Rule 99(2)), left out of every table: 6." in md
    assert json.loads(out["json"])["ex_parte_requests"] == "6"


def test_an_opaque_id_is_ex_parte_whatever_its_memo_says() -> None:
    facts = request(conf=EX_PARTE)
    lying = RequestFacts(**{**facts.__dict__, "memo": ReportMemo(confidentiality=PUBLIC)})
    assert lying.ex_parte and lying.protected
    assert aggregate(2026, [lying], "", T0).states == ()


def test_confidential_mix_many_requests(tmp_path: Path) -> None:
    """3,000 confidential requests to NLD, 40 public to DEU, 4 confidential to BEL (one in
    CHF), 2 confidential to KEN: BEL and KEN are merged into "Other States" (6 there, 5 in
    EUR); BEL's one CHF request is never shown, nor its State."""
    facts = [request("NLD", CONFIDENTIAL, eur="10.00", ack_s=86_400) for _ in range(3000)]
    facts += [request("DEU", eur="1.00", ack_s=3 * 86_400) for _ in range(40)]
    facts += [request("BEL", CONFIDENTIAL, eur="7.00") for _ in range(3)]
    facts += [request("BEL", CONFIDENTIAL, eur="4242.42", currency="CHF")]
    facts += [request("KEN", CONFIDENTIAL, eur="9.00") for _ in range(2)]
    out = outputs(tmp_path, facts)
    md = out["markdown"]
    assert "| NLD | 3000 |" in md and "| DEU | 40 |" in md
    assert "| BEL" not in md and "| KEN" not in md
    assert "| Other States (2, merged) | 6 |" in md
    assert "| All States | 3046 |" in md
    assert "Other (merged): rows that alone would cover fewer than 5 confidential" in md
    assert "| NLD | EUR | 30,000.00 |" in md and "| DEU | EUR | 40.00 |" in md
    assert "| Other States (2, merged) | EUR | 39.00 |" in md
    assert "4,242.42" not in md and "4242.42" not in out["json"]
    assert f"| All States | CHF | {WITHHELD} |" in md
    assert out["png"] == "requests-per-state time-to-acknowledgement value-per-status"


def test_secondary_suppression_hides_the_smallest_shown_state() -> None:
    """Four confidential EUR requests outside NLD: shown alone as "Other", NLD's row and the
    total would give them away by subtraction, so NLD joins them."""
    facts = [request("NLD", CONFIDENTIAL, eur="10.00") for _ in range(6)]
    facts += [request("BEL", CONFIDENTIAL, eur="7.00") for _ in range(4)]
    rows = table(facts, "values")
    assert [r[0] for r in rows] == [
        "Other States (2, merged)",
        "All States",
    ]
    assert rows[0][2] == rows[1][2] == "88.00"


def test_a_smaller_threshold_from_settings_shows_smaller_groups(tmp_path: Path) -> None:
    facts = [request("BEL", CONFIDENTIAL, eur="7.00") for _ in range(3)]
    assert "| BEL | EUR | 21.00 |" in outputs(tmp_path / "3", facts, min_group=3)["markdown"]
    assert "| BEL | EUR" not in outputs(tmp_path / "5", facts, min_group=5)["markdown"]


# --- what the Assembly asks about ----------------------------------------------------------


def test_requests_by_party_kind_legal_basis_and_origin() -> None:
    facts = [
        request("NLD", party_kind=PartyKind.STATE_PARTY, legal_basis=LegalBasis.RS_93_1_K)
        for _ in range(3)
    ]
    facts += [
        request(
            "UNO",
            party_kind=PartyKind.INTERNATIONAL_ORGANISATION,
            legal_basis=LegalBasis.RS_57_3_B,
            origin=Origin.DEFENCE,
        )
    ]
    facts += [request("BEL", legal_basis=LegalBasis.RS_57_3_B)]  # origin not in its memo
    kinds = table(facts, "by_party_kind")
    assert ("State Party (RS 86)", "3", "0", "3", "0") in kinds
    assert ("international organisation (RS 87(6))", "1", "0", "1", "0") in kinds
    assert ("not recorded", "1", "0", "1", "0") in kinds
    bases = table(facts, "by_legal_basis")
    assert ("RS 57(3)(b)", "2", "0", "2", "0") in bases
    assert ("RS 93(1)(k)", "3", "0", "3", "0") in bases
    origins = table(facts, "by_origin")
    assert ("Defence (RS 57(3)(b))", "2", "0", "2", "0") in origins
    assert origins[-1] == ("All", "5", "0", "5", "0")


def test_requests_by_furthest_step_findings_among_them() -> None:
    facts = [request("NLD") for _ in range(2)]
    facts += [request("BEL", max_escalation_level=4)]
    facts += [request("FRA", max_escalation_level=1) for _ in range(3)]
    rows = table(facts, "by_escalation")
    assert ("0: none", "2", "0", "2", "0") in rows
    assert ("1: reminder to the focal point (seed para 9)", "3", "0", "3", "3") in rows
    finding = next(r for r in rows if r[0].startswith("4: finding of non-compliance (RS 87(7))"))
    assert finding[1:] == ("1", "0", "1", "1")


def test_one_confidential_defence_request_is_not_singled_out() -> None:
    facts = [request("NLD", CONFIDENTIAL, origin=Origin.CHAMBER) for _ in range(9)]
    facts += [request("NLD", CONFIDENTIAL, origin=Origin.DEFENCE)]
    origins = table(facts, "by_origin")
    assert not any(row[0].startswith("Defence") for row in origins)
    assert origins[0] == ("Other groups (2, merged)", "10", "0", "10", "0")


def override(*articles: str) -> CompletenessOverride:
    return CompletenessOverride(
        by="Registrar J. Doe",
        reason="Urgent: the assets may be moved",
        at=T0,
        findings=tuple(
            Finding(kind=FindingKind.MISSING, field="grounds", article=a, what="missing")
            for a in articles
        ),
    )


def test_completeness_overrides_by_article() -> None:
    facts = [request() for _ in range(4)]
    facts += [request(completeness_override=override("RS 96(2)(b)")) for _ in range(2)]
    facts += [request(completeness_override=override("RS 96(2)(b)", "RS 87(2)"))]
    rows = table(facts, "completeness")
    assert ("transmitted complete", "4") in rows
    assert ("transmitted on an override", "3") in rows
    assert ("override of a finding under RS 96(2)(b)", "3") in rows
    assert ("override of a finding under RS 87(2)", "1") in rows


def test_a_confidential_override_alone_is_withheld() -> None:
    facts = [request(conf=CONFIDENTIAL) for _ in range(6)]
    facts += [request(conf=CONFIDENTIAL, completeness_override=override("RS 96(2)(b)"))]
    rows = table(facts, "completeness")
    assert ("transmitted on an override", WITHHELD) in rows
    assert ("override of a finding under RS 96(2)(b)", WITHHELD) in rows


def test_releases_after_acquittal_and_after_termination_are_counted() -> None:
    """The Assembly asks what was released after an acquittal (RS 74) or a termination of the
    proceedings (death of the accused, withdrawal of the charges, RS 61): both are release
    grounds the Court's decisions record, each with its own row even when nothing was released
    on it; values of public requests only."""
    released = {"acquittal": ReleaseTally(assets=2, values={"EUR": Decimal("400000.00")})}
    facts = [request("NLD", released=released)]
    facts += [request("BEL", CONFIDENTIAL, released=released) for _ in range(5)]
    facts += [
        request("DEU", released={"withdrawal": ReleaseTally(assets=1, values={"EUR": Decimal(5)})})
    ]
    rows = table(facts, "releases")
    assert rows[0] == ("acquittal", "6", "12", "400,000.00 EUR")  # values: public only
    assert rows[1] == ("termination of proceedings", "0", "0", "-")
    assert ("withdrawal of the request", "1", "1", "5.00 EUR") in rows
    ended = {"termination": ReleaseTally(assets=3, values={"EUR": Decimal(7)})}
    rows = table([*facts, request("FRA", released=ended)], "releases")
    assert rows[1] == ("termination of proceedings", "1", "3", "7.00 EUR")
    assert NOT_RECORDED_YET not in {cell for row in rows for cell in row}


def test_the_memo_records_what_the_report_discloses_and_asks() -> None:
    """The request's memo (through the payload codec) says its confidentiality, legal basis,
    origin and its released assets by ground; the report reads nothing else."""
    req = court_request(confidentiality="public")
    asset = req.known_assets[0]
    entry = LedgerEntry(
        asset=asset,
        status=AssetStatus.RELEASED,
        value=Money(amount=Decimal("398214.37"), currency="EUR"),
        release_ground="acquittal",
    )
    rec = RequestCarry(
        status=RequestStatus.EXECUTED,
        ledger=Ledger(entries={asset.asset_id: entry}),
        timeline=[],
    )
    memo = ReportMemo.model_validate(report_memo(rec, req)["report"])
    assert memo.confidentiality is PUBLIC
    assert memo.legal_basis is req.legal_basis and memo.origin is req.origin
    assert memo.released["acquittal"].assets == 1
    assert memo.released["acquittal"].values == {"EUR": Decimal("398214.37")}


# --- plots ----------------------------------------------------------------------------------


def test_time_units_and_axis_limits() -> None:
    assert time_unit(0.08).name == "seconds" and time_unit(90).name == "seconds"
    assert time_unit(150).name == "minutes"
    assert time_unit(36 * 3600).name == "hours"
    assert time_unit(3 * 86_400).name == "days"
    assert upper_limit(0) == 1.0 and upper_limit(10) == pytest.approx(11.5)


def _tick_text(fig: Figure) -> list[str]:
    """Every tick label and offset text of the figure's first axes, as drawn."""
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [*ax.get_xticklabels(), *ax.get_yticklabels()]
    offsets = [ax.xaxis.get_offset_text(), ax.yaxis.get_offset_text()]
    return [t.get_text() for t in labels] + ["offset:" + t.get_text() for t in offsets]


@pytest.mark.parametrize("seconds", [0.04, 42.0, 5 * 86_400.0])
def test_time_axis_reads_for_tiny_and_large_times(seconds: float) -> None:
    """Seconds apart and days apart: an axis from zero in the unit of the figures, plain
    numbers, no offset or power of ten (the old box plot wrote 1e-6 days)."""
    facts = [request("NLD", ack_s=seconds * (1 + i / 100)) for i in range(PLOT_MIN_POINTS)]
    fig = time_to_acknowledgement(publish(aggregate(2026, facts, "", T0)))
    assert fig is not None
    ax = fig.axes[0]
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] > seconds / time_unit(seconds).seconds
    assert ax.get_xlabel() == time_unit(seconds * 1.04).name
    texts = _tick_text(fig)
    assert texts[-2:] == ["offset:", "offset:"]
    assert not any("e-" in t or "e+" in t or "1e" in t for t in texts)


def test_below_the_minimum_count_no_time_chart() -> None:
    facts = [request("NLD", ack_s=0.000_01 * i) for i in range(1, PLOT_MIN_POINTS)]
    assert time_to_acknowledgement(publish(aggregate(2026, facts, "", T0))) is None


def test_small_amounts_keep_their_cents_on_the_axis() -> None:
    fig = value_per_status(publish(aggregate(2026, [request(eur="0.50")], "", T0)))
    assert fig is not None
    texts = _tick_text(fig)
    assert "0.50" in texts and texts[-2:] == ["offset:", "offset:"]


def test_a_hundred_and_fifty_states_read_as_rows() -> None:
    """Horizontal bars: the figure grows in height with the States, never wider than a page."""
    facts = [request(f"S{i:03d}", ack_s=3600.0 * (1 + i % 7)) for i in range(150)]
    fig = time_to_acknowledgement(publish(aggregate(2026, facts, "", T0)))
    assert fig is not None
    width, height = fig.get_size_inches()
    assert width == 7.0 and height > 30
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][:2] == ["S000", "S001"]
