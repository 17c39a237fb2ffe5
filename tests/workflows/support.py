"""Test doubles and helpers shared by the workflow tests and the history recorder.

The builders of requests, answers and Court actions are the one set in tests/builders.py; the
ones the workflow tests use are re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import typing
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf.message import Message
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.case import deliver_to_request, request_summaries
from activities.directory import forward_notice
from activities.organ_keys import OrganKeysReader
from activities.policy import PolicyResolver
from schemas import court as c
from schemas.answers import (
    AnswerBase,
    StateAnswer,
)
from schemas.court import CourtAction
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from schemas.outbox import PUBLISH_OUTBOX, PublishedRound, PublishOutbox
from schemas.request import CourtRequest
from schemas.views import AnswerReceipt, RequestView
from tests.builders import *  # noqa: F403 - the builders, re-exported for the workflow tests
from tests.builders import (
    acknowledgement,
    court_action,
    court_request,
    execution_report,
    money,
    reasons,
)
from tests.decisions import *  # noqa: F403 - and the Court's decisions
from tests.decisions import conviction
from tracefreeze import client as court_client
from tracefreeze.config import Settings
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows import catalog
from workflows import search_attributes as sa
from workflows.carry import RequestRun
from workflows.request import RequestWorkflow

T = TypeVar("T")
HISTORIES = Path(__file__).resolve().parent / "histories"
WAIT_SECONDS = 10.0
"""How long helpers wait for the workflow to publish or settle before failing the test."""


# --- Test double for OUR publishing activity ---------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One event as the publishing activity was given it, with the topic it was for."""

    topic: str
    event: RequestEvent


RESOLVER = PolicyResolver(Settings()).resolve_policy
"""The policy in force, resolved from the shipped policy files, as a worker does."""
KEYS_READER = OrganKeysReader(Settings())
ORGAN_KEYS = KEYS_READER.resolve_organ_keys
"""The organ key registry, read from the worker's file, as a worker does."""


@dataclass
class PublishRecorder:
    """Stands in for the Kafka publishing activity (a round of the outbox per call) and records,
    in order, what it was given."""

    calls: list[Sent] = field(default_factory=list)
    escalations_sent: list[EscalationEvent] = field(default_factory=list)
    rounds: list[PublishOutbox] = field(default_factory=list)
    broker_down: bool = False
    """Every round fails, as when Kafka does not take the events (a retryable error)."""
    refused: list[PublishOutbox] = field(default_factory=list)
    """The rounds tried while the broker was down, in order."""

    @activity.defn(name=PUBLISH_OUTBOX)
    async def publish_outbox(self, inp: PublishOutbox) -> PublishedRound:
        if self.broker_down:
            self.refused.append(inp)
            raise ApplicationError("the broker took nothing (test)", type="KafkaTimeoutError")
        self.rounds.append(inp)
        self.calls += [Sent(topic=inp.events_topic, event=e) for e in inp.events]
        self.escalations_sent += inp.escalations
        return PublishedRound(organ_keys=KEYS_READER.read() if inp.read_organ_keys else None)

    @property
    def activities(self) -> list[Any]:
        """The recorder, the case's own reconciliation (it only queries requests), and the
        policy in force for a request a client starts without one (the shipped policy)."""
        return [
            self.publish_outbox,
            request_summaries,
            deliver_to_request,
            forward_notice,
            RESOLVER,
            ORGAN_KEYS,
        ]

    def events(self, reference: str | None = None) -> list[RequestEvent]:
        return [c.event for c in self.calls if reference is None or c.event.subject == reference]

    def escalations(self, reference: str) -> list[EscalationEvent]:
        return [e for e in self.escalations_sent if e.subject == reference]


# --- Environment -------------------------------------------------------------------------


