"""Fixtures of the tests of tracefreeze: worker and bridge on the real stack (helpers in
e2e.py), codec servers in this process (helpers in codec_support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.tracefreeze.codec_support import serving
from tests.tracefreeze.e2e import Running, isolated, worker_and_bridge
from tracefreeze.config import Settings
from tracefreeze.security.codec_server import CodecServer


@pytest.fixture
async def running(stack: Settings) -> AsyncIterator[Running]:
    """Worker + bridge (asyncio tasks) on topics, task queue and group of this test alone."""
    async with worker_and_bridge(isolated(stack)) as r:
        yield r


@pytest.fixture
async def running_cold(stack: Settings) -> AsyncIterator[Running]:
    """``running`` with a worker that caches two workflows: nearly every task of a request or
    a case replays its whole history first, so a history that does not replay shows at once."""
    cold = isolated(stack).model_copy(update={"worker_cached_workflows": 2})
    async with worker_and_bridge(cold) as r:
        yield r


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., CodecServer]]:
    """Start a codec server in this process on a free port; stopped after the test."""
    with serving(tmp_path) as start:
        yield start
