"""What the parts of RequestWorkflow share, declared once for the type checker.

The handlers (``request_answers.py``, ``request_batch.py``, ``request_court.py``, through
``request_guard.py``), the clocks (``request_clocks.py``), the outbox (``request_outbox.py``)
and the reports to the case and the UI (``request_publishing.py``) are parts of one
workflow: they read and write the state ``RequestWorkflow.__init__`` sets, and call each
other. This class names that state and those calls with their types; it adds nothing at run
time (no state, no method).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
    from datetime import datetime

    from schemas.answers import AnswerBase
    from schemas.case import RequestSummary
    from schemas.events import RequestEventType
    from schemas.ledger import LedgerEntry
    from schemas.request import CourtRequest
    from schemas.views import AnswerReceipt, RequestCarry
    from workflows.request_seen import SeenIds


class RequestParts:
    """The request's state and the calls between its parts (see the module docstring)."""

    _original: CourtRequest
    _rec: RequestCarry
    """Everything carried across continue-as-new: status, ledger, timeline, clocks, outbox."""
    _seen: SeenIds
    """Event ids taken within the dedupe window (``request_seen.py``)."""
    _events_topic: str
    _escalations_topic: str
    _parent_stale: bool
    _parent_told: RequestSummary | None
    _parent_told_at: datetime | None
    _parent_failures: int
    _parent_gone: bool
    _parent_timer: tuple[datetime, asyncio.Future[None]] | None
    _shown: dict[str, Any]
    _clock: tuple[datetime | None, asyncio.Future[None]] | None

    if TYPE_CHECKING:

        @property
        def _request(self) -> CourtRequest: ...  # request.py

        def _validate(self, m: Any, action: str | None = None) -> None: ...  # request.py

        def _check_addressed(self, m: AnswerBase) -> None: ...  # request.py

        def _take(  # request.py
            self, m: Any, action: str | None = None, refresh: bool = True
        ) -> AnswerReceipt: ...

        def _record_timeline(self, event_id: str | None, what: str) -> None: ...  # request.py

        def _should_continue_as_new(self) -> bool: ...  # request.py

        def _clock_view(self) -> dict[str, Any]: ...  # request_clocks.py

        def _emit_asset(  # request_outbox.py
            self, type_: RequestEventType, entry: LedgerEntry, caused_by: str | None
        ) -> None: ...

        def _refresh_visibility(self) -> None: ...  # request_publishing.py

        def _parent_report_waiting(self) -> bool: ...  # request_publishing.py

        def _arm_parent_report(self) -> None: ...  # request_publishing.py
