"""A multi-State case: one Court order fanned out to one request per State.

Assets sit in several jurisdictions, so one case spawns one request per State (RS 93(1)(k);
docs/legal-process.md, 'Several States'); the Court may add a State later, or a further request
to a party already asked that names the one it supplements (RS 96(2)). Each request, a child
workflow, tells the case a small summary (``RequestSummary``) when it changed; the case keeps
only that per request (``REFERENCE/PARTY``). A lost report heals: at each new run, on a closure
and every ``RECONCILE_EVERY`` the case asks its open requests where they stand. It continues as
new before its history grows large; it closes only once every request in it is closed.

Read top to bottom: the start, the main loop, the Court's actions as update handlers with their
validator beneath (each signed by its organ for this case, by an organ that may take it:
``case_keys.py``), the query, how a report is taken and a Court action sent. The parts: the
requests (``case_requests.py``), the refusals (``case_rules.py``), the actions delivered
(``case_deliveries.py``), the release (``case_release.py``), the proportionality proposals
(``case_proposals.py``), the hand-over (``case_runs.py``)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from schemas.case import (
        MAX_COURT_ACTIONS,
        AddState,
        CaseCarry,
        CaseInput,
        CaseReleaseRecord,
        CaseView,
        CloseCase,
        Delivery,
        DeliveryResult,
        ReleaseCase,
        RequestSummary,
        SecureAmount,
        add_totals,
        request_key,
    )
    from schemas.court import CourtAction, Judgment
    from schemas.ledger import RequestStatus
    from schemas.request import CourtRequest
    from schemas.views import RequestView
    from workflows import case_rules as rules
    from workflows.case_deliveries import Deliveries, not_taken
    from workflows.case_keys import CASE_OUTGOING, CaseKeys, own_carry
    from workflows.case_proposals import Proposals
    from workflows.case_release import completed, ordered, release_report, settled, with_answer
    from workflows.case_release import without as release_without
    from workflows.case_requests import StartWith, news, start_request, where_they_stand
    from workflows.case_runs import HandOver
    from workflows.outcome import Rejection

RECONCILE_EVERY = timedelta(days=7)
"""How often a case asks its open requests where they stand (besides at each new run)."""


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._order = inp.order
        firsts = [RequestSummary.transmitted(r) for r in inp.order.requests]
        fresh = CaseCarry(requests={s.key: s for s in firsts})
        carried = own_carry(inp.carried, CASE_OUTGOING) or fresh
        self._requests: dict[str, RequestSummary] = dict(carried.requests)
        """Per request (``REFERENCE/PARTY``), as it last reported (known from the start)."""
        self._workflow_ids: dict[str, str] = dict(carried.workflow_ids)
        """Where each request runs, to ask it where it stands (``_reconcile``)."""
        self._seen: set[str] = set(carried.seen_event_ids)
        self._run = carried.runs if inp.carried is None else carried.runs + 1
        self._hand_over = HandOver(inp.reports_per_run)
        self._children: list[asyncio.Task[None]] = []  # the requests this run started
        self._closed = False
        self._reconcile_now = inp.carried is not None  # a report may be lost at a hand-over
        self._reconcile_at = workflow.now() + RECONCILE_EVERY
        self._judgments: list[Judgment] = list(carried.judgments)
        """The judgments recorded (RS 74, 83; RS 61), in order: the last is in force."""
        self._release: CaseReleaseRecord | None = carried.release
        """The case-level release (RS 74, 81(3)(c), 83(2)), once ordered."""
        self._deliveries = Deliveries(carried.deliveries, self._judgments, self._release)
        """Court actions on their way to the requests (``case_deliveries.py``)."""
        self._proposals = Proposals(inp.order, carried)
        """The amount to secure and the releases proposed (``case_proposals.py``)."""
        self._keys = CaseKeys(carried.organ_keys, inp.order.order_reference)  # case_keys.py
        self._keys.register_refresh(self._hand_over.check)

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseView:
        order = inp.order
        await self._keys.at_start()
        if inp.carried is None:
            for request in order.requests:
                await self._start(request, StartWith.of_order(order, request.requested_state))
        # Proposals carried from the run before go out once even if this run hands over at
        # once (its loop would not come round to them).
        await self._proposals.publish()
        while not self._done():
            if self._reconcile_now:
                self._reconcile_now = False
                await self._reconcile()
            await self._proposals.publish()
            self._dispatch()
            await self._wait()
        # Every signal and update that reached this run is applied, and every Court action on
        # its way to a request has its answer, before it ends (what is left is carried). A
        # closing case also sends the proposals one of them added while the last went out; a
        # case handing over carries them to its next run, which sends them first (sending
        # them here could delay an overdue hand-over while reports keep adding more).
        await workflow.wait_condition(self._settled)
        while self._closed and self._proposals.outbox:
            await self._proposals.publish()
            await workflow.wait_condition(self._settled)
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
                    deliveries=self._deliveries.carried(),
                    to_secure=self._proposals.to_secure,
                    over_secured=self._proposals.over_secured,
                    proposed_at=self._proposals.proposed_at,
                    proposals=self._proposals.proposals,
                    outbox=tuple(self._proposals.outbox),
                    organ_keys=self._keys.keys,
                ),
                reports_per_run=self._hand_over.reports_per_run,
            )
        )

    @workflow.signal
    def request_changed(self, summary: RequestSummary) -> None:
        """A request of this case changed: keep its latest summary (``_take``). A closure is
        taken only from the request itself (``_reconcile``): a signal alone closes nothing."""
        if summary.status is RequestStatus.CLOSED:
            self._reconcile_now = True
        elif self._take(summary):
            self._hand_over.reported()

    @workflow.update
    async def add_state(self, action: AddState) -> CaseView:
        """The Court adds a State to the case (assets found in another jurisdiction)."""
        if action.event_id not in self._seen:
            self._seen.add(action.event_id)
            request = action.request
            key = request_key(request.reference, request.requested_state)
            try:
                await self._start(request, StartWith.of_action(action))
            except WorkflowAlreadyStartedError:
                self._seen.discard(action.event_id)
                self._requests.pop(key, None)
                self._workflow_ids.pop(key, None)
                self._deliveries.drop(key)  # nor is it waited for by a release ordered meanwhile
                self._release = release_without(self._release, key)
                self._reject(f"a request {action.request.workflow_id} already exists")
            if self._judgments:  # the new request learns the judgment in force
                self._deliveries.send(key, "record_judgment", self._judgments[-1])
        return self.view()

    @add_state.validator
    def _validate_add_state(self, action: AddState) -> None:
        if action.event_id in self._seen:
            return
        self._admit("add_state", action)
        refused = rules.state_refused(
            self._order.case_number, self._requests, self._release, action.request, self._judgments
        )
        self._refuse(refused)

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
                self._deliveries.send(key, "record_judgment", judgment)
        return self.view()

    @record_judgment.validator
    def _validate_record_judgment(self, judgment: Judgment) -> None:
        if judgment.event_id in self._seen:
            return
        self._admit("record_judgment", judgment)
        self._refuse(rules.judgment_refused(self._judgments, judgment))

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
        judgment = rules.recorded(self._judgments, act.judgment_reference)
        record, releases = ordered(act, judgment, self._requests)
        for key, release in releases:
            self._deliveries.send(key, "release_for_case", release)
        self._release = completed(record, self._requests, workflow.now())
        return self.view()

    @release_case.validator
    def _validate_release_case(self, act: ReleaseCase) -> None:
        if act.event_id in self._seen:
            return
        self._admit("release_case", act, final=True)
        self._refuse(rules.release_refused(self._release, self._judgments, act.judgment_reference))

    @workflow.update
    def secure_amount(self, act: SecureAmount) -> CaseView:
        """Set the amount the case is to secure (RS 57(3)(e), 75, 77(2)(a); RS 75(2) once an
        award is made), with the policy's margin; it replaces the one before. When what the
        requests secure across all parties exceeds it by more than the margin, the case
        proposes releases to the Chamber (``case_proposals.py``)."""
        if act.event_id in self._seen:
            return self.view()
        self._seen.add(act.event_id)
        self._proposals.set_amount(act, self._requests.values())
        return self.view()

    @secure_amount.validator
    def _validate_secure_amount(self, act: SecureAmount) -> None:
        if act.event_id in self._seen:
            return
        self._admit("secure_amount", act)

    @workflow.update
    def close_case(self, action: CloseCase) -> CaseView:
        """The case closes once every request in it is closed (a seen event id: a no-op)."""
        if action.event_id not in self._seen:
            self._seen.add(action.event_id)
            self._closed = True
        return self.view()

    @close_case.validator
    def _validate_close_case(self, action: CloseCase) -> None:
        if action.event_id in self._seen:
            return
        self._admit("close_case", action, final=True)
        self._refuse(rules.still_open(self._requests))

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
            proportionality=self._proposals.view(self._requests.values()),
        )

    # -- reports from the requests -----------------------------------------------------------

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
        if (kept := news(known, summary, workflow.now())) is None:  # as_of bounded by now
            return False
        self._requests[kept.key] = kept
        self._close_settled(news_from=kept.key)
        self._proposals.check(self._requests.values(), caused_by=None)
        return True

    async def _reconcile(self) -> None:
        """Ask each open request where it stands (``case_requests.where_they_stand``), so a
        report that never reached the case (a signal lost around a hand-over) cannot leave its
        view stale, nor keep it from closing."""
        for summary in await where_they_stand(self._requests, self._workflow_ids):
            self._take(summary)

    # -- what the run loop waits for -----------------------------------------------------

    def _settled(self) -> bool:
        return workflow.all_handlers_finished() and not self._deliveries.in_flight

    async def _wait(self) -> None:
        """Wait for work, or until the next reconciliation or try of an action, whichever is
        first: instants, so work that wakes the case often never puts either off."""
        due = min(filter(None, (self._reconcile_at, self._deliveries.arm())))
        if (left := due - workflow.now()) > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    self._woken, timeout=left, timeout_summary="ask the requests, or try again"
                )
        if (now := workflow.now()) >= self._reconcile_at:
            self._reconcile_now, self._reconcile_at = True, now + RECONCILE_EVERY
        self._deliveries.retry_due(now)

    def _woken(self) -> bool:
        """Work for the run loop: read from the state alone, never the clock (``HandOver``)."""
        work = bool(self._proposals.outbox) or self._deliveries.due() or self._reconcile_now
        work = work or self._deliveries.newly_undelivered()  # its retry's timer to arm
        return work or self._closed or self._hand_over.due

    # -- Court actions the case sends its requests, and its release ------------------------

    def _dispatch(self) -> None:
        """Send the queued Court actions, each request on its own (``case_deliveries.py``)."""
        self._children.extend(self._deliveries.dispatch(self._workflow_ids, self._delivered))

    def _delivered(self, delivery: Delivery, result: DeliveryResult) -> DeliveryResult:
        """Record what a request did with the case's action, each action not taken logged
        (``case_deliveries.not_taken``): one stopped outside the Court's process (or gone
        unclosed: never taken for closed) is sent again until it is restored."""
        result = not_taken(delivery, result, self._requests.get(delivery.key))
        release = self._release
        if release is not None and delivery.update != "record_judgment":
            self._release = with_answer(release, delivery.key, delivery.update, result)
            self._close_settled()
        return result

    def _close_settled(self, news_from: str | None = None) -> None:
        """After the case's release, close each request that took it, has ended its execution
        and holds nothing more (``case_release.settled``); the release is complete once every
        request is closed."""
        if self._release is None:
            return
        self._release, closes = settled(self._release, self._requests, news_from, workflow.now())
        for key, close in closes:
            self._deliveries.send(key, "close", close)
        self._release = completed(self._release, self._requests, workflow.now())

    def _done(self) -> bool:
        return self._closed or self._hand_over.check()

    # -- the requests, started as children ---------------------------------------------------

    async def _start(self, request: CourtRequest, how: StartWith) -> None:
        """Start the request to one State as a child; it outlives nothing it should not. An ex
        parte request runs under the opaque id the Court's client gave (Rule 99(2)). The
        override of an incomplete request's check, if any, is recorded with it (seed para 11);
        an enforcement request's signed notice to the request it supplements (RS 109)."""
        workflow_id = how.workflow_id or request.workflow_id
        summary = RequestSummary.transmitted(request)
        self._requests[summary.key] = summary
        self._workflow_ids[summary.key] = workflow_id
        handle = await start_request(
            self._order, request, how, workflow_id, self._deliveries.starting
        )
        self._children.append(asyncio.create_task(self._follow(request, handle)))

    async def _follow(self, request: CourtRequest, handle: workflow.ChildWorkflowHandle) -> None:
        """The request's final view, should its last report not have come (it always does)."""
        view: RequestView = await handle
        self._take(
            RequestSummary.of(request, view.status, view.ledger, view.answers_seen, workflow.now())
        )

    def _admit(self, update: str, act: CourtAction, final: bool = False) -> None:
        """Signed for this case by an organ that may take it; the case not closed nor full."""
        self._keys.check(update, act)
        if self._closed:
            self._reject("the case is closed")
        if not final and len(self._seen) >= MAX_COURT_ACTIONS:
            self._reject(f"the case has taken {MAX_COURT_ACTIONS} Court actions: open a new one")

    def _refuse(self, reason: str | None) -> None:
        if reason is not None:
            self._reject(reason)

    def _reject(self, reason: str) -> None:
        raise Rejection(reason, "CaseActionRejected")
