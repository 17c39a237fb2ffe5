"""The per-asset ledger of one request and the request's status, as the workflow keeps them."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.assets import Asset
from schemas.common import CurrencyCode, EventId, Measure, Money


class RequestStatus(StrEnum):
    """Where a request to one State stands."""

    TRANSMITTED = "transmitted"
    ACKNOWLEDGED = "acknowledged"
    IN_EXECUTION = "in_execution"
    EXECUTED = "executed"
    PARTIALLY_EXECUTED = "partially_executed"
    NO_ASSETS = "no_assets"
    CLOSED = "closed"


class AssetStatus(StrEnum):
    """How far the measures of RS 93(1)(k) have gone for one asset, in order of progress."""

    KNOWN = "known"
    IDENTIFIED = "identified"
    TRACED = "traced"
    FROZEN = "frozen"
    SEIZED = "seized"

    @property
    def rank(self) -> int:
        return list(AssetStatus).index(self)

    @property
    def restrained(self) -> bool:
        """Frozen or seized: the asset is under a protective measure."""
        return self in (AssetStatus.FROZEN, AssetStatus.SEIZED)


class State(BaseModel):
    """Mutable workflow state; unknown fields are still errors."""

    model_config = ConfigDict(extra="forbid")


class LedgerChange(State):
    at: AwareDatetime
    event_id: EventId
    status: AssetStatus
    value: Money | None = None
    note: str = ""


class LedgerEntry(State):
    """One asset: what it is, how far the measures went, what it is worth, who holds it."""

    asset: Asset
    status: AssetStatus = AssetStatus.KNOWN
    measures_executed: list[Measure] = []
    value: Money | None = None
    location: str | None = None
    registry_reference: str | None = None
    executing_authority: str | None = None
    history: list[LedgerChange] = []


class CurrencyTotals(State):
    """Sums of valued assets in one currency, by how far they are restrained."""

    identified: Decimal = Decimal(0)
    frozen: Decimal = Decimal(0)
    seized: Decimal = Decimal(0)


class Ledger(State):
    entries: dict[str, LedgerEntry] = {}

    def totals(self) -> dict[CurrencyCode, CurrencyTotals]:
        """Per-currency totals; no conversion between currencies."""
        out: dict[str, CurrencyTotals] = {}
        for entry in self.entries.values():
            if entry.value is None or entry.status is AssetStatus.KNOWN:
                continue
            t = out.setdefault(entry.value.currency, CurrencyTotals())
            t.identified += entry.value.amount
            if entry.status is AssetStatus.FROZEN:
                t.frozen += entry.value.amount
            elif entry.status is AssetStatus.SEIZED:
                t.seized += entry.value.amount
        return dict(sorted(out.items()))

    def restrained(self) -> list[LedgerEntry]:
        return [e for e in self.entries.values() if e.status.restrained]