def save_history(path: Path, history: WorkflowHistory) -> None:
    """Write a recorded history for the replay tests without its failures' stack traces: they
    name the paths of the machine that recorded it, and a replay never reads them."""
    for event in history.events:
        _drop_stack_traces(event)
    path.write_text(history.to_json(), encoding="utf-8")


def _drop_stack_traces(message: Message) -> None:
    if isinstance(message, Failure):
        message.stack_trace = ""
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if isinstance(value, Message):
            _drop_stack_traces(value)
            continue
        for item in value.values() if hasattr(value, "values") else value:  # repeated or map
            if isinstance(item, Message):
                _drop_stack_traces(item)


async def start_env() -> WorkflowEnvironment:
    """A time-skipping test server with the request's search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: k.indexed_value_type for k in sa.ALL},
        )
    )
    return env


@contextlib.asynccontextmanager
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server (``start_env``), shut down when the block ends."""
    env = await start_env()
    try:
        yield env
    finally:
        await env.shutdown()


@contextlib.asynccontextmanager
async def request_worker(
    env: WorkflowEnvironment, prefix: str, *more_workflows: type
) -> AsyncIterator[tuple[str, PublishRecorder]]:
    """A worker for the request workflow (and ``more_workflows``, e.g. the case workflow) on a
    fresh task queue named from ``prefix``, with a recording publish activity; yields the task
    queue and the recorder."""
    recorder = PublishRecorder()
    task_queue = f"{prefix}-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[RequestWorkflow, *more_workflows],
        activities=recorder.activities,
    ):
        yield task_queue, recorder


async def start_request(
    client: Client, task_queue: str, request: CourtRequest, **input_fields: Any
) -> WorkflowHandle[RequestWorkflow, RequestView]:
    return await client.start_workflow(
        RequestWorkflow.run,
        RequestRun(request=request, **input_fields),
        id=request.workflow_id,
        task_queue=task_queue,
    )


def answer_class(answer_type: str) -> type[AnswerBase]:
    """The State-answer model whose ``answer_type`` is ``answer_type``."""
    union = typing.get_args(typing.get_args(StateAnswer)[0])
    return next(cls for cls in union if cls.model_fields["answer_type"].default == answer_type)


UPDATE_OF: dict[type[Any], str] = {kind.contract: kind.update for kind in catalog.CATALOG}
"""The update that takes each State answer or Court action."""


async def send(
    handle: WorkflowHandle[RequestWorkflow, RequestView],
    answer: AnswerBase | CourtAction,
    update_id: str | None = None,
) -> AnswerReceipt:
    """Send an answer or Court action as the update its type calls for; the update id is the
    event id unless given (as the intake does). The update returns once the answer is in
    history and its events leave after (``workflows/request_outbox.py``): this waits for them
    too, so that a test reads what was published."""
    receipt = await court_client.send(handle, answer, update_id)
    await settle(handle)
    return receipt


