"""The clocks of a request inside its workflow: one timer for the next deadline, and the
escalation events a firing turns into (deadlines as policy: docs/legal-process.md,
"Deadlines and escalation"). The deadlines themselves are computed in
``workflows/deadlines.py``; what fell due is applied by ``RequestWorkflow._fire_clocks``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.escalations import EscalationEvent, EscalationKind
    from schemas.request import CourtRequest
    from workflows import deadlines as dl
    from workflows.carry import Clocks
    from workflows.ladder import ladder_of, level_of, referral_targets, step_named


class DeadlineTimer:
    """One durable timer for the request's next deadline, kept across rounds of the main loop
    and replaced only when that deadline moves: re-arming it every round would cost two
    history events per answer (the model is the SDK samples' ``UpdatableTimer``)."""

    def __init__(self) -> None:
        self._armed: tuple[datetime | None, asyncio.Future[None]] | None = None

    def arm(self, wake: datetime | None) -> asyncio.Future[None]:
        """The timer for ``wake`` (kept if already armed for it); never done if None."""
        armed = self._armed
        if armed is not None and armed[0] == wake and not armed[1].done():
            return armed[1]
        if armed is not None and not armed[1].done():
            armed[1].cancel()
        if wake is None:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        else:
            future = asyncio.ensure_future(_sleep_until(wake))
        self._armed = (wake, future)
        return future


async def _sleep_until(wake: datetime) -> None:
    """A durable timer until the next deadline; cancelled quietly when the deadline moves."""
    try:
        await workflow.sleep(wake - workflow.now(), summary="next deadline")
    except asyncio.CancelledError:
        pass


def escalations(
    firings: list[dl.Firing],
    request: CourtRequest,
    clocks: Clocks,
    next_due: datetime | None,
    caused_by: str | None,
) -> list[EscalationEvent]:
    """The escalation event of each firing, addressed to the party's focal point (a reminder)
    or central authority (a Registry follow-up, an organisation's RS 87(6) consultation) when
    the directory names them."""
    contact, events = clocks.policy.contact, []
    for f in firings:
        step = step_named(clocks.policy, f.step)
        addressee = f.addressee
        if contact is not None and step is not None:
            # A step addressed to the party goes to the office the directory names.
            offices = {
                "focal point": contact.focal_point,
                "central authority": contact.central_authority,
            }
            addressee = offices.get(step.addressee, addressee)
        events.append(
            EscalationEvent(
                id=str(workflow.uuid4()),
                type=f"int.icc.tracefreeze.escalation.{f.kind.value}.v1",
                time=workflow.now(),
                subject=request.reference,
                case_number=request.case_number,
                requested_state=request.requested_state,
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
                party_kind=clocks.policy.party_kind.value,
                basis=step.basis if step else None,
                referral_targets=referral_targets(clocks.policy, step)
                if step is not None and f.kind is EscalationKind.STEP_PROPOSED
                else (),
                decide=decision_command(request, f.step)
                if f.kind is EscalationKind.STEP_PROPOSED
                else None,
            )
        )
        workflow.logger.info(
            "escalation step",
            extra={
                "kind": f.kind.value,
                "step": f.step,
                "escalation_level": f.level,
                "request_reference": request.reference,
                "case_number": request.case_number,
                "state": request.requested_state,
            },
        )
    return events


def decision_command(request: CourtRequest, step: str | None) -> str:
    """How a person decides a proposed step (``tracefreeze act``, options from the action's
    contract): the request and the step filled in; who decides and why left to them
    (placeholders the CLI refuses until filled in), and whether to proceed (``--proceed`` or
    ``--no-proceed``, which the CLI asks for)."""
    return (
        f"tracefreeze act {request.reference}/{request.requested_state} escalation_decision "
        f"--step {step} --by '<organ>' --reasons '<reasons>'"
    )


def clock_view(clocks: Clocks | None, now: datetime, next_due: datetime | None) -> dict[str, Any]:
    """The clock fields of the query view and the search attributes."""
    if clocks is None:
        return {}
    rung, proposed = clocks.ladder.rung, clocks.ladder.proposed
    steps = ladder_of(clocks.policy)
    return {
        "policy_version": clocks.policy.version,
        "party_kind": clocks.policy.party_kind.value,
        "escalation_level": level_of(clocks.policy, rung),
        "escalation_step": steps[rung - 1].name if rung else None,
        "proposed_step": steps[proposed].name if proposed is not None else None,
        "overdue": dl.overdue(clocks, now),
        "next_deadline": next_due,
    }
