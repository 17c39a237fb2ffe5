"""The clocks of a request inside its workflow: waiting for the next deadline, firing what
fell due, and turning it into escalation events (deadlines as policy: docs/legal-process.md,
"Deadlines and escalation").
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow

from workflows.request_parts import RequestParts

with workflow.unsafe.imports_passed_through():
    from schemas.common import Urgency
    from schemas.escalations import EscalationEvent, EscalationKind
    from schemas.events import RequestEventType
    from schemas.ledger import RequestStatus
    from workflows import deadlines as dl
    from workflows import freeze_limits
    from workflows.asset_rules import release
    from workflows.ladder import LADDER, level_of


class ClockKeeping(RequestParts):
    """Deadline and escalation keeping; mixed into RequestWorkflow."""

    def _urgent_pending(self) -> bool:
        """RS 96(1): an urgent request awaits confirmation through the formal channel."""
        return self._request.urgency is Urgency.URGENT and self._rec.urgent_confirmed_at is None

    def _next_wakeup(self) -> datetime | None:
        clocks = self._rec.clocks
        if clocks is None or self._rec.status is RequestStatus.CLOSED:
            return None
        now = workflow.now()
        return dl.next_deadline(clocks, self._rec.ledger, now, self._urgent_pending())

    def _has_work(self) -> bool:
        return (
            bool(self._rec.outbox)
            or bool(self._rec.escalation_outbox)
            or self._parent_report_waiting()
            or self._rec.status is RequestStatus.CLOSED
            or self._should_continue_as_new()
        )

    async def _wait_for_work_or_clock(self) -> None:
        """Wait for an answer to publish, a parent to inform, closure — or the next clock.
        A report to the case held back by its interval arms its own timer to wake for.

        One timer waits for the next deadline across rounds and is replaced only when that
        deadline moves (re-arming it every round would cost two history events per answer)."""
        self._arm_parent_report()
        wake = self._next_wakeup()
        if wake is not None and wake <= workflow.now():
            return
        clock = self._arm_clock(wake)
        await workflow.wait_condition(lambda: self._has_work() or clock.done())

    def _arm_clock(self, wake: datetime | None) -> asyncio.Future[None]:
        """The timer for ``wake`` (kept if already armed for it); never done if None."""
        armed = self._clock
        if armed is not None and armed[0] == wake and not armed[1].done():
            return armed[1]
        if armed is not None and not armed[1].done():
            armed[1].cancel()
        if wake is None:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        else:
            future = asyncio.ensure_future(_sleep_until(wake))
        self._clock = (wake, future)
        return future

    def _fire_clocks(self) -> None:
        clocks = self._rec.clocks
        if clocks is None or self._rec.status is RequestStatus.CLOSED:
            return
        now = workflow.now()
        firings = dl.fire(clocks, self._rec.ledger, now, self._urgent_pending())
        for firing in firings:
            self._record_timeline(None, f"clock: {firing.kind.value} {firing.step or ''}".strip())
            entry = self._rec.ledger.entries.get(firing.asset_id or "")
            decision = firing.decision_event_id
            lifted = firing.kind is EscalationKind.FREEZE_LIFTED and decision is not None
            if lifted and decision and entry and entry.status in freeze_limits.HELD:
                # The Chamber's decision lifts the freeze on the date it set (RS 97
                # consultation); nothing is ever released by a clock alone.
                release(entry, "freeze_limited_by_chamber", decision, now)
                self._emit_asset(RequestEventType.ASSET_RELEASED, entry, caused_by=decision)
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
                    directory_change=f.directory_change,
                    policy_version=clocks.policy.version,
                    caused_by=f.decision_event_id or caused_by,
                )
            )
            workflow.logger.info(
                "escalation step",
                extra={
                    "kind": f.kind.value,
                    "step": f.step,
                    "escalation_level": f.level,
                    "request_reference": req.reference,
                    "case_number": req.case_number,
                    "state": req.requested_state,
                },
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


async def _sleep_until(wake: datetime) -> None:
    """A durable timer until the next deadline; cancelled quietly when the deadline moves."""
    try:
        await workflow.sleep(wake - workflow.now(), summary="next deadline")
    except asyncio.CancelledError:
        pass
