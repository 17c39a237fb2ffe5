"""The cooperation report as it may leave the Court: every table, figure and plot input, with
what ``disclosure.py`` withholds already withheld. Markdown, HTML, JSON (``render.py``) and
the PNG plots (``plots.py``) are drawn from this alone, never from the raw figures, so no
output can show what another withholds.

What the Assembly asks about (seed para 28 of ICC-ASP/14/Res.3), each a table:

- requests per State: sent, answered, outstanding, escalated; median and p90 time from
  transmission to acknowledgement, to the first report on execution (RS 99) and to the end
  of execution;
- values per status and currency (identified .. allocated; never converted);
- requests by kind of party (State Party RS 86; arrangement or non-party RS 87(5);
  Security Council referral RS 13(b); international organisation RS 87(6)), by legal basis
  (RS 57(3)(b), 57(3)(e), 75(4), 93(1)(k)) and by origin, Defence requests apart
  (RS 57(3)(b)); by the furthest step of follow-up reached, findings of non-compliance
  (RS 87(7)) among them;
- completeness: requests transmitted on a named person's override of the check's findings
  (RS 96(2); Rule 176(2)), by the article of the finding overridden;
- assets released, by the ground of the Court's decision: after an acquittal, and after a
  termination of proceedings where a release records one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from schemas.common import LegalBasis, Origin
from schemas.court import ReleaseGround
from schemas.ledger import CurrencyTotals
from schemas.policy import PartyKind
from tracefreeze.report.cooperation import (
    TOTAL_FIELDS,
    CooperationReport,
    Durations,
    RequestFacts,
    add_totals,
    format_amount,
    format_duration,
    state_stats,
)
from tracefreeze.report.disclosure import WITHHELD, partition, protected_count, safe

NOT_RECORDED = "not recorded"
NOT_RECORDED_YET = "not recorded yet"
PLOT_MIN_ROWS = 2
"""Fewer rows than this: the table says it all, no bar chart."""
PLOT_MIN_POINTS = 5
"""Fewer measured times than this: a table, no chart of times."""


def _protected(f: RequestFacts) -> bool:
    return f.protected


@dataclass(frozen=True)
class Table:
    """One table of the report: what every renderer shows, cells already disclosed."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Line:
    """A shown row of the requests-per-State table, as the plots draw it."""

    label: str
    sent: int
    ended: int
    answered_outstanding: int
    outstanding: int
    to_acknowledgement: Durations


@dataclass(frozen=True)
class PublishedReport:
    year: int
    generated_at: datetime
    build_seconds: float
    min_group: int
    sent: str
    """All requests but ex parte ones, or ``withheld``."""
    summary: str
    ex_parte: str
    tables: tuple[Table, ...]
    lines: tuple[Line, ...]
    value_totals: dict[str, CurrencyTotals]
    """All States' values per currency, only where the total may be shown."""
    shown_states: int

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    @property
    def acknowledgement_points(self) -> int:
        return sum(len(line.to_acknowledgement.seconds) for line in self.lines)


# --- requests per State -------------------------------------------------------------------

STATE_HEADERS = (
    "State",
    "Sent",
    "Answered",
    "Outstanding",
    "Escalated",
    "Median to ack.",
    "p90 to ack.",
    "Median to first report",
    "p90 to first report",
    "Median to end",
    "p90 to end",
)
COUNT_HEADERS = ("Sent", "Answered", "Outstanding", "Escalated")


def _counts(facts: Sequence[RequestFacts]) -> tuple[str, ...]:
    s = state_stats("", facts)
    return (str(s.sent), str(s.answered), str(s.outstanding), str(s.escalated))


def _state_cells(facts: Sequence[RequestFacts]) -> tuple[str, ...]:
    s = state_stats("", facts)
    times = (s.to_acknowledgement, s.to_first_report, s.to_execution_end)
    return (
        *_counts(facts),
        *(format_duration(q) for d in times for q in (d.median, d.p90)),
    )


def _withheld(n: int) -> tuple[str, ...]:
    return (WITHHELD,) * n


def _line(label: str, facts: Sequence[RequestFacts]) -> Line:
    s = state_stats(label, facts)
    return Line(label, s.sent, s.ended, s.answered_outstanding, s.outstanding, s.to_acknowledgement)


def _other_label(n: int, what: str = "States") -> str:
    return f"Other {what} ({n}, merged)"


def _merged_note(rows: Sequence[Sequence[str]], k: int, note: str = "") -> str:
    """The table's note, and what "Other ... (merged)" means when the table has one."""
    if not any(row[0].startswith("Other ") for row in rows):
        return note
    merged = (
        f"Other (merged): rows that alone would cover fewer than {k} confidential requests "
        "(RS 87(3)), with, where needed, the smallest row that would let them be computed "
        "from the total."
    )
    return f"{note} {merged}".strip()


