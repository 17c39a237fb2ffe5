"""Queries that arrive while a request's workflow task is pending or running wait for it, up to
``history.maxBufferedQueryCount`` of them per workflow (the Helm values' dynamic config, which
the dev server and the cluster take too; the cluster's file is checked in
``test_cluster_matches_deploy.py``, the behaviour here on the dev server). Temporal's default
is one: the second reader of a request taking an answer (two officers with its page open in
the Web UI, a ``tracefreeze status``, the signing of a Court action asking its summary) is
refused with RESOURCE_EXHAUSTED, and the SDK's client tries again only after a second or more
(``docs/operations.md``, "Several readers of one request").

The precondition is built, not waited for: a workflow whose worker took its first task and then
stopped, signalled, so that its next task is scheduled with nobody to take it (checked by
describing it). Every query asked then is buffered (it waits until its deadline) or refused at
once; no clock decides which."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import PendingWorkflowTaskState
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    QueryWorkflowRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tracefreeze.config import Settings
from tracefreeze.stack.helm_values import helm_dynamic_config

READERS = 4
"""Readers asking one request at once: as many as the setting holds, past Temporal's one."""
WAIT = timedelta(seconds=8)
"""How long each buffered query's call waits (the task it waits for never runs): it keeps its
place in the buffer that long, far longer than the readers take to arrive together, so the
count refused is the buffer's doing and no clock's."""
TEMPORAL = Path(sys.executable).with_name("temporal")
"""The CLI ``make venv`` installs beside the interpreter (the stack's own)."""


@workflow.defn(sandboxed=False)
class Reading:
    """Takes signals, answers a query: the smallest workflow with a task to wait for."""

    def __init__(self) -> None:
        self.signals = 0

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.signals > 1_000)

    @workflow.signal
    def poke(self) -> None:
        self.signals += 1

    @workflow.query
    def seen(self) -> int:
        return self.signals


def setting() -> int:
    """The value every engine takes from the Helm values (the stack's own reader)."""
    (entry,) = helm_dynamic_config()["history.maxBufferedQueryCount"]
    return int(entry["value"])


@contextlib.asynccontextmanager
async def with_pending_task(client: Client) -> AsyncIterator[str]:
    """A ``Reading`` workflow whose first task ran and whose next one is scheduled, unserved;
    terminated after."""
    queue, workflow_id = f"buffered-{uuid.uuid4().hex[:8]}", f"reading-{uuid.uuid4().hex}"
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with Worker(client, task_queue=queue, workflows=[Reading]):
            await client.start_workflow(Reading.run, id=workflow_id, task_queue=queue)
            assert await handle.query(Reading.seen) == 0  # answered: its first task has run
        await handle.signal(Reading.poke)  # a task is now scheduled; no worker polls its queue
        described = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
            )
        )
        pending = described.pending_workflow_task
        assert pending.state == PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED
        yield workflow_id
    finally:
        with contextlib.suppress(RPCError):  # never hides the test's own failure
            await handle.terminate("test over")


async def ask_together(client: Client, workflow_id: str, readers: int) -> list[RPCStatusCode]:
    """``readers`` queries asked at once, once each (no retry): how each call ended."""

    async def one() -> RPCStatusCode:
        request = QueryWorkflowRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id),
            query=WorkflowQuery(query_type="seen"),
        )
        try:
            await client.workflow_service.query_workflow(request, retry=False, timeout=WAIT)
        except RPCError as err:
            return err.status
        return RPCStatusCode.OK

    return list(await asyncio.gather(*(one() for _ in range(readers))))


def test_the_setting_holds_the_readers_of_a_request_and_no_flood() -> None:
    """Enough for the readers one request has at once; few, because the queries waiting when a
    task is handed to the worker are answered inside it (their answers, each bounded only by
    the 2 MiB payload limit, ride in the task's completion, one gRPC message), and one released
    when a task ends with events no task holds yet is refused as ahead of the request's history
    and costs a replay (``tracefreeze/history_bound.py``)."""
    assert READERS <= setting() <= 8


@pytest.mark.stack
async def test_as_many_readers_as_the_setting_wait_and_one_more_is_refused(
    stack: Settings,
) -> None:
    """All but one wait for the task until their deadline; exactly one is refused: the buffer
    held ``setting()`` of them, not more and not fewer."""
    client = await Client.connect(stack.temporal_address, namespace=stack.temporal_namespace)
    async with with_pending_task(client) as workflow_id:
        ended = await ask_together(client, workflow_id, setting() + 1)
    assert ended.count(RPCStatusCode.RESOURCE_EXHAUSTED) == 1, ended
    waited = {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}
    assert sum(e in waited for e in ended) == setting(), ended


@pytest.fixture(scope="module")
async def default_server() -> AsyncIterator[Client]:
    """A dev server with Temporal's own default of one buffered query: the control."""
    if not TEMPORAL.exists():
        pytest.fail(f"no temporal CLI at {TEMPORAL}: run make venv")
    one = ["--dynamic-config-value", "history.maxBufferedQueryCount=1"]
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL), dev_server_extra_args=one
    ) as env:
        yield env.client


@pytest.mark.stack
async def test_with_temporal_s_default_every_reader_but_one_is_refused(
    default_server: Client,
) -> None:
    """The control: the same readers, the same pending task, refused but one. Without the
    setting the readers above would be refused the same way."""
    async with with_pending_task(default_server) as workflow_id:
        ended = await ask_together(default_server, workflow_id, READERS)
    assert ended.count(RPCStatusCode.RESOURCE_EXHAUSTED) == READERS - 1, ended
