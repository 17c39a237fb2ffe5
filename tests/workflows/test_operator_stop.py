"""An operator's stop in a test lands between the request's tasks (``stopping.terminate``).

A request terminated by an operator is stopped outside the Court's process (its measures
stand, RS 93(1)(k)); the case tests stop one that way and then let hours pass on the
time-skipping server. That server holds its clock while a task or an activity is on its way and,
for a workflow terminated with one outstanding, never lets it go: the hours would then pass in
real time and the test fail on a timed-out call, not on the law it checks. Here the request's
answer has its round on its way (the publish held until the test lets it go) when the operator
stops it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.outbox import PUBLISH_OUTBOX, PublishedRound, PublishOutbox
from tests.workflows.stopping import left_at_termination, terminate
from tests.workflows.support import (
    PublishRecorder,
    acknowledgement,
    court_request,
    own_env,
    settle,
    start_request,
    wait_for_events,
)
from tracefreeze import client as court_client
from workflows.request import RequestWorkflow

E = EventType


Held = tuple[WorkflowEnvironment, str, PublishRecorder, asyncio.Event]


@contextlib.asynccontextmanager
async def held_rounds() -> AsyncIterator[
    tuple[WorkflowEnvironment, str, PublishRecorder, asyncio.Event]
]:
    """A server and a worker whose publishing rounds wait while the yielded gate is clear."""
    recorder, gate = PublishRecorder(), asyncio.Event()
    gate.set()

    @activity.defn(name=PUBLISH_OUTBOX)
    async def held_publish(inp: PublishOutbox) -> PublishedRound:
        await gate.wait()
        return await recorder.publish_outbox(inp)

    queue = f"operator-stop-{uuid.uuid4()}"
    activities = [held_publish, *recorder.activities[1:]]
    async with (
        own_env() as env,
        Worker(env.client, task_queue=queue, workflows=[RequestWorkflow], activities=activities),
    ):
        yield env, queue, recorder, gate


async def acknowledged_with_round_held(
    env: WorkflowEnvironment, queue: str, recorder: PublishRecorder, gate: asyncio.Event
) -> WorkflowHandle:
    """A request transmitted, then acknowledged while rounds are held: the acknowledgement's
    round is on its way (scheduled after the update, not ended)."""
    request = court_request()
    handle = await start_request(env.client, queue, request)
    await wait_for_events(recorder, request.reference, 1)
    await settle(handle)
    gate.clear()
    await court_client.send(handle, acknowledgement(request))
    types = [e.event_type async for e in handle.fetch_history_events()]
    answered = len(types) - types[::-1].index(E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    assert E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED in types[answered:]
    assert E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED not in types[answered:]
    return handle


async def test_a_request_stopped_with_its_round_on_its_way_leaves_the_clock_free() -> None:
    async with held_rounds() as (env, queue, recorder, gate):
        handle = await acknowledged_with_round_held(env, queue, recorder, gate)

        stopping = asyncio.create_task(terminate(handle, "an operator's act (test)"))
        try:
            done, _ = await asyncio.wait({stopping}, timeout=0.5)
            assert not done, stopping.exception()  # the round cannot end while it is held
            gate.set()
            await stopping
        finally:
            stopping.cancel()

        assert (await handle.describe()).status is WorkflowExecutionStatus.TERMINATED
        before = await env.get_current_time()
        try:  # a held clock: the call would time out after 30 s
            await asyncio.wait_for(env.sleep(timedelta(hours=2)), timeout=20)
        except TimeoutError:
            raise AssertionError("the test server's clock was held by the stop") from None
        assert await env.get_current_time() - before >= timedelta(hours=2)


async def test_a_stop_that_lands_with_a_round_on_its_way_is_found() -> None:
    """What ``terminate`` reads back after the stop: a request terminated straight away, its
    round held, is found with an activity outstanding (so such a stop fails its own test)."""
    async with held_rounds() as (env, queue, recorder, gate):
        handle = await acknowledged_with_round_held(env, queue, recorder, gate)
        await handle.terminate("an operator's act with no wait (test)")
        gate.set()
        assert await left_at_termination(handle) == ["activity"]
