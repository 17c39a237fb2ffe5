"""Deadlines as policy: when each clock of a request falls due, and what happens then.

The Rome Statute sets no numeric deadlines, so every number comes from the policy recorded
in the request at start. Consultations (RS 97, 93(3), 96(3)) and postponements (RS 94, 95)
pause the stage clock, which resumes where it stopped; an answer that meets a stage stops
its clock and de-escalates as the policy says. Pure functions; deterministic; total: the
arithmetic on dates never raises (``shift`` clamps at the ends of the calendar), so no date a
party sends can make a workflow task fail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.court import Stage
from schemas.escalations import EscalationKind as K
from schemas.ledger import Ledger
from workflows import freeze_limits
from workflows.carry import Clocks
from workflows.firing import Firing
from workflows.instants import EVER, NEVER, shift
from workflows.ladder import ladder_of, level_of, wait_before


def stage_deadline(c: Clocks, stage: Stage, now: datetime) -> datetime:
    """Start + time allowed + time spent paused + extensions granted."""
    due = shift(c.started_at, getattr(c.policy.deadlines, stage.value))
    due = shift(due, c.paused_total)
    due = shift(due, c.extensions.get(stage, timedelta(0)))
    if c.paused_since is not None:
        due = shift(due, now - c.paused_since)
    return due


def active_stage(c: Clocks) -> Stage | None:
    return next((s for s in Stage if s not in c.met), None)


def overdue(c: Clocks, now: datetime) -> bool:
    stage = active_stage(c)
    return stage is not None and c.paused_since is None and now >= stage_deadline(c, stage, now)


def next_step_due(c: Clocks, now: datetime) -> datetime | None:
    """When the next ladder step falls due: never while paused or awaiting a decision."""
    stage = active_stage(c)
    if stage is None or c.paused_since is not None or c.ladder.proposed is not None:
        return None
    index, steps = c.ladder.rung, ladder_of(c.policy)
    if index >= len(steps):
        return None  # the end of this party's ladder (workflows/ladder.py)
    deadline = stage_deadline(c, stage, now)
    if index == 0 or c.ladder.reached_at is None:
        return deadline
    return max(deadline, shift(c.ladder.reached_at, wait_before(steps[index], c.policy.ladder)))


def due_times(c: Clocks, ledger: Ledger, now: datetime, urgent_pending: bool) -> list[datetime]:
    """Every instant at which some clock of the request falls due."""
    out: list[datetime] = []
    stage = active_stage(c)
    if stage is not None and c.paused_since is None and stage not in c.reminded:
        out.append(shift(stage_deadline(c, stage, now), -c.policy.ladder.reminder_lead))
    step = next_step_due(c, now)
    if step is not None:
        out.append(step)
    if urgent_pending and not c.urgent_overdue_flagged:
        out.append(shift(c.started_at, c.policy.clocks.urgent_confirmation))
    out += freeze_limits.due_times(c, ledger)
    lead = c.policy.clocks.national_order_lapse_reminder
    for asset_id, entry in ledger.entries.items():
        expires = entry.national_order_expires_at
        if expires and entry.status.restrained and asset_id not in c.lapse_reminded:
            out.append(shift(expires, -lead))
    return out


def fire(c: Clocks, ledger: Ledger, now: datetime, urgent_pending: bool) -> list[Firing]:
    """Take every step whose time has come (several at once after a long outage)."""
    out: list[Firing] = []
    stage = active_stage(c)
    if stage is not None and c.paused_since is None and stage not in c.reminded:
        deadline = stage_deadline(c, stage, now)
        if now >= shift(deadline, -c.policy.ladder.reminder_lead):
            c.reminded.append(stage)
            if now < deadline:
                out.append(Firing(K.DEADLINE_APPROACHING, 0, stage=stage, deadline=deadline))
    while (due := next_step_due(c, now)) is not None and due <= now:
        index = c.ladder.rung
        step = ladder_of(c.policy)[index]
        assert stage is not None
        firing = Firing(K.STEP_REACHED, step.level, step.name, stage, due, step.addressee)
        # Each step waits its own interval from when the one before was actually taken, so
        # a State that answers late is reminded before the ladder climbs again.
        if step.needs_decision:
            c.ladder.proposed, c.ladder.proposed_at = index, now
            firing.kind, firing.level = K.STEP_PROPOSED, level_of(c.policy, c.ladder.rung)
        else:
            c.ladder.rung, c.ladder.reached_at = index + 1, now
        out.append(firing)
    out += _other_clocks(c, ledger, now, urgent_pending)
    return out


def _other_clocks(c: Clocks, ledger: Ledger, now: datetime, urgent_pending: bool) -> list[Firing]:
    out: list[Firing] = []
    level = level_of(c.policy, c.ladder.rung)
    urgent_due = shift(c.started_at, c.policy.clocks.urgent_confirmation)
    if urgent_pending and not c.urgent_overdue_flagged and now >= urgent_due:
        c.urgent_overdue_flagged = True
        out.append(Firing(K.URGENT_CONFIRMATION_OVERDUE, level, deadline=urgent_due))
    out += freeze_limits.fire(c, ledger, now, level)
    lead = c.policy.clocks.national_order_lapse_reminder
    for asset_id, entry in ledger.entries.items():
        expires = entry.national_order_expires_at
        if expires and entry.status.restrained and asset_id not in c.lapse_reminded:
            if now >= shift(expires, -lead):
                c.lapse_reminded.append(asset_id)
                out.append(
                    Firing(K.NATIONAL_ORDER_LAPSING, level, deadline=expires, asset_id=asset_id)
                )
    return out


def on_status(c: Clocks, paused_before: bool, paused_after: bool, now: datetime) -> None:
    """Consultations and postponements pause the stage clock; it resumes where it stopped."""
    if paused_after and not paused_before:
        c.paused_since = now
    elif paused_before and not paused_after and c.paused_since is not None:
        c.paused_total = min(c.paused_total + (now - c.paused_since), NEVER - EVER)
        c.paused_since = None


def meet(c: Clocks, stages: set[Stage], now: datetime) -> list[Firing]:
    """The State's answer meets these stages: their clocks stop and the ladder steps down."""
    new = [s for s in Stage if s in stages and s not in c.met]
    if not new:
        return []
    c.met.extend(new)
    return deescalate(c, now)


