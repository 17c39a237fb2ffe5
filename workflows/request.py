"""One Court request to one State, from transmission to closure (RS 93(1)(k), 96, 99).

Read top to bottom: the start (``__init__``), the main loop (``run``), the update handlers with
their validator beneath (one per kind of the catalog, declared on the class by
``declared_updates.py``), how an answer or action is taken, the clocks, the carry to the next
run, and the queries.

Every State answer and every Court action is an update whose id is its event id, named and typed
by its kind in ``workflows/catalog.py``. A validator rejects what the request cannot take before
anything is written; an event id seen before is a no-op. The rules live in the catalog; this
class records, publishes and answers queries through small parts: the deadline timer
(``request_clocks.py``), the outbox (``request_outbox.py``), visibility and the reports to the
case (``request_publishing.py``), the seen ids (``request_seen.py``), the guard
(``request_guard.py``) and the party's directory (``request_directory.py``).
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.answers import AnswerBase, AnswerBatch
    from schemas.case import RequestSummary
    from schemas.common import Urgency
    from schemas.court import CourtAction
    from schemas.escalations import EscalationKind
    from schemas.events import RequestEventType
    from schemas.ledger import RequestStatus
    from schemas.request import CourtRequest
    from schemas.views import (
        AnswerReceipt,
        BatchReceipt,
        RequestProgress,
        RequestView,
        TimelineEntry,
    )
    from workflows import deadlines as dl
    from workflows import freeze_limits, postponements, request_log
    from workflows import request_guard as guard
    from workflows import state_machine as sm
    from workflows.asset_rules import release
    from workflows.carry import RequestCarry, RequestRun
    from workflows.catalog import BATCH_UPDATE, CATALOG, KINDS, RULES, Kind
    from workflows.court_admission import admit
    from workflows.declared_updates import declare_updates
    from workflows.denial_rules import settles_stages
    from workflows.ladder import level_of
    from workflows.ledger import ledger_from_request
    from workflows.outcome import Refusal, Rejection, addressed_to
    from workflows.request_clocks import DeadlineTimer, clock_view, escalations
    from workflows.request_directory import (
        forward_to_directory,
        queue_for_directory,
        transmission_note,
    )
    from workflows.request_handover import hand_over, next_run
    from workflows.request_keys import (
        keys_from_round,
        keys_wanted,
        organ_keys_at_start,
        own_carry,
        register_refresh,
        request_outgoing,
    )
    from workflows.request_links import tell_supplemented
    from workflows.request_outbox import Outbox
    from workflows.request_policy import inp_policy_pending, install, note_met, policy_at_start
    from workflows.request_publishing import ParentReports, Visibility, note_for_report
    from workflows.request_seen import SeenIds
    from workflows.request_view import request_view


Message = AnswerBase | CourtAction
"""What an update takes: a State's answer or a Court action (its kind says which exactly)."""


