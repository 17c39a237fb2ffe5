"""One Court request to one State, from transmission to closure (RS 93(1)(k), 96, 99).

Every State answer and every Court action is an update whose id is its event id. A
validator rejects what the request cannot take (wrong request or State, illegal transition,
unknown asset, ...) before anything is written, and an event id seen before is a no-op. The
rules live in ``workflows/rules.py``; this class only records, publishes and answers queries.
Lifecycle events are queued in an outbox and published in order by an activity; their ids
are made here, deterministically.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas import answers as a
    from schemas import court as c
    from schemas.clocks import Clocks, DeadlineExtension, EscalationDecision, FreezeLimitResponse
    from schemas.common import Confidentiality, Urgency
    from schemas.escalations import (
        PUBLISH_ESCALATION_EVENT,
        EscalationEvent,
        EscalationKind,
        PublishEscalationEvent,
    )
    from schemas.events import (
        PUBLISH_REQUEST_EVENT,
        AssetEventData,
        PublishRequestEvent,
        RequestEvent,
        RequestEventType,
    )
    from schemas.ledger import LedgerEntry, RequestStatus
    from schemas.request import CourtRequest
    from schemas.views import AnswerReceipt, RequestCarry, RequestInput, RequestView, TimelineEntry
    from workflows import deadlines as dl
    from workflows import search_attributes as sa
    from workflows import state_machine as sm
    from workflows.asset_rules import release
    from workflows.details import current_details
    from workflows.ladder import LADDER, level_of
    from workflows.ledger import ledger_from_request
    from workflows.outcome import Outcome, Rejection
    from workflows.rules import COURT_ACTIONS, RULES, STATE_ANSWERS

PUBLISH_TIMEOUT = timedelta(seconds=30)
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)


@workflow.defn
class RequestWorkflow:
    @workflow.init
    def __init__(self, inp: RequestInput) -> None:
        self._original = inp.request
        self._events_topic = inp.events_topic
        self._escalations_topic = inp.escalations_topic
        self._answers_per_run = inp.answers_per_run
        self._accepted_this_run = 0
        self._parent_stale = False
        self._rec = inp.carried or RequestCarry(
            status=RequestStatus.TRANSMITTED,
            ledger=ledger_from_request(inp.request),
            timeline=[],
            seen_event_ids=[],
        )
        self._seen = set(self._rec.seen_event_ids)
        if inp.carried is None and inp.policy is not None:
            contact = inp.policy.contact
            self._rec.clocks = Clocks(
                policy=inp.policy,
                started_at=workflow.now(),
                channel=contact.channel if contact else None,
                language=contact.language if contact else None,
            )
        if inp.carried is None:
            # In init, so transmission comes first even when an answer arrives with the start.
            self._record_timeline(None, "transmitted to the State")
            self._emit(RequestEventType.TRANSMITTED, caused_by=None)

    @property
    def _request(self) -> CourtRequest:
        """The request in force: the latest version after any modification."""
        return self._rec.versions[-1].request if self._rec.versions else self._original

    @workflow.run
    async def run(self, inp: RequestInput) -> RequestView:
        self._refresh_visibility()
        while True:
            await self._wait_for_work_or_clock()
            self._fire_clocks()
            await self._publish_outbox()
            await self._inform_parent()
            if self._rec.status is RequestStatus.CLOSED or self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                closing = self._rec.status is RequestStatus.CLOSED
                # A steady stream of answers must not hold a run open: the outbox is carried
                # across continue-as-new and published by the next run (patched in 2026-11).
                if closing or not workflow.patched("continue-as-new-carries-outbox"):
                    await self._publish_outbox()
                    await self._inform_parent()
                if closing:
                    return self.view()
                self._rec.seen_event_ids = sorted(self._seen)
                workflow.continue_as_new(
                    RequestInput(
                        request=self._original,
                        events_topic=self._events_topic,
                        escalations_topic=self._escalations_topic,
                        carried=self._rec,
                        answers_per_run=self._answers_per_run,
                    )
                )

    # --- State answers (DOMAIN.md, "What a State may answer") ---------------------------

    @workflow.update
    def acknowledge(self, m: a.Acknowledgement) -> AnswerReceipt:
        """Acknowledgement of receipt (practice): starts the execution clock."""
        return self._take(m)

    @workflow.update
    def consult(self, m: a.Consultation) -> AnswerReceipt:
        """Consultation (RS 97(a), 97(c), 93(3), 96(3)): the clock pauses."""
        return self._take(m)

    @workflow.update
    def postpone(self, m: a.Postponement) -> AnswerReceipt:
        """Postponement for another investigation (RS 94) or an admissibility challenge (RS 95)."""
        return self._take(m)

    @workflow.update
    def deny(self, m: a.Denial) -> AnswerReceipt:
        """Denial on national-security grounds, with reasons (RS 93(4), 93(6))."""
        return self._take(m)

    @workflow.update
    def report_execution(self, m: a.ExecutionReport) -> AnswerReceipt:
        """Execution report (RS 99): per-asset progress, partial or final."""
        return self._take(m)

    @workflow.update
    def report_no_assets(self, m: a.NoAssetsReport) -> AnswerReceipt:
        """No assets found (RS 99): the measure closes for this State."""
        return self._take(m)

    @workflow.update
    def claim_as_third_party(self, m: a.ThirdPartyClaim) -> AnswerReceipt:
        """A bona fide third party claims an asset (RS 93(1)(k), 77(2)(b), Rule 99)."""
        return self._take(m)

    @workflow.update
    def challenge_domestically(self, m: a.DomesticChallenge) -> AnswerReceipt:
        """A domestic challenge or remedy is lodged or decided (cf. EU 2018/1805 art. 33)."""
        return self._take(m)

    @workflow.update
    def update_asset_management(self, m: a.AssetManagementUpdate) -> AnswerReceipt:
        """Valuation, depreciation or interlocutory sale (cf. EU 2018/1805 art. 28)."""
        return self._take(m)

    @workflow.update
    def propose_freeze_limit(self, m: a.FreezeLimitProposal) -> AnswerReceipt:
        """The State proposes to limit a freeze's duration (cf. EU 2018/1805 art. 12)."""
        return self._take(m)

    # --- Court actions -------------------------------------------------------------------

    @workflow.update
    def respond_to_consultation(self, m: c.ConsultationResponse) -> AnswerReceipt:
        """The Court supplies information or modifies the request (RS 97, 93(3), 96(3))."""
        return self._take(m, "consultation_response")

    @workflow.update
    def decide_postponement(self, m: c.PostponementDecision) -> AnswerReceipt:
        """The Court agrees a postponement period or refuses it (RS 94)."""
        return self._take(m, "postponement_decision")

    @workflow.update
    def resume_execution(self, m: c.ResumeExecution) -> AnswerReceipt:
        """A postponement ends: the RS 95 challenge is decided or the RS 94 period ran out."""
        return self._take(m, "resume_execution")

    @workflow.update
    def confirm_urgent_request(self, m: c.UrgentConfirmation) -> AnswerReceipt:
        """An urgent request is confirmed through the formal channel (RS 96(1))."""
        return self._take(m, "urgent_confirmation")

    @workflow.update
    def notify_rule99(self, m: c.Rule99Notification) -> AnswerReceipt:
        """The person is notified after an ex parte measure was executed (Rule 99)."""
        return self._take(m, "rule99_notification")

    @workflow.update
    def decide_rule99(self, m: c.Rule99Decision) -> AnswerReceipt:
        """The Chamber maintains, modifies or revokes the measure after observations (Rule 99)."""
        return self._take(m, "rule99_decision")

    @workflow.update
    def withdraw(self, m: c.Withdrawal) -> AnswerReceipt:
        """The Court withdraws the request; restrained assets are released."""
        return self._take(m, "withdrawal")

    @workflow.update
    def order_forfeiture(self, m: c.ForfeitureOrder) -> AnswerReceipt:
        """Forfeiture ordered (RS 77(2)(b)) of frozen or seized, uncontested assets."""
        return self._take(m, "forfeiture_order")

    @workflow.update
    def decide_third_party_claim(self, m: c.ThirdPartyClaimDecision) -> AnswerReceipt:
        """The Court decides a bona fide third party's claim (RS 93(1)(k))."""
        return self._take(m, "third_party_claim_decision")

    @workflow.update
    def transfer_to_court(self, m: c.TransferToCourt) -> AnswerReceipt:
        """Forfeited property or its value is transferred to the Court (RS 109(3))."""
        return self._take(m, "transfer_to_court")

    @workflow.update
    def allocate(self, m: c.Allocation) -> AnswerReceipt:
        """The transferred value is allocated, reparations first (Rule 221)."""
        return self._take(m, "allocation")

    @workflow.update
    def release(self, m: c.Release) -> AnswerReceipt:
        """Restrained assets are released (acquittal, withdrawal, revocation)."""
        return self._take(m, "release")

    @workflow.update
    def close(self, m: c.CloseRequest) -> AnswerReceipt:
        """The Registry closes the request; never while an asset is unsettled."""
        return self._take(m, "close")

    @workflow.update
    def notify_channel_change(self, m: a.ChannelChangeNotice) -> AnswerReceipt:
        """The State changes channel or language; effective 45 days after notice (Rule 180)."""
        return self._take(m)

    @workflow.update
    def decide_escalation(self, m: EscalationDecision) -> AnswerReceipt:
        """A person decides a proposed step 3-5 (Chamber report, RS 87(7), Assembly)."""
        return self._take(m, "escalation_decision")

    @workflow.update
    def extend_deadline(self, m: DeadlineExtension) -> AnswerReceipt:
        """A Chamber extends a stage's deadline (audited)."""
        return self._take(m, "deadline_extension")

    @workflow.update
    def respond_to_freeze_limit(self, m: FreezeLimitResponse) -> AnswerReceipt:
        """The Court objects to or accepts a freeze-limit proposal (cf. EU art. 12)."""
        return self._take(m, "freeze_limit_response")

    @notify_channel_change.validator
    def _v_channel(self, m: a.ChannelChangeNotice) -> None:
        self._validate(m)

    @decide_escalation.validator
    def _v_decide_escalation(self, m: EscalationDecision) -> None:
        self._validate(m, "escalation_decision")

    @extend_deadline.validator
    def _v_extend(self, m: DeadlineExtension) -> None:
        self._validate(m, "deadline_extension")

    @respond_to_freeze_limit.validator
    def _v_freeze_limit_response(self, m: FreezeLimitResponse) -> None:
        self._validate(m, "freeze_limit_response")

    # One validator per update, all the same check: the rule of the message's kind.
    @acknowledge.validator
    def _v_acknowledge(self, m: a.Acknowledgement) -> None:
        self._validate(m)

    @consult.validator
    def _v_consult(self, m: a.Consultation) -> None:
        self._validate(m)

    @postpone.validator
    def _v_postpone(self, m: a.Postponement) -> None:
        self._validate(m)

    @deny.validator
    def _v_deny(self, m: a.Denial) -> None:
        self._validate(m)

    @report_execution.validator
    def _v_report_execution(self, m: a.ExecutionReport) -> None:
        self._validate(m)

    @report_no_assets.validator
    def _v_report_no_assets(self, m: a.NoAssetsReport) -> None:
        self._validate(m)

    @claim_as_third_party.validator
    def _v_claim(self, m: a.ThirdPartyClaim) -> None:
        self._validate(m)

    @challenge_domestically.validator
    def _v_challenge(self, m: a.DomesticChallenge) -> None:
        self._validate(m)

    @update_asset_management.validator
    def _v_management(self, m: a.AssetManagementUpdate) -> None:
        self._validate(m)

    @propose_freeze_limit.validator
    def _v_freeze_limit(self, m: a.FreezeLimitProposal) -> None:
        self._validate(m)

    @respond_to_consultation.validator
    def _v_respond(self, m: c.ConsultationResponse) -> None:
        self._validate(m, "consultation_response")

    @decide_postponement.validator
    def _v_decide_postponement(self, m: c.PostponementDecision) -> None:
        self._validate(m, "postponement_decision")

    @resume_execution.validator
    def _v_resume(self, m: c.ResumeExecution) -> None:
        self._validate(m, "resume_execution")

    @confirm_urgent_request.validator
    def _v_confirm(self, m: c.UrgentConfirmation) -> None:
        self._validate(m, "urgent_confirmation")

    @notify_rule99.validator
    def _v_notify(self, m: c.Rule99Notification) -> None:
        self._validate(m, "rule99_notification")

    @decide_rule99.validator
    def _v_decide_rule99(self, m: c.Rule99Decision) -> None:
        self._validate(m, "rule99_decision")

    @withdraw.validator
    def _v_withdraw(self, m: c.Withdrawal) -> None:
        self._validate(m, "withdrawal")

    @order_forfeiture.validator
    def _v_forfeiture(self, m: c.ForfeitureOrder) -> None:
        self._validate(m, "forfeiture_order")

    @decide_third_party_claim.validator
    def _v_decide_claim(self, m: c.ThirdPartyClaimDecision) -> None:
        self._validate(m, "third_party_claim_decision")

    @transfer_to_court.validator
    def _v_transfer(self, m: c.TransferToCourt) -> None:
        self._validate(m, "transfer_to_court")

    @allocate.validator
    def _v_allocate(self, m: c.Allocation) -> None:
        self._validate(m, "allocation")

    @release.validator
    def _v_release(self, m: c.Release) -> None:
        self._validate(m, "release")

    @close.validator
    def _v_close(self, m: c.CloseRequest) -> None:
        self._validate(m, "close")

    @workflow.query
    def view(self) -> RequestView:
        """Current status, ledger with per-currency totals, and timeline."""
        req, rec = self._request, self._rec
        return RequestView(
            reference=req.reference,
            case_number=req.case_number,
            requested_state=req.requested_state,
            status=rec.status,
            ledger=rec.ledger,
            totals=rec.ledger.totals(),
            timeline=rec.timeline,
            answers_seen=len(self._seen),
            version=rec.versions[-1].version if rec.versions else 1,
            resume_status=rec.resume_status,
            postponed_until=rec.postponed_until,
            urgent_confirmed_at=rec.urgent_confirmed_at,
            rule99_notified_at=rec.rule99_notified_at,
            **self._clock_view(),
        )

    # --- Checking and recording -----------------------------------------------------------

    def _validate(self, m: Any, action: str | None = None) -> None:
        """Reject with the reason; a seen event id passes (its handler is a no-op)."""
        if m.event_id in self._seen:
            return
        action = action or m.answer_type
        try:
            if action not in COURT_ACTIONS:
                self._check_addressed(m)
            sm.check_transition(action, self._rec.status)
            RULES[action].check(self._rec, self._request, m)
        except (Rejection, sm.IllegalTransition) as err:
            raise ApplicationError(str(err), type="AnswerRejected", non_retryable=True) from None

    def _check_addressed(self, m: a.AnswerBase) -> None:
        req = self._request
        if m.request_reference != req.reference:
            raise Rejection(f"answer is for request {m.request_reference}, not {req.reference}")
        if m.state != req.requested_state:
            raise Rejection(
                f"State {m.state} answered request {req.reference}, "
                f"which is addressed to {req.requested_state}"
            )

    def _take(self, m: Any, action: str | None = None) -> AnswerReceipt:
        """Apply an answer or action once; the handler re-checks (state may have moved)."""
        if m.event_id in self._seen:
            return AnswerReceipt(event_id=m.event_id, duplicate=True, status=self._rec.status)
        self._validate(m, action)
        action = action or m.answer_type
        now, paused_before = workflow.now(), self._rec.status.paused
        outcome = RULES[action].apply(self._rec, self._request, m, now)
        self._seen.add(m.event_id)
        self._accepted_this_run += 1
        if outcome.status is not None:
            self._rec.status = outcome.status
        clocks = self._rec.clocks
        if clocks is not None:
            dl.on_status(clocks, paused_before, self._rec.status.paused, now)
            final = self._rec.status in sm.ENDED or self._rec.status is RequestStatus.CLOSED
            met = dl.stages_met_by(action, action in STATE_ANSWERS, final)
            outcome.firings += dl.meet(clocks, met, now)
        self._note_for_report(action, now)
        self._record_timeline(m.event_id, outcome.what)
        self._refresh_visibility()
        self._announce(m.event_id, action, outcome)
        self._escalate(outcome.firings, caused_by=m.event_id)
        self._parent_stale = workflow.info().parent is not None
        return AnswerReceipt(event_id=m.event_id, duplicate=False, status=self._rec.status)

    def _record_timeline(self, event_id: str | None, what: str) -> None:
        self._rec.timeline.append(
            TimelineEntry(at=workflow.now(), event_id=event_id, what=what, status=self._rec.status)
        )

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

    # --- Clocks (deadlines as policy) -----------------------------------------------------

    def _urgent_pending(self) -> bool:
        """RS 96(1): an urgent request awaits confirmation through the formal channel."""
        return self._request.urgency is Urgency.URGENT and self._rec.urgent_confirmed_at is None

    def _next_wakeup(self) -> datetime | None:
        clocks = self._rec.clocks
        if clocks is None or self._rec.status is RequestStatus.CLOSED:
            return None
        now = workflow.now()
        return dl.next_deadline(clocks, self._rec.ledger, now, self._urgent_pending())

    async def _wait_for_work_or_clock(self) -> None:
        """Wait for an answer to publish, a parent to inform, closure — or the next clock."""
        wake = self._next_wakeup()
        now = workflow.now()
        if wake is not None and wake <= now:
            return
        try:
            await workflow.wait_condition(
                lambda: (
                    bool(self._rec.outbox)
                    or bool(self._rec.escalation_outbox)
                    or self._parent_stale
                    or self._rec.status is RequestStatus.CLOSED
                    or self._should_continue_as_new()
                ),
                timeout=None if wake is None else wake - now,
                timeout_summary=None if wake is None else "next deadline",
            )
        except TimeoutError:
            pass

    def _fire_clocks(self) -> None:
        clocks = self._rec.clocks
        if clocks is None or self._rec.status is RequestStatus.CLOSED:
            return
        now = workflow.now()
        firings = dl.fire(clocks, self._rec.ledger, now, self._urgent_pending())
        for firing in firings:
            self._record_timeline(None, f"clock: {firing.kind.value} {firing.step or ''}".strip())
            entry = self._rec.ledger.entries.get(firing.asset_id or "")
            if (
                firing.kind is EscalationKind.FREEZE_LIMIT_LAPSED
                and entry
                and entry.status.restrained
            ):
                release(entry, "lapse", f"lapse-{entry.asset.asset_id}", now)
                self._emit_asset(RequestEventType.ASSET_RELEASED, entry, caused_by=None)
        if firings:
            self._refresh_visibility()
            self._escalate(firings, caused_by=None)

    def _escalate(self, firings: list[dl.Firing], caused_by: str | None) -> None:
        clocks = self._rec.clocks
        if clocks is None:
            return
        req, contact = self._request, clocks.policy.contact
        next_due = self._next_wakeup()
        for f in firings:
            addressee = f.addressee
            if contact is not None and f.step in ("reminder", "registry_follow_up"):
                addressee = (
                    contact.focal_point if f.step == "reminder" else contact.central_authority
                )
            self._rec.escalation_outbox.append(
                EscalationEvent(
                    id=str(workflow.uuid4()),
                    type=f"int.icc.tracefreeze.escalation.{f.kind.value}.v1",
                    time=workflow.now(),
                    subject=req.reference,
                    case_number=req.case_number,
                    requested_state=req.requested_state,
                    kind=f.kind,
                    level=f.level,
                    step=f.step,
                    stage=f.stage.value if f.stage else None,
                    deadline=f.deadline,
                    next_deadline=next_due,
                    addressee=addressee,
                    channel=clocks.channel,
                    asset_id=f.asset_id,
                    policy_version=clocks.policy.version,
                    caused_by=caused_by,
                )
            )

    def _clock_view(self) -> dict[str, Any]:
        clocks = self._rec.clocks
        if clocks is None:
            return {}
        now, rung, proposed = workflow.now(), clocks.ladder.rung, clocks.ladder.proposed
        return {
            "policy_version": clocks.policy.version,
            "escalation_level": level_of(rung),
            "escalation_step": LADDER[rung - 1].name if rung else None,
            "proposed_step": LADDER[proposed].name if proposed is not None else None,
            "overdue": dl.overdue(clocks, now),
            "next_deadline": self._next_wakeup(),
        }

    def _should_continue_as_new(self) -> bool:
        """Requests live for years: hand over to a fresh run before the history grows large."""
        if workflow.info().is_continue_as_new_suggested():
            return True
        limit = self._answers_per_run
        return limit is not None and self._accepted_this_run >= limit
