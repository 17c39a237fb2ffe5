"""The report of a case-level release: what is still held, anywhere, by party and asset.

Pure: built from the case's release record and the summaries its requests last reported
(``schemas/case.py``), so the case's query and the CLI show the same thing. The report stays
in the case's view until every request of the case is closed (the last release confirmed by
the request that holds it), and after that as the record of the release.
"""

from __future__ import annotations

from schemas.case import (
    MAX_HELD_REPORTED,
    CaseReleaseRecord,
    CaseReleaseReport,
    HeldAsset,
    RequestSummary,
)
from schemas.ledger import RequestStatus
from workflows.catalog import ENDED

__all__ = ["ENDED", "release_report"]


def release_report(
    record: CaseReleaseRecord | None, requests: dict[str, RequestSummary]
) -> CaseReleaseReport | None:
    """Every asset still held after the release (by party and asset), each request's answer
    to the release, and the requests not yet closed; none before a release is ordered."""
    if record is None:
        return None
    held = [
        HeldAsset(request=key, party=s.requested_state, asset_id=asset, status=status)
        for key, s in requests.items()
        for asset, status in s.held.items()
    ]
    not_closed = sorted(k for k, s in requests.items() if s.status is not RequestStatus.CLOSED)
    return CaseReleaseReport(
        ordered_at=record.order.decided_at,
        decided_by=record.order.decided_by,
        ground=record.ground,
        judgment_reference=record.order.judgment_reference,
        requests=record.requests,
        held=held[:MAX_HELD_REPORTED],
        held_left_out=sum(s.held_left_out for s in requests.values())
        + len(held[MAX_HELD_REPORTED:]),
        not_closed=not_closed,
        complete=record.completed_at is not None,
        completed_at=record.completed_at,
    )
