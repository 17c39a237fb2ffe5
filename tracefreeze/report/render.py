"""The cooperation report as Markdown, self-contained HTML (plots inline, no assets) and JSON,
and as PDF for circulation (``pdf.py``).

``write_report`` writes ``cooperation-report-YYYY.md``, ``.html``, ``.pdf`` and ``.json`` and
the PNG plots the figures call for (``cooperation-report-YYYY-<plot>.png``, which the Markdown links
to). Every one of them is drawn from ``published.publish``: what it withholds (confidential
figures over too few requests, RS 87(3); everything ex parte, Rule 99(2)) no output shows.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracefreeze.report.cooperation import CooperationReport
from tracefreeze.report.pdf import render_pdf
from tracefreeze.report.plots import render_plots
from tracefreeze.report.published import PublishedReport, publish
from tracefreeze.report.sections import (
    PLOT_AFTER,
    PLOT_TITLES,
    ex_parte_line,
    footer,
    no_chart,
)

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


# --- Markdown -----------------------------------------------------------------------------


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    align = ["---"] + ["---:"] * (len(headers) - 1)
    return "\n".join([line(headers), "| " + " | ".join(align) + " |", *map(line, rows)])


def render_markdown(report: PublishedReport, plot_files: dict[str, str] | None = None) -> str:
    """The report in Markdown; ``plot_files`` maps plot names to the PNG file names."""
    plots = plot_files or {}
    parts = [f"# Cooperation report {report.year}", "", report.summary, "", ex_parte_line(report)]
    for table in report.tables:
        parts += ["", f"## {table.title}", ""]
        parts.append(md_table(table.headers, table.rows) if table.rows else table.note)
        if table.rows and table.note:
            parts += ["", f"_{table.note}_"]
        for name, key in PLOT_AFTER.items():
            if key == table.key and name in plots:
                parts += ["", f"![{PLOT_TITLES[name]}]({plots[name]})"]
        parts += [f"\n_{line}_" for line in no_chart(table, plots)]
    parts += ["", f"_{footer(report)}_", ""]
    return "\n".join(parts)


# --- HTML ---------------------------------------------------------------------------------


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: PublishedReport, plots: dict[str, bytes]) -> str:
    """A self-contained page: inline CSS, plots as base64 PNG."""
    esc = html.escape
    title = f"Cooperation report {report.year}"
    body = [f"<h1>{esc(title)}</h1><p>{esc(report.summary)}</p><p>{esc(ex_parte_line(report))}</p>"]
    for table in report.tables:
        body.append(f"<h2>{esc(table.title)}</h2>")
        if table.rows:
            body.append(html_table(table.headers, table.rows))
        if table.note:
            body.append(f'<p class="note">{esc(table.note)}</p>')
        for name, key in PLOT_AFTER.items():
            if key == table.key and name in plots:
                png = base64.b64encode(plots[name]).decode("ascii")
                body.append(
                    f'<figure><img alt="{esc(PLOT_TITLES[name])}" '
                    f'src="data:image/png;base64,{png}">'
                    f"<figcaption>{esc(PLOT_TITLES[name])}</figcaption></figure>"
                )
        body += [f'<p class="note">{esc(line)}</p>' for line in no_chart(table, plots)]
    body.append(f'<p class="note">{esc(footer(report))}</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"{''.join(body)}</body></html>\n"
    )


# --- JSON ---------------------------------------------------------------------------------


def report_document(report: PublishedReport) -> dict[str, Any]:
    """The report for machines: the same tables and cells as the Markdown and HTML."""
    return {
        "year": report.year,
        "generated_at": report.generated_at.isoformat(),
        "threshold_confidential_requests": report.min_group,
        "summary": report.summary,
        "ex_parte_requests": report.ex_parte,
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "headers": list(t.headers),
                "rows": [list(r) for r in t.rows],
                "note": t.note,
            }
            for t in report.tables
        ],
    }


def render_json(report: PublishedReport) -> str:
    return json.dumps(report_document(report), ensure_ascii=False, indent=2) + "\n"


def write_report(report: CooperationReport, out_dir: Path) -> dict[str, Path]:
    """Publish ``report`` and write the Markdown, the HTML, the PDF, the JSON and the PNGs; returns
    their paths by kind. A plot of an earlier run that this run leaves out is removed, so
    the folder never holds a figure the report no longer shows."""
    published = publish(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = stem(report.year)
    plots = render_plots(published)
    written: dict[str, Path] = {}
    files: dict[str, str] = {}
    for name in PLOT_TITLES:
        path = out_dir / f"{base}-{name}.png"
        if name in plots:
            path.write_bytes(plots[name])
            written[name] = path
            files[name] = path.name
        else:
            path.unlink(missing_ok=True)
    written["markdown"] = out_dir / f"{base}.md"
    written["markdown"].write_text(render_markdown(published, files), encoding="utf-8")
    written["html"] = out_dir / f"{base}.html"
    written["html"].write_text(render_html(published, plots), encoding="utf-8")
    written["pdf"] = out_dir / f"{base}.pdf"
    written["pdf"].write_bytes(render_pdf(published, plots))
    written["json"] = out_dir / f"{base}.json"
    written["json"].write_text(render_json(published), encoding="utf-8")
    return written
