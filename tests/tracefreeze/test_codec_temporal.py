"""The payload codec against a real Temporal server (the time-skipping test server): a client
bound to another namespace cannot read a history, and once plaintext is refused a history
written without the codec is an error, not content (issue 11, section 6; RS 87(3)).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from tracefreeze.security.codec import EncryptionCodec, data_converter

SECRET = "Jan de Vries, villa at Duinweg 12, Wassenaar"
KEY = os.urandom(32)


@workflow.defn(name="CodecEcho")
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return f"seen: {text}"


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


def client_with(env: WorkflowEnvironment, codec: EncryptionCodec | None) -> Client:
    config = env.client.config()
    config["data_converter"] = data_converter(codec)
    return Client(**config)


async def run_echo(client: Client) -> str:
    """Run the echo workflow with a worker on ``client``'s converter; its workflow id."""
    task_queue, workflow_id = f"codec-{uuid.uuid4().hex}", f"echo-{uuid.uuid4().hex}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[Echo],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        result = await client.execute_workflow(
            Echo.run, SECRET, id=workflow_id, task_queue=task_queue
        )
    assert result == f"seen: {SECRET}"
    return workflow_id


async def test_a_history_read_under_another_namespace_binding_does_not_decrypt(
    env: WorkflowEnvironment,
) -> None:
    namespace = env.client.namespace
    court = EncryptionCodec({"k1": KEY}, "k1", namespace=namespace)
    workflow_id = await run_echo(client_with(env, court))
    # The history holds no plaintext of the input...
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert SECRET.encode() not in started.SerializeToString()
    # ...the same keys bound to another namespace cannot read it...
    elsewhere = client_with(env, court.for_namespace("x"))
    with pytest.raises(Exception, match="another namespace"):
        await elsewhere.get_workflow_handle(workflow_id).result()
    # ...and bound to its own namespace they can.
    assert await client_with(env, court).get_workflow_handle(workflow_id).result() == (
        f"seen: {SECRET}"
    )


async def test_plaintext_history_is_refused_once_migrated(env: WorkflowEnvironment) -> None:
    workflow_id = await run_echo(client_with(env, None))  # written before the codec
    namespace = env.client.namespace
    lenient = EncryptionCodec({"k1": KEY}, "k1", namespace=namespace)
    assert await client_with(env, lenient).get_workflow_handle(workflow_id).result() == (
        f"seen: {SECRET}"
    )
    strict = EncryptionCodec({"k1": KEY}, "k1", namespace=namespace, refuse_plaintext=True)
    with pytest.raises(Exception, match="refuses plaintext") as refused:
        await client_with(env, strict).get_workflow_handle(workflow_id).result()
    assert not isinstance(refused.value, WorkflowFailureError)  # the codec, not the workflow
