"""Helpers for the operations tests: probes and scrapes over HTTP, worker and bridge processes.

``apps`` runs ``python -m tracefreeze worker`` and ``... bridge`` as child processes
(``tracefreeze.stack.process.App``) on the topics, task queue and group of one test, each
with its own free health port; what they write goes to a log file in the stack's state dir
(JSON: not a terminal), read back with ``App.lines``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

from prometheus_client.parser import text_string_to_metric_families

from tracefreeze.config import Settings
from tracefreeze.stack.isolated import stack_env
from tracefreeze.stack.ports import HOST, free_ports
from tracefreeze.stack.process import App

READY_S = 60.0


def get(port: int, path: str) -> tuple[int, bytes]:
    """Status and body of GET http://127.0.0.1:port/path; status 0 when nothing listens."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


async def aget(port: int, path: str) -> tuple[int, bytes]:
    return await asyncio.to_thread(get, port, path)


async def wait_status(port: int, path: str, status: int, timeout_s: float = READY_S) -> bytes:
    """Poll until GET path answers ``status``; its body."""
    last: tuple[int, bytes] = (0, b"")
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                last = await aget(port, path)
                if last[0] == status:
                    return last[1]
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"{path} on {port}: {last} after {timeout_s}s") from None


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus exposition, by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(port: int) -> Samples:
    status, body = await aget(port, "/metrics")
    assert status == 200, status
    return samples(body.decode())


def total(found: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for (n, lbls), value in found.items()
        if n == name and labels.items() <= dict(lbls).items()
    )


async def start_app(kind: str, s: Settings) -> App:
    """``python -m tracefreeze <kind>`` on ``s``, with /metrics and probes on a free port."""
    (port,) = free_ports(1)
    log = s.state_dir / "logs" / f"{s.task_queue}-{kind}.log"
    env = dict(os.environ) | stack_env(s)
    return App(
        kind, [sys.executable, "-m", "tracefreeze", kind], env, log, health_port=port
    ).start()


@contextlib.asynccontextmanager
async def apps(s: Settings) -> AsyncIterator[tuple[App, App]]:
    """A worker and a bridge process of ``s``, both ready; stopped (SIGTERM) on exit."""
    worker, bridge = await start_app("worker", s), await start_app("bridge", s)
    try:
        for app in (worker, bridge):
            try:
                await wait_status(app.health_port, "/readyz", 200)
            except AssertionError as err:
                raise AssertionError(f"{app.name} never ready: {err}\n{app.tail(30)}") from None
        yield worker, bridge
    finally:
        for app in (bridge, worker):
            await app.stop(timeout_s=60.0)
