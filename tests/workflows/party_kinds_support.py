"""Shared by the party-kind tests (``test_party_kinds_ladder_ends``,
``test_party_kinds_situations``): the requests of a test on a worker of their own, climbing
their escalation ladder on the time-skipping test server while nobody answers, and the reading
of the escalation events they publish."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.court import EscalationDecision
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.decisions import escalation_decision
from tests.workflows.stopping import end
from tests.workflows.support import (
    PublishRecorder,
    own_env,
    send,
    settle,
    start_request,
    wait_for_events,
)
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows.request import RequestWorkflow

K = EscalationKind
Handle = WorkflowHandle[RequestWorkflow, RequestView]
Referral = Callable[[str], str | None]


class Parties:
    def __init__(self, env: WorkflowEnvironment, task_queue: str, published: PublishRecorder):
        self.env, self.task_queue, self.published = env, task_queue, published
        self.handles: list[Handle] = []

    async def start(self, request: CourtRequest, policy: ResolvedPolicy | None = None) -> Handle:
        policy = policy or resolve(load_policy(), load_directory(), request)
        handle = await start_request(self.env.client, self.task_queue, request, policy=policy)
        self.handles.append(handle)
        await wait_for_events(self.published, request.reference, 1)
        await settle(handle)
        return handle

    def events(self, request: CourtRequest) -> list[EscalationEvent]:
        return self.published.escalations(request.reference)

    async def until_proposed(self, handle: Handle, request: CourtRequest, step: str) -> None:
        """Nobody answers; each step proposed before ``step`` is decided (proceed, no
        referral), until ``step`` is proposed."""
        for _ in range(30):
            v = await handle.query(RequestWorkflow.view)
            if v.proposed_step == step:
                return
            if v.proposed_step is not None:
                await send(handle, decision(v.proposed_step))
                await settle(handle)
                continue
            assert v.next_deadline is not None, steps(self.events(request))
            await self.pass_until(handle, v.next_deadline)
        raise AssertionError(f"{step} never proposed: {steps(self.events(request))}")

    async def pass_until(self, handle: Handle, at: datetime) -> None:
        now = await self.env.get_current_time()
        if at > now:
            await self.env.sleep(at - now + timedelta(minutes=1))
        await settle(handle)

    async def climb(self, handle: Handle, request: CourtRequest, referral: Referral) -> RequestView:
        """Nobody answers: policy time passes clock by clock, and each proposed step is
        decided (proceed, with ``referral(step)``), until the ladder has nowhere to go."""
        for _ in range(30):
            v = await handle.query(RequestWorkflow.view)
            if v.proposed_step is not None:
                step = v.proposed_step
                await send(handle, decision(step, referral_to=referral(step)))
                await settle(handle)
                continue
            if v.next_deadline is None:
                return v
            await self.pass_until(handle, v.next_deadline)
        raise AssertionError(f"the ladder never ended: {steps(self.events(request))}")


async def server_of_each_module() -> AsyncIterator[WorkflowEnvironment]:
    """The ``env`` fixture of each party-kind module (module scope): a time-skipping server of
    the module's own, its requests never sharing a server with another module's."""
    async with own_env() as env:
        yield env


async def running_parties(env: WorkflowEnvironment) -> AsyncIterator[Parties]:
    """The ``parties`` fixture: a worker on a task queue of the test's own, whose requests are
    terminated at the end of the test."""
    published = PublishRecorder()
    task_queue = f"party-kinds-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[RequestWorkflow],
        activities=published.activities,
    ):
        running = Parties(env, task_queue, published)
        yield running
        await end(running.handles)


def decision(step: str, proceed: bool = True, **fields: object) -> EscalationDecision:
    return escalation_decision(step, proceed, **fields)


def steps(events: list[EscalationEvent]) -> list[tuple[str, str | None, int]]:
    return [(e.kind.value, e.step, e.level) for e in events if e.step]


def ladder_steps(events: list[EscalationEvent]) -> list[str]:
    """The steps reached or proposed, in order (a proposal and its decision count once)."""
    out: list[str] = []
    for e in events:
        if e.step and e.kind in (K.STEP_REACHED, K.STEP_PROPOSED) and e.step not in out:
            out.append(e.step)
    return out


def proposal(events: list[EscalationEvent], step: str) -> EscalationEvent:
    return next(e for e in events if e.kind is K.STEP_PROPOSED and e.step == step)


def never_refers_to_council(step: str) -> str | None:
    return "assembly" if step in ("non_compliance_finding", "inform_assembly_or_council") else None


async def climb_to_rs_87_5_b(
    parties: Parties, handle: Handle, request: CourtRequest
) -> tuple[RequestView, list[EscalationEvent]]:
    """The ladder of a party with an arrangement (RS 87(5)(a)), climbed with no referral to
    the Council: reminders, a follow-up and a report to the Chamber, then the Court informing
    the Assembly (RS 87(5)(b)); never an RS 87(7) finding. Its end and its events."""
    end = await parties.climb(handle, request, never_refers_to_council)
    events = parties.events(request)
    assert ladder_steps(events) == [
        "reminder",
        "registry_follow_up",
        "chamber_report",
        "inform_assembly_or_council",
    ]
    assert all(e.step != "non_compliance_finding" for e in events)
    return end, events
