"""What every rendering of the cooperation report shares (``render.py``: Markdown, HTML, JSON;
``pdf.py``: PDF): which plot illustrates which table, and the lines around the tables."""

from __future__ import annotations

from typing import Any

from tracefreeze.report.published import PublishedReport
from tracefreeze.report.table import Table

PLOT_TITLES = {
    "requests-per-state": "Requests per State",
    "time-to-acknowledgement": "Time to acknowledgement",
    "value-per-status": "Value per status and currency",
}
PLOT_AFTER = {
    "requests-per-state": "requests_per_state",
    "time-to-acknowledgement": "requests_per_state",
    "value-per-status": "values",
}
"""The table each plot illustrates (and stands in for it when too few figures for a chart)."""


def ex_parte_line(report: PublishedReport) -> str:
    return f"Ex parte requests (Rule 99(2)), left out of every table: {report.ex_parte}."


def footer(report: PublishedReport) -> str:
    return (
        f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC from Temporal visibility "
        f"in {report.build_seconds:.2f} s; threshold {report.min_group} confidential requests."
    )


def no_chart(table: Table, plots: dict[str, Any]) -> list[str]:
    """The plots of ``table`` left out for too few figures: their table stands in."""
    return [
        f"{PLOT_TITLES[name]}: too few figures for a chart; the table above has them."
        for name, key in PLOT_AFTER.items()
        if key == table.key and name not in plots and table.rows
    ]
