"""The cooperation report as it may leave the Court: every table, figure and plot input, with
what ``disclosure.py`` withholds already withheld. Markdown, HTML, JSON (``render.py``) and
the PNG plots (``plots.py``) are drawn from this alone, never from the raw figures, so no
output can show what another withholds.

What the Assembly asks about (seed para 28 of ICC-ASP/14/Res.3), each a table:

- requests per State: sent, answered, outstanding, escalated; median and p90 time from
  transmission to acknowledgement, to the first report on execution (RS 99) and to the end
  of execution;
- requests outstanding at the report's date by age since transmission (``ages.py``);
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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas.ledger import CurrencyTotals
from tracefreeze.report.ages import outstanding_by_age
from tracefreeze.report.asked import breakdowns, completeness, releases
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
from tracefreeze.report.disclosure import WITHHELD, partition, protected_count
from tracefreeze.report.table import (
    Table,
    by,
    counts,
    merged_note,
    other_label,
    protected,
    withheld,
)

PLOT_MIN_ROWS = 2
"""Fewer rows than this: the table says it all, no bar chart."""
PLOT_MIN_POINTS = 5
"""Fewer measured times than this: a table, no chart of times."""


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


def _state_cells(facts: Sequence[RequestFacts]) -> tuple[str, ...]:
    s = state_stats("", facts)
    times = (s.to_acknowledgement, s.to_first_report, s.to_execution_end)
    return (
        *counts(facts),
        *(format_duration(q) for d in times for q in (d.median, d.p90)),
    )


def _line(label: str, facts: Sequence[RequestFacts]) -> Line:
    s = state_stats(label, facts)
    return Line(label, s.sent, s.ended, s.answered_outstanding, s.outstanding, s.to_acknowledgement)


def requests_per_state(report: CooperationReport) -> tuple[Table, tuple[Line, ...], str, int]:
    groups = by(report, lambda f: f.state)
    part = partition(groups, protected, report.min_group)
    width = len(STATE_HEADERS) - 1
    rows = [(state, *_state_cells(members)) for state, members in part.shown]
    lines = [_line(state, members) for state, members in part.shown]
    if part.other:
        label = other_label(part.other_groups)
        rows.append((label, *(_state_cells(part.other) if part.other_shown else withheld(width))))
        if part.other_shown:
            lines.append(_line("Other", part.other))
    total = _state_cells(part.total) if part.total_shown else withheld(width)
    rows.append(("All States", *total))
    note = merged_note(rows, report.min_group)
    table = Table("requests_per_state", "Requests per State", STATE_HEADERS, tuple(rows), note)
    return table, tuple(lines), total[0], len(part.shown)


# --- values -------------------------------------------------------------------------------

VALUE_HEADERS = (
    "State",
    "Currency",
    *(name.replace("_", " ").capitalize() for name in TOTAL_FIELDS),
)


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
        part = partition(groups, protected, report.min_group)
        rows += [(state, currency, *_value_cells(m, currency)) for state, m in part.shown]
        if part.other:
            cells = _value_cells(part.other, currency) if part.other_shown else withheld(width)
            rows.append((other_label(part.other_groups), currency, *cells))
        if part.total_shown:
            rows.append(("All States", currency, *_value_cells(part.total, currency)))
            shown_totals[currency] = add_totals(f.memo.totals for f in part.total)[currency]
        else:
            rows.append(("All States", currency, *withheld(width)))
    note = merged_note(rows, report.min_group) if rows else "No valued asset."
    table = Table("values", "Value per status and currency", VALUE_HEADERS, tuple(rows), note)
    return table, shown_totals


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
        "ex parte requests (Rule 99(2)) are left out of every table and plot."
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
            outstanding_by_age(report),
            value_table,
            *breakdowns(report),
            completeness(report),
            releases(report),
        ),
        lines=lines,
        value_totals=value_totals,
        shown_states=shown_states,
    )
