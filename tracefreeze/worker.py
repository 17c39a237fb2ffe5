"""The Temporal worker: runs request, case and party-directory workflows and the activity that
publishes their events."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import timedelta
from typing import Any

import structlog
from aiokafka.errors import KafkaError
from temporalio.converter import DataConverter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.case import deliver_to_request, request_summaries
from activities.directory import forward_notice
from activities.organ_keys import OrganKeysReader
from activities.policy import PolicyResolver
from activities.publish import EventPublisher
from tracefreeze import context_free
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.history_bound import HistoryBoundRunner
from tracefreeze.kafka import make_producer, start_with_timeout, stop_with_timeout
from tracefreeze.not_ready import WORKER_BUDGET_S
from tracefreeze.ops.http import serving
from tracefreeze.ops.lifecycle import stop_on_signals
from tracefreeze.ops.metrics import sdk_runtime
from tracefreeze.temporal import connect, renewing_token
from tracefreeze.topics import party_channels
from tracefreeze.workflow_only import WorkflowActivitiesOnly
from workflows.case import CaseWorkflow
from workflows.party_directory import PartyDirectoryWorkflow
from workflows.request import RequestWorkflow

log = structlog.get_logger(__name__)

GRACEFUL_SHUTDOWN = timedelta(seconds=10)
READINESS_GRACE_S = 0.5


def worker_identity(settings: Settings) -> str:
    """``<pid>@<host>`` (the SDK's own default) and the build: ``tracefreeze/<build>``."""
    return f"{os.getpid()}@{socket.gethostname()} tracefreeze/{settings.build}"


def workflow_runner(converter: DataConverter) -> HistoryBoundRunner:
    """The worker's runner: the sandbox (``sandbox_runner``), asked for no serialization
    context when ``converter`` takes none (``tracefreeze/context_free.py``), bound to the
    request's history (``tracefreeze/history_bound.py``: never run ahead of it for a query)."""
    return HistoryBoundRunner(context_free.around(sandbox_runner(), converter))


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The sandbox, with our own deterministic packages passed through (the replayer's runner).

    Without this, every workflow run that enters the cache re-imports and re-defines the
    request workflow and its contracts inside a fresh sandbox (the bench's drain profile
    showed a quarter of the worker's time there). Our packages keep no module-level state
    that a workflow mutates, and the replay tests guard determinism.
    """
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        "schemas", "workflows", "pydantic", "pydantic_core", "structlog"
    )
    return SandboxedWorkflowRunner(restrictions=restrictions)


def tuning(settings: Settings) -> dict[str, Any]:
    """The worker's cache and task settings, from ``settings`` (``worker_*``): many requests
    due together must find their workflows cached and their tasks on the worker's own queue,
    or each firing replays its whole history."""
    return {
        "max_cached_workflows": settings.worker_cached_workflows,
        "max_concurrent_workflow_tasks": settings.worker_workflow_tasks,
        "sticky_queue_schedule_to_start_timeout": timedelta(
            seconds=settings.worker_sticky_timeout_s
        ),
    }


async def run_worker(settings: Settings) -> None:
    """Poll the request task queue until SIGTERM/SIGINT (or cancellation), then drain: stop
    polling, let activities in flight finish (up to ``GRACEFUL_SHUTDOWN``), exit. /readyz is
    503 from the signal on (``tracefreeze/ops/http.py``); SDK metrics go to /metrics."""
    runtime = sdk_runtime() if settings.health_port else None
    client = await connect(settings, runtime, not_ready_s=WORKER_BUDGET_S)
    producer = make_producer(settings, client_id="tracefreeze-worker")
    try:
        await start_with_timeout(producer, settings.kafka_timeout_s)
    except (TimeoutError, KafkaError) as err:
        raise TracefreezeError(
            f"cannot reach Kafka at {settings.kafka_bootstrap}; is the stack up? try `make up`"
        ) from err
    publisher = EventPublisher(
        producer,
        timeout_s=settings.kafka_timeout_s,
        channels=party_channels(settings),
        court_actions_topic=settings.topics.court_actions,
        organ_keys=OrganKeysReader(settings).read,
        topics=frozenset({settings.topics.request_events, settings.topics.escalations}),
    )
    stop = asyncio.Event()
    identity = worker_identity(settings)
    try:
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[RequestWorkflow, CaseWorkflow, PartyDirectoryWorkflow],
            activities=[
                publisher.publish_outbox,
                request_summaries,
                deliver_to_request,
                forward_notice,
                PolicyResolver(settings).resolve_policy,
                OrganKeysReader(settings).resolve_organ_keys,
            ],
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
            interceptors=[WorkflowActivitiesOnly()],
            workflow_runner=workflow_runner(client.data_converter),
            identity=identity,
            **tuning(settings),
        )
        with stop_on_signals(stop):
            ready = lambda: worker.is_running and not stop.is_set()  # noqa: E731
            async with (
                serving(settings.health_port, "worker", ready),
                renewing_token(client, settings),
                worker,
            ):
                log.info(
                    "worker started",
                    build=settings.build,
                    identity=identity,
                    task_queue=settings.task_queue,
                    temporal_address=settings.temporal_address,
                    namespace=settings.temporal_namespace,
                    kafka_bootstrap=settings.kafka_bootstrap,
                )
                await stop.wait()
                log.info("worker stopping", task_queue=settings.task_queue)
                # Not ready from here on; stay so briefly before leaving, so that whoever
                # watches /readyz (a load balancer, an operator, the drain test) sees it.
                await asyncio.sleep(READINESS_GRACE_S)
    finally:
        await stop_with_timeout(producer, settings.kafka_timeout_s)
        log.info("worker stopped", task_queue=settings.task_queue)
