"""An answer that meets a stage's deadline (RS 86, 93(1), 99: acknowledgement, execution
report): the ladder steps down, its timer stops, and what keep_from_level says stays recorded
(an RS 87(7) finding stands after a later answer); an RS 99 report without acknowledgement
meets the acknowledgement stage too.
"""

from __future__ import annotations

from schemas.ledger import RequestStatus
from tests.workflows.ladder.support import (
    DAY,
    K,
    Ladder,
    custom,
    decision,
    of_kind,
    started_at,
    view,
)
from tests.workflows.support import (
    acknowledgement,
    court_request,
    freeze_account,
    send,
    settle,
)
from tracefreeze.policy import load_directory, resolve

# --- De-escalation on an answer ------------------------------------------------------------


async def test_an_answer_meeting_the_overdue_stage_deescalates(ladder: Ladder) -> None:
    """The acknowledgement arrives on day 13, at level 2: the stage is met, the ladder steps
    down to 0 (below the policy's RS 87(7) floor), and the next stage's clock runs — the first
    report (P14D) is due tomorrow, so its reminder comes at once."""
    req = court_request()
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + 13 * DAY)
    count = len(ladder.events(req))
    ack = acknowledgement(req)
    await send(handle, ack)
    await settle(handle)
    deescalated, approaching = ladder.events(req)[count:]
    assert (deescalated.kind, deescalated.level, deescalated.caused_by) == (
        K.DEESCALATED,
        0,
        ack.event_id,
    )
    assert (approaching.kind, approaching.stage, approaching.deadline) == (
        K.DEADLINE_APPROACHING,
        "first_report",
        t0 + 14 * DAY,
    )
    v = await view(handle)
    assert (v.escalation_level, v.escalation_step, v.overdue) == (0, None, False)
    assert v.next_deadline == t0 + 14 * DAY  # the first report's reminder, if it is missed


async def test_a_recorded_finding_stays_after_a_later_answer(ladder: Ladder) -> None:
    """keep_from_level = 4: an RS 87(7) finding (level 4) stays recorded when the State
    answers afterwards (Kenya: the 2016 finding stood)."""
    req = court_request()
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + 27 * DAY)
    await send(handle, decision("chamber_report"))
    await ladder.advance_to(handle, t0 + 42 * DAY)
    await send(handle, decision("non_compliance_finding", referral_to="assembly"))
    await settle(handle)
    assert (await view(handle)).escalation_level == 4
    count = len(ladder.events(req))
    await send(handle, acknowledgement(req))
    await settle(handle)
    [deescalated] = ladder.events(req)[count:]
    assert (deescalated.kind, deescalated.level) == (K.DEESCALATED, 4)
    v = await view(handle)
    assert (v.escalation_level, v.escalation_step) == (4, "non_compliance_finding")


async def test_below_the_floor_a_custom_policy_keeps_what_it_says(ladder: Ladder) -> None:
    """A policy with keep_from_level = 2 keeps a Registry follow-up recorded after the answer."""
    req = court_request()
    policy = resolve(custom(deescalation={"keep_from_level": 2}), load_directory(), req)
    handle = await ladder.start(req, policy)
    await ladder.advance_to(handle, await started_at(handle) + 13 * DAY)
    await send(handle, acknowledgement(req))
    await settle(handle)
    [deescalated] = of_kind(ladder.events(req), K.DEESCALATED)
    assert deescalated.level == 2
    assert (await view(handle)).escalation_level == 2


async def test_an_answer_that_meets_a_stage_stops_its_timer(ladder: Ladder) -> None:
    """An acknowledgement on day 1: no reminder for the acknowledgement stage ever comes; the
    first report's clock (P14D) runs instead."""
    req = court_request()
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + DAY)
    await send(handle, acknowledgement(req))
    await ladder.advance_to(handle, t0 + 11 * DAY)
    assert ladder.events(req) == []
    assert (await view(handle)).next_deadline == t0 + 12 * DAY
    await ladder.advance_to(handle, t0 + 15 * DAY)
    assert [e.stage for e in ladder.events(req)] == ["first_report", "first_report"]
    assert ladder.events(req)[-1].step == "reminder"


async def test_an_execution_report_without_acknowledgement_meets_the_acknowledgement_stage(
    ladder: Ladder,
) -> None:
    """An RS 99 execution report implies receipt: the State reports on day 1 without a separate
    acknowledgement; neither the acknowledgement nor the first-report stage is ever reminded or
    escalated, and the report memo counts receipt at the report."""
    req = court_request()
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + DAY)
    await send(handle, freeze_account(req))
    await ladder.advance_to(handle, t0 + 40 * DAY)
    assert {e.stage for e in ladder.events(req)} <= {"full_execution"}
    assert (await view(handle)).status is RequestStatus.IN_EXECUTION
    report = await (await handle.describe()).memo_value("report")
    assert report["acknowledged_at"] == report["first_report_at"]
    assert report["acknowledged_at"] is not None
