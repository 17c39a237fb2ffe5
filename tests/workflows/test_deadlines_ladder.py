"""Deadlines as policy and the escalation ladder (docs/legal-process.md, 'Deadlines and
escalation'), on the time-skipping test server: weeks and months of policy time pass in seconds.

The Statute sets no numeric deadline ("without delay", "promptly"), so every number comes
from the reviewed policy (``tracefreeze/policies/deadlines.toml``) resolved for the request
at start. The ladder: 1 reminder to the focal point and 2 Registry follow-up are taken by
the system; 3 report to the Chamber, 4 RS 87(7) finding and referral, 5 the Assembly's
non-cooperation procedures (ICC-ASP/10/Res.5) are proposed and wait for a person's decision.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import ValidationError
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas import court as c
from schemas.answers import ChannelChangeNotice, FreezeLimitProposal
from schemas.court import DeadlineExtension, EscalationDecision, FreezeLimitResponse, Stage
from schemas.escalations import (
    EscalationEvent,
    EscalationKind,
)
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from schemas.policy import DeadlinePolicy, ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.workflows.support import (
    ACCOUNT,
    PublishRecorder,
    acknowledgement,
    assert_rejected,
    consultation,
    court_action,
    court_request,
    denial,
    domestic_challenge,
    execution_report,
    freeze_account,
    postponement,
    reasons,
    result,
    send,
    settle,
    start_env,
    start_request,
    state_answer,
    wait_for_events,
)
from tracefreeze.policy import DEFAULT_POLICY, load_directory, load_policy, resolve
from workflows.request import RequestWorkflow

K = EscalationKind
Handle = WorkflowHandle[RequestWorkflow, RequestView]
DAY = timedelta(days=1)
NLD = load_directory().states["NLD"]
BEL = load_directory().states["BEL"]
VERSION = load_policy().version


# --- Recorder for escalation events, worker, clock --------------------------------------


@dataclass
class Ladder:
    env: WorkflowEnvironment
    client: Client
    task_queue: str
    published: PublishRecorder
    handles: list[Handle] = field(default_factory=list)

    async def start(
        self,
        request: CourtRequest,
        policy: ResolvedPolicy | Literal["default"] | None = "default",
    ) -> Handle:
        """Start a request (with the default policy resolved for it unless given) and wait
        for its first workflow task (the transmitted event)."""
        if policy == "default":
            policy = resolve(load_policy(), load_directory(), request)
        handle = await start_request(self.client, self.task_queue, request, policy=policy)
        self.handles.append(handle)
        await wait_for_events(self.published, request.reference, 1)
        return handle

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def advance_to(self, handle: Handle, at: datetime) -> None:
        """Let policy time pass until ``at``; every clock due meanwhile fires and publishes."""
        now = await self.now()
        if at > now:
            await self.env.sleep(at - now)
        await settle(handle)

    def events(self, request: CourtRequest) -> list[EscalationEvent]:
        return self.published.escalations(request.reference)


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this module alone: time skips only when no workflow task is
    outstanding, so a workflow another module left with a timer (and no worker any more)
    would stop every sleep here."""
    env = await start_env()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def ladder(env: WorkflowEnvironment) -> AsyncIterator[Ladder]:
    published = PublishRecorder()
    task_queue = f"ladder-tests-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[RequestWorkflow],
        activities=published.activities,
    ):
        running = Ladder(env, env.client, task_queue, published)
        yield running
        # A request left with a timer would fire it after this worker is gone, and the
        # time-skipping server never skips past a workflow task nobody takes.
        for handle in running.handles:
            with contextlib.suppress(RPCError):
                await handle.terminate("end of test")


# --- Helpers ---------------------------------------------------------------------------------


async def view(handle: Handle) -> RequestView:
    return await handle.query(RequestWorkflow.view)


async def started_at(handle: Handle) -> datetime:
    """When the request was transmitted (its clocks start there)."""
    return (await view(handle)).timeline[0].at


def steps(events: list[EscalationEvent]) -> list[tuple[str, str | None, int]]:
    return [(e.kind.value, e.step, e.level) for e in events]


def of_kind(events: list[EscalationEvent], kind: EscalationKind) -> list[EscalationEvent]:
    return [e for e in events if e.kind is kind]


def decision(step: str, proceed: bool = True, **fields: Any) -> EscalationDecision:
    return court_action(EscalationDecision, step=step, proceed=proceed, **reasons(**fields))


