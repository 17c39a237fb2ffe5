"""What a request tells its parent case, the Temporal UI (search attributes and details) and
the cooperation report (memo). Its Kafka events go through ``workflows/request_outbox.py``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import FailureError

from workflows.request_parts import RequestParts

with workflow.unsafe.imports_passed_through():
    from schemas.case import RequestSummary
    from schemas.ledger import RequestStatus
    from workflows import deadlines as dl
    from workflows import search_attributes as sa
    from workflows import state_machine as sm
    from workflows.details import current_details
    from workflows.ladder import level_of
    from workflows.rules import STATE_ANSWERS

PARENT_REPORT_INTERVAL = timedelta(seconds=2)
"""At most one report to the case per interval of workflow time (its closure goes at once)."""
PARENT_REPORT_ATTEMPTS = 3
"""Reports in a row the case may miss before it counts as gone (for the rest of the run)."""


class Publishing(RequestParts):
    """Parent reports and visibility; mixed into RequestWorkflow."""

    async def _inform_parent(self) -> None:
        """A request started by a case tells the case where it stands (multi-State cases).

        What it sends is a small ``RequestSummary`` (status, totals, counts), never the whole
        view, and only when it changed since the last one; at most one per
        ``PARENT_REPORT_INTERVAL`` of workflow time (a timer brings the request back for the
        rest, ``_arm_parent_report``), except its closure, which goes at once. The case is
        signalled by its workflow id: it continues as new, and its run changes."""
        parent = workflow.info().parent
        if not self._parent_stale or parent is None or self._parent_gone:
            self._parent_stale = False
            return
        now = workflow.now()
        closed = self._rec.status is RequestStatus.CLOSED
        due = self._parent_report_due()
        if not closed and due is not None and now < due:
            return
        self._parent_stale = False
        summary = RequestSummary.of(
            self._request, self._rec.status, self._rec.ledger, len(self._seen), now
        )
        if summary.same_as(self._parent_told):
            return
        self._parent_told, self._parent_told_at = summary, now
        handle = workflow.get_external_workflow_handle(parent.workflow_id)
        while True:
            try:
                await handle.signal("request_changed", summary)
            except FailureError as err:
                self._parent_failed(parent.workflow_id, err)
            else:
                self._parent_failures = 0
                return
            if not closed or self._parent_gone:
                return  # a change is tried again after the interval (``_arm_parent_report``)
            # The closure is the last report, and the case cannot close without it.
            await workflow.sleep(PARENT_REPORT_INTERVAL, summary="closure to the case, again")
            self._parent_stale = False

    def _parent_failed(self, case_workflow_id: str, err: FailureError) -> None:
        """A report the case did not get: tried again after the interval (a signal can miss
        a case in the middle of continuing as new); after ``PARENT_REPORT_ATTEMPTS`` misses in
        a row the case is gone (terminated, or closed without this request) and is told
        nothing more in this run. The request stands on its own: it never fails for that."""
        self._parent_told = None
        self._parent_stale = True
        self._parent_failures += 1
        self._parent_gone = self._parent_failures >= PARENT_REPORT_ATTEMPTS
        workflow.logger.warning(
            "a report to the case failed",
            extra={
                "case_workflow_id": case_workflow_id,
                "request_reference": self._request.reference,
                "attempt": self._parent_failures,
                "gone": self._parent_gone,
                "error": type(err).__name__,
            },
        )

    def _parent_report_due(self) -> datetime | None:
        """When the next report to the case may go; None: at once."""
        told_at = self._parent_told_at
        return None if told_at is None else told_at + PARENT_REPORT_INTERVAL

    def _parent_report_waiting(self) -> bool:
        """A change the case has not been told, and the time to tell it has come."""
        if not self._parent_stale or self._parent_gone:
            return self._parent_stale
        due = self._parent_report_due()
        return due is None or workflow.now() >= due or self._rec.status is RequestStatus.CLOSED

    def _arm_parent_report(self) -> None:
        """A timer for a report held back by the interval: the request wakes to send it.
        One timer, for the report now due; a timer armed for an earlier report is replaced
        (it would wake the request too early and never again)."""
        if not self._parent_stale or self._parent_gone or self._parent_report_waiting():
            return
        due = self._parent_report_due()
        armed = self._parent_timer
        if due is None or (armed is not None and armed[0] == due and not armed[1].done()):
            return
        if armed is not None and not armed[1].done():
            armed[1].cancel()
        timer = asyncio.ensure_future(
            workflow.sleep(due - workflow.now(), summary="report to the case")
        )
        self._parent_timer = (due, timer)

    def _refresh_visibility(self) -> None:
        """Search attributes, current details and the report memo, from the request's state.

        A search attribute or memo write is made only when what it shows changed: each write
        is a history event and a visibility store write, and most answers (a valuation, an
        acknowledgement twice) change neither.
        """
        req, rec = self._request, self._rec
        eur = rec.ledger.totals().get("EUR")
        frozen_eur = float(eur.frozen + eur.seized) if eur else 0.0
        attributes = sa.request_attributes(req, rec.status.value, frozen_eur)
        clock_attributes: list[SearchAttributeUpdate[Any]] = []
        if rec.clocks is not None:
            view = self._clock_view()
            clock_attributes = [
                sa.ESCALATION_LEVEL.value_set(view["escalation_level"]),
                sa.OVERDUE.value_set(view["overdue"]),
                sa.NEXT_DEADLINE.value_set(view["next_deadline"])
                if view["next_deadline"]
                else sa.NEXT_DEADLINE.value_unset(),
            ]
        workflow.set_current_details(current_details(req, rec.status, rec.ledger))
        memo = self._report_memo()
        shown = self._shown
        changed = [u for u in attributes + clock_attributes if shown.get(u.key.name) != u.value]
        if changed:
            workflow.upsert_search_attributes(changed)
        if shown.get("memo") != memo:
            workflow.upsert_memo(memo)
        self._shown = {u.key.name: u.value for u in attributes + clock_attributes}
        self._shown["memo"] = memo

    def _report_memo(self) -> dict[str, Any]:
        """The memo the cooperation report reads."""
        rec = self._rec
        rec.report.totals = rec.ledger.totals()
        if rec.clocks is not None:
            level = level_of(rec.clocks.ladder.rung)
            rec.report.max_escalation_level = max(rec.report.max_escalation_level, level)
        return {"report": rec.report.model_dump(mode="json")}

    def _note_for_report(self, action: str, now: datetime) -> None:
        """Times the cooperation report measures: receipt, first report, end of execution."""
        report, status = self._rec.report, self._rec.status
        if action in STATE_ANSWERS and action != "channel_change":
            report.acknowledged_at = report.acknowledged_at or now
        if action in dl.ENDED_BY:
            report.first_report_at = report.first_report_at or now
        if status in sm.ENDED:
            report.ended_at = report.ended_at or now