@workflow.defn
@declare_updates(CATALOG, AnswerReceipt, take="_take_one", check="_validate")
class RequestWorkflow:
    @workflow.init
    def __init__(self, inp: RequestRun) -> None:
        self._input = inp
        self._updates_this_run = 0
        self._suggested = False  # the server's suggestion to hand over, as a step last saw it
        self._rec = own_carry(inp.carried, request_outgoing()) or RequestCarry(
            status=RequestStatus.TRANSMITTED,
            ledger=ledger_from_request(inp.request),
            timeline=[],
            seen_event_ids=[],
        )
        rec = self._rec
        self._seen = SeenIds(
            rec.seen, rec.seen_event_ids, rec.answers_taken, workflow.now(), rec.court_ids
        )
        self._rec.seen_event_ids = []
        self._outbox = Outbox(inp.events_topic, inp.escalations_topic)
        self._visibility = Visibility()
        self._timer = DeadlineTimer()
        # A carried run tells the case at once: a report held back may not have gone.
        self._parent = ParentReports(
            stale=inp.carried is not None and workflow.info().parent is not None
        )
        register_refresh(self._rec, self._record_timeline, self._note_step)
        if inp.carried is None and inp.policy is not None:
            install(self._rec, inp.policy, workflow.now(), workflow.now())
        if inp.carried is None:
            self._rec.report.transmitted_at = workflow.now()
            # In init, so transmission comes first even when an answer arrives with the start.
            self._record_timeline(None, transmission_note(inp))
            override = inp.completeness_override
            self._rec.report.completeness_override = override
            self._outbox.emit(
                self._rec, self._request, RequestEventType.TRANSMITTED, None, override=override
            )

    @property
    def _request(self) -> CourtRequest:
        """The request in force: the latest version after any modification."""
        return self._rec.versions[-1].request if self._rec.versions else self._input.request

    @property
    def _closed(self) -> bool:
        return self._rec.status is RequestStatus.CLOSED

    @workflow.run
    async def run(self, inp: RequestRun) -> RequestView:
        # The organ keys (unless the transmission's round brings them); the policy in force if
        # none given; RS 109: the protective request told.
        rec, request = self._rec, self._request
        keys, policy = await organ_keys_at_start(rec), await policy_at_start(inp, rec)
        for note in (keys, policy, await tell_supplemented(rec, request, inp.enforcement_notice)):
            if note is not None:
                self._record_timeline(None, note)
        self._show_changes()
        while True:
            await self._wait_for_work_or_clock()
            # What answers and firings changed is shown (search attributes, memo) after the
            # round that publishes their events: an update returns without that write, and
            # the events leave first; with the broker down, once the first attempts failed,
            # and at once for what is taken while it stays down.
            if self._fire_clocks():
                self._visibility.owe()
            owed = self._visibility.owed
            read = await self._outbox.publish(
                self._rec,
                self._request,
                keys_wanted(self._rec),
                on_outage=self._show_changes,
                owed=lambda: self._visibility.owed,
            )
            if owed or self._visibility.owed:
                self._show_changes()  # only what changed since an outage's write
            if (keys := keys_from_round(self._rec, read)) is not None:
                self._record_timeline(None, keys)
            await forward_to_directory(self._rec.directory_outbox)
            await self._inform_parent()
            self._note_step()
            if self._closed or self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                # A steady stream of answers must not hold a run open: the outbox is carried
                # across continue-as-new and published by the next run. A closed request ends
                # once a round left nothing to send, whatever a handler did meanwhile.
                if self._closed:
                    if self._outgoing():
                        continue
                    return self.view()
                workflow.continue_as_new(next_run(self._input, self._carry()))

    # -- the updates: one per kind of the catalog (declared above), and a batch -------------

    def _take_one(self, m: Message, kind: Kind) -> AnswerReceipt:
        """The update of ``kind``: one answer or action, its validator ``_validate``."""
        self._note_step(1)  # the server counts each, taken, repeated or refused
        return self._take_guarded(m, kind)

    @workflow.update(name=BATCH_UPDATE)
    def take_answers(self, batch: AnswerBatch) -> BatchReceipt:
        """Several answers of the requested State (RS 93(1)(k), 96, 99) in order, each taken as
        alone (its own rule, deduplicated, accepted or refused with the reason), with one log
        line: the bridge hands over a backlog and can dead-letter a refusal."""
        receipts: list[AnswerReceipt] = []
        self._note_step(len(batch.answers))  # one update, its answers' history
        for m in batch.answers:
            try:
                receipts.append(self._take_guarded(m, KINDS[m.answer_type], alone=False))
            except ApplicationError as refused:  # refused, or failed and rolled back: no write
                receipt = AnswerReceipt(
                    event_id=m.event_id, duplicate=False, status=self._rec.status
                )
                receipts.append(receipt.model_copy(update={"rejected": refused.message}))
        kinds = [m.answer_type for m in batch.answers]
        request_log.batch(kinds, receipts, self._rec.status, self._request)
        return BatchReceipt(receipts=receipts)

    @take_answers.validator
    def _v_take_answers(self, batch: AnswerBatch) -> None:
        """A batch is refused whole only if an answer is not addressed to this request."""
        for m in batch.answers:
            try:
                addressed_to(self._request, m)
            except Refusal as err:
                raise Rejection.of(err) from None

    def _validate(self, m: Message, kind: Kind, signature: bool = True) -> None:
        """Reject with the reason; a seen event id passes (its handler is a no-op). The handler
        re-checks all but the signature, verified once by the validator (the same bytes)."""
        if m.event_id in self._seen:
            return
        if isinstance(m, AnswerBase):  # the Court is never refused for a State's flood
            self._seen.check_cap(self._request.reference, workflow.now(), self._input)
        try:
            if isinstance(m, AnswerBase):
                addressed_to(self._request, m)
            else:  # signed for this request (once), dated in its life, its id kept for ever
                admit(self._rec, self._seen, self._request, m, workflow.now(), signature)
            sm.check_transition(kind.name, self._rec.status)
            RULES[kind.name].check(self._rec, self._request, m)
        except Refusal as err:  # sm.IllegalTransition too: a public one, said in clear
            raise Rejection.of(err) from None

    # -- taking an answer or action -------------------------------------------------------

    def _take_guarded(self, m: Message, kind: Kind, alone: bool = True) -> AnswerReceipt:
        """``_take``, refusing instead of failing the task on any fault: the request's state
        is marked first and put back as it was (``request_guard.py``)."""
        before = guard.mark(self._rec)
        try:
            return self._take(m, kind, alone)
        except ApplicationError:
            raise  # a refusal by the answer's rule: nothing was written
        except Exception as fault:  # every fault becomes a refusal
            guard.restore(self._rec, before)
            workflow.logger.warning(  # ids and the fault's type only: never the answer's body
                "answer not applied",
                extra={"event_id": m.event_id, "action": kind.name, "fault": type(fault).__name__},
            )
            raise guard.not_applied(kind.name, m.event_id, fault) from None

    def _take(self, m: Message, kind: Kind, alone: bool) -> AnswerReceipt:
        """Apply an answer or action once; the handler re-checks (state may have moved).
        ``alone=False``: in a batch, which writes its log line once."""
        rec, req = self._rec, self._request
        if m.event_id in self._seen:
            return AnswerReceipt(event_id=m.event_id, duplicate=True, status=rec.status)
        self._validate(m, kind, signature=False)
        now, paused_before = workflow.now(), rec.status.paused
        outcome = RULES[kind.name].apply(rec, req, m, now)
        if outcome.status is not None:
            rec.status = outcome.status
        # A denial the Court has not determined keeps full execution open (art. 72(7)).
        final = (rec.status in sm.SETTLES_STAGES and settles_stages(rec)) or self._closed
        if rec.clocks is not None:
            dl.on_status(rec.clocks, paused_before, rec.status.paused, now)
            outcome.firings += dl.meet(rec.clocks, dl.stages_met(kind.meets, final), now)
        elif inp_policy_pending(self._input):  # the policy in force is on its way
            note_met(rec, dl.stages_met(kind.meets, final))
        rec.ledger.collapse_histories()
        note_for_report(rec, kind, now)
        self._record_timeline(m.event_id, outcome.what)
        self._outbox.announce(rec, self._request, m, kind, outcome)
        queue_for_directory(self._rec, self._request, m.event_id, outcome)
        self._escalate(outcome.firings, caused_by=m.event_id)
        # Shown after the round that publishes the answer's events (``run``): nothing is
        # written here, so a fault above is rolled back by the guard with nothing shown.
        self._visibility.owe()
        # Nothing below can fail: only now is the answer seen, counted and told to the case.
        self._seen.add(m.event_id, now, court=isinstance(m, CourtAction))
        self._seen.forget_before(now, self._input.dedupe_window)
        self._parent.changed()
        if alone:
            request_log.taken(kind, m.event_id, rec.status, req)
        return AnswerReceipt(event_id=m.event_id, duplicate=False, status=rec.status)

    def _record_timeline(self, event_id: str | None, what: str) -> None:
        self._rec.timeline.append(
            TimelineEntry(at=workflow.now(), event_id=event_id, what=what, status=self._rec.status)
        )

    # -- clocks, visibility and the case ----------------------------------------------------

    def _next_wakeup(self) -> datetime | None:
        clocks = self._rec.clocks
        if clocks is None or self._closed:
            return None
        urgent_pending = (  # RS 96(1): confirmation through the formal channel awaited
            self._request.urgency is Urgency.URGENT and self._rec.urgent_confirmed_at is None
        )
        due = dl.next_deadline(clocks, self._rec.ledger, workflow.now(), urgent_pending)
        period_end = postponements.period_end(self._rec)
        return min((t for t in (due, period_end) if t is not None), default=None)

    async def _wait_for_work_or_clock(self) -> None:
        """Wait for an answer to publish, a case to inform, closure — or the next deadline.
        A report to the case held back by its interval arms its own timer to wake for."""
        self._parent.arm(self._closed)
        wake = self._next_wakeup()
        if wake is not None and wake <= workflow.now():
            return
        clock = self._timer.arm(wake)
        await workflow.wait_condition(lambda: self._has_work() or clock.done())

    def _has_work(self) -> bool:
        return self._outgoing() or self._closed or self._should_continue_as_new()

    def _outgoing(self) -> bool:
        """Events to publish, notices to forward, changes to show or a report the case is to
        be told."""
        rec = self._rec
        queued = rec.outbox or rec.escalation_outbox or rec.signed_outbox or rec.directory_outbox
        return bool(queued) or self._visibility.owed or self._parent.waiting(self._closed)

    def _fire_clocks(self) -> bool:
        """Fire the clocks due; whether any fired (their search attributes are then owed)."""
        clocks, rec = self._rec.clocks, self._rec
        if clocks is None or self._closed:
            return False
        now, urgent = workflow.now(), self._request.urgency is Urgency.URGENT
        # RS 94: an agreed period that ends resumes the request, and its clock, first.
        paused_before = rec.status.paused
        firings = postponements.end_if_due(rec, now, level_of(clocks.policy, clocks.ladder.rung))
        if firings:
            dl.on_status(clocks, paused_before, rec.status.paused, now)
            self._parent.changed()
        firings += dl.fire(clocks, rec.ledger, now, urgent and rec.urgent_confirmed_at is None)
        for firing in firings:
            self._record_timeline(None, f"clock: {firing.kind.value} {firing.step or ''}".strip())
            entry = rec.ledger.entries.get(firing.asset_id or "")
            decision = firing.decision_event_id
            lifted = firing.kind is EscalationKind.FREEZE_LIFTED and decision is not None
            if lifted and decision and entry and entry.status in freeze_limits.HELD:
                # The Chamber's decision lifts the freeze on the date it set (RS 97
                # consultation); nothing is ever released by a clock alone.
                release(entry, "freeze_limited_by_chamber", decision, now)
                self._outbox.emit_asset(
                    rec, self._request, RequestEventType.ASSET_RELEASED, entry, decision
                )
        self._escalate(firings, caused_by=None)
        return bool(firings)

    def _escalate(self, firings: list[dl.Firing], caused_by: str | None) -> None:
        clocks = self._rec.clocks
        if clocks is not None and firings:  # most answers fire nothing: no wake-up computed
            events = escalations(firings, self._request, clocks, self._next_wakeup(), caused_by)
            self._rec.escalation_outbox += events

    def _show_changes(self) -> None:
        """Show what answers and firings changed. Visibility is a view, not the record: a fault
        writing it is logged, the request goes on and the next write restates everything."""
        self._visibility.refresh_safely(self._refresh_visibility)

    def _refresh_visibility(self) -> None:
        clocks = clock_view(self._rec.clocks, workflow.now(), self._next_wakeup())
        self._visibility.refresh(self._request, self._rec, clocks)

    async def _inform_parent(self) -> None:
        await self._parent.inform(self._summary_at, self._closed, self._request.reference)

    def _summary_at(self, now: datetime) -> RequestSummary:
        rec = self._rec
        return RequestSummary.of(self._request, rec.status, rec.ledger, len(self._seen), now)

    # -- the next run ---------------------------------------------------------------------

    def _note_step(self, updates: int = 0) -> None:
        """At a step history holds (the run loop, a handler): ``updates`` counted toward the
        hand-over, and the server's suggestion to hand over read."""
        self._updates_this_run += updates
        self._suggested = self._suggested or workflow.info().is_continue_as_new_suggested()

    def _should_continue_as_new(self) -> bool:
        """Requests live for years: hand over before the history or the updates grow large.
        Also a wake-up condition, so it reads the state only (``ParentReports.waiting``)."""
        limit = self._input.answers_per_run
        return self._suggested or (limit is not None and self._updates_this_run >= limit)

    def _carry(self) -> RequestCarry:
        """The state handed to the next run, bounded whatever the number of answers taken
        (``workflows/request_handover.py``)."""
        return hand_over(self._rec, self._seen, workflow.now(), self._input.dedupe_window)

    # -- queries --------------------------------------------------------------------------

    @workflow.query
    def view(self) -> RequestView:
        """Status, ledger, totals and the latest timeline, bounded (``request_view.py``)."""
        now = workflow.now()
        return request_view(self._request, self._rec, len(self._seen), now, self._next_wakeup())

    @workflow.query
    def case_summary(self) -> RequestSummary:
        """What the request tells its case, asked by the case to heal a report it missed."""
        return self._summary_at(workflow.now())

    @workflow.query
    def progress(self) -> RequestProgress:
        """Status and how many answers and actions were taken (polling without the ledger)."""
        return RequestProgress(status=self._rec.status, answers_seen=len(self._seen))