def deescalate(c: Clocks, now: datetime) -> list[Firing]:
    """Below the policy's floor the ladder resets; a recorded RS 87(7) finding stays."""
    if c.ladder.rung == 0 and c.ladder.proposed is None:
        return []
    c.ladder.proposed = c.ladder.proposed_at = None
    if level_of(c.policy, c.ladder.rung) < c.policy.deescalation.keep_from_level:
        c.ladder.rung, c.ladder.reached_at = 0, None
    return [Firing(K.DEESCALATED, level_of(c.policy, c.ladder.rung))]


def next_deadline(
    c: Clocks, ledger: Ledger, now: datetime, urgent_pending: bool
) -> datetime | None:
    """The next instant a clock falls due; none if nothing does before the end of time."""
    times = [t for t in due_times(c, ledger, now, urgent_pending) if t < NEVER]
    return min(times) if times else None


def stages_met(meets: frozenset[Stage], final: bool) -> set[Stage]:
    """Which stages an accepted answer or action meets: those its kind meets whenever it is
    taken (``workflows/catalog.py``: any State answer shows receipt; an execution report, a
    no-assets report or a denial is the State's first report), and every stage when it leads
    to a final outcome (final report, no assets, withdrawal, closure). A denial is not such an
    outcome (``catalog.SETTLES_STAGES``): it leaves full execution open, so the ladder still
    reaches the Chamber report and RS 87(7).
    """
    return set(Stage) if final else set(meets)