def requests_per_state(report: CooperationReport) -> tuple[Table, tuple[Line, ...], str, int]:
    groups = _by(report, lambda f: f.state)
    part = partition(groups, _protected, report.min_group)
    width = len(STATE_HEADERS) - 1
    rows = [(state, *_state_cells(members)) for state, members in part.shown]
    lines = [_line(state, members) for state, members in part.shown]
    if part.other:
        label = _other_label(part.other_groups)
        rows.append((label, *(_state_cells(part.other) if part.other_shown else _withheld(width))))
        if part.other_shown:
            lines.append(_line("Other", part.other))
    total = _state_cells(part.total) if part.total_shown else _withheld(width)
    rows.append(("All States", *total))
    note = _merged_note(rows, report.min_group)
    table = Table("requests_per_state", "Requests per State", STATE_HEADERS, tuple(rows), note)
    return table, tuple(lines), total[0], len(part.shown)


# --- values -------------------------------------------------------------------------------

VALUE_HEADERS = ("State", "Currency", *(name.capitalize() for name in TOTAL_FIELDS))


def _value_cells(facts: Iterable[RequestFacts], currency: str) -> tuple[str, ...]:
    t = add_totals(f.memo.totals for f in facts).get(currency, CurrencyTotals())
    return tuple(format_amount(getattr(t, n)) for n in TOTAL_FIELDS)


def values(report: CooperationReport) -> tuple[Table, dict[str, CurrencyTotals]]:
    """Per currency (never converted), each State's values over its requests valued in that
    currency; the same suppression per currency, so no currency singles a request out."""
    requests = [f for f in report.requests if not f.ex_parte]
    currencies = sorted({c for f in requests for c in f.memo.totals})
    rows: list[tuple[str, ...]] = []
    shown_totals: dict[str, CurrencyTotals] = {}
    width = len(TOTAL_FIELDS)
    for currency in currencies:
        valued = [f for f in requests if currency in f.memo.totals]
        groups: dict[str, list[RequestFacts]] = {}
        for f in valued:
            groups.setdefault(f.state, []).append(f)
        part = partition(groups, _protected, report.min_group)
        rows += [(state, currency, *_value_cells(m, currency)) for state, m in part.shown]
        if part.other:
            cells = _value_cells(part.other, currency) if part.other_shown else _withheld(width)
            rows.append((_other_label(part.other_groups), currency, *cells))
        if part.total_shown:
            rows.append(("All States", currency, *_value_cells(part.total, currency)))
            shown_totals[currency] = add_totals(f.memo.totals for f in part.total)[currency]
        else:
            rows.append(("All States", currency, *_withheld(width)))
    note = _merged_note(rows, report.min_group) if rows else "No valued asset."
    table = Table("values", "Value per status and currency", VALUE_HEADERS, tuple(rows), note)
    return table, shown_totals


# --- breakdowns ---------------------------------------------------------------------------


def _by(
    report: CooperationReport, key: Callable[[RequestFacts], str]
) -> dict[str, list[RequestFacts]]:
    groups: dict[str, list[RequestFacts]] = {}
    for f in report.requests:
        if not f.ex_parte:
            groups.setdefault(key(f), []).append(f)
    return groups


def _count_table(
    report: CooperationReport,
    key: str,
    title: str,
    first: str,
    group: Callable[[RequestFacts], str],
    note: str = "",
) -> Table:
    part = partition(_by(report, group), _protected, report.min_group)
    rows = [(label, *_counts(m)) for label, m in part.shown]
    if part.other:
        cells = _counts(part.other) if part.other_shown else _withheld(len(COUNT_HEADERS))
        rows.append((_other_label(part.other_groups, "groups"), *cells))
    total = _counts(part.total) if part.total_shown else _withheld(len(COUNT_HEADERS))
    rows.append(("All", *total))
    if note.startswith("Not recorded") and not any(row[0] == NOT_RECORDED for row in rows):
        note = ""
    note = _merged_note(rows, report.min_group, note)
    return Table(key, title, (first, *COUNT_HEADERS), tuple(rows), note)