def extension(stage: Stage, by: timedelta) -> DeadlineExtension:
    return court_action(DeadlineExtension, stage=stage, by=by, **reasons())


def custom(**sections: dict[str, Any]) -> DeadlinePolicy:
    """The shipped policy with some sections' numbers replaced (ISO 8601 durations)."""
    data = load_policy().model_dump(mode="json")
    for name, values in sections.items():
        if name == "deadlines":
            for kind, by_urgency in values.items():
                for urgency, stages in by_urgency.items():
                    data["deadlines"][kind][urgency].update(stages)
        elif name == "ladder":
            for urgency in data["ladder"]:
                data["ladder"][urgency].update(values)
        else:
            data[name].update(values)
    data["version"] = "custom-test"
    return DeadlinePolicy.model_validate(data)


def close_to(a: datetime | None, b: datetime, within: timedelta = timedelta(seconds=1)) -> bool:
    return a is not None and abs(a - b) <= within


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
    assert "referral to the assembly" in v.timeline[-1].what

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
    """RS 94 (another investigation, agreed by the Court) or RS 95 (admissibility challenge)
    on day 4 of the first-report stage; execution resumes 20 days later and the first report
    falls due 20 days (the time postponed) later than it would have."""
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await send(handle, acknowledgement(req))
    await ladder.advance_to(handle, t0 + 4 * DAY)
    await send(handle, postponement(req, ground))
    if ground == "RS 94":
        await send(handle, court_action(c.PostponementDecision, agreed=True, **reasons()))
    await settle(handle)
    v = await view(handle)
    assert v.status is RequestStatus.POSTPONED and v.next_deadline is None
    paused_at = next(e.at for e in v.timeline if "postpone" in e.what)

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


# --- The other clocks ----------------------------------------------------------------------


async def test_an_urgent_request_not_confirmed_in_time_is_flagged(ladder: Ladder) -> None:
    """RS 96(1): an urgent request is confirmed through the formal channel; the policy allows
    P5D. Unconfirmed, the clock fires once, at exactly five days."""
    req = court_request(urgency="urgent")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + 5 * DAY - timedelta(minutes=1))
    assert of_kind(ladder.events(req), K.URGENT_CONFIRMATION_OVERDUE) == []
    await ladder.advance_to(handle, t0 + 30 * DAY)
    [overdue] = of_kind(ladder.events(req), K.URGENT_CONFIRMATION_OVERDUE)
    assert overdue.deadline == t0 + 5 * DAY and close_to(overdue.time, t0 + 5 * DAY)
    # The urgent ladder is in hours: ack PT8H, reminder at PT6H, follow-up PT24H later.
    reminder = next(e for e in ladder.events(req) if e.step == "reminder")
    assert close_to(reminder.time, t0 + timedelta(hours=8))


async def test_an_urgent_request_confirmed_in_time_is_not_flagged(ladder: Ladder) -> None:
    req = court_request(urgency="urgent")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + DAY)
    await send(handle, court_action(c.UrgentConfirmation, channel="diplomatic"))
    await ladder.advance_to(handle, t0 + 30 * DAY)
    assert of_kind(ladder.events(req), K.URGENT_CONFIRMATION_OVERDUE) == []
    assert ladder.events(req)  # the ladder itself did run


async def test_a_channel_change_is_for_future_requests_not_the_request_in_hand(
    ladder: Ladder,
) -> None:
    """Rule 180(2): NLD notifies a change to its central authority channel, in French. The
    change takes effect 45 days after notice (no time was agreed) *without prejudice to
    requests in progress*: the Registry is told at once, with the date, to update the party
    directory for future requests; this request keeps its channel and language to its end —
    every reminder, follow-up and Chamber step, before and after the 45 days, goes through
    the diplomatic channel it was transmitted by."""
    req = court_request()
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + DAY)
    notice = state_answer(ChannelChangeNotice, req, channel="central_authority", language="fr")
    await send(handle, notice)
    await settle(handle)
    v = await view(handle)
    noticed_at = v.timeline[-1].at
    assert v.timeline[-1].what == (
        f"Rule 180 notice: central_authority (fr) for requests made from "
        f"{noticed_at + 45 * DAY:%Y-%m-%d}; this request keeps its channel and language"
    )
    [notified] = of_kind(ladder.events(req), K.CHANNEL_CHANGE_NOTIFIED)
    assert notified.caused_by == notice.event_id and notified.addressee == "Registry"
    assert notified.directory_change is not None
    assert notified.directory_change.model_dump() == {
        "channel": "central_authority",
        "language": "fr",
        "effective_at": noticed_at + 45 * DAY,
        "noticed_at": noticed_at,
    }
    assert notified.deadline == noticed_at + 45 * DAY
    assert notified.channel == "diplomatic"  # the request's own channel

    await ladder.advance_to(handle, noticed_at + 60 * DAY)
    await send(handle, decision("chamber_report"))
    await settle(handle)
    events = ladder.events(req)
    assert [e.step for e in events if e.kind is K.STEP_REACHED] == [
        "reminder",
        "registry_follow_up",
        "chamber_report",
    ]
    assert {e.channel for e in events} == {"diplomatic"}
    assert [e.kind for e in events].count(K.CHANNEL_CHANGE_NOTIFIED) == 1
    assert events[-1].time > noticed_at + 45 * DAY


