"""What a request tells its parent case, the Temporal UI (search attributes and details) and
the cooperation report (memo). Its Kafka events go through ``workflows/request_outbox.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import deadlines as dl
    from workflows import search_attributes as sa
    from workflows import state_machine as sm
    from workflows.details import current_details
    from workflows.ladder import level_of
    from workflows.rules import STATE_ANSWERS


class Publishing:
    """Parent reports and visibility; mixed into RequestWorkflow."""

    async def _inform_parent(self) -> None:
        """A request started by a case tells the case where it stands (multi-State cases)."""
        parent = workflow.info().parent
        if not self._parent_stale or parent is None:
            return
        self._parent_stale = False
        handle = workflow.get_external_workflow_handle(parent.workflow_id)
        await handle.signal("request_changed", self.view())

    def _refresh_visibility(self) -> None:
        """Search attributes, current details and the report memo, from the request's state.

        Since 2026-11-29 (patch ``visibility-on-change``) a search attribute or memo write is
        made only when what it shows changed: each write is a history event and a visibility
        store write, and most answers (a valuation, an acknowledgement twice) change neither.
        """
        req, rec = self._request, self._rec
        eur = rec.ledger.totals().get("EUR")
        frozen_eur = float(eur.frozen + eur.seized) if eur else 0.0
        attributes = sa.request_attributes(req, rec.status.value, frozen_eur)
        clock_attributes = []
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
        if not workflow.patched("visibility-on-change"):  # the order older histories recorded
            workflow.upsert_search_attributes(attributes)
            if clock_attributes:
                workflow.upsert_search_attributes(clock_attributes)
            memo = self._report_memo()
            if memo is not None:
                workflow.upsert_memo(memo)
            return
        memo = self._report_memo()
        shown = self._shown
        changed = [u for u in attributes + clock_attributes if shown.get(u.key.name) != u.value]
        if changed:
            workflow.upsert_search_attributes(changed)
        if memo is not None and shown.get("memo") != memo:
            workflow.upsert_memo(memo)
        self._shown = {u.key.name: u.value for u in attributes + clock_attributes}
        self._shown["memo"] = memo

    def _report_memo(self) -> dict[str, Any] | None:
        """The memo the cooperation report reads (patched in 2026-11: ``report-memo``)."""
        rec = self._rec
        if not workflow.patched("report-memo"):
            return None
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
