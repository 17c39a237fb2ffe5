"""The escalation ladder step by step (docs/legal-process.md, 'Deadlines and escalation'), on a
time-skipping server: weeks and months of policy time pass in seconds.

The Statute sets no numeric deadline (RS 86, 93(1), 96(1): "without delay", "promptly"), so
every number comes from the reviewed policy resolved for the request at start. The ladder: 1
reminder to the focal point and 2 Registry follow-up are taken by the system; 3 report to the
Chamber, 4 RS 87(7) finding and referral, 5 the Assembly's non-cooperation procedures
(ICC-ASP/10/Res.5) are proposed and wait for a person's decision (EscalationDecision). Covers the
whole climb of an unanswered request, each rung's own interval, and decisions refused when
nothing or something else is proposed.
"""

from __future__ import annotations

from datetime import timedelta

from schemas.escalations import (
    EscalationEvent,
)
from tests.workflows.ladder.support import (
    BEL,
    DAY,
    NLD,
    VERSION,
    K,
    Ladder,
    close_to,
    custom,
    decision,
    started_at,
    steps,
    view,
)
from tests.workflows.support import (
    assert_rejected,
    court_request,
    send,
    settle,
)
from tracefreeze.policy import load_directory, resolve

# --- The ladder, step by step -----------------------------------------------------------


async def test_an_unanswered_request_climbs_the_whole_ladder(ladder: Ladder) -> None:
    """Default policy, restraint to NLD (acknowledgement P5D by the NLD override, reminder
    lead P2D, follow-up after P7D, Chamber report after P14D, Chamber order period P14D,
    Assembly steps P30D, letter period P30D). Steps 1-2 are the system's (seed para 9; note
    verbale, RS 87(1)(a)); steps 3-5 are proposed and wait, indefinitely, for a person:
    report to the Chamber, RS 87(7) finding with referral, then ICC-ASP/10/Res.5 one by one."""
    req = court_request()
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    ack_due = t0 + 5 * DAY
    v = await view(handle)
    assert v.policy_version == VERSION and v.escalation_level == 0 and not v.overdue
    assert v.next_deadline == ack_due - 2 * DAY  # the reminder before the deadline

    await ladder.advance_to(handle, t0 + 3 * DAY + timedelta(hours=1))
    [approaching] = ladder.events(req)
    assert approaching.kind is K.DEADLINE_APPROACHING and approaching.level == 0
    assert approaching.stage == "acknowledgement" and approaching.deadline == ack_due
    assert approaching.policy_version == VERSION and approaching.channel == "diplomatic"

    await ladder.advance_to(handle, t0 + 5 * DAY + timedelta(hours=1))
    reminder = ladder.events(req)[-1]
    assert (reminder.kind, reminder.step, reminder.level) == (K.STEP_REACHED, "reminder", 1)
    assert reminder.addressee == NLD.focal_point  # from states.toml
    assert reminder.deadline == ack_due and close_to(reminder.time, ack_due)
    v = await view(handle)
    assert (v.escalation_level, v.escalation_step, v.overdue) == (1, "reminder", True)

    await ladder.advance_to(handle, t0 + 12 * DAY + timedelta(hours=1))
    follow_up = ladder.events(req)[-1]
    assert (follow_up.step, follow_up.level) == ("registry_follow_up", 2)
    assert follow_up.addressee == NLD.central_authority
    assert close_to(follow_up.time, reminder.time + 7 * DAY)

    await ladder.advance_to(handle, t0 + 26 * DAY + timedelta(hours=1))
    proposal = ladder.events(req)[-1]
    assert (proposal.kind, proposal.step, proposal.level) == (K.STEP_PROPOSED, "chamber_report", 2)
    assert proposal.decide == (  # the command a person runs, what is known filled in (#19)
        f"tracefreeze act {req.reference}/{req.requested_state} escalation_decision "
        "--step chamber_report --by '<organ>' --reasons '<reasons>'"
    )
    assert reminder.decide is None  # a step reached needs no decision
    assert close_to(proposal.time, follow_up.time + 14 * DAY)
    assert steps(ladder.events(req)) == [
        ("deadline_approaching", None, 0),
        ("step_reached", "reminder", 1),
        ("step_reached", "registry_follow_up", 2),
        ("step_proposed", "chamber_report", 2),
    ]

    # The system proposes; nothing happens until a person decides, however long that takes.
    await ladder.advance_to(handle, t0 + 400 * DAY)
    assert len(ladder.events(req)) == 4
    v = await view(handle)
    assert (v.escalation_level, v.proposed_step, v.overdue) == (2, "chamber_report", True)
    assert v.next_deadline is None

    await assert_rejected(
        handle, ladder.published, decision("non_compliance_finding"), "is chamber_report, not"
    )
    await send(handle, decision("chamber_report"))
    await settle(handle)
    reached = ladder.events(req)[-1]
    assert (reached.kind, reached.step, reached.level) == (K.STEP_REACHED, "chamber_report", 3)
    assert reached.addressee == "Chamber"
    v = await view(handle)
    assert (v.escalation_level, v.escalation_step, v.proposed_step) == (3, "chamber_report", None)
    assert v.next_deadline == reached.time + 14 * DAY  # the Chamber's order period

    await ladder.advance_to(handle, reached.time + 14 * DAY + timedelta(hours=1))
    finding = ladder.events(req)[-1]
    assert (finding.kind, finding.step) == (K.STEP_PROPOSED, "non_compliance_finding")
    assert close_to(finding.time, reached.time + 14 * DAY)
    await assert_rejected(
        handle, ladder.published, decision("non_compliance_finding"), "referral_to"
    )
    await send(handle, decision("non_compliance_finding", referral_to="assembly"))
    await settle(handle)
    found = ladder.events(req)[-1]
    assert (found.step, found.level) == ("non_compliance_finding", 4)
    v = await view(handle)
    assert "referred to the Assembly (RS 87(7))" in v.timeline[-1].what

    # The Assembly's procedure, one step at a time; a declined step returns after its interval.
    await ladder.advance_to(handle, found.time + 30 * DAY + timedelta(hours=1))
    informal = ladder.events(req)[-1]
    assert (informal.kind, informal.step, informal.level) == (
        K.STEP_PROPOSED,
        "assembly_informal_response",
        4,
    )
    await send(handle, decision("assembly_informal_response", proceed=False))
    await settle(handle)
    declined = ladder.events(req)[-1]
    assert (declined.kind, declined.step, declined.level) == (
        K.STEP_DECLINED,
        "assembly_informal_response",
        4,
    )
    assert (await view(handle)).escalation_level == 4
    await ladder.advance_to(handle, declined.time + 29 * DAY)
    assert ladder.events(req)[-1] == declined
    await ladder.advance_to(handle, declined.time + 30 * DAY + timedelta(hours=1))
    again = ladder.events(req)[-1]
    assert (again.kind, again.step) == (K.STEP_PROPOSED, "assembly_informal_response")
    assert close_to(again.time, declined.time + 30 * DAY)

    taken: dict[str, EscalationEvent] = {}
    for step, wait in [
        ("assembly_informal_response", None),
        ("emergency_bureau_meeting", 30),
        ("president_letter", 30),
        ("bureau_meeting_with_state", 30),  # after the letter's deadline (P30D)
        ("report_to_plenary", 30),
    ]:
        if wait is not None:
            last = ladder.events(req)[-1]
            await ladder.advance_to(handle, last.time + wait * DAY + timedelta(hours=1))
            proposed = ladder.events(req)[-1]
            assert (proposed.kind, proposed.step) == (K.STEP_PROPOSED, step)
            assert close_to(proposed.time, last.time + wait * DAY)
        await send(handle, decision(step))
        await settle(handle)
        taken[step] = ladder.events(req)[-1]
        assert (taken[step].kind, taken[step].step, taken[step].level) == (
            K.STEP_REACHED,
            step,
            5,
        )

    # The top of the ladder: nothing left to propose, and nothing to decide.
    v = await view(handle)
    assert (v.escalation_level, v.escalation_step, v.next_deadline) == (
        5,
        "report_to_plenary",
        None,
    )
    count = len(ladder.events(req))
    await ladder.advance_to(handle, taken["report_to_plenary"].time + 365 * DAY)
    assert len(ladder.events(req)) == count
    await assert_rejected(
        handle, ladder.published, decision("report_to_plenary"), "no escalation step is awaiting"
    )
    assert all(e.policy_version == VERSION for e in ladder.events(req))