async def settle(handle: WorkflowHandle[Any, Any]) -> tuple[int, ...]:
    """Wait until every workflow task, every publish and every signal to another workflow the
    workflow scheduled has finished; returns the types of the history events then, leaving out
    workflow tasks (the test server, unlike a real one, keeps the workflow task in which an
    update was rejected)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        events = [e async for e in handle.fetch_history_events()]
        types = [e.event_type for e in events]
        if not outstanding(events, *SETTLED):
            return tuple(t for t in types if t not in _WORKFLOW_TASK)
        if loop.time() > deadline:
            raise AssertionError(f"workflow did not settle: last events {types[-5:]}")
        await asyncio.sleep(0.02)


WORK: dict[str, tuple[int, tuple[int, ...]]] = {
    "workflow task": (
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        (
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        ),
    ),
    "activity": (
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        (
            EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        ),
    ),
    "signal": (
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        (
            EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
            EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        ),
    ),
    "child start": (
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        (
            EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
            EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
        ),
    ),
}
"""Work a workflow scheduled, by kind: the event that schedules it and the events that end it."""
SETTLED = ("workflow task", "activity", "signal")
"""What ``settle`` waits for."""


def outstanding(events: list[HistoryEvent], *kinds: str) -> list[str]:
    """The kinds of ``WORK`` among ``kinds`` that ``events`` scheduled more often than ended."""
    types = [e.event_type for e in events]
    return [
        kind for kind in kinds if types.count(WORK[kind][0]) > sum(map(types.count, WORK[kind][1]))
    ]


_WORKFLOW_TASK = (
    WORK["workflow task"][0],
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    *WORK["workflow task"][1],
)
UPDATE_EVENTS = (
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
)
"""What the history gains when a duplicate answer is answered with a receipt, and nothing else."""


@dataclass(frozen=True)
class Snapshot:
    """What a rejected or duplicate answer must leave untouched."""

    view: RequestView
    history: tuple[int, ...]  # event types other than workflow tasks
    events_published: int


async def snapshot(
    handle: WorkflowHandle[RequestWorkflow, RequestView], recorder: PublishRecorder
) -> Snapshot:
    history = await settle(handle)
    view = await handle.query(RequestWorkflow.view)
    return Snapshot(view, history, len(recorder.events(view.reference)))


async def visibility(handle: WorkflowHandle[Any, Any]) -> tuple[str | None, float | None]:
    """(RequestStatus, FrozenValueEUR) as the server holds them for the workflow, once every
    task it scheduled is done: an answer is shown after the round publishing its events."""
    await settle(handle)
    attrs = (await handle.describe()).typed_search_attributes
    return attrs.get(sa.REQUEST_STATUS), attrs.get(sa.FROZEN_VALUE_EUR)


async def shown(
    handle: WorkflowHandle[Any, Any], key: SearchAttributeKey[T], value: T, timeout_s: float = 60
) -> None:
    """Wait until the Web UI's search attribute ``key`` of ``handle`` reads ``value`` (e.g.
    ``sa.ESCALATION_LEVEL``, or ``sa.REQUEST_STATUS`` and a status's value); the write is the
    server's, after the workflow task that made it."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (await handle.describe()).typed_search_attributes.get(key) != value:
        assert asyncio.get_running_loop().time() < deadline, f"{key.name} {value} never showed"
        await asyncio.sleep(0.2)


async def wait_for_events(
    recorder: PublishRecorder, reference: str, count: int
) -> list[RequestEvent]:
    """The events published for ``reference`` once there are at least ``count`` of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while len(recorder.events(reference)) < count:
        if loop.time() > deadline:
            got = [e.type.value for e in recorder.events(reference)]
            raise AssertionError(f"expected {count} events for {reference}, got {got}")
        await asyncio.sleep(0.02)
    return recorder.events(reference)


async def assert_rejected(
    handle: WorkflowHandle[RequestWorkflow, RequestView],
    recorder: PublishRecorder,
    answer: AnswerBase | CourtAction,
    fragment: str,
) -> None:
    """The update is rejected by its validator with a reason containing ``fragment``, and
    nothing is written: same view, same history (workflow tasks aside), nothing published."""
    before = await snapshot(handle, recorder)
    try:
        await send(handle, answer)
    except WorkflowUpdateFailedError as rejected:
        cause = rejected.cause
        assert isinstance(cause, ApplicationError), cause
        assert cause.type == "AnswerRejected", cause
        assert fragment in cause.message, cause.message
    else:
        raise AssertionError(f"{type(answer).__name__} {answer.event_id} was accepted")
    assert await snapshot(handle, recorder) == before


async def published_since(
    handle: WorkflowHandle[RequestWorkflow, RequestView], recorder: PublishRecorder, count: int
) -> list[RequestEvent]:
    """The events published for the request after the first ``count``, once it has settled."""
    await settle(handle)
    reference = (await handle.query(RequestWorkflow.view)).reference
    return recorder.events(reference)[count:]


async def published_count(
    handle: WorkflowHandle[RequestWorkflow, RequestView], recorder: PublishRecorder
) -> int:
    """How many events the request has published once it has settled (for published_since)."""
    await settle(handle)
    reference = (await handle.query(RequestWorkflow.view)).reference
    return len(recorder.events(reference))


async def chain_of_runs(client: Client, workflow_id: str, run_id: str) -> list[str]:
    """The run ids from ``run_id`` on, following each run's continue-as-new to the next."""
    runs = [run_id]
    while True:
        handle = client.get_workflow_handle(workflow_id, run_id=runs[-1])
        assert len(runs) < 100
        if (await handle.describe()).status is not WorkflowExecutionStatus.CONTINUED_AS_NEW:
            return runs
        last = [e async for e in handle.fetch_history_events()][-1]
        assert last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        runs.append(last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id)


# --- Requests under way, and the Court's asset actions ---------------------------------------

ACCOUNT_EUR = Decimal("398214.37")
"""The account's frozen balance in the example RS 99 execution report."""
APARTMENT_EUR = Decimal("860000.00")
"""The apartment's value in the example RS 99 execution report."""
ORDER = "ICC-01/22-T-FO-1"
"""The forfeiture order (RS 77(2)(b)) the Court actions name."""


async def view(handle: WorkflowHandle[RequestWorkflow, RequestView]) -> RequestView:
    return await handle.query(RequestWorkflow.view)


async def acknowledged(worker: Any, **request_fields: Any) -> tuple[CourtRequest, Any]:
    """A request started on ``worker`` (the ``worker`` fixture) and acknowledged by NLD."""
    req = court_request(**request_fields)
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    return req, handle


async def in_execution(worker: Any, **request_fields: Any) -> tuple[CourtRequest, Any]:
    """Acknowledged, then the example RS 99 report: account and apartment frozen, vessel
    identified and traced."""
    req, handle = await acknowledged(worker, **request_fields)
    await send(handle, execution_report(req))
    return req, handle


async def in_execution_under_policy(worker: Any, **request_fields: Any) -> tuple[CourtRequest, Any]:
    """``in_execution`` for a request started under the default policy file (its deadlines and
    the allocation purposes it allows, Rule 221(1))."""
    req = court_request(**request_fields)
    handle = await worker.start(req, policy=resolve(load_policy(), load_directory(), req))
    await send(handle, acknowledgement(req))
    await send(handle, execution_report(req))
    return req, handle


async def convicted(worker: Any, **request_fields: Any) -> tuple[CourtRequest, Any]:
    """In execution (``in_execution``), and the conviction of the request's case recorded on
    it (RS 74): a forfeiture order may follow (RS 77(2)(b))."""
    req, handle = await in_execution(worker, **request_fields)
    await send(handle, conviction())
    return req, handle


def forfeiture(*asset_ids: str) -> c.ForfeitureOrder:
    return court_action(c.ForfeitureOrder, order_reference=ORDER, asset_ids=list(asset_ids))


def transfer(asset_id: str, amount: str, currency: str = "EUR") -> c.TransferToCourt:
    return court_action(c.TransferToCourt, asset_id=asset_id, amount=money(amount, currency))


def allocation(
    asset_id: str, *shares: tuple[str, ...], currency: str = "EUR", **fields: Any
) -> c.Allocation:
    """The Presidency's allocation of ``shares``: (destination, amount) or (destination,
    amount, basis); ``fields`` such as ``reparations`` (Rule 221(2)) or ``decision_reference``."""
    return court_action(
        c.Allocation,
        asset_id=asset_id,
        shares=[
            {"destination": d, "amount": money(x, currency), **({"basis": b[0]} if b else {})}
            for d, x, *b in shares
        ],
        **fields,
    )


def release(*asset_ids: str, ground: str = "acquittal") -> c.Release:
    return court_action(c.Release, asset_ids=list(asset_ids), ground=ground, **reasons())
