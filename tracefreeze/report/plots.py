"""Plots of the cooperation report (matplotlib, Agg; no pyplot global state): PNG bytes.

Drawn from the published report only (``published.py``): a plot never shows a figure the
tables withhold, nor a single request's time (no box plot: its whiskers and outliers are
individual requests).

- requests per State: stacked ended / answered and outstanding / unanswered and outstanding
  (the bar's height is the number sent), from two rows up;
- time to acknowledgement per State: median (bar) and p90 (mark), in the unit that suits
  the figures (seconds to days), from ``PLOT_MIN_POINTS`` measured times up;
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
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def requests_per_state(report: PublishedReport) -> Figure | None:
    lines = report.lines
    if len(lines) < PLOT_MIN_ROWS:
        return None
    labels = [line.label for line in lines]
    ended = [line.ended for line in lines]
    answered_open = [line.answered_outstanding for line in lines]
    unanswered_open = [line.outstanding - line.answered_outstanding for line in lines]
    fig = Figure(figsize=(max(4.0, 0.7 * len(labels) + 2), 3.5))
    ax = fig.add_subplot()
    bottom = [0] * len(labels)
    for label, counts, colour in zip(
        ("ended", "answered, outstanding", "unanswered, outstanding"),
        (ended, answered_open, unanswered_open),
        COLOURS,
        strict=True,
    ):
        ax.bar(labels, counts, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, counts, strict=True)]
    ax.set_title(f"Requests per State, {report.year} (height: sent)")
    ax.set_ylabel("requests")
    ax.set_ylim(0, upper_limit(max(line.sent for line in lines)))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _plain(ax)
    ax.legend(fontsize="small")
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
    fig = Figure(figsize=(max(4.0, 0.7 * len(rows) + 2), 3.5))
    ax = fig.add_subplot()
    ax.bar(labels, medians, color="#35608f", label="median")
    ax.scatter(labels, p90s, color="#b03a2e", marker="_", s=400, linewidths=2, label="p90")
    ax.set_title("Time to acknowledgement per State")
    ax.set_ylabel(unit.name)
    ax.set_ylim(0, upper_limit(max(p90s)))
    _plain(ax)
    ax.legend(fontsize="small")
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
    fig = Figure(figsize=(6.5, 2.6 * len(currencies)))
    for i, currency in enumerate(currencies, start=1):
        ax = fig.add_subplot(len(currencies), 1, i)
        figures = [float(getattr(totals[currency], name)) for name in TOTAL_FIELDS]
        ax.bar(TOTAL_FIELDS, figures, color="#35608f")
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
