"""Fixtures of the tests of tracefreeze: worker and bridge on the real stack (helpers in
e2e.py), codec servers in this process (helpers in codec_support.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.replay_check import histories_that_do_not_replay
from tests.tracefreeze.codec_support import serving
from tests.tracefreeze.e2e import Running, isolated, worker_and_bridge
from tracefreeze.config import Settings
from tracefreeze.security.codec import KEYS_ENV, codec_keys_file, read_keys_file
from tracefreeze.security.codec_server import CodecServer


@pytest.fixture
async def running(stack: Settings) -> AsyncIterator[Running]:
    """Worker + bridge (asyncio tasks) on topics, task queue and group of this test alone."""
    async with worker_and_bridge(isolated(stack)) as r:
        yield r


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Each phase's report on the test item (``rep_call``), for fixtures that look after a
    failure (``running_cold``)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


FAILED_HISTORIES = Path(__file__).resolve().parents[2] / ".state" / "failed-histories"
"""Where a failed test's histories that do not replay are kept (git-ignored)."""


@pytest.fixture
async def running_cold(stack: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    """``running`` with a worker that caches two workflows: nearly every task of a request or
    a case replays its whole history first, so a history that does not replay shows at once.
    A test that failed keeps its histories that do not replay (``FAILED_HISTORIES``): a
    non-determinism seen once under load is then read from its history, not guessed at."""
    cold = isolated(stack).model_copy(update={"worker_cached_workflows": 2})
    async with worker_and_bridge(cold) as r:
        yield r
        call = getattr(request.node, "rep_call", None)
        if call is not None and call.failed:
            keep = FAILED_HISTORIES / cold.task_queue
            failures = await histories_that_do_not_replay(r.client.client, cold.task_queue, keep)
            if failures:  # encrypted with the test's key: kept beside them, to replay them
                keys = os.environ.get(KEYS_ENV) or read_keys_file(codec_keys_file(cold.state_dir))
                (keep / "codec-keys").write_text(keys)
            print(f"\nhistories that do not replay (kept in {keep}): {failures}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., CodecServer]]:
    """Start a codec server in this process on a free port; stopped after the test."""
    with serving(tmp_path) as start:
        yield start
