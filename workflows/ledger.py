"""Per-asset ledger rules: how an execution report (RS 99) moves each asset forward.

Pure functions over schema models; deterministic, no I/O.
"""

from __future__ import annotations

from datetime import datetime

from schemas.answers import AssetResult, ExecutionReport
from schemas.common import Measure
from schemas.enforcement import OrderEnforced
from schemas.ledger import AssetStatus, Ledger, LedgerChange, LedgerEntry
from schemas.request import CourtRequest
from workflows.outcome import Refusal

STATUS_OF_MEASURE = {
    Measure.IDENTIFY: AssetStatus.IDENTIFIED,
    Measure.TRACE: AssetStatus.TRACED,
    Measure.FREEZE: AssetStatus.FROZEN,
    Measure.SEIZE: AssetStatus.SEIZED,
}


class LedgerRefusal(Refusal):
    """An execution report the ledger cannot take (unknown asset, measure not requested)."""


def ledger_from_request(request: CourtRequest) -> Ledger:
    """The ledger opens with the assets the Court already knows of (RS 96(2)). On the
    Presidency's request to enforce a forfeiture order (RS 109; Rule 218(1)(b)) they are the
    assets the order names, held under it from the start: no release path lets go of them
    (``workflows/forfeiture_hold.py``)."""
    order = request.enforcement
    held = order is not None and order.order is OrderEnforced.FORFEITURE
    return Ledger(
        entries={
            a.asset_id: (
                LedgerEntry(
                    asset=a,
                    status=AssetStatus.FORFEITURE_ORDERED,
                    forfeiture_order=order.order_reference,
                )
                if held and order is not None
                else LedgerEntry(asset=a)
            )
            for a in request.known_assets
        }
    )


def check_report(ledger: Ledger, request: CourtRequest, report: ExecutionReport) -> None:
    """Reject a report naming an unknown asset or a measure the Court did not request."""
    requested = set(request.measures)
    for result in report.results:
        entry = ledger.entries.get(result.asset_id)
        if entry is None and result.asset is None:
            raise LedgerRefusal(
                f"unknown asset {result.asset_id!r}: not in the request's ledger, and no "
                "`asset` description was given for a newly identified asset"
            )
        if entry is not None and result.asset is not None and result.asset.kind != entry.asset.kind:
            raise LedgerRefusal(
                f"asset {result.asset_id!r} is a {entry.asset.kind.value} in the ledger, "
                f"not a {result.asset.kind.value}"
            )
        extra = set(result.measures_executed) - requested
        if extra:
            raise LedgerRefusal(
                f"asset {result.asset_id!r}: measures {sorted(m.value for m in extra)} were "
                "not requested by the Court"
            )


def apply_result(
    ledger: Ledger,
    result: AssetResult,
    event_id: str,
    at: datetime,
    report_sent_at: datetime | None = None,
) -> tuple[AssetStatus, AssetStatus]:
    """Record one asset's progress; returns (status before, status after). A value the
    report states is the asset's value as of the report (``report_sent_at``, else ``at``)."""
    report_sent_at = report_sent_at or at
    entry = ledger.entries.get(result.asset_id)
    if entry is None:
        assert result.asset is not None  # guaranteed by check_report
        entry = ledger.entries[result.asset_id] = LedgerEntry(asset=result.asset)
    before = entry.status
    reached = max((STATUS_OF_MEASURE[m] for m in result.measures_executed), key=lambda s: s.rank)
    entry.status = max(before, reached, key=lambda s: s.rank)
    entry.measures_executed = sorted(
        set(entry.measures_executed) | set(result.measures_executed), key=list(Measure).index
    )
    entry.value = result.value or entry.value or entry.asset.estimated_value
    if result.value is not None:
        entry.valued_at = report_sent_at
    entry.location = result.location or entry.location
    entry.registry_reference = result.registry_reference or entry.registry_reference
    entry.executing_authority = result.executing_authority or entry.executing_authority
    entry.national_order_expires_at = (
        result.national_order_expires_at or entry.national_order_expires_at
    )
    entry.history.append(
        LedgerChange(at=at, event_id=event_id, status=entry.status, value=entry.value)
    )
    return before, entry.status


def fully_executed(ledger: Ledger, request: CourtRequest) -> bool:
    """Every asset reached the strongest measure the Court requested for it."""
    target = max((STATUS_OF_MEASURE[m] for m in request.measures), key=lambda s: s.rank)
    if target is AssetStatus.SEIZED and Measure.FREEZE in request.measures:
        target = AssetStatus.FROZEN  # "freeze or seize" (RS 93(1)(k)): either satisfies
    return bool(ledger.entries) and all(
        e.status.rank >= target.rank for e in ledger.entries.values()
    )
