"""Fixtures for the request-workflow tests: one time-skipping Temporal test server for the
session, and per test a worker on its own task queue with a recording publish activity.

Builders for answers live in ``tests.workflows.support``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.workflows.support import (
    PublishRecorder,
    own_env,
    request_worker,
    settle,
    start_request,
    wait_for_events,
)
from workflows.case import CaseWorkflow
from workflows.party_directory import PartyDirectoryWorkflow
from workflows.request import RequestWorkflow


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping server the session's tests share. Their workflows are left as they
    are at the end of each test, and one left with a task on a queue no worker polls holds the
    server's clock (``tests/workflows/stopping.py``): a test that lets time pass (``env.sleep``)
    or stops a workflow takes a server of its own (``own_env``)."""
    async with own_env() as env:
        yield env


@pytest.fixture
async def case_worker(
    env: WorkflowEnvironment,
) -> AsyncIterator[tuple[Client, str, PublishRecorder]]:
    """A worker for the case workflow and its requests on a fresh task queue: the client, the
    task queue and the recording publish activity."""
    async with request_worker(env, "case", CaseWorkflow) as (task_queue, recorder):
        yield env.client, task_queue, recorder


@dataclass
class RunningWorker:
    client: Client
    task_queue: str
    published: PublishRecorder

    async def start(
        self, request: CourtRequest, **input_fields: Any
    ) -> WorkflowHandle[RequestWorkflow, RequestView]:
        """Start a request and wait until its start is over — the transmitted event published
        and the task after it completed, so that the organ key registry its round read is in
        force (``workflows/request_keys.py``), answers sent next arrive in later tasks and
        visibility is set."""
        handle = await start_request(self.client, self.task_queue, request, **input_fields)
        await wait_for_events(self.published, request.reference, 1)
        await settle(handle)
        return handle


@pytest.fixture
async def worker(env: WorkflowEnvironment) -> AsyncIterator[RunningWorker]:
    async with request_worker(env, "request-tests", PartyDirectoryWorkflow) as (
        task_queue,
        recorder,
    ):
        yield RunningWorker(client=env.client, task_queue=task_queue, published=recorder)
