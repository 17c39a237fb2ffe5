"""One Court request to one State, from transmission to closure (RS 93(1)(k), 96, 99).

Every State answer and every Court action is an update whose id is its event id. A
validator rejects what the request cannot take (wrong request or State, illegal transition,
unknown asset, ...) before anything is written, and an event id seen before is a no-op. The
rules live in ``workflows/rules.py``; this class only records, publishes and answers queries.
Lifecycle events are queued in an outbox and published in order by an activity; their ids
are made here, deterministically.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.request_answers import StateAnswers
from workflows.request_batch import AnswerBatches
from workflows.request_clocks import ClockKeeping
from workflows.request_court import CourtActions
from workflows.request_outbox import Outbox
from workflows.request_publishing import Publishing
from workflows.request_seen import SeenIds

with workflow.unsafe.imports_passed_through():
    from schemas import answers as a
    from schemas.case import RequestSummary
    from schemas.clocks import Clocks
    from schemas.events import RequestEventType
    from schemas.ledger import RequestStatus
    from schemas.request import CourtRequest
    from schemas.views import (
        TIMELINE_CARRIED,
        TIMELINE_SHOWN,
        AnswerReceipt,
        RequestCarry,
        RequestInput,
        RequestProgress,
        RequestView,
        TimelineEntry,
    )
    from workflows import deadlines as dl
    from workflows import state_machine as sm
    from workflows.ledger import ledger_from_request
    from workflows.outcome import Rejection
    from workflows.rules import COURT_ACTIONS, RULES, STATE_ANSWERS


@workflow.defn
class RequestWorkflow(StateAnswers, AnswerBatches, CourtActions, ClockKeeping, Outbox, Publishing):
    @workflow.init
    def __init__(self, inp: RequestInput) -> None:
        self._original = inp.request
        self._events_topic = inp.events_topic
        self._escalations_topic = inp.escalations_topic
        self._answers_per_run = inp.answers_per_run
        self._dedupe_window = inp.dedupe_window
        self._seen_ids_cap = inp.seen_ids_cap
        self._accepted_this_run = 0
        # A carried run tells the case at once: a report held back may not have gone.
        self._parent_stale = inp.carried is not None and workflow.info().parent is not None
        self._parent_told: RequestSummary | None = None
        """The last report to the parent case, and when (``_inform_parent``)."""
        self._parent_told_at: datetime | None = None
        self._parent_failures = 0
        self._parent_gone = False
        """The case missed the last reports (terminated or closed): told nothing more."""
        self._parent_timer: tuple[datetime, asyncio.Future[None]] | None = None
        self._shown: dict[str, Any] = {}
        """Search attributes and memo as last written (``_refresh_visibility``)."""
        self._clock: tuple[datetime | None, asyncio.Future[None]] | None = None
        """The next-deadline timer and the deadline it waits for (``_arm_clock``)."""
        self._rec = inp.carried or RequestCarry(
            status=RequestStatus.TRANSMITTED,
            ledger=ledger_from_request(inp.request),
            timeline=[],
            seen_event_ids=[],
        )
        self._seen = SeenIds(
            self._rec.seen, self._rec.seen_event_ids, self._rec.answers_taken, workflow.now()
        )
        self._rec.seen_event_ids = []
        if inp.carried is None and inp.policy is not None:
            contact = inp.policy.contact
            self._rec.clocks = Clocks(
                policy=inp.policy,
                started_at=workflow.now(),
                channel=contact.channel if contact else None,
                language=contact.language if contact else None,
            )
        if inp.carried is None:
            self._rec.report.transmitted_at = workflow.now()
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
                # across continue-as-new and published by the next run.
                if closing:
                    await self._publish_outbox()
                    await self._inform_parent()
                    return self.view()
                workflow.continue_as_new(
                    RequestInput(
                        request=self._original,
                        events_topic=self._events_topic,
                        escalations_topic=self._escalations_topic,
                        carried=self._carry(),
                        answers_per_run=self._answers_per_run,
                        dedupe_window=self._dedupe_window,
                        seen_ids_cap=self._seen_ids_cap,
                    )
                )

    def _carry(self) -> RequestCarry:
        """The state handed to the next run, bounded whatever the number of answers taken:
        the most recent timeline entries (each older one left as a request event on Kafka
        when it was made; the carry counts them), the ids taken within the dedupe window
        (``workflows/request_seen.py``), and the ledger with collapsed histories."""
        rec = self._rec
        self._seen.forget_before(workflow.now(), self._dedupe_window)
        rec.seen, rec.answers_taken = self._seen.carried(), self._seen.taken
        dropped = max(0, len(rec.timeline) - TIMELINE_CARRIED)
        if dropped:
            rec.timeline = rec.timeline[dropped:]
            rec.timeline_dropped += dropped
        rec.ledger.collapse_histories()
        return rec

    @workflow.query
    def view(self) -> RequestView:
        """Current status, ledger with per-currency totals, and the most recent timeline
        entries (``timeline_elided`` counts the older ones, all left as request events on
        Kafka): bounded, so the answer stays under the payload limit however many answers."""
        req, rec = self._request, self._rec
        shown = rec.timeline[-TIMELINE_SHOWN:]
        return RequestView(
            reference=req.reference,
            case_number=req.case_number,
            requested_state=req.requested_state,
            status=rec.status,
            ledger=rec.ledger,
            totals=rec.ledger.totals(),
            timeline=shown,
            timeline_elided=rec.timeline_dropped + len(rec.timeline) - len(shown),
            answers_seen=len(self._seen),
            version=rec.versions[-1].version if rec.versions else 1,
            resume_status=rec.resume_status,
            postponed_until=rec.postponed_until,
            urgent_confirmed_at=rec.urgent_confirmed_at,
            rule99_notified_at=rec.rule99_notified_at,
            **self._clock_view(),
        )

    @workflow.query
    def progress(self) -> RequestProgress:
        """Status and how many answers and actions were taken (polling without the ledger)."""
        return RequestProgress(status=self._rec.status, answers_seen=len(self._seen))

    def _validate(self, m: Any, action: str | None = None) -> None:
        """Reject with the reason; a seen event id passes (its handler is a no-op)."""
        if m.event_id in self._seen:
            return
        action = action or m.answer_type
        if action not in COURT_ACTIONS:  # the Court is never refused for a State's flood
            self._check_seen_cap()
        try:
            if action not in COURT_ACTIONS:
                self._check_addressed(m)
            sm.check_transition(action, self._rec.status)
            RULES[action].check(self._rec, self._request, m)
        except (Rejection, sm.IllegalTransition) as err:
            raise ApplicationError(str(err), type="AnswerRejected", non_retryable=True) from None

    def _check_seen_cap(self) -> None:
        """Refuse a new answer when the request already holds its cap of ids within the
        dedupe window: a flood is refused with its reason, never a failed workflow task.
        Read-only (it runs in update validators, which are not replayed)."""
        held = self._seen.held_within(workflow.now(), self._dedupe_window)
        if held >= self._seen_ids_cap:
            raise ApplicationError(
                f"request {self._request.reference} has taken {held} answers "
                f"within {self._dedupe_window.days} days, its cap: refused until older "
                "answers leave the window",
                type="AnswerRejected",
                non_retryable=True,
            )

    def _check_addressed(self, m: a.AnswerBase) -> None:
        req = self._request
        if m.request_reference != req.reference:
            raise Rejection(f"answer is for request {m.request_reference}, not {req.reference}")
        if m.state != req.requested_state:
            raise Rejection(
                f"State {m.state} answered request {req.reference}, "
                f"which is addressed to {req.requested_state}"
            )

    def _take(self, m: Any, action: str | None = None, refresh: bool = True) -> AnswerReceipt:
        """Apply an answer or action once; the handler re-checks (state may have moved).
        ``refresh=False`` leaves the visibility write to the caller (a batch writes once)."""
        if m.event_id in self._seen:
            return AnswerReceipt(event_id=m.event_id, duplicate=True, status=self._rec.status)
        self._validate(m, action)
        action = action or m.answer_type
        now, paused_before = workflow.now(), self._rec.status.paused
        outcome = RULES[action].apply(self._rec, self._request, m, now)
        self._seen.add(m.event_id, now)
        self._seen.forget_before(now, self._dedupe_window)
        self._accepted_this_run += 1
        if outcome.status is not None:
            self._rec.status = outcome.status
        clocks = self._rec.clocks
        if clocks is not None:
            dl.on_status(clocks, paused_before, self._rec.status.paused, now)
            final = (
                self._rec.status in sm.SETTLES_STAGES or self._rec.status is RequestStatus.CLOSED
            )
            met = dl.stages_met_by(action, action in STATE_ANSWERS, final)
            outcome.firings += dl.meet(clocks, met, now)
        self._rec.ledger.collapse_histories()
        self._note_for_report(action, now)
        self._record_timeline(m.event_id, outcome.what)
        self._announce(m.event_id, action, outcome)
        self._escalate(outcome.firings, caused_by=m.event_id)
        self._parent_stale = workflow.info().parent is not None
        workflow.logger.info(  # ids and codes only: never names, assets or the answer's body
            "court action taken" if action in COURT_ACTIONS else "answer accepted",
            extra={
                "event_id": m.event_id,
                "action": action,
                "status": self._rec.status.value,
                "request_reference": self._request.reference,
                "case_number": self._request.case_number,
                "state": self._request.requested_state,
            },
        )
        # Visibility last, once everything else of the answer is applied: a fault before this
        # point is rolled back by the guard with nothing shown that the request does not hold.
        if refresh:
            self._refresh_visibility()
        return AnswerReceipt(event_id=m.event_id, duplicate=False, status=self._rec.status)

    def _record_timeline(self, event_id: str | None, what: str) -> None:
        self._rec.timeline.append(
            TimelineEntry(at=workflow.now(), event_id=event_id, what=what, status=self._rec.status)
        )

    def _should_continue_as_new(self) -> bool:
        """Requests live for years: hand over to a fresh run before the history grows large."""
        if workflow.info().is_continue_as_new_suggested():
            return True
        limit = self._answers_per_run
        return limit is not None and self._accepted_this_run >= limit
