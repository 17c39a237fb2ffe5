"""Queries that arrive while a request's workflow task is pending or running wait for it, up to
``history.maxBufferedQueryCount`` of them per workflow (the Helm values' dynamic config, which
the dev server and the cluster take too). Temporal's default is one: the second reader of a
request taking an answer (the Web UI, a Registry officer's ``tracefreeze status``, a focal
point's portal) is refused with RESOURCE_EXHAUSTED, and the SDK's client tries again only after
a second or more (``docs/operations.md``, "Several readers of one request").

The precondition is built, not waited for: a workflow whose worker took its first task and then
stopped, signalled, so that its next task is pending with nobody to take it. Every query asked
then is buffered (it waits until its deadline) or refused at once; no clock decides which."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import QueryWorkflowRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.deploy.deploy_files import K8S, load
from tracefreeze.config import Settings

pytestmark = pytest.mark.stack

READERS = 8
"""Readers asking one request at once: well within the setting, well past Temporal's one."""
WAIT = timedelta(seconds=3)
"""How long each buffered query's call waits (the task it waits for never runs)."""


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
    (values,) = load(K8S / "temporal-values.yaml")
    (entry,) = values["server"]["dynamicConfig"]["history.maxBufferedQueryCount"]
    return int(entry["value"])


async def with_pending_task(client: Client) -> str:
    """A ``Reading`` workflow whose first task ran and whose next one is pending, unserved."""
    queue, workflow_id = f"buffered-{uuid.uuid4().hex[:8]}", f"reading-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=queue, workflows=[Reading]):
        handle = await client.start_workflow(Reading.run, id=workflow_id, task_queue=queue)
        assert await handle.query(Reading.seen) == 0  # answered: its first task has run
    await handle.signal(Reading.poke)  # a task is now pending; no worker polls its queue
    return workflow_id


async def ask_together(client: Client, workflow_id: str) -> list[RPCStatusCode]:
    """Each reader's query, asked at once, once (no retry): how each call ended."""

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

    return list(await asyncio.gather(*(one() for _ in range(READERS))))


def test_the_setting_holds_more_readers_than_a_request_has() -> None:
    assert READERS <= setting() <= 1_000  # bounded: each buffered query holds a server call


async def test_readers_of_a_request_taking_an_answer_all_wait_none_refused(
    stack: Settings,
) -> None:
    client = await Client.connect(stack.temporal_address, namespace=stack.temporal_namespace)
    ended = await ask_together(client, await with_pending_task(client))
    assert RPCStatusCode.RESOURCE_EXHAUSTED not in ended, ended
    assert set(ended) <= {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}, ended


@pytest.fixture(scope="module")
async def default_server() -> AsyncIterator[Client]:
    """A dev server with Temporal's own default of one buffered query: the control."""
    one = ["--dynamic-config-value", "history.maxBufferedQueryCount=1"]
    temporal = shutil.which("temporal")
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal, dev_server_extra_args=one
    ) as env:
        yield env.client


async def test_with_temporal_s_default_every_reader_but_one_is_refused(
    default_server: Client,
) -> None:
    """The control: the same readers, the same pending task, refused but one. Without the
    setting the readers above would be refused the same way."""
    ended = await ask_together(default_server, await with_pending_task(default_server))
    assert ended.count(RPCStatusCode.RESOURCE_EXHAUSTED) == READERS - 1, ended
