"""Graceful drain on SIGTERM, with real ``tracefreeze worker`` and ``tracefreeze bridge``
processes: /readyz turns 503 as soon as the drain starts, then the process exits 0."""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.ops import App, aget, apps
from tests.tracefreeze.e2e import isolated
from tracefreeze.config import Settings
from tracefreeze.topics import ensure_topics

pytestmark = pytest.mark.stack


async def drain(app: App) -> tuple[list[int], int]:
    """SIGTERM, then /readyz as often as it answers; the statuses seen and the exit code."""
    app.signal(signal.SIGTERM)
    seen: list[int] = []
    async with asyncio.timeout(60):
        while app.running:
            status, _ = await aget(app.health_port, "/readyz")
            if status and (not seen or seen[-1] != status):
                seen.append(status)
            await asyncio.sleep(0.005)
    code = await app.stop()
    assert code is not None
    return seen, code


async def test_sigterm_turns_readiness_off_then_exits_cleanly(stack: Settings) -> None:
    s = isolated(stack)
    await ensure_topics(s)
    async with apps(s) as (worker, bridge):
        assert (await aget(worker.health_port, "/healthz"))[0] == 200
        assert (await aget(bridge.health_port, "/healthz"))[0] == 200
        for app in (bridge, worker):
            seen, code = await drain(app)
            assert 503 in seen, (app.name, seen, app.tail(20))
            assert 200 not in seen[seen.index(503) :], (app.name, seen)
            assert code == 0, (app.name, code, app.tail(20))
            events = [r.get("event") for r in app.lines()]
            assert f"{app.name} stopped" in events, events
