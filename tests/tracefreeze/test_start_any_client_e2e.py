"""Any Temporal client starts a complete request (#19), on the real stack: the `temporal` CLI
starts ``RequestWorkflow`` with the request alone as JSON, encoded through the codec server
(the history holds no plaintext), and the request's escalation ladder fires under the policy
in force (the worker's demo policy, in seconds), as it would for the Court's own client
(docs/operations.md, 'Starting a request from any Temporal client')."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Iterator

import pytest
from temporalio.api.enums.v1 import EventType

from schemas.escalations import EscalationKind
from tests.builders import court_request
from tests.tracefreeze.e2e import Escalations, worker_on_demo_policy
from tracefreeze.config import Settings
from tracefreeze.security.codec import codec_from_env
from tracefreeze.security.codec_auth import NoAuth
from tracefreeze.security.codec_listener import CodecServerConfig
from tracefreeze.security.codec_server import make_codec_server

pytestmark = pytest.mark.stack


@pytest.fixture
def codec_endpoint(stack: Settings) -> Iterator[list[str]]:
    """The codec server the stack's clients encode with, in a thread of this process: the
    `temporal` CLI's ``--codec-endpoint`` (none when the stack has no codec key)."""
    codec = codec_from_env(state_dir=stack.state_dir)
    if codec is None:
        yield []
        return
    # Encoding on (TRACEFREEZE_CODEC_ENCODE): a client that starts a request encodes with it.
    config = CodecServerConfig(namespaces=(stack.temporal_namespace,), encode_enabled=True)
    server = make_codec_server(codec, 0, "127.0.0.1", auth=NoAuth(), config=config)
    thread = threading.Thread(target=server.serve_forever, name="codec-server", daemon=True)
    thread.start()
    try:
        yield ["--codec-endpoint", server.url]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


async def test_the_temporal_cli_starts_a_request_whose_ladder_fires(
    stack: Settings, codec_endpoint: list[str]
) -> None:
    temporal = shutil.which("temporal")
    assert temporal, "the `temporal` CLI (installed in the venv by `make venv`) is on PATH"
    request = court_request(tag="ANYCLIENT")
    async with worker_on_demo_policy(stack, "anyclient") as run:
        watch = Escalations(run.settings, request.reference)
        await watch.consumer.start()
        try:
            # The request, and this test's own topics (optional: production's by default).
            start_input = {
                "request": json.loads(request.model_dump_json()),
                "events_topic": run.settings.topics.request_events,
                "escalations_topic": run.settings.topics.escalations,
            }
            command = [
                temporal,
                "workflow",
                "start",
                "--address", stack.temporal_address,
                "--namespace", stack.temporal_namespace,
                "--task-queue", run.settings.task_queue,
                "--type", "RequestWorkflow",
                "--workflow-id", request.workflow_id,
                "--input", json.dumps(start_input),
                *codec_endpoint,
            ]  # fmt: skip
            started = await asyncio.create_subprocess_exec(
                *command,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await started.communicate()
            assert started.returncode == 0, output.decode()
            events = await watch.until(2)
        finally:
            await watch.consumer.stop()
        kinds = [e.kind for e in events]
        assert EscalationKind.STEP_REACHED in kinds, kinds
        reached = next(e for e in events if e.kind is EscalationKind.STEP_REACHED)
        assert reached.step == "reminder" and reached.policy_version is not None
        handle = run.client.client.get_workflow_handle(request.workflow_id)
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                attributes = event.workflow_execution_started_event_attributes
                payload = attributes.input.payloads[0]
                break
        if codec_endpoint:  # encoded through the codec server: no plaintext in the history
            assert payload.metadata["encoding"] == b"binary/encrypted"
            assert request.reference.encode() not in payload.data
