"""Fault drills on the real stack: real processes, ``kill -9``, and an exact count at the end.

The processes of a drill:

- ``App``: ``python -m tracefreeze worker|bridge`` as a child process with the stack's
  environment (``tests/stack.py`` ``stack_env``), its log in the stack's state dir; started,
  stopped (SIGTERM) and killed (SIGKILL) by its own pid.
- ``kill_service`` / ``restart_services``: the stack's Kafka broker and Temporal dev server,
  found through their pid files (``<state dir>/run/<name>.pid``, as ``stack.sh`` writes them),
  killed with SIGKILL and brought back by ``deploy/local/stack.sh up`` with the same
  environment, which starts only what is down.
- the answer flow and its exact count: flow.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from tests.stack import PYTHON, REPO_ROOT, run_stack_sh, stack_env
from tests.stack import isolated as isolated_settings
from tracefreeze.config import Settings

WAIT_S = 150.0
STOP_S = 30.0

RESULTS: list[str] = []
"""One line per drill or flood, printed at the end of the run (``conftest.py``)."""


# --- settings and processes ---------------------------------------------------------------


def isolated(stack: Settings, name: str) -> Settings:
    """The stack with topics, task queue and consumer group of one drill alone."""
    return isolated_settings(stack, f"faults-{name}")


def app_env(s: Settings) -> dict[str, str]:
    """The environment of a worker or bridge of ``s`` (addresses, topics, queue, group, and
    the bridge's retry budget and per-State answer budget)."""
    return (
        dict(os.environ)
        | stack_env(s)
        | {
            "PYTHONUNBUFFERED": "1",
            "TRACEFREEZE_BRIDGE_RETRY_BUDGET_S": str(s.bridge_retry_budget_s),
            "TRACEFREEZE_BRIDGE_STATE_RATE": str(s.bridge_state_rate),
            "TRACEFREEZE_BRIDGE_STATE_BURST": str(s.bridge_state_burst),
            "TRACEFREEZE_BRIDGE_THROTTLE_WAIT_S": str(s.bridge_throttle_wait_s),
        }
    )


def _alive(pid: int) -> bool:
    """Running and not a zombie (a killed service is reparented; nobody may reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def _gone(pid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {pid} still alive {timeout_s:g}s after SIGKILL")
        await asyncio.sleep(0.05)


class App:
    """One ``tracefreeze worker`` or ``tracefreeze bridge`` process, restartable."""

    def __init__(
        self, s: Settings, kind: str, name: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.s, self.kind, self.name = s, kind, name or kind
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self._log: TextIO | None = None

    def start(self) -> App:
        assert not self.running, f"{self.name} already runs"
        log = self.s.state_dir / "logs" / f"{self.s.task_queue}-{self.name}-{len(self.logs)}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.logs.append(log)
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "tracefreeze", self.kind],
            env=app_env(self.s) | self.env,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def kill9(self) -> None:
        """SIGKILL: no shutdown, no final commit, no drained tasks."""
        assert self.proc is not None and self.running, f"{self.name} is not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        await self._reap(STOP_S)
        assert self.proc.returncode == -signal.SIGKILL

    async def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after ``STOP_S``; the exit code."""
        if self.proc is None:
            return None
        if self.running:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await self._reap(STOP_S)
            if self.running:
                self.proc.kill()
                await self._reap(STOP_S)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.proc.returncode

    async def _reap(self, timeout_s: float) -> None:
        assert self.proc is not None
        async with asyncio.timeout(timeout_s):
            while True:
                if self.proc.poll() is not None:
                    return
                await asyncio.sleep(0.05)

    def lines(self, generation: int | None = None) -> list[dict[str, Any]]:
        """The JSON log lines of one start (or of all), in order."""
        out: list[dict[str, Any]] = []
        for log in self.logs if generation is None else [self.logs[generation]]:
            for line in log.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if isinstance(entry, dict):
                        out.append(entry)
        return out

    def events(self, name: str, generation: int | None = None) -> list[dict[str, Any]]:
        return [e for e in self.lines(generation) if e.get("event") == name]

    def tail(self, n: int = 40) -> str:
        if not self.logs:
            return ""
        return "\n".join(self.logs[-1].read_text(errors="replace").splitlines()[-n:])


async def wait_logged(app: App, name: str, ok: Callable[[list[dict[str, Any]]], bool]) -> None:
    """Until the app's current run has logged ``name`` lines that satisfy ``ok``."""
    async with asyncio.timeout(WAIT_S):
        while not ok(app.events(name, generation=len(app.logs) - 1)):
            assert app.running, f"{app.name} exited:\n{app.tail()}"
            await asyncio.sleep(0.1)


async def bridge_ready(bridge: App) -> None:
    """Until the bridge was assigned partitions (it joined its consumer group)."""
    await wait_logged(bridge, "partitions assigned", lambda es: any(e["partitions"] for e in es))


def service_pid(s: Settings, name: str) -> int | None:
    """The pid of a stack service (``kafka`` or ``temporal``) from stack.sh's pid file."""
    path = s.state_dir / "run" / f"{name}.pid"
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


async def kill_service(s: Settings, name: str) -> int:
    """SIGKILL the stack's ``kafka`` or ``temporal`` by its pid file; its pid."""
    pid = service_pid(s, name)
    assert pid is not None, f"{name} is not running from {s.state_dir}"
    os.kill(pid, signal.SIGKILL)
    await _gone(pid, STOP_S)
    return pid


async def restart_services(s: Settings) -> str:
    """``stack.sh up`` with the stack's environment: starts what is down, waits for health."""
    result = await asyncio.to_thread(run_stack_sh, "up", s, 300)
    assert result.returncode == 0, f"stack.sh up failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout
