"""The escalation ladder's test harness: a worker with a recording publish activity on a
time-skipping server, the policy clock, and the builders of the Court's clock actions
(escalation decisions, deadline extensions, freeze-limit responses) the ladder tests share.

The Statute sets no numeric deadline ("without delay", "promptly", RS 86, 93(1), 96(1)), so
every number comes from the reviewed policy (``tracefreeze/policies/deadlines.toml``)
resolved for the request at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from schemas.answers import FreezeLimitProposal
from schemas.court import DeadlineExtension, EscalationDecision, FreezeLimitResponse, Stage
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus
from schemas.policy import DeadlinePolicy, ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.decisions import escalation_decision
from tests.workflows.support import (
    ACCOUNT,
    PublishRecorder,
    acknowledgement,
    court_action,
    court_request,
    freeze_account,
    reasons,
    send,
    settle,
    start_request,
    state_answer,
    view,
    wait_for_events,
)
from tracefreeze.policy import load_directory, load_policy, resolve
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
        until its start is over (the transmitted event; the organ keys its round read in
        force)."""
        if policy == "default":
            policy = resolve(load_policy(), load_directory(), request)
        handle = await start_request(self.client, self.task_queue, request, policy=policy)
        self.handles.append(handle)
        await wait_for_events(self.published, request.reference, 1)
        await settle(handle)
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


async def started_at(handle: Handle) -> datetime:
    """When the request was transmitted (its clocks start there)."""
    return (await view(handle)).timeline[0].at


def steps(events: list[EscalationEvent]) -> list[tuple[str, str | None, int]]:
    return [(e.kind.value, e.step, e.level) for e in events]


def of_kind(events: list[EscalationEvent], kind: EscalationKind) -> list[EscalationEvent]:
    return [e for e in events if e.kind is kind]


def decision(step: str, proceed: bool = True, **fields: Any) -> EscalationDecision:
    return escalation_decision(step, proceed, **fields)


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


# --- A frozen account and the State's proposal to limit its freeze (RS 97) ---------------


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
