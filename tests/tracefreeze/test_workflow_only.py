"""The workers run an activity only for a workflow of theirs (``tracefreeze/workflow_only.py``).
An activity started on its own (``StartActivityExecution``, with an input of the caller's
choosing) would otherwise act with the workers' keys, e.g. relay a forged Rule 180 notice to a
party's directory signed with the relay key (Rule 180(2): a State's channel changes only on its
own notice). The server refuses to start one (``activity.enableStandalone`` off, as the
deployment sets it: the real dev server here), and the worker refuses one should a server
start it anyway; the same activity scheduled by a workflow runs."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Worker

from tests.stack import isolated
from tracefreeze.config import Settings
from tracefreeze.temporal import connect
from tracefreeze.workflow_only import REFUSED, WorkflowActivitiesOnly

RAN: list[str] = []


@activity.defn(name="relay_for_the_worker")
async def relay(what: str) -> str:
    RAN.append(what)
    return f"relayed {what}"


@workflow.defn(sandboxed=False)
class Schedules:
    @workflow.run
    async def run(self, what: str) -> str:
        return await workflow.execute_activity(
            relay, what, start_to_close_timeout=timedelta(seconds=30)
        )


@pytest.mark.stack
async def test_an_activity_started_on_its_own_is_refused_by_the_server(stack: Settings) -> None:
    RAN.clear()
    settings = isolated(stack, "workflow-only")
    client: Client = await connect(settings)
    queue = settings.task_queue
    async with Worker(
        client,
        task_queue=queue,
        workflows=[Schedules],
        activities=[relay],
        interceptors=[WorkflowActivitiesOnly()],
    ):
        run = await client.execute_workflow(
            Schedules.run, "a notice", id=f"wf-{uuid.uuid4()}", task_queue=queue
        )
        assert run == "relayed a notice"  # scheduled by a workflow: it runs
        with pytest.raises(RPCError, match=r"(?i)standalone activity is disabled"):
            await client.start_activity(
                relay,
                "a forged notice",
                id=f"alone-{uuid.uuid4()}",
                task_queue=queue,
                start_to_close_timeout=timedelta(seconds=30),
            )
    assert RAN == ["a notice"]


class Next(ActivityInboundInterceptor):
    """What the interceptor hands a run it lets through (the activity, here: a record)."""

    def __init__(self) -> None:
        self.ran = 0

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self.ran += 1
        return "ran"


@pytest.mark.parametrize("workflow_id", [None, ""])
async def test_the_worker_refuses_an_activity_no_workflow_scheduled(
    workflow_id: str | None,
) -> None:
    env, after = ActivityEnvironment(), Next()
    env.info = dataclasses.replace(env.info, workflow_id=workflow_id)
    refusing = WorkflowActivitiesOnly().intercept_activity(after)
    with pytest.raises(ApplicationError) as refused:
        await env.run(refusing.execute_activity, None)
    assert refused.value.type == REFUSED and refused.value.non_retryable
    assert after.ran == 0


async def test_the_worker_runs_an_activity_its_workflow_scheduled() -> None:
    env, after = ActivityEnvironment(), Next()
    env.info = dataclasses.replace(env.info, workflow_id="request/ICC-01/22-REQ-0001/NLD")
    refusing = WorkflowActivitiesOnly().intercept_activity(after)
    assert await env.run(refusing.execute_activity, None) == "ran"
    assert after.ran == 1