async def frozen_account(ladder: Ladder) -> tuple[CourtRequest, Handle, datetime]:
    req = court_request()
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req))
    await settle(handle)
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    return req, handle, await ladder.now()


def freeze_limit(req: CourtRequest, at: datetime, until: datetime) -> FreezeLimitProposal:
    return state_answer(
        FreezeLimitProposal,
        req,
        sent_at=at.isoformat(),
        asset_ids=[ACCOUNT],
        proposed_until=until.isoformat(),
        reasons="National law limits a freeze without a conviction to one year.",
    )


def freeze_decision(outcome: str, **fields: Any) -> FreezeLimitResponse:
    return court_action(
        FreezeLimitResponse,
        asset_ids=[ACCOUNT],
        outcome=outcome,
        chamber="pre_trial_chamber",
        **reasons(**fields),
    )


def released_events(ladder: Ladder, req: CourtRequest) -> list[Any]:
    return [
        e
        for e in ladder.published.events(req.reference)
        if e.type is RequestEventType.ASSET_RELEASED
    ]


async def proposed(
    ladder: Ladder, until_days: int
) -> tuple[CourtRequest, Handle, datetime, datetime]:
    """A frozen account and NLD's proposal to end its freeze ``until_days`` from now; returns
    when the proposal was taken and the date it proposes."""
    req, handle, now = await frozen_account(ladder)
    proposal = freeze_limit(req, now, now + until_days * DAY)
    await send(handle, proposal)
    await settle(handle)
    return req, handle, (await view(handle)).timeline[-1].at, proposal.proposed_until


async def test_court_silence_never_accepts_a_freeze_limit_and_the_freeze_stays_rs97(
    ladder: Ladder,
) -> None:
    """RS 97: NLD proposes to end the account's freeze in 90 days; the Court says nothing for
    400 days. Part 9 has no silence rule (EU 2018/1805 art. 12's six weeks are not ICC law):
    the Registry is told of the proposal at once; the Court is reminded every P14D, the
    proposal goes before the Chamber at P28D and the reminders go to the Chamber from then;
    the Chamber is told when the proposed date passes; the freeze is reviewed by the Chamber
    every P180D. After all that silence the account is still frozen and nothing was released.
    A late answer is still taken: the Chamber limits the freeze on day 400, and its decision —
    only it — lifts the freeze, at once since the proposed date has passed."""
    req, handle, at, until = await proposed(ladder, 90)
    frozen_at = (await view(handle)).ledger.entries[ACCOUNT].history[-1].at
    [opened] = of_kind(ladder.events(req), K.FREEZE_LIMIT_PROPOSED)
    assert (opened.asset_id, opened.addressee, opened.deadline) == (
        ACCOUNT,
        "Registry",
        until,
    )

    await ladder.advance_to(handle, at + 400 * DAY)
    v = await view(handle)
    assert v.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    assert v.ledger.entries[ACCOUNT].freeze_limit_until == until  # still a proposal
    assert released_events(ladder, req) == []
    events = ladder.events(req)
    reminders = of_kind(events, K.FREEZE_LIMIT_REMINDER)
    # every 14 days for 400 days; on day 28 going before the Chamber is the reminder
    assert [round((e.time - at) / DAY) for e in reminders] == [
        14 * k for k in range(1, 29) if k != 2
    ]
    assert [e.addressee for e in reminders] == ["Registry"] + ["Chamber"] * 26
    assert {e.asset_id for e in reminders} == {ACCOUNT}
    [before_chamber] = of_kind(events, K.FREEZE_LIMIT_BEFORE_CHAMBER)
    assert before_chamber.addressee == "Chamber"
    assert close_to(before_chamber.time, at + 28 * DAY)
    [date_passed] = of_kind(events, K.FREEZE_LIMIT_DATE_PASSED)
    assert date_passed.deadline == until and close_to(date_passed.time, until)
    reviews = of_kind(events, K.FREEZE_REVIEW_DUE)
    assert [e.deadline for e in reviews] == [frozen_at + 180 * DAY, frozen_at + 360 * DAY]
    assert {e.addressee for e in reviews} == {"Chamber"}

    late = freeze_decision("freeze_limited")
    await send(handle, late)
    await settle(handle)
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.RELEASED
    assert account.release_ground == "freeze_limited_by_chamber"
    assert account.history[-1].event_id == late.event_id
    [released] = released_events(ladder, req)
    assert released.caused_by == late.event_id
    [lifted] = of_kind(ladder.events(req), K.FREEZE_LIFTED)
    assert (lifted.asset_id, lifted.caused_by) == (ACCOUNT, late.event_id)
    await assert_rejected(
        handle,
        ladder.published,
        freeze_decision("freeze_maintained"),
        "no freeze-limit proposal awaits the Court's answer for ['a-account-1']",
    )


