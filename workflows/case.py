"""A multi-State case: one Court order fanned out to one request per State.

Assets sit in several jurisdictions, so one case spawns one request per State (RS 93(1)(k)
to each State holding them; docs/legal-process.md, 'Several States'); the Court may add a
State later, or a further request to a party already asked that names the request it
supplements (RS 96(2): a new reference, linked to the first). Each request is a child workflow
that tells the case, by the case's workflow id, a small summary of where it stands
(``RequestSummary``: status, totals, counts) when it changed, at most once per few seconds of
its workflow time; the case keeps only that summary per request (``REFERENCE/PARTY``). So one
State's stream of answers cannot grow the case's history to the server's limit and take the
other States' part down with it. A report that never reached the case heals itself: at each
new run and every ``RECONCILE_EVERY`` the case asks its open requests where they stand
(``activities/case.py``) and keeps what is newer than what it holds.

The case continues as new before its history grows large (server suggestion, history size or
length, or ``reports_per_run``), carrying ``CaseCarry``; it drains its signal and update
handlers first, so nothing arriving around the hand-over is lost. The Court may add a State
later. The case closes only once every request in it is closed: closing a case cannot orphan
a request that still holds frozen assets.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from schemas.case import (
        DELIVER_TO_REQUEST,
        MAX_CASE_REQUESTS,
        MAX_COURT_ACTIONS,
        MAX_JUDGMENTS,
        REQUEST_SUMMARIES,
        AddState,
        CaseCarry,
        CaseInput,
        CaseReleaseRecord,
        CaseView,
        CloseCase,
        Delivery,
        DeliveryResult,
        ReleaseCase,
        RequestDelivery,
        RequestRelease,
        RequestSummaries,
        RequestSummary,
        RequestUpdate,
        SecureAmount,
        add_totals,
        request_key,
    )
    from schemas.completeness import CompletenessOverride
    from schemas.court import CaseRelease, CloseRequest, Judgment
    from schemas.escalations import EscalationEvent
    from schemas.ledger import RequestStatus
    from schemas.outbox import PUBLISH_OUTBOX, PublishOutbox
    from schemas.policy import ResolvedPolicy
    from schemas.request import CourtRequest
    from schemas.views import RequestView
    from workflows.carry import RequestRun
    from workflows.case_release import ENDED, release_report
    from workflows.details import static_details
    from workflows.proportionality import assess, proposal_events
    from workflows.request import RequestWorkflow
    from workflows.request_outbox import PUBLISH_RETRY, PUBLISH_TIMEOUT

HISTORY_BYTES_PER_RUN = 1_000_000
"""Continue as new past this history size (the server's hard limit is 50 MB)."""
HISTORY_EVENTS_PER_RUN = 2_000
RECONCILE_EVERY = timedelta(days=7)
"""How often a quiet case asks its open requests where they stand (besides at each new run)."""
MAX_OUTBOX = 4 * MAX_CASE_REQUESTS
"""Proposals the case holds unpublished (the oldest dropped beyond it)."""
MAX_OUTBOX_ROUND = 100
RETRY_UNDELIVERED_AFTER = timedelta(hours=1)
"""How soon a Court action that could not reach its request is sent again."""


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._order = inp.order
        firsts = [RequestSummary.transmitted(r) for r in inp.order.requests]
        carried = inp.carried or CaseCarry(requests={s.key: s for s in firsts})
        self._requests: dict[str, RequestSummary] = dict(carried.requests)
        """Per request (``REFERENCE/PARTY``), as it last reported (known from the start, even
        to an early update)."""
        self._workflow_ids: dict[str, str] = dict(carried.workflow_ids)
        """Where each request runs, to ask it where it stands (``_reconcile``)."""
        self._seen: set[str] = set(carried.seen_event_ids)
        self._run = carried.runs if inp.carried is None else carried.runs + 1
        self._reports_per_run = inp.reports_per_run
        self._reports_this_run = 0
        self._children: list[asyncio.Task[None]] = []
        """The requests this run started, followed to their completion."""
        self._closed = False
        self._judgments: list[Judgment] = list(carried.judgments)
        """The judgments recorded (RS 74, 83; RS 61), in order: the last is in force."""
        self._release: CaseReleaseRecord | None = carried.release
        """The case-level release (RS 74, 81(3)(c), 83(2)), once ordered."""
        self._deliveries: dict[tuple[str, str], Delivery] = {
            (d.key, d.update): d for d in carried.deliveries
        }
        """Court actions for the requests not yet taken or refused, per request and update."""
        self._in_flight: set[tuple[str, str]] = set()
        self._to_secure: SecureAmount | None = carried.to_secure
        """The amount the case is to secure (RS 57(3)(e), 75, 77(2)), once set."""
        self._over_secured = carried.over_secured
        self._proposed_at = carried.proposed_at
        self._proposals = carried.proposals
        self._outbox: list[EscalationEvent] = list(carried.outbox)
        """Proposals to the Chamber not yet published."""

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseView:
        order = inp.order
        if inp.carried is None:
            for request in order.requests:
                party = request.requested_state
                await self._start(
                    request,
                    order.policies.get(party),
                    order.workflow_ids.get(party),
                    order.completeness_overrides.get(party),
                )
        reconcile = inp.carried is not None
        while not self._done():
            if reconcile:
                await self._reconcile()
                self._retry_failed()
                reconcile = False
            await self._publish()
            self._dispatch()
            try:
                undelivered = any(d.failed for d in self._deliveries.values())
                await workflow.wait_condition(
                    lambda: self._done() or self._due(),
                    timeout=RETRY_UNDELIVERED_AFTER if undelivered else RECONCILE_EVERY,
                    timeout_summary="ask the requests",
                )
            except TimeoutError:
                reconcile = True
        # Every signal and update that reached this run is applied, and every Court action on
        # its way to a request has its answer, before it ends (what is left is carried).
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and not self._in_flight
        )
        await self._publish()
        if self._closed:
            # Each request reported its closure before it completed; its completion can reach
            # the case in the very task that takes close_case, and completing the case in that
            # task is refused by the server (an unhandled event), the update with it. So the
            # case completes only once the completion of every request it started is in.
            await workflow.wait_condition(lambda: all(t.done() for t in self._children))
            return self.view()
        workflow.continue_as_new(
            CaseInput(
                order=self._order,
                carried=CaseCarry(
                    requests=self._requests,
                    workflow_ids=self._workflow_ids,
                    seen_event_ids=tuple(sorted(self._seen)),
                    runs=self._run,
                    judgments=tuple(self._judgments),
                    release=self._release,
                    deliveries=tuple(self._deliveries.values()),
                    to_secure=self._to_secure,
                    over_secured=self._over_secured,
                    proposed_at=self._proposed_at,
                    proposals=self._proposals,
                    outbox=tuple(self._outbox),
                ),
                reports_per_run=self._reports_per_run,
            )
        )

    @workflow.signal
    def request_changed(self, summary: RequestSummary) -> None:
        """A request of this case changed: keep its latest summary (``_take``)."""
        if self._take(summary):
            self._reports_this_run += 1

    @workflow.update
    async def add_state(self, action: AddState) -> CaseView:
        """The Court adds a State to the case (assets found in another jurisdiction)."""
        if action.event_id not in self._seen:
            self._seen.add(action.event_id)
            request = action.request
            try:
                await self._start(
                    request, action.policy, action.workflow_id, action.completeness_override
                )
            except WorkflowAlreadyStartedError:
                self._seen.discard(action.event_id)
                key = request_key(request.reference, request.requested_state)
                self._requests.pop(key, None)
                self._workflow_ids.pop(key, None)
                self._reject(f"a request {action.request.workflow_id} already exists")
            if self._judgments:  # the new request learns the judgment in force
                key = request_key(request.reference, request.requested_state)
                self._send(key, "record_judgment", self._judgments[-1])
        return self.view()

    @add_state.validator
    def _validate_add_state(self, action: AddState) -> None:
        if action.event_id in self._seen:
            return
        self._refuse_when_closed_or_full()
        if self._release is not None:
            self._reject(
                "the case was released: a request to restrain assets is not added after it "
                f"({self._release.ground}, judgment {self._release.order.judgment_reference})"
            )
        request = action.request
        if request.case_number != self._order.case_number:
            self._reject(f"{request.reference} belongs to case {request.case_number}")
        party = request.requested_state
        if request_key(request.reference, party) in self._requests:
            self._reject(f"the case already has request {request.reference} to {party}")
        asked = sorted(s.reference for s in self._requests.values() if s.requested_state == party)
        if asked and request.supplements not in asked:
            self._reject(
                f"the case already has a request to {party}: a further request to it names the "
                f"one it supplements, one of {asked} (RS 96(2), 93(1)(k))"
            )
        if len(self._requests) >= MAX_CASE_REQUESTS:
            self._reject(f"the case holds {MAX_CASE_REQUESTS} requests: open a new one")

    @workflow.update
    def record_judgment(self, judgment: Judgment) -> CaseView:
        """Record a judgment of the case (RS 74, 83(2); RS 61 before trial): conviction,
        acquittal or termination, its date, Chamber and finality. Each open request is told
        it (``judgment`` on the request), so its own rules read the judgment in force: a
        forfeiture order follows a conviction (RS 77(2)(b))."""
        if judgment.event_id in self._seen:
            return self.view()
        self._seen.add(judgment.event_id)
        self._judgments.append(judgment)
        for key, summary in self._requests.items():
            if summary.status is not RequestStatus.CLOSED:
                self._send(key, "record_judgment", judgment)
        return self.view()

    @record_judgment.validator
    def _validate_record_judgment(self, judgment: Judgment) -> None:
        if judgment.event_id in self._seen:
            return
        self._refuse_when_closed_or_full()
        if len(self._judgments) >= MAX_JUDGMENTS:
            self._reject(f"the case has recorded {MAX_JUDGMENTS} judgments")
        if any(j.judgment_reference == judgment.judgment_reference for j in self._judgments):
            self._reject(f"judgment {judgment.judgment_reference} is already recorded")
        if self._judgments:
            last = self._judgments[-1]
            if last.finality == "final":
                self._reject(
                    f"judgment {last.judgment_reference} is final: no later judgment is "
                    "recorded over it (a revision under RS 84 is not recorded here)"
                )
            if judgment.delivered_on < last.delivered_on:
                self._reject(
                    f"judgment {judgment.judgment_reference} of {judgment.delivered_on} is older "
                    f"than the one in force ({last.judgment_reference} of {last.delivered_on})"
                )

    @workflow.update
    def release_case(self, act: ReleaseCase) -> CaseView:
        """One Chamber's act releases the whole case after an acquittal or a termination
        (RS 74, 81(3)(c), 83(2); RS 61): every open request takes it as a Court action through
        its own rules (``case_release``), releasing what it holds frozen or seized and leaving
        execution (its deadlines and the ladder stop); the case closes each request once
        every asset in it is settled, and reports whatever is still held, by party and asset,
        until nothing is (``CaseView.release``). A request that refuses is reported with its
        reason and never holds up the others."""
        if act.event_id in self._seen:
            return self.view()
        self._seen.add(act.event_id)
        judgment = self._judgment(act.judgment_reference)
        ground = "acquittal" if judgment.outcome.value == "acquittal" else "termination"
        requests: dict[str, RequestRelease] = {}
        for key, summary in self._requests.items():
            if summary.status is RequestStatus.CLOSED:
                requests[key] = RequestRelease(outcome="already_closed")
                continue
            requests[key] = RequestRelease()
            self._send(
                key,
                "release_for_case",
                CaseRelease(
                    event_id=act.event_id,  # replaced by a fresh id per request (``_send``)
                    decided_by=act.decided_by,
                    decided_at=act.decided_at,
                    judgment=judgment,
                    reasons=act.reasons,
                ),
            )
        self._release = CaseReleaseRecord(order=act, ground=ground, requests=requests)
        self._complete_release()
        return self.view()

    @release_case.validator
    def _validate_release_case(self, act: ReleaseCase) -> None:
        if act.event_id in self._seen:
            return
        self._refuse_when_closed_or_full()
        if self._release is not None:
            self._reject(
                f"the case was already released ({self._release.order.judgment_reference})"
            )
        judgment = self._judgment(act.judgment_reference)
        if self._judgments[-1] is not judgment:
            self._reject(
                f"judgment {act.judgment_reference} is not the one in force "
                f"({self._judgments[-1].judgment_reference})"
            )
        if not judgment.ends_without_conviction:
            self._reject(
                f"judgment {act.judgment_reference} is a conviction: a case is released on an "
                "acquittal or a termination (RS 74, 81(3)(c), 83(2); RS 61)"
            )

    @workflow.update
    def secure_amount(self, act: SecureAmount) -> CaseView:
        """Set the amount the case is to secure (RS 57(3)(e), 75, 77(2)(a); RS 75(2) once an
        award is made), with the policy's margin; it replaces the one before. When what the
        requests secure across all parties exceeds it by more than the margin, the case
        proposes releases to the Chamber (``_check_proportionality``)."""
        if act.event_id in self._seen:
            return self.view()
        self._seen.add(act.event_id)
        self._to_secure = act
        self._over_secured = False  # a new amount is assessed afresh
        self._check_proportionality(caused_by=act.event_id)
        return self.view()

    @secure_amount.validator
    def _validate_secure_amount(self, act: SecureAmount) -> None:
        if act.event_id in self._seen:
            return
        self._refuse_when_closed_or_full()

    @workflow.update
    def close_case(self, action: CloseCase) -> CaseView:
        """The case closes once every request in it is closed."""
        self._seen.add(action.event_id)
        self._closed = True
        return self.view()

    @close_case.validator
    def _validate_close_case(self, action: CloseCase) -> None:
        if action.event_id in self._seen:
            return
        self._refuse_when_closed_or_full()
        still_open = sorted(
            s for s, r in self._requests.items() if r.status is not RequestStatus.CLOSED
        )
        if still_open:
            self._reject(f"requests {still_open} are still open: close them first")

    @workflow.query
    def view(self) -> CaseView:
        return CaseView(
            order_reference=self._order.order_reference,
            case_number=self._order.case_number,
            closed=self._closed,
            statuses={s: r.status for s, r in self._requests.items()},
            requests=dict(self._requests),
            totals=add_totals(list(self._requests.values())),
            run=self._run,
            judgments=list(self._judgments),
            release=release_report(self._release, self._requests),
            proportionality=assess(
                self._to_secure, self._requests.values(), self._proposed_at, self._proposals
            ),
        )

    def _take(self, summary: RequestSummary) -> bool:
        """Keep a request's summary if it is news: a report for a request not in this case is
        ignored, a closed request stays closed, and an older summary than the one held (a
        late report, or a reconciliation overtaken by a report) never rolls the view back."""
        known = self._requests.get(summary.key)
        if known is None:
            workflow.logger.warning(
                "report from a request not in this case ignored",
                extra={"state": summary.requested_state, "case": self._order.case_number},
            )
            return False
        closing = summary.status is RequestStatus.CLOSED
        if known.status is RequestStatus.CLOSED and not closing:
            return False
        if not closing and summary.older_than(known):
            return False
        self._requests[summary.key] = summary
        self._close_settled(news_from=summary.key)
        self._check_proportionality(caused_by=None)
        return True

    async def _reconcile(self) -> None:
        """Ask each open request where it stands (``activities/case.py``), so a report that
        never reached the case (a signal lost around a hand-over) cannot leave its view stale,
        nor keep it from closing. A request that cannot answer now is asked next time."""
        keys = [
            k
            for k, s in self._requests.items()
            if s.status is not RequestStatus.CLOSED and k in self._workflow_ids
        ]
        if not keys:
            return
        try:
            found = await workflow.execute_activity(
                REQUEST_SUMMARIES,
                RequestSummaries(workflow_ids=tuple(self._workflow_ids[k] for k in keys)),
                result_type=list[RequestSummary | None],
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_attempts=3),
                summary="where each open request stands",
            )
        except ActivityError as err:
            workflow.logger.warning("the requests could not be asked", extra={"error": str(err)})
            return
        for key, summary in zip(keys, found, strict=True):
            if summary is not None and summary.key == key:
                self._take(summary)

    # -- Court actions the case sends its requests ------------------------------------------

    def _judgment(self, reference: str) -> Judgment:
        for judgment in self._judgments:
            if judgment.judgment_reference == reference:
                return judgment
        self._reject(f"no judgment {reference} is recorded in this case: record it first")
        raise AssertionError  # unreachable: _reject raises

    def _send(
        self, key: str, update: RequestUpdate, action: Judgment | CaseRelease | CloseRequest
    ) -> None:
        """Queue a Court action for one request under a fresh event id of its own (each request
        dedupes on it; a retry sends the same id), replacing one of the same update not yet
        sent (a newer judgment supersedes an older one on its way)."""
        action = action.model_copy(update={"event_id": str(workflow.uuid4())})
        self._deliveries[(key, update)] = Delivery(key=key, update=update, action=action)

    def _due(self) -> bool:
        return bool(self._outbox) or any(
            k not in self._in_flight and not d.failed for k, d in self._deliveries.items()
        )

    def _dispatch(self) -> None:
        """Send every queued action not on its way yet, each request on its own: one request
        that refuses or cannot be reached never stalls another."""
        for slot, delivery in list(self._deliveries.items()):
            if slot in self._in_flight or delivery.failed:
                continue
            workflow_id = self._workflow_ids.get(delivery.key)
            if workflow_id is None:
                del self._deliveries[slot]
                continue
            self._in_flight.add(slot)
            self._children.append(asyncio.create_task(self._deliver(slot, delivery, workflow_id)))

    def _retry_failed(self) -> None:
        """Actions that could not be delivered are sent again (at each reconciliation)."""
        for slot, delivery in list(self._deliveries.items()):
            if delivery.failed:
                self._deliveries[slot] = delivery.model_copy(update={"failed": False})

    async def _deliver(self, slot: tuple[str, str], delivery: Delivery, workflow_id: str) -> None:
        try:
            result: DeliveryResult = await workflow.execute_activity(
                DELIVER_TO_REQUEST,
                RequestDelivery(
                    workflow_id=workflow_id, update=delivery.update, action=delivery.action
                ),
                result_type=DeliveryResult,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=1)),
                summary=f"{delivery.update} to {delivery.key}",
            )
        except ActivityError as err:
            workflow.logger.warning(
                "a Court action could not reach its request: sent again later",
                extra={"request": delivery.key, "update": delivery.update, "error": str(err)},
            )
            if self._deliveries.get(slot) is delivery:
                self._deliveries[slot] = delivery.model_copy(update={"failed": True})
            return
        finally:
            self._in_flight.discard(slot)
        if self._deliveries.get(slot) is delivery:
            del self._deliveries[slot]
        self._delivered(delivery, result)

    def _delivered(self, delivery: Delivery, result: DeliveryResult) -> None:
        """Record what a request did with the case's action."""
        release = self._release
        if release is None or delivery.update == "record_judgment":
            if result.outcome == "refused":
                workflow.logger.warning(
                    "a request refused the judgment",
                    extra={"request": delivery.key, "reason": result.reason},
                )
            return
        known = release.requests.get(delivery.key, RequestRelease())
        if delivery.update == "release_for_case":
            outcome = {"taken": "taken", "refused": "refused", "ended": "already_closed"}
            known = known.model_copy(
                update={"outcome": outcome[result.outcome], "reason": result.reason}
            )
        elif result.outcome == "refused":
            known = known.model_copy(update={"close": "refused", "close_reason": result.reason})
        self._release = release.model_copy(
            update={"requests": {**release.requests, delivery.key: known}}
        )
        self._close_settled()

    def _close_settled(self, news_from: str | None = None) -> None:
        """After the case's release, close each request that took it, has ended its execution
        and holds nothing more (every asset settled). A close the request refused is sent
        again only on news from that request (``news_from``), never in a loop."""
        release = self._release
        if release is None:
            return
        requests = dict(release.requests)
        for key, taken in release.requests.items():
            summary = self._requests.get(key)
            if (
                taken.outcome != "taken"
                or taken.close == "pending"
                or (taken.close == "refused" and key != news_from)
                or summary is None
                or summary.status not in ENDED
                or summary.held
                or summary.held_left_out
            ):
                continue
            self._send(
                key,
                "close",
                CloseRequest(
                    event_id=release.order.event_id,  # replaced by a fresh id (``_send``)
                    decided_by=release.order.decided_by,
                    decided_at=workflow.now(),
                    reason=(
                        f"case released ({release.ground}, judgment "
                        f"{release.order.judgment_reference}): every asset settled"
                    ),
                ),
            )
            requests[key] = taken.model_copy(update={"close": "pending", "close_reason": None})
        self._release = release.model_copy(update={"requests": requests})
        self._complete_release()

    def _complete_release(self) -> None:
        """The release is complete once every request is closed: nothing held anywhere."""
        release = self._release
        if release is None or release.completed_at is not None:
            return
        if all(s.status is RequestStatus.CLOSED for s in self._requests.values()):
            self._release = release.model_copy(update={"completed_at": workflow.now()})

    # -- proportionality across parties ------------------------------------------------------

    def _check_proportionality(self, caused_by: str | None) -> None:
        """Propose releases to the Chamber when what the case secures comes to exceed the
        amount by more than the margin (once per excess: again only after it fell within
        the margin, or a new amount is set). Nothing is released here."""
        view = assess(self._to_secure, self._requests.values())
        if view is None or not view.over_secured:
            self._over_secured = False
            return
        if self._over_secured:
            return
        self._over_secured = True
        self._proposed_at = workflow.now()
        self._proposals += 1
        events = proposal_events(
            view,
            self._requests.values(),
            self._order.case_number,
            lambda: str(workflow.uuid4()),
            workflow.now(),
            caused_by,
        )
        self._outbox = (self._outbox + events)[-MAX_OUTBOX:]
        workflow.logger.info(
            "releases proposed to the Chamber",
            extra={"case": self._order.case_number, "requests": len(events)},
        )

    async def _publish(self) -> None:
        """Publish the proposals to the Court's escalations topic (inside the Court)."""
        while self._outbox:
            batch = self._outbox[:MAX_OUTBOX_ROUND]
            await workflow.execute_local_activity(
                PUBLISH_OUTBOX,
                PublishOutbox(
                    events_topic=self._order.events_topic,
                    escalations_topic=self._order.escalations_topic,
                    escalations=batch,
                ),
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
                summary=f"{len(batch)} release proposal(s) to the Chamber",
            )
            del self._outbox[: len(batch)]

    def _done(self) -> bool:
        return self._closed or self._should_continue_as_new()

    def _should_continue_as_new(self) -> bool:
        """Hand over to a fresh run before the history grows large: the requests report for
        as long as they live (years), and the server terminates a run near 50 MB."""
        info = workflow.info()
        if info.is_continue_as_new_suggested():
            return True
        if info.get_current_history_size() >= HISTORY_BYTES_PER_RUN:
            return True
        if info.get_current_history_length() >= HISTORY_EVENTS_PER_RUN:
            return True
        limit = self._reports_per_run
        return limit is not None and self._reports_this_run >= limit

    async def _start(
        self,
        request: CourtRequest,
        policy: ResolvedPolicy | None,
        workflow_id: str | None,
        override: CompletenessOverride | None,
    ) -> None:
        """Start the request to one State as a child; it outlives nothing it should not. An ex
        parte request runs under the opaque id the Court's client gave (Rule 99(1)). The
        override of an incomplete request's check, if any, is recorded with it (seed para 11)."""
        workflow_id = workflow_id or request.workflow_id
        summary = RequestSummary.transmitted(request)
        self._requests[summary.key] = summary
        self._workflow_ids[summary.key] = workflow_id
        handle = await workflow.start_child_workflow(
            RequestWorkflow.run,
            RequestRun(
                request=request,
                events_topic=self._order.events_topic,
                escalations_topic=self._order.escalations_topic,
                policy=policy,
                dedupe_window=self._order.dedupe_window,
                completeness_override=override,
            ),
            id=workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=request.ui_summary(),
            static_details=static_details(request),
        )
        self._children.append(asyncio.create_task(self._follow(request, handle)))

    async def _follow(self, request: CourtRequest, handle: workflow.ChildWorkflowHandle) -> None:
        """The request's final view, should its last report not have come (it always does)."""
        view: RequestView = await handle
        self._take(
            RequestSummary.of(request, view.status, view.ledger, view.answers_seen, workflow.now())
        )

    def _refuse_when_closed_or_full(self) -> None:
        if self._closed:
            self._reject("the case is closed")
        if len(self._seen) >= MAX_COURT_ACTIONS:
            self._reject(f"the case has taken {MAX_COURT_ACTIONS} Court actions: open a new one")

    @staticmethod
    def _reject(reason: str) -> None:
        raise ApplicationError(reason, type="CaseActionRejected", non_retryable=True)