PARTY_KIND_LABELS = {
    PartyKind.STATE_PARTY: "State Party (RS 86)",
    PartyKind.NON_STATE_PARTY_ARRANGEMENT: "State under an arrangement (RS 87(5))",
    PartyKind.NON_STATE_PARTY: "non-party State (RS 87(5)(a))",
    PartyKind.SECURITY_COUNCIL_BOUND: "State bound by a Security Council resolution (RS 13(b))",
    PartyKind.INTERNATIONAL_ORGANISATION: "international organisation (RS 87(6))",
}
ORIGIN_LABELS = {
    Origin.CHAMBER: "Chamber",
    Origin.PROSECUTION: "Prosecution",
    Origin.DEFENCE: "Defence (RS 57(3)(b))",
}


def _party_kind(f: RequestFacts) -> str:
    kind = f.memo.party_kind
    return PARTY_KIND_LABELS[kind] if kind else NOT_RECORDED


def _legal_basis(f: RequestFacts) -> str:
    return f.memo.legal_basis.value if f.memo.legal_basis else NOT_RECORDED


def _origin(f: RequestFacts) -> str:
    """The request's origin; a memo without one but resting on RS 57(3)(b) is the Defence's
    (the Pre-Trial Chamber acts on the arrested person's request there)."""
    if f.memo.origin is not None:
        return ORIGIN_LABELS[f.memo.origin]
    if f.memo.legal_basis is LegalBasis.RS_57_3_B:
        return ORIGIN_LABELS[Origin.DEFENCE]
    return NOT_RECORDED


ESCALATION_LABELS = {
    0: "0: none",
    1: "1: reminder to the focal point (seed para 9)",
    2: "2: Registry follow-up or consultation (RS 87(1)(a), 87(6))",
    3: "3: report to the Chamber",
    4: "4: finding of non-compliance (RS 87(7)), or the Assembly or Council informed "
    "(RS 87(5)(b), 13(b))",
    5: "5: the Assembly's non-cooperation procedures (ICC-ASP/10/Res.5)",
}


def _escalation(f: RequestFacts) -> str:
    level = max(f.memo.max_escalation_level, f.escalation_level)
    return ESCALATION_LABELS.get(level, f"{level}")


def breakdowns(report: CooperationReport) -> tuple[Table, ...]:
    return (
        _count_table(
            report,
            "by_party_kind",
            "Requests by kind of party",
            "Kind of party",
            _party_kind,
            note="Not recorded: requests started without a deadline policy (the kind of "
            "party is the policy's).",
        ),
        _count_table(
            report, "by_legal_basis", "Requests by legal basis", "Legal basis", _legal_basis
        ),
        _count_table(
            report,
            "by_origin",
            "Requests by origin (Defence requests: RS 57(3)(b))",
            "Origin",
            _origin,
        ),
        _count_table(
            report,
            "by_escalation",
            "Requests by the furthest step of follow-up reached",
            "Step",
            _escalation,
            note="A step from 3 on is taken only on a person's decision.",
        ),
    )


def _subset_row(
    label: str,
    members: Sequence[RequestFacts],
    among: Sequence[RequestFacts],
    min_group: int,
    cells: Callable[[Sequence[RequestFacts]], tuple[str, ...]],
    width: int,
) -> tuple[str, ...]:
    """A row over ``members``, a subset of ``among`` that other rows may overlap: shown only
    when both the subset and the rest of ``among`` are safe (``among`` minus the row must
    not single a request out either)."""
    ids = {f.workflow_id for f in members}
    rest = [f for f in among if f.workflow_id not in ids]
    if safe(members, _protected, min_group) and safe(rest, _protected, min_group):
        return (label, *cells(members))
    return (label, *_withheld(width))


def _overridden_articles(f: RequestFacts) -> set[str]:
    override = f.memo.completeness_override
    return {x.article for x in override.findings} if override is not None else set()


def completeness(report: CooperationReport) -> Table:
    """Requests transmitted complete or on an override (RS 96(2); Rule 176(2)), and the
    overrides by the article of the finding overridden."""
    requests = [f for f in report.requests if not f.ex_parte]
    overridden = [f for f in requests if f.memo.completeness_override is not None]
    complete = [f for f in requests if f.memo.completeness_override is None]
    groups = {"transmitted complete": complete, "transmitted on an override": overridden}
    shown = dict(partition(groups, _protected, report.min_group).shown)

    def count(m: Sequence[RequestFacts]) -> tuple[str, ...]:
        return (str(len(m)),)

    rows: list[tuple[str, ...]] = [
        (label, str(len(shown[label])) if label in shown else WITHHELD)
        for label, members in groups.items()
        if members
    ]
    for article in sorted(set().union(*map(_overridden_articles, overridden))):
        citing = [f for f in overridden if article in _overridden_articles(f)]
        label = f"override of a finding under {article}"
        rows.append(_subset_row(label, citing, overridden, report.min_group, count, 1))
    note = (
        "An override is a named person's decision to transmit a request the completeness "
        "check found incomplete (RS 96(2); Rule 176(2)). Requests the check stopped and "
        "nobody transmitted are no workflow and are not counted here."
    )
    headers = ("Requests", "Count")
    title = "Completeness of the requests transmitted"
    return Table("completeness", title, headers, tuple(rows), note)