async def test_a_chamber_limits_a_freeze_from_the_date_it_sets(ladder: Ladder) -> None:
    """RS 97: on day 10 the Chamber decides the freeze ends in 60 days, not the 90 proposed.
    The reminders stop; the account stays frozen until that date and is lifted then, by the
    decision (the release names it)."""
    req, handle, at, _ = await proposed(ladder, 90)
    await ladder.advance_to(handle, at + 10 * DAY)
    lift_at = at + 70 * DAY
    decided = freeze_decision("freeze_limited", lift_at=lift_at.isoformat())
    await send(handle, decided)
    await ladder.advance_to(handle, lift_at - timedelta(minutes=1))
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.freeze_limit_until) == (AssetStatus.FROZEN, lift_at)
    assert of_kind(ladder.events(req), K.FREEZE_LIMIT_REMINDER) == []  # answered on day 10
    assert of_kind(ladder.events(req), K.FREEZE_LIMIT_BEFORE_CHAMBER) == []
    await ladder.advance_to(handle, lift_at + timedelta(minutes=1))
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.RELEASED
    [lifted] = of_kind(ladder.events(req), K.FREEZE_LIFTED)
    assert lifted.deadline == lift_at and close_to(lifted.time, lift_at)
    assert [e.caused_by for e in released_events(ladder, req)] == [decided.event_id]


async def test_a_chamber_that_maintains_the_freeze_closes_the_proposal(ladder: Ladder) -> None:
    """RS 97: the Chamber keeps the freeze. The proposal is closed (no more reminders, no
    'date passed'); the account stays frozen past the proposed date; only the periodic review
    comes back."""
    req, handle, at, _ = await proposed(ladder, 60)
    await ladder.advance_to(handle, at + 10 * DAY)
    await send(handle, freeze_decision("freeze_maintained"))
    await ladder.advance_to(handle, at + 200 * DAY)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.freeze_limit_until) == (AssetStatus.FROZEN, None)
    kinds = [e.kind for e in ladder.events(req) if e.time > at + 10 * DAY]
    assert K.FREEZE_LIMIT_REMINDER not in kinds and K.FREEZE_LIMIT_DATE_PASSED not in kinds
    assert K.FREEZE_REVIEW_DUE in kinds
    assert released_events(ladder, req) == []


async def test_an_asset_named_twice_in_a_proposal_is_refused_before_the_workflow(
    ladder: Ladder,
) -> None:
    """RS 97: a proposal opens one consultation per asset; one that names the account twice is
    refused by the contract (each id once), so it can never open two consultations or lift a
    freeze twice — and the account stays frozen."""
    req, handle, now = await frozen_account(ladder)
    with pytest.raises(ValidationError, match="each id may be listed once"):
        state_answer(
            FreezeLimitProposal,
            req,
            sent_at=now.isoformat(),
            asset_ids=[ACCOUNT, ACCOUNT],
            proposed_until=(now + 30 * DAY).isoformat(),
            reasons="National law limits a freeze without a conviction.",
        )
    await settle(handle)
    assert of_kind(ladder.events(req), K.FREEZE_LIMIT_PROPOSED) == []
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.FROZEN


