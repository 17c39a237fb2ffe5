"""The worker's log lines of a request's answers and actions: ids, codes and counts only,
never names, assets or an answer's body (every answer taken is also its own event on Kafka).
Silent on replay, as every ``workflow.logger`` line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.ledger import RequestStatus
    from schemas.request import CourtRequest
    from schemas.views import AnswerReceipt
    from workflows.catalog import Kind


def taken(kind: Kind, event_id: str, status: RequestStatus, request: CourtRequest) -> None:
    """The line of an answer or action taken alone (its own update)."""
    workflow.logger.info(
        "court action taken" if kind.party == "court" else "answer accepted",
        extra={
            "event_id": event_id,
            "action": kind.name,
            "status": status.value,
            "request_reference": request.reference,
            "case_number": request.case_number,
            "state": request.requested_state,
        },
    )


def batch(
    kinds: Sequence[str],
    receipts: list[AnswerReceipt],
    status: RequestStatus,
    request: CourtRequest,
) -> None:
    """One line for a batch of a State's answers (a backlog the bridge hands over), not one
    per answer (a line per answer and per event took about a quarter of the worker's time in
    a backlog drain, ``bench/drain.py``): the ids accepted, how many of each kind, and how
    many were repeated or refused. Each answer accepted is also its own event on Kafka."""
    accepted = [
        (kind, r.event_id)
        for kind, r in zip(kinds, receipts, strict=False)  # one receipt per answer; never raise
        if not r.duplicate and r.rejected is None
    ]
    workflow.logger.info(
        "answer batch taken",
        extra={
            "event_ids": [event_id for _, event_id in accepted],
            "actions": dict(Counter(kind for kind, _ in accepted)),
            "duplicates": sum(1 for r in receipts if r.duplicate),
            "refused": sum(1 for r in receipts if r.rejected is not None),
            "status": status.value,
            "request_reference": request.reference,
            "case_number": request.case_number,
            "state": request.requested_state,
        },
    )
