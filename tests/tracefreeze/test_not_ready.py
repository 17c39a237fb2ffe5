"""An update the server aborts because the workflow task that carried it failed on completion
is sent again by every client the product connects (``tracefreeze/not_ready.py``), on the
real dev server. The fault is made the way a server makes it: the task's completion carries a
search attribute the namespace does not have, which the server refuses (``BadSearchAttributes``),
failing the task and aborting the update in it with ``WorkflowNotReady``. A State's answer or a
Court action (RS 93(1)(k), 96) sent at that moment must be taken once, not come back as an
error that says nothing about it."""

from __future__ import annotations

import time
import uuid

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from tests.stack import isolated
from tracefreeze.config import Settings
from tracefreeze.not_ready import NotReadyRetry, turned_away_while_running
from tracefreeze.temporal import connect

pytestmark = pytest.mark.stack

UNKNOWN = SearchAttributeKey.for_keyword("TracefreezeNoSuchAttribute")
"""Registered nowhere: a completion that upserts it is refused by the server."""
BRIEF_S = 3.0
"""A short budget, to see a client give up on a request whose tasks fail every time."""
faults = {"left": 0}
"""Workflow tasks still to spoil (in this process: a spoilt task is never replayed)."""


@workflow.defn(sandboxed=False)
class Spoilt:
    def __init__(self) -> None:
        self.taken: list[str] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: len(self.taken) >= 2)

    @workflow.update
    def take(self, answer: str) -> int:
        if faults["left"] > 0 and not workflow.unsafe.is_replaying():
            faults["left"] -= 1
            workflow.upsert_search_attributes([UNKNOWN.value_set("x")])
        if answer not in self.taken:
            self.taken.append(answer)
        return len(self.taken)


async def _started(client: Client, task_queue: str) -> WorkflowHandle[Spoilt, None]:
    return await client.start_workflow(
        Spoilt.run, id=f"spoilt-{uuid.uuid4()}", task_queue=task_queue
    )


async def test_an_update_aborted_by_a_failed_task_is_sent_again(stack: Settings) -> None:
    settings = isolated(stack, "update-retry")
    ours = await connect(settings)
    plain = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    async with Worker(
        ours,
        task_queue=settings.task_queue,
        workflows=[Spoilt],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        # A client without the retry gets the server's abort: the fault is real.
        handle = plain.get_workflow_handle((await _started(plain, settings.task_queue)).id)
        faults["left"] = 1
        with pytest.raises(RPCError) as aborted:
            await handle.execute_update(Spoilt.take, "a", id="a")
        assert turned_away_while_running(aborted.value), aborted.value
        assert faults["left"] == 0

        # The product's client sends it again under the same id, and it is taken once.
        handle = ours.get_workflow_handle((await _started(ours, settings.task_queue)).id)
        faults["left"] = 2
        assert await handle.execute_update(Spoilt.take, "a", id="a", result_type=int) == 1
        assert faults["left"] == 0
        assert await handle.execute_update(Spoilt.take, "a", id="a", result_type=int) == 1
        assert await handle.execute_update(Spoilt.take, "b", id="b", result_type=int) == 2

        # Not for ever: a task failing every time ends in the server's error once the
        # budget is spent, not before (the server turned it away for the whole budget).
        brief = await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            interceptors=[NotReadyRetry(budget_s=BRIEF_S)],
        )
        handle = brief.get_workflow_handle((await _started(brief, settings.task_queue)).id)
        faults["left"] = 1_000_000
        tried = time.monotonic()
        with pytest.raises(RPCError) as gave_up:
            await handle.execute_update(Spoilt.take, "c", id="c")
        assert turned_away_while_running(gave_up.value)
        assert time.monotonic() - tried >= BRIEF_S
        assert 0 < faults["left"] < 1_000_000  # its tasks were tried and failed meanwhile
        faults["left"] = 0