async def test_a_forfeiture_order_holds_what_a_freeze_limit_would_have_lifted(
    ladder: Ladder,
) -> None:
    """RS 77(2)(b): the Chamber limited the freeze from day 30, but on day 10 forfeiture is
    ordered. On day 30 nothing is lifted: the asset is held under the forfeiture order, and
    the periodic review of a protective freeze no longer applies to it."""
    req, handle, at, _ = await proposed(ladder, 90)
    await send(handle, freeze_decision("freeze_limited", lift_at=(at + 30 * DAY).isoformat()))
    await ladder.advance_to(handle, at + 10 * DAY)
    order = court_action(c.ForfeitureOrder, order_reference="ICC-01/22-FO-1", asset_ids=[ACCOUNT])
    await send(handle, order)
    await ladder.advance_to(handle, at + 400 * DAY)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FORFEITURE_ORDERED
    assert released_events(ladder, req) == []
    kinds = {e.kind for e in ladder.events(req)}
    assert K.FREEZE_LIFTED not in kinds and K.FREEZE_REVIEW_DUE not in kinds


def test_a_maintained_freeze_has_no_lift_date() -> None:
    with pytest.raises(ValidationError, match="a maintained freeze is not lifted"):
        freeze_decision("freeze_maintained", lift_at="2027-01-01T00:00:00+00:00")


async def test_a_lapsing_national_order_is_flagged_two_weeks_ahead(ladder: Ladder) -> None:
    """The State reports the account frozen under a national order that lapses in 60 days
    unless renewed; the policy reminds P14D before it lapses."""
    req = court_request()
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    now = await ladder.now()
    expires = now + 60 * DAY
    await send(
        handle,
        execution_report(
            req,
            [
                result(
                    ACCOUNT,
                    "identify",
                    "freeze",
                    value=("398214.37", "EUR"),
                    national_order_expires_at=expires.isoformat(),
                )
            ],
        ),
    )
    await settle(handle)
    assert (await view(handle)).ledger.entries[ACCOUNT].national_order_expires_at == expires
    await ladder.advance_to(handle, expires - 14 * DAY - timedelta(minutes=1))
    assert of_kind(ladder.events(req), K.NATIONAL_ORDER_LAPSING) == []
    await ladder.advance_to(handle, expires)
    [lapsing] = of_kind(ladder.events(req), K.NATIONAL_ORDER_LAPSING)
    assert (lapsing.asset_id, lapsing.deadline) == (ACCOUNT, expires)
    assert close_to(lapsing.time, expires - 14 * DAY)


# --- The policy in force is the one recorded at start -------------------------------------


async def test_a_running_request_keeps_the_policy_it_started_with(
    ladder: Ladder, tmp_path: Path
) -> None:
    """A policy file changed after start (new version, shorter deadlines) does not rewrite a
    running request: its view and its clocks keep the version recorded at start."""
    path = tmp_path / "deadlines.toml"
    path.write_text(DEFAULT_POLICY.read_text(encoding="utf-8"), encoding="utf-8")
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req, resolve(load_policy(path), load_directory(), req))
    t0 = await started_at(handle)

    changed = path.read_text(encoding="utf-8").replace(f'"{VERSION}"', '"2099-01-01"')
    changed = changed.replace('acknowledgement = "P7D"', 'acknowledgement = "P1D"')
    path.write_text(changed, encoding="utf-8")
    load_policy.cache_clear()
    reread = load_policy(path)
    assert reread.version == "2099-01-01"
    assert reread.deadlines["restraint"].ordinary.acknowledgement == DAY

    await ladder.advance_to(handle, t0 + 6 * DAY)
    v = await view(handle)
    assert v.policy_version == VERSION
    assert [e.kind for e in ladder.events(req)] == [K.DEADLINE_APPROACHING]  # day 5 of 7
    assert ladder.events(req)[0].deadline == t0 + 7 * DAY
    assert ladder.events(req)[0].policy_version == VERSION


# --- Review findings: nothing is released without a Court decision ------------------------


