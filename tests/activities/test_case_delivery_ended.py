"""When a case's delivery of a Court action may record its request as ended
(``activities/case.py`` ``has_ended``), asked of the real dev server: only when the server
says the workflow is over. A release filed as ``already_closed``, or a judgment dropped, for a
request still running would leave its assets frozen with no one told (RS 75(4), 93(1)(k);
where the law is silent, nothing is released or given up without a decision, and a decision
taken is delivered)."""

from __future__ import annotations

import uuid

import pytest
from temporalio import workflow
from temporalio.client import Client

from activities.case import has_ended
from tests.stack import isolated
from tracefreeze.config import Settings

pytestmark = pytest.mark.stack


@workflow.defn(sandboxed=False)
class Unserved:
    """Started on a task queue no worker polls: running, with no task ever completed (as a
    request whose tasks keep failing looks to the server)."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


async def test_a_request_ends_only_when_the_server_says_so(stack: Settings) -> None:
    settings = isolated(stack, "has-ended")
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    running = await client.start_workflow(
        Unserved.run, id=f"request/{uuid.uuid4()}", task_queue=settings.task_queue
    )
    assert not await has_ended(running)  # still running: the delivery is tried again

    closed = await client.start_workflow(
        Unserved.run, id=f"request/{uuid.uuid4()}", task_queue=settings.task_queue
    )
    await closed.terminate("the request ended")
    assert await has_ended(client.get_workflow_handle(closed.id))  # its latest run closed

    assert await has_ended(client.get_workflow_handle(f"request/never-{uuid.uuid4()}"))
