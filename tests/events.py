"""Request events as the outbox makes them, for tests of what leaves a request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from schemas.events import RequestEvent, RequestEventType
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def request_event(req: CourtRequest, type_: RequestEventType, **extra: object) -> RequestEvent:
    """An event of ``req`` (status transmitted unless given), with ``extra`` fields."""
    return RequestEvent(
        id=str(uuid.uuid4()),
        type=type_,
        time=NOW,
        subject=req.reference,
        case_number=req.case_number,
        requested_state=req.requested_state,
        status=extra.pop("status", RequestStatus.TRANSMITTED),  # type: ignore[arg-type]
        confidentiality=req.confidentiality,
        **extra,  # type: ignore[arg-type]
    )
