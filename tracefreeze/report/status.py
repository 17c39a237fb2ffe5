"""Plain-text rendering of where a request stands: header, timeline, ledger and totals.

Aligned columns, no colours, no third-party dependency; used by ``tracefreeze status``,
``tracefreeze ledger``, ``tracefreeze case status`` and the demo. Shows ids, kinds, statuses
and values, as the Registry monitors them.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.case import CaseView
from schemas.common import Money
from schemas.ledger import CurrencyTotals, LedgerEntry
from schemas.views import RequestView
from tracefreeze.report.values import amount_text, converted_section, costs_line

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
    return f"{amount_text(value.amount, value.currency)} {value.currency}" if value else NONE


def render_timeline(view: RequestView) -> str:
    """The most recent entries the request shows, and how many older ones it elides (each
    left as a request event on Kafka when it was made)."""
    if not view.timeline:
        return "no answer or Court action recorded yet"
    rows = [
        [e.at.strftime("%Y-%m-%d %H:%M:%S %Z"), e.status.value, e.what, e.event_id or NONE]
        for e in view.timeline
    ]
    out = table(["when", "status", "what", "event id"], rows)
    if view.timeline_elided:
        out = f"({view.timeline_elided} earlier entries elided: see the request's events)\n{out}"
    return out


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


TOTALS = (
    "identified",
    "frozen",
    "seized",
    "forfeited",
    "released",
    "allocated",
    "management_costs",
)


def totals_table(totals: dict[str, CurrencyTotals]) -> str:
    """Per-currency sums, from identified to allocated (no conversion between currencies)."""
    if not totals:
        return "no valued asset identified yet"
    rows = [
        [currency, *(amount_text(getattr(t, name), currency) for name in TOTALS)]
        for currency, t in totals.items()
    ]
    return table(["currency", *TOTALS], rows)


def render_totals(view: RequestView) -> str:
    return totals_table(view.totals)


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
            *converted_section(view.converted_totals, TOTALS),
        ]
    )


def _holder(entry: LedgerEntry) -> str:
    parts = []
    if entry.executing_authority:
        parts.append(f"executing authority {entry.executing_authority}")
    if entry.asset_manager:
        parts.append(f"asset manager {entry.asset_manager}")
    return "; ".join(parts) or NONE


def _value(entry: LedgerEntry) -> str:
    estimate = entry.asset.estimated_value
    if entry.value is None and estimate is not None:
        return f"{NONE} (the Court's estimate: {money(estimate)})"
    if entry.value is not None and entry.valued_at is not None:
        return f"{money(entry.value)} (as of {entry.valued_at:%Y-%m-%d})"
    return money(entry.value)


def _facts(entry: LedgerEntry) -> list[str]:
    """What was decided about the asset: contests, forfeiture, transfer, allocation, release."""
    lines = [
        f"{c.kind.replace('_', ' ')} {c.contest_id}: {'pending' if c.pending else c.outcome}"
        + (" (before the Chamber: awaits the Court's decision)" if c.awaits_court else "")
        for c in entry.contests
    ]
    lines += [f"measure modified (Rule 99(3)): {terms}" for terms in entry.rule99_modifications]
    if entry.forfeiture_order:
        lines.append(f"forfeiture order: {entry.forfeiture_order}")
    if entry.transferred:
        lines.append(f"transferred to the Court: {money(entry.transferred)}")
    lines += [
        f"allocated to {s.destination.value.replace('_', ' ')}: {money(s.amount)} ({s.basis})"
        for s in entry.allocations
    ]
    lines += [
        f"allocation decided by the Presidency: {d.decision_reference}"
        + (f" (reparations {d.reparations.value.replace('_', ' ')})" if d.reparations else "")
        for d in entry.allocation_decisions
    ]
    costs = costs_line(entry)
    if costs:
        lines.append(costs)
    if entry.unallocated is not None and entry.unallocated.amount > 0:
        lines.append(f"still unallocated: {money(entry.unallocated)}")
    if entry.release_ground:
        lines.append(f"released: {entry.release_ground.replace('_', ' ')}")
    if entry.freeze_limit_until:
        lines.append(f"freeze limit proposed until {entry.freeze_limit_until:%Y-%m-%d}")
    return lines


def render_asset(asset_id: str, entry: LedgerEntry) -> str:
    """One asset: status, contested flag, holder, value, decisions and its history."""
    head = [
        f"Asset {asset_id} ({entry.asset.kind.value}): {entry.asset.description}",
        f"  status: {entry.status.value}   contested: {'yes' if entry.contested else 'no'}",
        f"  held by: {_holder(entry)}",
        f"  value: {_value(entry)}",
    ]
    head += [f"  {line}" for line in _facts(entry)]
    if not entry.history:
        return "\n".join([*head, "  history: none yet"])
    rows = [
        [
            h.at.strftime("%Y-%m-%d %H:%M:%S %Z"),
            h.status.value,
            money(h.value),
            h.note or NONE,
            h.event_id,
        ]
        for h in entry.history
    ]
    history = table(["time", "status", "value", "note", "event id"], rows)
    title = "  history:"
    if entry.history_collapsed:
        title = (
            f"  history ({entry.history_collapsed} earlier repeated valuations or updates "
            "collapsed; every status change kept):"
        )
    return "\n".join([*head, title, *(f"    {line}" for line in history.splitlines())])


def render_asset_ledger(view: RequestView) -> str:
    """``tracefreeze ledger``: every asset with its history, then the per-currency totals."""
    header = (
        f"Ledger of request {view.reference} to {view.requested_state} — "
        f"case {view.case_number} ({view.status.value.replace('_', ' ')})"
    )
    assets = [render_asset(a, e) for a, e in sorted(view.ledger.entries.items())]
    return "\n\n".join(
        [
            header,
            *(assets or ["no asset known or identified yet"]),
            "Totals (per currency, no conversion)\n" + totals_table(view.totals),
            *converted_section(view.converted_totals, TOTALS),
        ]
    )


def render_case(view: CaseView) -> str:
    """``tracefreeze case status``: each State's request and the case's totals."""
    header = (
        f"Case {view.case_number}, order {view.order_reference}: "
        f"{'closed' if view.closed else 'open'}"
    )
    rows = [
        [req.requested_state, req.reference, req.status.value, str(req.assets), str(req.restrained)]
        for req in sorted(view.requests.values(), key=lambda r: (r.requested_state, r.reference))
    ]
    requests = table(["State", "reference", "status", "assets", "restrained"], rows)
    return "\n\n".join(
        [
            header,
            "Requests\n" + requests,
            "Totals across States (per currency, no conversion)\n" + totals_table(view.totals),
        ]
    )
