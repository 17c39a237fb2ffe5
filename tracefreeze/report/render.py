"""The cooperation report as Markdown and self-contained HTML (plots inline, no assets).

``write_report`` writes ``cooperation-report-YYYY.md``, ``cooperation-report-YYYY.html`` and
the PNG plots (``cooperation-report-YYYY-<plot>.png``), which the Markdown links to.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from tracefreeze.report.cooperation import (
    TOTAL_FIELDS,
    CooperationReport,
    StateStats,
    format_amount,
    format_duration,
)
from tracefreeze.report.plots import render_plots

STATE_HEADERS = (
    "State",
    "Sent",
    "Answered",
    "Outstanding",
    "Escalated",
    "Median to ack.",
    "p90 to ack.",
    "Median to end",
    "p90 to end",
)
VALUE_HEADERS = ("State", "Currency", *(name.capitalize() for name in TOTAL_FIELDS))
PLOT_TITLES = {
    "requests-per-state": "Requests per State",
    "time-to-acknowledgement": "Time to acknowledgement",
    "value-per-status": "Value per status and currency",
}
CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f0f3f6}tfoot td{font-weight:bold}
figure{margin:1rem 0}img{max-width:100%}.note{color:#666;font-size:.85rem}
"""


def stem(year: int) -> str:
    return f"cooperation-report-{year}"


def state_rows(report: CooperationReport) -> list[list[str]]:
    def row(s: StateStats) -> list[str]:
        return [
            s.state,
            str(s.sent),
            str(s.answered),
            str(s.outstanding),
            str(s.escalated),
            format_duration(s.to_acknowledgement.median),
            format_duration(s.to_acknowledgement.p90),
            format_duration(s.to_execution_end.median),
            format_duration(s.to_execution_end.p90),
        ]

    return [row(s) for s in report.states]


def total_row(report: CooperationReport) -> list[str]:
    counts = [report.sent, report.answered, report.outstanding, report.escalated]
    return ["All States", *map(str, counts), "", "", "", ""]


def value_rows(report: CooperationReport) -> list[list[str]]:
    rows = []
    for s in report.states:
        for currency in sorted(s.totals):
            t = s.totals[currency]
            rows.append([s.state, currency, *(format_amount(getattr(t, n)) for n in TOTAL_FIELDS)])
    for currency, t in sorted(report.totals.items()):
        rows.append(["All States", currency, *(format_amount(getattr(t, n)) for n in TOTAL_FIELDS)])
    return rows


def _intro(report: CooperationReport) -> str:
    return (
        f"Requests transmitted to States from 1 January to 31 December {report.year} (UTC): "
        f"{report.sent} sent, {report.answered} answered, {report.outstanding} outstanding, "
        f"{report.escalated} escalated. Times run from transmission; values are per "
        "currency, never converted."
    )


def _footer(report: CooperationReport) -> str:
    return (
        f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC from Temporal visibility "
        f"in {report.build_seconds:.2f} s."
    )


# --- Markdown -----------------------------------------------------------------------------


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    align = ["---"] + ["---:"] * (len(headers) - 1)
    return "\n".join([line(headers), "| " + " | ".join(align) + " |", *map(line, rows)])


def render_markdown(report: CooperationReport, plot_files: dict[str, str] | None = None) -> str:
    """The report in Markdown; ``plot_files`` maps plot names to the PNG file names."""
    parts = [
        f"# Cooperation report {report.year}",
        "",
        _intro(report),
        "",
        "## Requests per State",
        "",
        md_table(STATE_HEADERS, [*state_rows(report), total_row(report)]),
        "",
        "## Value per status and currency",
        "",
        md_table(VALUE_HEADERS, value_rows(report)) if report.totals else "No valued asset.",
    ]
    for name, file in (plot_files or {}).items():
        parts += ["", f"![{PLOT_TITLES[name]}]({file})"]
    parts += ["", f"_{_footer(report)}_", ""]
    return "\n".join(parts)


# --- HTML ---------------------------------------------------------------------------------


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: CooperationReport, plots: dict[str, bytes]) -> str:
    """A self-contained page: inline CSS, plots as base64 PNG."""
    esc = html.escape
    figures = "".join(
        f'<figure><img alt="{esc(PLOT_TITLES[name])}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        f"<figcaption>{esc(PLOT_TITLES[name])}</figcaption></figure>"
        for name, png in plots.items()
    )
    values = (
        html_table(VALUE_HEADERS, value_rows(report))
        if report.totals
        else "<p>No valued asset.</p>"
    )
    title = f"Cooperation report {report.year}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>{esc(_intro(report))}</p>"
        "<h2>Requests per State</h2>"
        f"{html_table(STATE_HEADERS, [*state_rows(report), total_row(report)])}"
        f"<h2>Value per status and currency</h2>{values}"
        f"<h2>Plots</h2>{figures}"
        f'<p class="note">{esc(_footer(report))}</p></body></html>\n'
    )


def write_report(report: CooperationReport, out_dir: Path) -> dict[str, Path]:
    """Write the Markdown, the HTML and the PNGs; returns their paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    base = stem(report.year)
    plots = render_plots(report)
    written: dict[str, Path] = {}
    files: dict[str, str] = {}
    for name, png in plots.items():
        path = out_dir / f"{base}-{name}.png"
        path.write_bytes(png)
        written[name] = path
        files[name] = path.name
    written["markdown"] = out_dir / f"{base}.md"
    written["markdown"].write_text(render_markdown(report, files), encoding="utf-8")
    written["html"] = out_dir / f"{base}.html"
    written["html"].write_text(render_html(report, plots), encoding="utf-8")
    return written
