"""Helpers for the operations tests: probes and scrapes over HTTP, worker and bridge processes.

``Apps`` runs ``python -m tracefreeze worker`` and ``... bridge`` as child processes on the
topics, task queue and group of one test, each with its own free health port, and keeps
every line they write to stderr (JSON: stderr is a pipe, not a terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.stack import HOST, free_ports, stack_env
from tracefreeze.config import Settings

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


def app_env(s: Settings, health_port: int) -> dict[str, str]:
    return (
        dict(os.environ)
        | stack_env(s)
        | {
            "TRACEFREEZE_HEALTH_PORT": str(health_port),
        }
    )


@dataclass
class App:
    kind: str
    port: int
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def records(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (anything else is skipped)."""
        found = []
        for line in self.lines:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    found.append(record)
        return found

    async def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM, then the exit code (the process is killed if it overstays)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout_s):
                code = await self.process.wait()
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, timeout=10)
        return code


async def start_app(kind: str, s: Settings) -> App:
    (port,) = free_ports(1)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tracefreeze",
        kind,
        env=app_env(s, port),
        stderr=asyncio.subprocess.PIPE,
    )
    app = App(kind, port, process)
    app.reader = asyncio.create_task(app._read())
    return app


@contextlib.asynccontextmanager
async def apps(s: Settings) -> AsyncIterator[tuple[App, App]]:
    """A worker and a bridge process of ``s``, both ready; stopped (SIGTERM) on exit."""
    worker, bridge = await start_app("worker", s), await start_app("bridge", s)
    try:
        for app in (worker, bridge):
            try:
                await wait_status(app.port, "/readyz", 200)
            except AssertionError as err:
                tail = "\n".join(app.lines[-30:])
                raise AssertionError(f"{app.kind} never ready: {err}\n{tail}") from None
        yield worker, bridge
    finally:
        for app in (bridge, worker):
            await app.stop()