async def test_a_lift_of_a_freeze_does_not_release_a_seizure_made_since(ladder: Ladder) -> None:
    """RS 97 consultation; RS 93(1)(k). The Chamber limits the account's freeze from day 30;
    on day 10 NLD reports the account seized. On day 30 the decision, which concerned the
    freeze, is not applied to the seizure: nothing is released, the Chamber is told the lift
    was not applied (the old code released the seizure on a decision about the freeze)."""
    req = court_request(measures=["identify", "trace", "freeze", "seize"])
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req))
    at = await ladder.now()
    await send(handle, freeze_limit(req, at, at + 90 * DAY))
    decided = freeze_decision("freeze_limited", lift_at=(at + 30 * DAY).isoformat())
    await send(handle, decided)
    await ladder.advance_to(handle, at + 10 * DAY)
    await send(handle, execution_report(req, [result(ACCOUNT, "identify", "freeze", "seize")]))
    await ladder.advance_to(handle, at + 31 * DAY)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.SEIZED
    assert account.release_ground is None
    assert released_events(ladder, req) == []
    assert of_kind(ladder.events(req), K.FREEZE_LIFTED) == []
    [not_applied] = of_kind(ladder.events(req), K.FREEZE_LIFT_NOT_APPLIED)
    assert (not_applied.asset_id, not_applied.addressee, not_applied.caused_by) == (
        ACCOUNT,
        "Chamber",
        decided.event_id,
    )
    assert close_to(not_applied.time, at + 30 * DAY)


async def test_an_upheld_domestic_remedy_goes_before_the_chamber_and_releases_nothing(
    ladder: Ladder,
) -> None:
    """National law (a domestic remedy) against a measure under RS 93(1)(k): NLD reports its
    court upheld the remedy. That is a fact in NLD's legal order, not a decision of the Court:
    the account stays frozen, shows the remedy upheld and awaiting the Court, and the matter
    goes before the Chamber (old code released it on the State's report). Only the Court's
    release, by a Chamber, releases it."""
    req, handle, _ = await frozen_account(ladder)
    await send(handle, state_answer_challenge(req, "lodged"))
    upheld = state_answer_challenge(req, "upheld")
    await send(handle, upheld)
    await settle(handle)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FROZEN
    [contest] = account.contests
    assert (contest.outcome, contest.pending, contest.awaits_court) == ("upheld", False, True)
    assert released_events(ladder, req) == []
    [before_chamber] = of_kind(ladder.events(req), K.DOMESTIC_REMEDY_UPHELD)
    assert (before_chamber.asset_id, before_chamber.addressee, before_chamber.caused_by) == (
        ACCOUNT,
        "Chamber",
        upheld.event_id,
    )
    release = court_action(c.Release, asset_ids=[ACCOUNT], ground="domestic_remedy", **reasons())
    await send(handle, release)
    await settle(handle)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.release_ground) == (AssetStatus.RELEASED, "domestic_remedy")
    assert not account.contests[0].awaits_court
    assert [e.caused_by for e in released_events(ladder, req)] == [release.event_id]


def state_answer_challenge(req: CourtRequest, outcome: str) -> Any:
    return domestic_challenge(req, ACCOUNT, "ch-1", outcome)


async def test_a_denial_under_rs93_4_keeps_the_road_to_the_chamber_open(ladder: Ladder) -> None:
    """RS 93(4), 93(6), art. 72: a denial on national-security grounds concerns documents or
    evidence; it does not end the request's stages. After a denial of an identify-and-trace
    request the full-execution stage stays open, so the ladder still climbs to the report to
    the Chamber (the step towards RS 72(7) and 87(7)). The old code marked every stage met
    and the ladder never proposed anything."""
    req = court_request(measures=["identify", "trace"])
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, denial(req))
    await ladder.advance_to(handle, (await started_at(handle)) + 400 * DAY)
    v = await view(handle)
    assert v.status is RequestStatus.DENIED
    proposals = of_kind(ladder.events(req), K.STEP_PROPOSED)
    assert [(e.step, e.stage) for e in proposals] == [("chamber_report", "full_execution")]


async def test_a_denial_under_rs93_4_of_a_freeze_is_refused(ladder: Ladder) -> None:
    """RS 93(4) allows a denial only for the production of documents or the disclosure of
    evidence relating to national security (art. 72); it does not reach the freezing or
    seizure of assets. A denial of a request to freeze is refused with that reason and the
    request goes on (old code accepted it and ended every stage)."""
    req, handle, _ = await frozen_account(ladder)
    await assert_rejected(
        handle,
        ladder.published,
        denial(req),
        "RS 93(4) covers only the production of documents or disclosure of evidence",
    )
    assert (await view(handle)).status is RequestStatus.IN_EXECUTION
