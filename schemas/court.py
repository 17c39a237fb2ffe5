"""Court-side actions on a request, carried as audited workflow updates."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from schemas.common import EventId, Frozen


class CloseRequest(Frozen):
    """The Registry closes a request whose execution has ended and holds no frozen asset."""

    event_id: EventId
    decided_by: str = Field(min_length=1, max_length=200)
    decided_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=2000)