# --- releases -----------------------------------------------------------------------------

RELEASE_LABELS = {
    "acquittal": "acquittal",
    "termination": "termination of proceedings",
    "withdrawal": "withdrawal of the request",
    "revocation": "revocation of the measure",
    "third_party": "third party's claim upheld (Rule 99(3))",
    "domestic_remedy": "domestic remedy upheld",
    "freeze_limited_by_chamber": "freeze limited by the Chamber (RS 97)",
}
ASKED_GROUNDS = ("acquittal", "termination")
"""The grounds the Assembly asks about: a row even when nothing was released on them."""
RELEASE_HEADERS = ("Ground of release", "Requests", "Assets", "Value (public requests only)")


def _release_value(facts: Iterable[RequestFacts], ground: str) -> str:
    sums: dict[str, Decimal] = {}
    for f in facts:
        if f.protected or ground not in f.memo.released:
            continue
        for currency, amount in f.memo.released[ground].values.items():
            sums[currency] = sums.get(currency, Decimal(0)) + amount
    return "; ".join(f"{format_amount(v)} {c}" for c, v in sorted(sums.items())) or "-"


def releases(report: CooperationReport) -> Table:
    """Assets released by ground. Values only of public requests: a confidential request's
    released value shows only in the per-State value table, under its threshold."""
    requests = [f for f in report.requests if not f.ex_parte]
    releasing = [f for f in requests if f.memo.released]
    recorded = {g.value for g in ReleaseGround}
    grounds = sorted({g for f in releasing for g in f.memo.released} | set(ASKED_GROUNDS))
    grounds = [g for g in ASKED_GROUNDS if g in grounds] + [
        g for g in grounds if g not in ASKED_GROUNDS
    ]
    rows: list[tuple[str, ...]] = []
    not_yet: list[str] = []
    for ground in grounds:
        label = RELEASE_LABELS.get(ground, ground.replace("_", " "))
        members = [f for f in releasing if ground in f.memo.released]
        if ground not in recorded and not members:
            rows.append((label, NOT_RECORDED_YET, NOT_RECORDED_YET, NOT_RECORDED_YET))
            not_yet.append(ground)
            continue

        def cells(m: Sequence[RequestFacts], g: str = ground) -> tuple[str, ...]:
            assets = sum(f.memo.released[g].assets for f in m)
            return (str(len(m)), str(assets), _release_value(m, g))

        rows.append(_subset_row(label, members, releasing, report.min_group, cells, 3))
    note = "Each release is a decision of a Chamber or the Presidency; nothing lapses."
    if not_yet:
        note += (
            f" Not recorded yet: no release records the ground {', '.join(not_yet)} (the death "
            "of the accused or the withdrawal of the charges); such releases count under the "
            "ground the Court's release gave."
        )
    return Table(
        "releases",
        "Assets released, by the ground of the Court's decision",
        RELEASE_HEADERS,
        tuple(rows),
        note,
    )


# --- the whole ------------------------------------------------------------------------------


def publish(report: CooperationReport) -> PublishedReport:
    """What may leave the Court of ``report`` (see ``disclosure.py``)."""
    k = report.min_group
    state_table, lines, sent, shown_states = requests_per_state(report)
    value_table, value_totals = values(report)
    ex_parte = protected_count(report.ex_parte, k)
    total = state_table.rows[-1]
    if sent == WITHHELD:
        counts = f"figures withheld (fewer than {k} confidential requests)"
    else:
        counts = (
            f"{total[1]} sent, {total[2]} answered, {total[3]} outstanding, {total[4]} escalated"
        )
    summary = (
        f"Requests transmitted from 1 January to 31 December {report.year} (UTC): {counts}. "
        "Times run from transmission; values are per currency, never converted. A figure over "
        f"confidential requests (RS 87(3)) is shown only when it covers at least {k} of them; "
        "ex parte requests (Rule 99(1)) are left out of every table and plot."
    )
    return PublishedReport(
        year=report.year,
        generated_at=report.generated_at,
        build_seconds=report.build_seconds,
        min_group=k,
        sent=sent,
        summary=summary,
        ex_parte=ex_parte,
        tables=(
            state_table,
            value_table,
            *breakdowns(report),
            completeness(report),
            releases(report),
        ),
        lines=lines,
        value_totals=value_totals,
        shown_states=shown_states,
    )
