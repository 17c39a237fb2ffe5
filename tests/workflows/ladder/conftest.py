"""Fixtures for the escalation-ladder tests: a time-skipping server of each test module's own
(scope ``module``) and per test a worker whose requests are terminated at its end.

Time skips only when no workflow task is outstanding, so a workflow another module left with
a timer (and no worker any more) would stop every sleep here: every module in this folder
gets a server of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.workflows.ladder.support import Ladder
from tests.workflows.stopping import end
from tests.workflows.support import own_env, request_worker


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the requesting module alone."""
    async with own_env() as env:
        yield env


@pytest.fixture
async def ladder(env: WorkflowEnvironment) -> AsyncIterator[Ladder]:
    async with request_worker(env, "ladder-tests") as (task_queue, published):
        running = Ladder(env, env.client, task_queue, published)
        yield running
        # A request left with a timer would fire it after this worker is gone, and the
        # time-skipping server never skips past a workflow task nobody takes.
        published.broker_down = False  # a test failed mid-outage: its rounds may end
        await end(running.handles)
