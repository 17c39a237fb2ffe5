"""Fixtures of the end-to-end tests on the real stack (helpers in e2e.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.tracefreeze.e2e import Running, isolated, worker_and_bridge
from tracefreeze.config import Settings


@pytest.fixture
async def running(stack: Settings) -> AsyncIterator[Running]:
    """Worker + bridge (asyncio tasks) on topics, task queue and group of this test alone."""
    async with worker_and_bridge(isolated(stack)) as r:
        yield r
