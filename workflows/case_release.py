"""The report of a case-level release: what is still held, anywhere, by party and asset.

Pure: built from the case's release record and the summaries its requests last reported
(``schemas/case.py``), so the case's query and the CLI show the same thing. The report stays
in the case's view until every request of the case is closed (the last release confirmed by
the request that holds it), and after that as the record of the release.

The bookkeeping of the release is pure too: the release ordered (``ordered``), what a request
answered to it (``with_answer``), which requests are now to be closed (``settled``: each took
the release, has ended its execution and holds nothing more) and when the release is complete
(``completed``). The case sends the releases and closes, and keeps the record.
"""

from __future__ import annotations

from datetime import datetime

from schemas.case import (
    MAX_HELD_REPORTED,
    CaseReleaseRecord,
    CaseReleaseReport,
    DeliveryResult,
    HeldAsset,
    ReleaseCase,
    RequestRelease,
    RequestSummary,
    RequestUpdate,
)
from schemas.court import CaseRelease, CloseRequest, Judgment
from schemas.ledger import RequestStatus
from workflows.catalog import ENDED

MAX_REASON_KEPT = 300
"""How much of a request's reason for refusing the release or its close the case keeps (the
request keeps its whole refusal in its own history): the record holds one per request of the
case, carried across continue-as-new; two reasons of 2,000 characters for each of 400 requests
took 1.66 MB of Temporal's 2 MiB payload, at 300 characters they take about 0.3 MB."""

__all__ = [
    "ENDED",
    "close_of",
    "completed",
    "ordered",
    "release_report",
    "settled",
    "with_answer",
    "without",
]


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


def with_answer(
    record: CaseReleaseRecord, key: str, update: RequestUpdate, result: DeliveryResult
) -> CaseReleaseRecord:
    """The release record once a request answered the release (``release_for_case``) or the
    close that followed it."""
    known = record.requests.get(key, RequestRelease())
    reason = None if result.reason is None else result.reason[:MAX_REASON_KEPT]
    if update == "release_for_case":
        outcome = {
            "taken": "taken",
            "refused": "refused",
            "ended": "already_closed",
            "stopped": "stopped",
            "gone": "stopped",  # never reached: the case reads a gone request first
        }
        known = known.model_copy(update={"outcome": outcome[result.outcome], "reason": reason})
    elif result.outcome == "refused":
        known = known.model_copy(update={"close": "refused", "close_reason": reason})
    return record.model_copy(update={"requests": {**record.requests, key: known}})


def without(record: CaseReleaseRecord | None, key: str) -> CaseReleaseRecord | None:
    """The release record without a request that is not in the case after all (its start was
    refused while the release was ordered)."""
    if record is None or key not in record.requests:
        return record
    left = {k: r for k, r in record.requests.items() if k != key}
    return record.model_copy(update={"requests": left})


def settled(
    record: CaseReleaseRecord,
    requests: dict[str, RequestSummary],
    news_from: str | None,
    now: datetime,
) -> tuple[CaseReleaseRecord, list[tuple[str, CloseRequest]]]:
    """Each request that took the release, has ended its execution and holds nothing more
    (every asset settled) is to be closed: the record with those closes pending, and the
    closes, in the record's order. A close the request refused is sent again only on news
    from that request (``news_from``), never in a loop."""
    pending = dict(record.requests)
    closes: list[tuple[str, CloseRequest]] = []
    for key, taken in record.requests.items():
        summary = requests.get(key)
        if (
            taken.outcome != "taken"
            or taken.close == "pending"
            or (taken.close == "refused" and key != news_from)
            or summary is None
            or summary.status not in ENDED
            or summary.held
            or summary.held_left_out
        ):
            continue
        closes.append((key, close_of(record, record.order.event_id, now)))
        pending[key] = taken.model_copy(update={"close": "pending", "close_reason": None})
    return record.model_copy(update={"requests": pending}), closes


def close_of(record: CaseReleaseRecord, event_id: str, now: datetime) -> CloseRequest:
    """The close the case sends a request its release settled (the case sends it under a fresh
    event id of its own; a carried one is rebuilt under its own)."""
    return CloseRequest(
        event_id=event_id,
        decided_by=record.order.decided_by,
        decided_at=now,
        reason=(
            f"case released ({record.ground}, judgment {record.order.judgment_reference}): "
            "every asset settled"
        ),
        original=record.order,  # the Chamber's release as signed, for the request to verify
    )


def completed(
    record: CaseReleaseRecord, requests: dict[str, RequestSummary], now: datetime
) -> CaseReleaseRecord:
    """The release is complete once every request is closed: nothing held anywhere."""
    if record.completed_at is not None:
        return record
    if all(s.status is RequestStatus.CLOSED for s in requests.values()):
        return record.model_copy(update={"completed_at": now})
    return record


def ordered(
    act: ReleaseCase, judgment: Judgment, requests: dict[str, RequestSummary]
) -> tuple[CaseReleaseRecord, list[tuple[str, CaseRelease]]]:
    """The record of the case's release on an acquittal or a termination (RS 74, 81(3)(c),
    83(2); RS 61), and the release each open request is to take, in the case's order (a
    request already closed is recorded as such)."""
    ground = "acquittal" if judgment.outcome.value == "acquittal" else "termination"
    answers: dict[str, RequestRelease] = {}
    releases: list[tuple[str, CaseRelease]] = []
    for key, summary in requests.items():
        if summary.status is RequestStatus.CLOSED:
            answers[key] = RequestRelease(outcome="already_closed")
            continue
        answers[key] = RequestRelease()
        release = CaseRelease(
            event_id=act.event_id,  # the case sends it under a fresh id per request
            decided_by=act.decided_by,
            decided_at=act.decided_at,
            judgment=judgment,
            reasons=act.reasons,
            original=act,  # the Chamber's act as signed, for the request to verify
        )
        releases.append((key, release))
    return CaseReleaseRecord(order=act, ground=ground, requests=answers), releases
