"""Plain-text rendering of where a request stands: header, timeline, ledger and totals.

Aligned columns, no colours, no third-party dependency; used by ``tracefreeze status`` and
the demo. Shows ids, kinds, statuses and values, as the Registry monitors them.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.common import Money
from schemas.views import RequestView

NONE = "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    return "\n".join(out)


def money(value: Money | None) -> str:
    return f"{value.amount:,.2f} {value.currency}" if value else NONE


def render_timeline(view: RequestView) -> str:
    if not view.timeline:
        return "no answer or Court action recorded yet"
    rows = [
        [e.at.strftime("%Y-%m-%d %H:%M:%S %Z"), e.status.value, e.what, e.event_id or NONE]
        for e in view.timeline
    ]
    return table(["when", "status", "what", "event id"], rows)


def render_ledger(view: RequestView) -> str:
    rows = [
        [
            asset_id,
            e.asset.kind.value,
            e.status.value,
            money(e.value),
            e.registry_reference or e.asset.registry_reference or NONE,
            e.executing_authority or NONE,
        ]
        for asset_id, e in sorted(view.ledger.entries.items())
    ]
    headers = ["asset", "kind", "status", "value", "registry reference", "executing authority"]
    return table(headers, rows)


def render_totals(view: RequestView) -> str:
    if not view.totals:
        return "no valued asset identified yet"
    rows = [
        [currency, f"{t.identified:,.2f}", f"{t.frozen:,.2f}", f"{t.seized:,.2f}"]
        for currency, t in view.totals.items()
    ]
    return table(["currency", "identified", "frozen", "seized"], rows)


def render_view(view: RequestView) -> str:
    """The whole picture of one request to one State."""
    header = (
        f"Request {view.reference} to {view.requested_state} — case {view.case_number}\n"
        f"Status: {view.status.value.replace('_', ' ')}  ({view.answers_seen} answers accepted)"
    )
    return "\n\n".join(
        [
            header,
            "Timeline\n" + render_timeline(view),
            "Ledger\n" + render_ledger(view),
            "Totals (per currency, no conversion)\n" + render_totals(view),
        ]
    )
