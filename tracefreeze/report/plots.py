"""Plots of the cooperation report (matplotlib, Agg; no pyplot global state): PNG bytes.

Drawn from the published report only (``published.py``): a plot never shows a figure the
tables withhold, nor a single request's time (no box plot: its whiskers and outliers are
individual requests).

- requests per State: stacked ended / answered and outstanding / unanswered and outstanding
  (the bar's length is the number sent), from two rows up;
- time to acknowledgement per State: median (bar) and p90 (mark), in the unit that suits
  the figures (seconds to days), from ``PLOT_MIN_POINTS`` measured times up;

both with horizontal bars, one row per State, so 150 States read as well as two;
- value per status per currency: one panel per currency whose total may be shown (amounts
  are never converted).

Below its minimum a plot is not drawn: the table above it says the same, and a chart of one
point reads worse than its row (an axis in millionths of a day). Every axis starts at zero
and is written plainly, without offset or scientific notation.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from tracefreeze.report.cooperation import TOTAL_FIELDS
from tracefreeze.report.published import PLOT_MIN_POINTS, PLOT_MIN_ROWS, PublishedReport

matplotlib.use("Agg")  # no display; the figures below never touch pyplot's global state

COLOURS = ("#2f6f4f", "#e0a030", "#b03a2e")


@dataclass(frozen=True)
class TimeUnit:
    name: str
    seconds: float


UNITS = (
    TimeUnit("seconds", 1.0),
    TimeUnit("minutes", 60.0),
    TimeUnit("hours", 3_600.0),
    TimeUnit("days", 86_400.0),
)


def time_unit(longest_seconds: float) -> TimeUnit:
    """The largest unit in which the longest time is at least 2 (so 90 s stays in seconds,
    36 hours in hours, 3 days in days)."""
    chosen = UNITS[0]
    for unit in UNITS:
        if longest_seconds >= 2 * unit.seconds:
            chosen = unit
    return chosen


def upper_limit(largest: float) -> float:
    """The top of an axis that starts at zero: a little above the largest value; 1 when
    every value is zero, so the axis is never collapsed onto one point."""
    return largest * 1.15 if largest > 0 else 1.0


def _plain(ax: Axes) -> None:
    """The value axis (x: the bars are horizontal) in plain numbers: no offset, no 1e-6."""
    ax.ticklabel_format(axis="x", style="plain", useOffset=False)


def _legend_on_top(ax: Axes) -> None:
    """Between the title and the bars: it never hides a bar, however many rows."""
    ax.legend(
        fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False
    )


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _rows_figure(rows: int) -> Figure:
    """A figure of horizontal bars, one row per State: as readable for two as for 150 (the
    height grows with the rows, the width stays a page's)."""
    return Figure(figsize=(7.0, max(2.4, 0.26 * rows + 1.4)))


def requests_per_state(report: PublishedReport) -> Figure | None:
    lines = report.lines
    if len(lines) < PLOT_MIN_ROWS:
        return None
    labels = [line.label for line in lines]
    ended = [line.ended for line in lines]
    answered_open = [line.answered_outstanding for line in lines]
    unanswered_open = [line.outstanding - line.answered_outstanding for line in lines]
    fig = _rows_figure(len(labels))
    ax = fig.add_subplot()
    left = [0] * len(labels)
    for label, counts, colour in zip(
        ("ended", "answered, outstanding", "unanswered, outstanding"),
        (ended, answered_open, unanswered_open),
        COLOURS,
        strict=True,
    ):
        ax.barh(labels, counts, left=left, label=label, color=colour)
        left = [b + v for b, v in zip(left, counts, strict=True)]
    ax.invert_yaxis()  # the table's order, top down
    ax.set_title(f"Requests per State, {report.year} (length: sent)", pad=24)
    ax.set_xlabel("requests")
    ax.set_xlim(0, upper_limit(max(line.sent for line in lines)))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _plain(ax)
    _legend_on_top(ax)
    return fig


def time_to_acknowledgement(report: PublishedReport) -> Figure | None:
    rows = [
        (line.label, line.to_acknowledgement)
        for line in report.lines
        if line.to_acknowledgement.seconds
    ]
    if report.acknowledgement_points < PLOT_MIN_POINTS or not rows:
        return None
    longest = max(d.p90 or 0.0 for _, d in rows)
    unit = time_unit(longest)
    medians = [(d.median or 0.0) / unit.seconds for _, d in rows]
    p90s = [(d.p90 or 0.0) / unit.seconds for _, d in rows]
    labels = [label for label, _ in rows]
    fig = _rows_figure(len(rows))
    ax = fig.add_subplot()
    ax.barh(labels, medians, color="#35608f", label="median")
    ax.scatter(p90s, labels, color="#b03a2e", marker="|", s=200, linewidths=2, label="p90")
    ax.invert_yaxis()
    ax.set_title("Time to acknowledgement per State", pad=24)
    ax.set_xlabel(unit.name)
    ax.set_xlim(0, upper_limit(max(p90s)))
    _plain(ax)
    _legend_on_top(ax)
    return fig


def amount_format(top: float) -> FuncFormatter:
    """Amounts as written in the tables: whole units on an axis that reaches 100, cents
    below (a valuation of EUR 0.50 is not an axis of zeros)."""
    decimals = 0 if top >= 100 else 2
    return FuncFormatter(lambda value, _pos: f"{value:,.{decimals}f}")


def value_per_status(report: PublishedReport) -> Figure | None:
    totals = report.value_totals
    currencies = [c for c in sorted(totals) if any(getattr(totals[c], n) for n in TOTAL_FIELDS)]
    if not currencies:
        return None
    fig = Figure(figsize=(6.5, 3.0 * len(currencies)))
    for i, currency in enumerate(currencies, start=1):
        ax = fig.add_subplot(len(currencies), 1, i)
        figures = [float(getattr(totals[currency], name)) for name in TOTAL_FIELDS]
        labels = [name.replace("_", "\n") for name in TOTAL_FIELDS]  # never overlapping
        ax.bar(labels, figures, color="#35608f")
        ax.set_title(f"Value per status ({currency})")
        ax.set_ylabel(currency)
        top = upper_limit(max(figures))
        ax.set_ylim(0, top)
        ax.yaxis.set_major_formatter(amount_format(top))
    fig.tight_layout()
    return fig


PLOTS: dict[str, Callable[[PublishedReport], Figure | None]] = {
    "requests-per-state": requests_per_state,
    "time-to-acknowledgement": time_to_acknowledgement,
    "value-per-status": value_per_status,
}


def render_plots(report: PublishedReport) -> dict[str, bytes]:
    """The plots the figures call for, by name (the PNG file stem); a plot below its
    minimum is left out (its table stands in for it)."""
    out = {}
    for name, plot in PLOTS.items():
        fig = plot(report)
        if fig is not None:
            out[name] = _png(fig)
    return out
