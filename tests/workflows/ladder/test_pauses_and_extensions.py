"""What stops or moves a deadline's clock (docs/legal-process.md, 'Deadlines and escalation'):
consultations (RS 97) and postponements (RS 94, 95) pause it and it resumes where it stopped;
a Chamber's audited extension (DeadlineExtension) of an overdue stage steps the ladder down,
one of a met stage is refused, and without a policy every clock action is refused.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas import court as c
from schemas.court import Stage
from schemas.ledger import RequestStatus
from tests.workflows.ladder.support import (
    DAY,
    K,
    Ladder,
    close_to,
    decision,
    extension,
    started_at,
    steps,
    view,
)
from tests.workflows.support import (
    acknowledgement,
    assert_rejected,
    consultation,
    court_action,
    court_request,
    postponement,
    reasons,
    send,
    settle,
)

# --- Pauses: consultations (RS 97) and postponements (RS 94, 95) -----------------------------


async def test_a_consultation_pauses_the_clock_and_it_resumes_where_it_stopped(
    ladder: Ladder,
) -> None:
    """RS 97(a) consultation on day 3 of BEL's 7-day acknowledgement. The consultation is a
    State answer, so it shows receipt (acknowledgement met); the clock of the next stage
    (first report, P14D) pauses while the Court is consulted. The Court answers 20 days later:
    the deadline moved by exactly the time paused, and no clock fired meanwhile."""
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + 3 * DAY)
    await send(handle, consultation(req, "RS 97(a)"))
    await settle(handle)
    v = await view(handle)
    assert v.status is RequestStatus.IN_CONSULTATION
    paused_at = v.timeline[-1].at
    assert v.next_deadline is None and not v.overdue  # nothing runs while paused

    await ladder.advance_to(handle, paused_at + 20 * DAY)
    assert ladder.events(req) == []  # day 23: unpaused, the first report (day 14) was overdue
    await send(
        handle,
        court_action(c.ConsultationResponse, resolution="information_supplied", information="x"),
    )
    await settle(handle)
    v = await view(handle)
    assert v.status is RequestStatus.TRANSMITTED
    paused = v.timeline[-1].at - paused_at
    assert paused >= 20 * DAY
    first_report_due = t0 + 14 * DAY + paused
    assert v.next_deadline == first_report_due - 2 * DAY
    assert not v.overdue

    await ladder.advance_to(handle, first_report_due + timedelta(hours=1))
    assert steps(ladder.events(req)) == [
        ("deadline_approaching", None, 0),
        ("step_reached", "reminder", 1),
    ]
    approaching, reminder = ladder.events(req)
    assert approaching.stage == reminder.stage == "first_report"
    assert approaching.deadline == reminder.deadline == first_report_due
    assert close_to(approaching.time, first_report_due - 2 * DAY)
    assert close_to(reminder.time, first_report_due)


@pytest.mark.parametrize("ground", ["RS 94", "RS 95"])
async def test_a_postponement_pauses_the_clock_likewise(ladder: Ladder, ground: str) -> None:
    """RS 94 (another investigation) or RS 95 (admissibility challenge) on day 4 of the
    first-report stage, agreed by the Court (the clock pauses from its agreement); execution
    resumes 20 days later and the first report falls due 20 days (the time postponed) later
    than it would have."""
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await send(handle, acknowledgement(req))
    await ladder.advance_to(handle, t0 + 4 * DAY)
    # RS 94: the period agreed runs past the resumption tested here (it would end it itself).
    until = {"proposed_until": (t0 + 100 * DAY).isoformat()} if ground == "RS 94" else {}
    await send(handle, postponement(req, ground, **until))
    await send(handle, court_action(c.PostponementDecision, agreed=True, **reasons()))
    await settle(handle)
    v = await view(handle)
    # Nothing runs while postponed but the end of an agreed RS 94 period (RS 95 has none).
    period_end = t0 + 100 * DAY if ground == "RS 94" else None
    assert v.status is RequestStatus.POSTPONED and v.next_deadline == period_end
    paused_at = next(e.at for e in v.timeline if "agreed to postpone" in e.what)

    await ladder.advance_to(handle, paused_at + 20 * DAY)
    assert ladder.events(req) == []
    await send(handle, court_action(c.ResumeExecution, **reasons()))
    await settle(handle)
    v = await view(handle)
    assert v.status is RequestStatus.ACKNOWLEDGED
    paused = v.timeline[-1].at - paused_at
    assert paused >= 20 * DAY
    due = t0 + 14 * DAY + paused
    assert v.next_deadline == due - 2 * DAY

    await ladder.advance_to(handle, due + timedelta(hours=1))
    reminder = ladder.events(req)[-1]
    assert (reminder.step, reminder.stage, reminder.deadline) == ("reminder", "first_report", due)


# --- Extensions ----------------------------------------------------------------------------


async def test_an_extension_of_an_overdue_stage_steps_the_ladder_down(ladder: Ladder) -> None:
    """A Chamber extends a deadline (audited): at level 2 (follow-up sent) the acknowledgement
    deadline is extended by 14 days; it is no longer overdue, the ladder resets (below the
    RS 87(7) floor), and the reminder comes again before the new deadline."""
    req = court_request()
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + 13 * DAY)
    v = await view(handle)
    assert (v.escalation_level, v.overdue) == (2, True)
    count = len(ladder.events(req))

    await send(handle, extension(Stage.ACKNOWLEDGEMENT, 14 * DAY))
    await settle(handle)
    extended, deescalated = ladder.events(req)[count:]
    new_due = t0 + 5 * DAY + 14 * DAY
    assert (extended.kind, extended.stage, extended.deadline) == (
        K.DEADLINE_EXTENDED,
        "acknowledgement",
        new_due,
    )
    assert (deescalated.kind, deescalated.level) == (K.DEESCALATED, 0)
    assert deescalated.caused_by == extended.caused_by is not None
    v = await view(handle)
    assert (v.escalation_level, v.escalation_step, v.overdue) == (0, None, False)
    assert v.next_deadline == new_due - 2 * DAY
    assert "deadline extended" in v.timeline[-1].what

    await ladder.advance_to(handle, new_due + timedelta(hours=1))
    assert steps(ladder.events(req)[count + 2 :]) == [
        ("deadline_approaching", None, 0),
        ("step_reached", "reminder", 1),
    ]
    assert ladder.events(req)[-1].deadline == new_due


async def test_extending_a_met_stage_is_rejected(ladder: Ladder) -> None:
    req = court_request()
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await assert_rejected(
        handle,
        ladder.published,
        extension(Stage.ACKNOWLEDGEMENT, 7 * DAY),
        "acknowledgement stage is already met",
    )


async def test_without_a_policy_the_clock_actions_are_rejected(ladder: Ladder) -> None:
    """A request started without a policy has no clocks: there is nothing to extend, decide
    or object to, and the view has no policy fields."""
    req = court_request()
    handle = await ladder.start(req, policy=None)
    reason = "runs without a deadline policy"
    await assert_rejected(handle, ladder.published, extension(Stage.ACKNOWLEDGEMENT, DAY), reason)
    await assert_rejected(handle, ladder.published, decision("chamber_report"), reason)
    v = await view(handle)
    assert (v.policy_version, v.next_deadline, v.escalation_level) == (None, None, 0)
    await ladder.advance_to(handle, await started_at(handle) + 60 * DAY)
    assert ladder.events(req) == []
