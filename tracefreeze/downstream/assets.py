"""The worked example of the consumer kit: assets by status per currency, from the events.

Each asset event (``int.icc.tracefreeze.asset.<status>.v1``) carries the asset's status and
value after the change; the table keeps the latest per asset (request reference, asset id)
and sums them per currency and status, never converting one currency into another. Applying
an event twice changes nothing (the latest status is set again), so the table is idempotent
under redelivery and replay. Ex parte requests' events carry no asset (Rule 99(2)): they are
counted, never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from schemas.events import AssetEventData, RequestEvent
from schemas.ledger import AssetStatus
from tracefreeze.downstream.envelope import CourtEvent
from tracefreeze.report.status import table
from tracefreeze.report.values import amount_text

NO_VALUE = "(no value)"
"""The currency column of assets the State has not valued yet."""
HEADERS = ("currency", "status", "assets", "value")


@dataclass(frozen=True)
class Row:
    currency: str
    status: AssetStatus
    assets: int
    value: Decimal


class AssetTable:
    """The latest status and value of every asset seen in the events."""

    def __init__(self) -> None:
        self.assets: dict[tuple[str, str], AssetEventData] = {}
        self.without_detail: set[str] = set()
        """Ids of asset events of ex parte requests: counted, without the asset (Rule 99(2))."""

    def apply(self, event: CourtEvent) -> bool:
        """Take one event; True when the table changed."""
        if not isinstance(event, RequestEvent) or not event.type.value.startswith(
            "int.icc.tracefreeze.asset."
        ):
            return False
        if event.asset is None:
            if event.id in self.without_detail:
                return False
            self.without_detail.add(event.id)
            return True
        key = (event.subject, event.asset.asset_id)
        if self.assets.get(key) == event.asset:
            return False
        self.assets[key] = event.asset
        return True

    def rows(self) -> list[Row]:
        """Per currency, per status in order of progress: how many assets and their value."""
        sums: dict[tuple[str, AssetStatus], tuple[int, Decimal]] = {}
        for asset in self.assets.values():
            currency = asset.value.currency if asset.value else NO_VALUE
            amount = asset.value.amount if asset.value else Decimal(0)
            count, total = sums.get((currency, asset.status), (0, Decimal(0)))
            sums[currency, asset.status] = (count + 1, total + amount)
        order = list(AssetStatus)
        keys = sorted(sums, key=lambda k: (k[0] == NO_VALUE, k[0], order.index(k[1])))
        return [Row(c, s, *sums[c, s]) for c, s in keys]

    def render(self) -> str:
        """The table as text, one line per currency and status."""
        lines = [
            (
                r.currency,
                r.status.value,
                str(r.assets),
                "-" if r.currency == NO_VALUE else amount_text(r.value, r.currency),
            )
            for r in self.rows()
        ]
        text = table(HEADERS, lines) if lines else "no asset events yet"
        if self.without_detail:
            n = len(self.without_detail)
            text += f"\n(+ {n} asset event(s) of ex parte requests, no detail)"
        return text
