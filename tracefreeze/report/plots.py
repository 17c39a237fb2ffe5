"""Plots of the cooperation report (matplotlib, Agg; no pyplot global state): PNG bytes.

- requests per State: stacked ended / answered and outstanding / unanswered and outstanding
  (the bar's height is the number sent);
- time to acknowledgement per State: a box plot in days;
- value per status per currency: one panel per currency (amounts are never converted).
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tracefreeze.report.cooperation import TOTAL_FIELDS, CooperationReport

matplotlib.use("Agg")  # no display; the figures below never touch pyplot's global state

DAY = 86_400.0
COLOURS = ("#2f6f4f", "#e0a030", "#b03a2e")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def requests_per_state(report: CooperationReport) -> bytes:
    states = [s.state for s in report.states]
    ended = [s.ended for s in report.states]
    answered_open = [s.answered_outstanding for s in report.states]
    unanswered_open = [s.outstanding - s.answered_outstanding for s in report.states]
    fig = Figure(figsize=(max(4.0, 0.7 * len(states) + 2), 3.5))
    ax = fig.add_subplot()
    bottom = [0] * len(states)
    for label, values, colour in zip(
        ("ended", "answered, outstanding", "unanswered, outstanding"),
        (ended, answered_open, unanswered_open),
        COLOURS,
        strict=True,
    ):
        ax.bar(states, values, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title(f"Requests per State, {report.year} (height: sent)")
    ax.set_ylabel("requests")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    return _png(fig)


def time_to_acknowledgement(report: CooperationReport) -> bytes:
    rows = [
        (s.state, [x / DAY for x in s.to_acknowledgement.seconds])
        for s in report.states
        if s.to_acknowledgement.seconds
    ]
    fig = Figure(figsize=(max(4.0, 0.7 * len(rows) + 2), 3.5))
    ax = fig.add_subplot()
    if rows:
        ax.boxplot([xs for _, xs in rows], tick_labels=[state for state, _ in rows])
    else:
        ax.text(0.5, 0.5, "no acknowledgement yet", ha="center", va="center")
    ax.set_title("Time to acknowledgement per State")
    ax.set_ylabel("days")
    return _png(fig)


def value_per_status(report: CooperationReport) -> bytes:
    totals = report.totals
    currencies = sorted(totals) or ["-"]
    fig = Figure(figsize=(6.5, 2.6 * len(currencies)))
    for i, currency in enumerate(currencies, start=1):
        ax = fig.add_subplot(len(currencies), 1, i)
        t = totals.get(currency)
        values = [float(getattr(t, name)) if t else 0.0 for name in TOTAL_FIELDS]
        ax.bar(TOTAL_FIELDS, values, color="#35608f")
        ax.set_title(f"Value per status ({currency})")
        ax.set_ylabel(currency)
        ax.ticklabel_format(axis="y", style="plain")
    fig.tight_layout()
    return _png(fig)


PLOTS = {
    "requests-per-state": requests_per_state,
    "time-to-acknowledgement": time_to_acknowledgement,
    "value-per-status": value_per_status,
}


def render_plots(report: CooperationReport) -> dict[str, bytes]:
    """Every plot, by name (the PNG file stem)."""
    return {name: plot(report) for name, plot in PLOTS.items()}
