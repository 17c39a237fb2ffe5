"""The largest carry a request's bounds allow (test support: the carry tests and the codec's
compression test measure it)."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.ledger import (
    HISTORY_REPEATS_KEPT,
    AssetStatus,
    Ledger,
    LedgerChange,
    LedgerEntry,
    RequestStatus,
)
from schemas.views import SEEN_IDS_CAP, TimelineEntry
from tests.builders import court_request
from workflows.carry import MAX_REQUEST_COURT_ACTIONS, TIMELINE_CARRIED, RequestCarry
from workflows.request_seen import SeenIds


def carry_at_caps(assets: int) -> RequestCarry:
    """The largest carry the bounds allow for a flood of answers to a ledger of ``assets``:
    the cap of ids in the window and of the Court actions' ids, the carried timeline full of
    the longest event ids, each asset with three status changes and HISTORY_REPEATS_KEPT
    valuations before the collapse."""
    req = court_request()
    at = datetime(2026, 5, 1, tzinfo=UTC)
    seen = SeenIds([], [], 0, at)
    for i in range(SEEN_IDS_CAP):
        seen.add(f"{i:08d}-" + "x" * 119, at)
    for i in range(MAX_REQUEST_COURT_ACTIONS):  # a Court action's id, kept for ever
        seen.add(f"court-{i:08d}-" + "x" * 113, at, court=True)
    long_id = "e" * 128
    timeline = [
        TimelineEntry(
            at=at, event_id=long_id, what="asset a-1: valuation " * 4, status="in_execution"
        )
        for _ in range(TIMELINE_CARRIED)
    ]
    asset = req.known_assets[0]
    value = asset.estimated_value
    statuses = [AssetStatus.IDENTIFIED, AssetStatus.TRACED] + [AssetStatus.FROZEN] * (
        1 + HISTORY_REPEATS_KEPT
    )
    entries = {
        f"a-{n}": LedgerEntry(
            asset=asset.model_copy(update={"asset_id": f"a-{n}"}),
            status=AssetStatus.FROZEN,
            value=value,
            history=[
                LedgerChange(at=at, event_id=long_id, status=s, value=value) for s in statuses
            ],
        )
        for n in range(assets)
    }
    ledger = Ledger(entries=entries)
    ledger.collapse_histories()
    return RequestCarry(
        status=RequestStatus.IN_EXECUTION,
        ledger=ledger,
        timeline=timeline,
        seen=seen.carried(),
        answers_taken=seen.taken,
        court_ids=seen.court_carried(),
    )
