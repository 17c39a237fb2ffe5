"""What a request tells the world: lifecycle events through an ordered outbox, the parent
case, the Temporal UI's search attributes and details, and the report memo.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.common import Confidentiality
    from schemas.escalations import (
        PUBLISH_ESCALATION_EVENT,
        PublishEscalationEvent,
    )
    from schemas.events import (
        PUBLISH_REQUEST_EVENT,
        AssetEventData,
        PublishRequestEvent,
        RequestEvent,
        RequestEventType,
    )
    from schemas.ledger import LedgerEntry
    from workflows import deadlines as dl
    from workflows import search_attributes as sa
    from workflows import state_machine as sm
    from workflows.details import current_details
    from workflows.ladder import level_of
    from workflows.outcome import Outcome
    from workflows.rules import COURT_ACTIONS, STATE_ANSWERS


PUBLISH_TIMEOUT = timedelta(seconds=30)
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)


class Publishing:
    """Outbox, parent reports and visibility; mixed into RequestWorkflow."""

    def _announce(self, event_id: str, action: str, outcome: Outcome) -> None:
        if action == sm.CLOSE:
            self._emit(RequestEventType.CLOSED, caused_by=event_id, action=action)
        elif action in COURT_ACTIONS:
            self._emit(RequestEventType.COURT_ACTION, caused_by=event_id, action=action)
        else:
            self._emit(RequestEventType.ANSWER_ACCEPTED, caused_by=event_id, answer_type=action)
        for entry in outcome.contested:
            self._emit_asset(RequestEventType.ASSET_CONTESTED, entry, event_id)
        for entry in outcome.assets:
            self._emit_asset(RequestEventType.for_asset(entry.status), entry, event_id)

    def _emit(
        self,
        type_: RequestEventType,
        caused_by: str | None,
        answer_type: str | None = None,
        action: str | None = None,
        asset: AssetEventData | None = None,
    ) -> None:
        req = self._request
        ex_parte = req.confidentiality is Confidentiality.EX_PARTE
        self._rec.outbox.append(
            RequestEvent(
                id=str(workflow.uuid4()),
                type=type_,
                time=workflow.now(),
                subject=req.reference,
                case_number=req.case_number,
                requested_state=req.requested_state,
                status=self._rec.status,
                caused_by=caused_by,
                answer_type=answer_type,
                action=action,
                confidentiality=req.confidentiality,
                origin=req.origin,
                asset=None if ex_parte else asset,
                totals={} if ex_parte else self._rec.ledger.totals(),
            )
        )

    def _emit_asset(
        self, type_: RequestEventType, entry: LedgerEntry, caused_by: str | None
    ) -> None:
        data = AssetEventData(
            asset_id=entry.asset.asset_id,
            kind=entry.asset.kind,
            status=entry.status,
            value=entry.value,
        )
        self._emit(type_, caused_by, asset=data)

    async def _publish_outbox(self) -> None:
        """Publish, in order, what is queued now; what arrives meanwhile waits for the next
        round, so answers arriving without pause cannot keep the run from moving on."""
        for _ in range(len(self._rec.outbox)):
            event = self._rec.outbox[0]
            await workflow.execute_activity(
                PUBLISH_REQUEST_EVENT,
                PublishRequestEvent(topic=self._events_topic, event=event),
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
                summary=f"publish {event.type.value.split('.')[-2]} event",
            )
            self._rec.outbox.pop(0)
        for _ in range(len(self._rec.escalation_outbox)):
            escalation = self._rec.escalation_outbox[0]
            await workflow.execute_activity(
                PUBLISH_ESCALATION_EVENT,
                PublishEscalationEvent(topic=self._escalations_topic, event=escalation),
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
                summary=f"escalation: {escalation.kind.value} {escalation.step or ''}".strip(),
            )
            self._rec.escalation_outbox.pop(0)

    async def _inform_parent(self) -> None:
        """A request started by a case tells the case where it stands (multi-State cases)."""
        parent = workflow.info().parent
        if not self._parent_stale or parent is None:
            return
        self._parent_stale = False
        handle = workflow.get_external_workflow_handle(parent.workflow_id)
        await handle.signal("request_changed", self.view())

    def _refresh_visibility(self) -> None:
        req, rec = self._request, self._rec
        eur = rec.ledger.totals().get("EUR")
        workflow.upsert_search_attributes(
            [
                sa.CASE_NUMBER.value_set(req.case_number),
                sa.REQUESTED_STATE.value_set(req.requested_state),
                sa.REQUEST_STATUS.value_set(rec.status.value),
                sa.MEASURES.value_set([m.value for m in req.measures]),
                sa.FROZEN_VALUE_EUR.value_set(float(eur.frozen + eur.seized) if eur else 0.0),
            ]
        )
        if rec.clocks is not None:
            view = self._clock_view()
            workflow.upsert_search_attributes(
                [
                    sa.ESCALATION_LEVEL.value_set(view["escalation_level"]),
                    sa.OVERDUE.value_set(view["overdue"]),
                    sa.NEXT_DEADLINE.value_set(view["next_deadline"])
                    if view["next_deadline"]
                    else sa.NEXT_DEADLINE.value_unset(),
                ]
            )
        workflow.set_current_details(current_details(req, rec.status, rec.ledger))
        if workflow.patched("report-memo"):
            rec.report.totals = rec.ledger.totals()
            if rec.clocks is not None:
                level = level_of(rec.clocks.ladder.rung)
                rec.report.max_escalation_level = max(rec.report.max_escalation_level, level)
            workflow.upsert_memo({"report": rec.report.model_dump(mode="json")})

    def _note_for_report(self, action: str, now: datetime) -> None:
        """Times the cooperation report measures: receipt, first report, end of execution."""
        report, status = self._rec.report, self._rec.status
        if action in STATE_ANSWERS and action != "channel_change":
            report.acknowledged_at = report.acknowledged_at or now
        if action in dl.ENDED_BY:
            report.first_report_at = report.first_report_at or now
        if status in sm.ENDED:
            report.ended_at = report.ended_at or now
