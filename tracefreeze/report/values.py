"""How values read in the Registry's plain-text views (docs/legal-process.md, 'Value as it
happens'): each amount with its currency's ISO 4217 minor units (JPY 0, EUR 2, LYD 3), an
asset's management costs, and converted totals only with the recorded rate and its date."""

from __future__ import annotations

from decimal import Decimal

from schemas.currencies import MINOR_UNITS
from schemas.ledger import ConvertedTotals, LedgerEntry


def amount_text(amount: Decimal, currency: str) -> str:
    """``amount`` grouped by thousands, with ``currency``'s minor units (2 if unknown)."""
    return f"{amount:,.{MINOR_UNITS.get(currency, 2)}f}"


def costs_line(entry: LedgerEntry) -> str | None:
    """The asset's management costs so far, per currency (they reduce what reaches victims)."""
    if not entry.management_costs:
        return None
    parts = [f"{amount_text(a, c)} {c}" for c, a in sorted(entry.management_costs.items())]
    return "management costs so far: " + "; ".join(parts)


def converted_table(converted: list[ConvertedTotals], columns: tuple[str, ...]) -> str:
    """Each currency's totals at a recorded rate, the rate and its date on every row."""
    from tracefreeze.report.status import table

    rows = [
        [
            f"{c.from_currency} -> {c.to_currency}",
            f"{c.rate}",
            f"{c.rate_date:%Y-%m-%d}",
            c.source,
            *(amount_text(getattr(c.totals, name), c.to_currency) for name in columns),
        ]
        for c in converted
    ]
    return table(["converted", "rate", "rate date", "source", *columns], rows)


def converted_section(converted: list[ConvertedTotals], columns: tuple[str, ...]) -> list[str]:
    """The converted totals, titled so nobody adds them to the unconverted ones; none without
    a recorded rate."""
    if not converted:
        return []
    return [
        "Converted at recorded rates (beside the totals above, not added to them)\n"
        + converted_table(converted, columns)
    ]