async def test_each_rung_waits_its_own_interval(ladder: Ladder) -> None:
    """With every interval different (a custom policy), each step falls due exactly its own
    interval after the step before was taken: follow-up 2 d, Chamber report 3 d, Chamber order
    period 4 d, Assembly steps 5 d, and the step after the President's letter 6 d (the
    letter's deadline)."""
    policy = custom(
        ladder={
            "reminder_lead": "PT1H",
            "registry_follow_up_after": "P2D",
            "chamber_report_after": "P3D",
            "chamber_order_period": "P4D",
            "assembly_step_after": "P5D",
            "assembly_letter_period": "P6D",
        }
    )
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req, resolve(policy, load_directory(), req))
    t0 = await started_at(handle)
    expected = [
        ("reminder", 7),  # BEL: no override, the default P7D acknowledgement
        ("registry_follow_up", 2),
        ("chamber_report", 3),
        ("non_compliance_finding", 4),
        ("assembly_informal_response", 5),
        ("emergency_bureau_meeting", 5),
        ("president_letter", 5),
        ("bureau_meeting_with_state", 6),
        ("report_to_plenary", 5),
    ]
    previous = t0
    for step, days in expected:
        await ladder.advance_to(handle, previous + days * DAY - timedelta(hours=2))
        assert [e for e in ladder.events(req) if e.step == step] == [], f"{step} came early"
        await ladder.advance_to(handle, previous + days * DAY + timedelta(minutes=1))
        event = ladder.events(req)[-1]
        assert event.step == step, steps(ladder.events(req))
        assert close_to(event.time, previous + days * DAY), (step, event.time - previous)
        if event.kind is K.STEP_PROPOSED:
            # RS 87(7): only the finding refers, and to the Assembly: the Security Council
            # did not refer the situation (ICC-01/22, a State referral, RS 13(a)).
            refers = "assembly" if step == "non_compliance_finding" else None
            await send(handle, decision(step, referral_to=refers))
            await settle(handle)
            event = ladder.events(req)[-1]
            assert (event.kind, event.step) == (K.STEP_REACHED, step)
        previous = event.time
    assert (await view(handle)).escalation_level == 5
    assert all(e.addressee != NLD.focal_point for e in ladder.events(req))
    assert ladder.events(req)[1].addressee == BEL.focal_point


async def test_decisions_are_rejected_when_nothing_or_something_else_is_proposed(
    ladder: Ladder,
) -> None:
    """The system proposes, a person decides: a decision needs a proposal, for that step."""
    req = court_request()
    handle = await ladder.start(req)
    await assert_rejected(
        handle, ladder.published, decision("chamber_report"), "no escalation step is awaiting"
    )
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + 27 * DAY)
    assert (await view(handle)).proposed_step == "chamber_report"
    await assert_rejected(
        handle, ladder.published, decision("president_letter"), "is chamber_report, not"
    )
