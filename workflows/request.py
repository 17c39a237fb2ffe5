"""One Court request to one State, from transmission to closure (RS 93(1)(k), 96, 99).

State answers arrive as updates whose id is the State's event id; a validator rejects what
the request cannot take (wrong request or State, illegal transition, unknown asset) before
anything is written, and an event id seen before is a no-op. Lifecycle events are queued in
an outbox and published in order by an activity; their ids are made here, deterministically.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.answers import Acknowledgement, AnswerBase, ExecutionReport, NoAssetsReport
    from schemas.court import CloseRequest
    from schemas.events import (
        PUBLISH_REQUEST_EVENT,
        AssetEventData,
        PublishRequestEvent,
        RequestEvent,
        RequestEventType,
    )
    from schemas.ledger import AssetStatus, LedgerEntry, RequestStatus
    from schemas.views import (
        AnswerReceipt,
        RequestCarry,
        RequestInput,
        RequestView,
        TimelineEntry,
    )
    from workflows import search_attributes as sa
    from workflows import state_machine as sm
    from workflows.details import current_details
    from workflows.ledger import (
        LedgerRejection,
        apply_result,
        check_report,
        fully_executed,
        ledger_from_request,
    )

PUBLISH_TIMEOUT = timedelta(seconds=30)
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)


@workflow.defn
class RequestWorkflow:
    @workflow.init
    def __init__(self, inp: RequestInput) -> None:
        self._request = inp.request
        self._events_topic = inp.events_topic
        carried = inp.carried
        if carried is None:
            carried = RequestCarry(
                status=RequestStatus.TRANSMITTED,
                ledger=ledger_from_request(inp.request),
                timeline=[],
                seen_event_ids=[],
            )
        self._status = carried.status
        self._ledger = carried.ledger
        self._timeline = carried.timeline
        self._seen = set(carried.seen_event_ids)
        self._outbox = list(carried.outbox)
        self._answers_per_run = inp.answers_per_run
        self._accepted_this_run = 0
        if inp.carried is None:
            # In init, so transmission comes first even when an answer arrives with the start.
            self._set_status(RequestStatus.TRANSMITTED, None, "transmitted to the State")
            self._emit(RequestEventType.TRANSMITTED, caused_by=None)

    @workflow.run
    async def run(self, inp: RequestInput) -> RequestView:
        self._refresh_visibility()
        while True:
            await workflow.wait_condition(
                lambda: (
                    bool(self._outbox)
                    or self._status is RequestStatus.CLOSED
                    or self._should_continue_as_new()
                )
            )
            await self._publish_outbox()
            if self._status is RequestStatus.CLOSED or self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._publish_outbox()
                if self._status is RequestStatus.CLOSED:
                    return self.view()
                workflow.continue_as_new(
                    RequestInput(
                        request=self._request,
                        events_topic=self._events_topic,
                        carried=self._carry(),
                        answers_per_run=self._answers_per_run,
                    )
                )

    # --- State answers -------------------------------------------------------------------

    @workflow.update
    def acknowledge(self, answer: Acknowledgement) -> AnswerReceipt:
        """Acknowledgement of receipt (practice): the State has the request."""
        return self._accept(answer, sm.ACKNOWLEDGEMENT, RequestStatus.ACKNOWLEDGED, "acknowledged")

    @acknowledge.validator
    def _validate_acknowledge(self, answer: Acknowledgement) -> None:
        self._check(answer, sm.ACKNOWLEDGEMENT)

    @workflow.update
    def report_execution(self, report: ExecutionReport) -> AnswerReceipt:
        """Execution report (RS 99): per-asset progress, partial or final."""
        if report.event_id in self._seen:
            return self._receipt(report, duplicate=True)
        self._check(report, sm.EXECUTION_REPORT)
        now = workflow.now()
        newly_restrained: list[LedgerEntry] = []
        for result in report.results:
            before, after = apply_result(self._ledger, result, report.event_id, now)
            if after != before and after.restrained:
                newly_restrained.append(self._ledger.entries[result.asset_id])
        if not report.final:
            status = RequestStatus.IN_EXECUTION
        elif fully_executed(self._ledger, self._request):
            status = RequestStatus.EXECUTED
        else:
            status = RequestStatus.PARTIALLY_EXECUTED
        what = f"{'final' if report.final else 'partial'} execution report on " + ", ".join(
            r.asset_id for r in report.results
        )
        receipt = self._record(report, status, what, answer_type=sm.EXECUTION_REPORT)
        for entry in newly_restrained:
            self._emit_asset(entry, report.event_id)
        return receipt

    @report_execution.validator
    def _validate_report_execution(self, report: ExecutionReport) -> None:
        self._check(report, sm.EXECUTION_REPORT)

    @workflow.update
    def report_no_assets(self, report: NoAssetsReport) -> AnswerReceipt:
        """No assets found (RS 99): the measure closes for this State."""
        return self._accept(report, sm.NO_ASSETS, RequestStatus.NO_ASSETS, "no assets found")

    @report_no_assets.validator
    def _validate_report_no_assets(self, report: NoAssetsReport) -> None:
        self._check(report, sm.NO_ASSETS)

    # --- Court actions -------------------------------------------------------------------

    @workflow.update
    def close(self, action: CloseRequest) -> AnswerReceipt:
        """The Registry closes the request; never while an asset is still frozen or seized."""
        if action.event_id in self._seen:
            return AnswerReceipt(event_id=action.event_id, duplicate=True, status=self._status)
        self._check_close(action)
        self._seen.add(action.event_id)
        self._set_status(RequestStatus.CLOSED, action.event_id, f"closed: {action.reason}")
        self._refresh_visibility()
        self._emit(RequestEventType.CLOSED, caused_by=action.event_id)
        return AnswerReceipt(event_id=action.event_id, duplicate=False, status=self._status)

    @close.validator
    def _validate_close(self, action: CloseRequest) -> None:
        if action.event_id not in self._seen:
            self._check_close(action)

    @workflow.query
    def view(self) -> RequestView:
        """Current status, ledger with per-currency totals, and timeline."""
        return RequestView(
            reference=self._request.reference,
            case_number=self._request.case_number,
            requested_state=self._request.requested_state,
            status=self._status,
            ledger=self._ledger,
            totals=self._ledger.totals(),
            timeline=self._timeline,
            answers_seen=len(self._seen),
        )

    # --- Rules ---------------------------------------------------------------------------

    def _check(self, answer: AnswerBase, action: str) -> None:
        """Validator body: raise ApplicationError with the reason; a seen event id passes."""
        if answer.event_id in self._seen:
            return
        req = self._request
        if answer.request_reference != req.reference:
            self._reject(f"answer is for request {answer.request_reference}, not {req.reference}")
        if answer.state != req.requested_state:
            self._reject(
                f"State {answer.state} answered request {req.reference}, "
                f"which is addressed to {req.requested_state}"
            )
        try:
            sm.check_transition(action, self._status)
            if isinstance(answer, ExecutionReport):
                check_report(self._ledger, req, answer)
        except (sm.IllegalTransition, LedgerRejection) as err:
            self._reject(str(err))
        if isinstance(answer, NoAssetsReport) and self._ledger.restrained():
            self._reject("no-assets report contradicts assets already frozen or seized")

    def _check_close(self, action: CloseRequest) -> None:
        try:
            sm.check_transition(sm.CLOSE, self._status)
        except sm.IllegalTransition as err:
            self._reject(str(err))
        held = sorted(e.asset.asset_id for e in self._ledger.restrained())
        if held:
            self._reject(f"assets {held} are still frozen or seized: release or forfeit them first")

    @staticmethod
    def _reject(reason: str) -> None:
        raise ApplicationError(reason, type="AnswerRejected", non_retryable=True)

    # --- Recording -----------------------------------------------------------------------

    def _accept(
        self, answer: AnswerBase, action: str, status: RequestStatus, what: str
    ) -> AnswerReceipt:
        if answer.event_id in self._seen:
            return self._receipt(answer, duplicate=True)
        self._check(answer, action)
        return self._record(answer, status, what, answer_type=action)

    def _record(
        self, answer: AnswerBase, status: RequestStatus, what: str, answer_type: str
    ) -> AnswerReceipt:
        self._seen.add(answer.event_id)
        self._accepted_this_run += 1
        self._set_status(status, answer.event_id, what)
        self._refresh_visibility()
        self._emit(RequestEventType.ANSWER_ACCEPTED, answer.event_id, answer_type=answer_type)
        return self._receipt(answer, duplicate=False)

    def _receipt(self, answer: AnswerBase, duplicate: bool) -> AnswerReceipt:
        return AnswerReceipt(event_id=answer.event_id, duplicate=duplicate, status=self._status)

    def _set_status(self, status: RequestStatus, event_id: str | None, what: str) -> None:
        self._status = status
        self._timeline.append(
            TimelineEntry(at=workflow.now(), event_id=event_id, what=what, status=status)
        )

    def _emit(
        self,
        type_: RequestEventType,
        caused_by: str | None,
        answer_type: str | None = None,
        asset: AssetEventData | None = None,
    ) -> None:
        req = self._request
        self._outbox.append(
            RequestEvent(
                id=str(workflow.uuid4()),
                type=type_,
                time=workflow.now(),
                subject=req.reference,
                case_number=req.case_number,
                requested_state=req.requested_state,
                status=self._status,
                caused_by=caused_by,
                answer_type=answer_type,
                asset=asset,
                totals=self._ledger.totals(),
            )
        )

    def _emit_asset(self, entry: LedgerEntry, caused_by: str) -> None:
        type_ = (
            RequestEventType.ASSET_SEIZED
            if entry.status is AssetStatus.SEIZED
            else RequestEventType.ASSET_FROZEN
        )
        data = AssetEventData(
            asset_id=entry.asset.asset_id,
            kind=entry.asset.kind,
            status=entry.status,
            value=entry.value,
        )
        self._emit(type_, caused_by, asset=data)

    async def _publish_outbox(self) -> None:
        while self._outbox:
            event = self._outbox[0]
            await workflow.execute_activity(
                PUBLISH_REQUEST_EVENT,
                PublishRequestEvent(topic=self._events_topic, event=event),
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
                summary=f"publish {event.type.value.split('.')[-2]} event",
            )
            self._outbox.pop(0)

    def _refresh_visibility(self) -> None:
        req = self._request
        frozen_eur = self._ledger.totals().get("EUR")
        workflow.upsert_search_attributes(
            [
                sa.CASE_NUMBER.value_set(req.case_number),
                sa.REQUESTED_STATE.value_set(req.requested_state),
                sa.REQUEST_STATUS.value_set(self._status.value),
                sa.MEASURES.value_set([m.value for m in req.measures]),
                sa.FROZEN_VALUE_EUR.value_set(
                    float(frozen_eur.frozen + frozen_eur.seized) if frozen_eur else 0.0
                ),
            ]
        )
        workflow.set_current_details(current_details(req, self._status, self._ledger))

    def _should_continue_as_new(self) -> bool:
        """Requests live for years: hand over to a fresh run before the history grows large."""
        if workflow.info().is_continue_as_new_suggested():
            return True
        limit = self._answers_per_run
        return limit is not None and self._accepted_this_run >= limit

    def _carry(self) -> RequestCarry:
        return RequestCarry(
            status=self._status,
            ledger=self._ledger,
            timeline=self._timeline,
            seen_event_ids=sorted(self._seen),
            outbox=self._outbox,
        )
