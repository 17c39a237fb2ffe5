"""An operator's stop in a test lands between the request's tasks (``support.terminate``).

A request terminated by an operator is stopped outside the Court's process (its measures
stand, RS 93(1)(k)); the case tests stop one that way and then let hours pass on the
time-skipping server. That server holds its clock while a task or an activity is on its way and,
for a workflow terminated with one outstanding, never lets it go: the hours would then pass in
real time and the test fail on a timed-out call, not on the law it checks. Here the request's
answer has its round on its way (the publish held for a second) when the operator stops it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import Worker

from schemas.outbox import PUBLISH_OUTBOX, PublishedRound, PublishOutbox
from tests.workflows.support import (
    PublishRecorder,
    acknowledgement,
    court_request,
    own_env,
    start_request,
    terminate,
    wait_for_events,
)
from tracefreeze import client as court_client
from workflows.request import RequestWorkflow

E = EventType


async def test_a_request_stopped_with_its_round_on_its_way_leaves_the_clock_free() -> None:
    recorder = PublishRecorder()

    @activity.defn(name=PUBLISH_OUTBOX)
    async def held_publish(inp: PublishOutbox) -> PublishedRound:
        await asyncio.sleep(1.0)  # the round is on its way when the operator acts
        return await recorder.publish_outbox(inp)

    queue = f"operator-stop-{uuid.uuid4()}"
    activities = [held_publish, *recorder.activities[1:]]
    async with (
        own_env() as env,
        Worker(env.client, task_queue=queue, workflows=[RequestWorkflow], activities=activities),
    ):
        request = court_request()
        handle = await start_request(env.client, queue, request)
        await wait_for_events(recorder, request.reference, 1)
        await court_client.send(handle, acknowledgement(request))
        on_its_way = [e.event_type async for e in handle.fetch_history_events()]
        assert on_its_way.count(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) > on_its_way.count(
            E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        ), "precondition: the acknowledgement's round is still on its way"

        await terminate(handle, "an operator's act (test)")

        before = await env.get_current_time()
        await env.sleep(timedelta(hours=2))  # a held clock: the call times out after 30 s
        assert await env.get_current_time() - before >= timedelta(hours=2)
        assert (await handle.describe()).status is WorkflowExecutionStatus.TERMINATED
        history = [e.event_type async for e in handle.fetch_history_events()]
        assert history.count(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == history.count(
            E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        )  # the round left before the stop
