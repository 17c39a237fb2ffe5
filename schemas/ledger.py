"""The per-asset ledger of one request and the request's status, as the workflow keeps them."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.assets import Asset
from schemas.common import CurrencyCode, EventRef, Measure, Money
from schemas.court import AllocationShare, ReparationsPosition
from schemas.currencies import minor_units
from schemas.enforcement import EnforcementOutcome


class RequestStatus(StrEnum):
    """Where a request to one State stands."""

    TRANSMITTED = "transmitted"
    ACKNOWLEDGED = "acknowledged"
    IN_CONSULTATION = "in_consultation"
    POSTPONEMENT_PROPOSED = "postponement_proposed"
    POSTPONED = "postponed"
    IN_EXECUTION = "in_execution"
    EXECUTED = "executed"
    PARTIALLY_EXECUTED = "partially_executed"
    NO_ASSETS = "no_assets"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"

    @property
    def paused(self) -> bool:
        """Consultations (RS 97, 93(3), 96(3)) and postponements (RS 94, 95) pause the clock;
        a postponement only once it holds: an RS 94 period the Court agreed, an RS 95
        postponement for a challenge the Court recorded as pending before it. A State's
        proposal alone (``postponement_proposed``) pauses nothing: the clock runs until the
        Court answers."""
        return self in (RequestStatus.IN_CONSULTATION, RequestStatus.POSTPONED)


class AssetStatus(StrEnum):
    """How far the measures of RS 93(1)(k) have gone for one asset, in order of progress."""

    KNOWN = "known"
    IDENTIFIED = "identified"
    TRACED = "traced"
    FROZEN = "frozen"
    SEIZED = "seized"
    FORFEITURE_ORDERED = "forfeiture_ordered"
    TRANSFERRED = "transferred"
    ALLOCATED = "allocated"
    RELEASED = "released"

    @property
    def rank(self) -> int:
        """Its place in the order of progress (a table built once: every ledger update
        compares ranks, inside the request's workflow task)."""
        return _STATUS_RANK[self]

    @property
    def restrained(self) -> bool:
        """Held by the State under a protective measure or a forfeiture order."""
        return self in (AssetStatus.FROZEN, AssetStatus.SEIZED, AssetStatus.FORFEITURE_ORDERED)

    @property
    def settled(self) -> bool:
        """Never restrained, released, or forfeited and allocated: nothing left to decide."""
        return self in (
            AssetStatus.KNOWN,
            AssetStatus.IDENTIFIED,
            AssetStatus.TRACED,
            AssetStatus.ALLOCATED,
            AssetStatus.RELEASED,
        )

    @property
    def executing(self) -> bool:
        """Still within the State's execution (RS 99 reports may move it forward)."""
        return self.rank <= AssetStatus.SEIZED.rank


_STATUS_RANK: dict[AssetStatus, int] = {status: n for n, status in enumerate(AssetStatus)}


class State(BaseModel):
    """Mutable workflow state; unknown fields are still errors."""

    model_config = ConfigDict(extra="forbid")


HISTORY_REPEATS_KEPT = 50
"""Repeated changes of one asset (valuations, management updates) its history keeps: the last
ones. Every change of status is kept; every change also left as a request event on Kafka."""
LEDGER_REPEATS_KEPT = 300
"""Repeated changes kept over the whole ledger, shared among its assets (at least one each):
a ledger of many assets keeps fewer per asset, so the whole stays bounded."""


class LedgerChange(State):
    at: AwareDatetime
    event_id: EventRef
    status: AssetStatus
    value: Money | None = None
    costs: Money | None = None
    """Management costs the change reported (``AssetManagementUpdate``)."""
    note: str = ""


class Contest(State):
    """A third-party claim or a domestic challenge against the measure on one asset."""

    contest_id: str
    kind: str  # "third_party_claim" | "domestic_challenge"
    lodged_by_event: EventRef
    pending: bool = True
    outcome: str | None = None
    awaits_court: bool = False
    """A national forum upheld the remedy: the matter is before the Chamber, which decides
    what follows (nothing is released on the State's report alone)."""


class AllocationRecord(State):
    """One allocation decision of the Presidency on an asset (Rule 221): which decision, when,
    what it found on reparations (Rule 221(2)), how much it allocated and what remained."""

    event_id: EventRef
    decision_reference: str
    decided_at: AwareDatetime
    reparations: ReparationsPosition | None = None
    allocated: Money
    unallocated_after: Money


class LedgerEntry(State):
    """One asset: what it is, how far the measures went, what it is worth, who holds it."""

    asset: Asset
    status: AssetStatus = AssetStatus.KNOWN
    measures_executed: list[Measure] = []
    value: Money | None = None
    valued_at: AwareDatetime | None = None
    """When the latest value was stated (the report or the manager's update that gave it)."""
    management_costs: dict[CurrencyCode, Decimal] = {}
    """What managing the asset has cost so far, per currency, never converted: it reduces
    what may reach victims (RS 75(2), 79(2)), so it is kept beside the value, not netted."""
    location: str | None = None
    registry_reference: str | None = None
    executing_authority: str | None = None
    asset_manager: str | None = None
    contests: list[Contest] = []
    forfeiture_order: str | None = None
    enforcement: EnforcementOutcome | None = None
    """What the State reported on this item of an enforcement request (RS 109)."""
    recovered: Money | None = None
    """The value the State recovered for it (RS 109(2)) or the proceeds of its sale."""
    enforced_by: str | None = None
    """The Presidency's enforcement request (RS 109) that enforces this asset: its transfer
    to the Court is recorded there, not on this request."""
    transferred: Money | None = None
    allocations: list[AllocationShare] = []
    allocated: Money | None = None
    """How much of the transferred value the Presidency allocated so far (Rule 221)."""
    unallocated: Money | None = None
    """What remains of the transferred value to allocate; the asset is allocated at zero."""
    allocation_decisions: list[AllocationRecord] = []
    """Each allocation decision of the Presidency on this asset, in order (Rule 221)."""
    rule99_modifications: list[str] = []
    """The terms of each Rule 99(3) modification of the measure on this asset."""
    held_up_to: Money | None = None
    """A Rule 99(3) modification holds the asset only up to this value (the rest is at the
    holder's disposal)."""
    release_ground: str | None = None
    freeze_limit_until: AwareDatetime | None = None
    national_order_expires_at: AwareDatetime | None = None
    history: list[LedgerChange] = []
    history_collapsed: int = 0
    """Repeated changes (valuations, management updates: same status as the change before)
    no longer held: ``collapse_history`` keeps every status change and the last repeats."""

    def collapse_history(self, keep: int) -> None:
        """Keep every change of status and the last ``keep`` repeated changes; count the rest.
        The entry's current values (status, value, holder) are its own fields, untouched."""
        if len(self.history) <= keep:
            return
        repeats = [
            i
            for i, h in enumerate(self.history)
            if i > 0 and h.status is self.history[i - 1].status
        ]
        if len(repeats) <= keep:
            return
        dropped = set(repeats[: len(repeats) - keep])
        self.history = [h for i, h in enumerate(self.history) if i not in dropped]
        self.history_collapsed += len(dropped)

    @property
    def restrained_value(self) -> Decimal:
        """What the measure holds of the asset's value: all of it, or no more than a Rule 99(3)
        modification holds it up to (the rest is at the holder's disposal). Zero unvalued."""
        if self.value is None:
            return Decimal(0)
        held = self.held_up_to
        if held is not None and held.currency == self.value.currency:
            return min(self.value.amount, held.amount)
        return self.value.amount

    @property
    def contested(self) -> bool:
        """A pending third-party claim or domestic challenge (RS 93(1)(k), Rule 99)."""
        return any(c.pending for c in self.contests)


class CurrencyTotals(State):
    """Sums of valued assets in one currency, by how far they are restrained."""

    identified: Decimal = Decimal(0)
    frozen: Decimal = Decimal(0)
    seized: Decimal = Decimal(0)
    forfeited: Decimal = Decimal(0)
    released: Decimal = Decimal(0)
    allocated: Decimal = Decimal(0)
    management_costs: Decimal = Decimal(0)
    """What managing the assets cost, in this currency (it reduces what reaches victims)."""


MAX_RATES = 50
"""Most currency pairs a request's ledger keeps a recorded rate for (the latest per pair)."""


class RecordedRate(State):
    """A dated exchange rate the Registry recorded on the request: 1 ``from_currency`` is
    ``rate`` ``to_currency`` on ``rate_date``, per ``source``."""

    from_currency: CurrencyCode
    to_currency: CurrencyCode
    rate: Decimal
    rate_date: date
    source: str
    event_id: EventRef


class ConvertedTotals(RecordedRate):
    """One currency's totals converted at a recorded rate, in ``to_currency``, each figure
    rounded half-even to its minor units (ISO 4217); shown with the rate and its date."""

    totals: CurrencyTotals


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """``amount`` times ``rate``, rounded half-even to ``currency``'s minor units; exact
    arithmetic however large the totals (its own context, not the thread's)."""
    with localcontext(Context(prec=80, rounding=ROUND_HALF_EVEN)):
        return (amount * rate).quantize(Decimal(1).scaleb(-minor_units(currency)))


class Ledger(State):
    entries: dict[str, LedgerEntry] = {}
    rates: dict[str, RecordedRate] = {}
    """Recorded exchange rates, the latest per pair (``FROM/TO``), at most ``MAX_RATES``."""

    def totals(self) -> dict[CurrencyCode, CurrencyTotals]:
        """Per-currency totals; no conversion between currencies."""
        out: dict[str, CurrencyTotals] = {}
        for entry in self.entries.values():
            if entry.value is None or entry.status is AssetStatus.KNOWN:
                continue
            t = out.setdefault(entry.value.currency, CurrencyTotals())
            t.identified += entry.value.amount
            if entry.status is AssetStatus.FROZEN:
                t.frozen += entry.restrained_value
            elif entry.status is AssetStatus.SEIZED:
                t.seized += entry.restrained_value
            elif entry.status is AssetStatus.RELEASED:
                t.released += entry.value.amount
            elif entry.status.rank >= AssetStatus.FORFEITURE_ORDERED.rank:
                t.forfeited += entry.value.amount
            for share in entry.allocations:
                out.setdefault(
                    share.amount.currency, CurrencyTotals()
                ).allocated += share.amount.amount
        for entry in self.entries.values():
            for currency, cost in entry.management_costs.items():
                out.setdefault(currency, CurrencyTotals()).management_costs += cost
        return dict(sorted(out.items()))

    def converted_totals(self) -> list[ConvertedTotals]:
        """Each currency's totals converted at a dated rate the Registry recorded for it
        (``record_exchange_rate``), with the rate, its date and source; none without a rate.
        The converted figures stand beside the unconverted totals, never added to them."""
        totals = self.totals()
        out = []
        for rate in sorted(self.rates.values(), key=lambda r: (r.from_currency, r.to_currency)):
            source = totals.get(rate.from_currency)
            if source is None:
                continue
            out.append(
                ConvertedTotals(
                    from_currency=rate.from_currency,
                    to_currency=rate.to_currency,
                    rate=rate.rate,
                    rate_date=rate.rate_date,
                    source=rate.source,
                    event_id=rate.event_id,
                    totals=CurrencyTotals(
                        **{
                            name: convert(getattr(source, name), rate.rate, rate.to_currency)
                            for name in CurrencyTotals.model_fields
                        }
                    ),
                )
            )
        return out

    def collapse_histories(self) -> None:
        """Each asset keeps every status change and its share of the repeated changes
        (``HISTORY_REPEATS_KEPT``, fewer when many assets share ``LEDGER_REPEATS_KEPT``)."""
        if not self.entries:
            return
        keep = max(1, min(HISTORY_REPEATS_KEPT, LEDGER_REPEATS_KEPT // len(self.entries)))
        for entry in self.entries.values():
            entry.collapse_history(keep)

    def restrained(self) -> list[LedgerEntry]:
        return [e for e in self.entries.values() if e.status.restrained]
