"""``App``: one process of the stack (a worker, a bridge, the codec server, a benchmark's app),
its output in a log file, found and stopped by its own pid.

The one process helper of ``apps-up``, the tests (``tests/ops.py``), the fault drills
(``tests/faults/drill.py``) and the benchmark (``bench/stack.py``). An app can be started
again after it stopped or was killed; each start writes its own log (``<log>``, then
``<log stem>-1.log``...), so what one run logged can be read apart (``lines(generation)``).
``detached`` puts it in a session of its own: it outlives the command that started it
(``make apps-up``), which then stops it through its pid file (``tracefreeze.stack.pids``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from signal import SIGKILL, SIGTERM
from typing import Any, TextIO

from tracefreeze.config import REPO_ROOT

STOP_S = 30.0


class App:
    """One restartable child process; ``health_port`` (0 = none) is its /metrics and probes."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log: Path,
        *,
        health_port: int = 0,
        detached: bool = False,
    ) -> None:
        self.name, self.argv, self.log, self.detached = name, list(argv), log, detached
        self.health_port = health_port
        self.env = dict(env) | {"TRACEFREEZE_HEALTH_PORT": str(health_port)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self._out: TextIO | None = None

    def start(self) -> App:
        assert not self.running, f"{self.name} already runs"
        n = len(self.logs)
        log = self.log if n == 0 else self.log.with_name(f"{self.log.stem}-{n}{self.log.suffix}")
        log.parent.mkdir(parents=True, exist_ok=True)
        self.logs.append(log)
        self._close()
        self._out = log.open("a")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
            stdout=self._out, stderr=subprocess.STDOUT, start_new_session=self.detached,
        )  # fmt: skip
        if self.detached:
            self._close()  # the child writes through its own copy; nobody here reads on
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.running:
            self.proc.send_signal(sig)

    async def stop(self, sig: int = SIGTERM, timeout_s: float = STOP_S) -> int | None:
        """``sig`` (SIGTERM: drain and exit), SIGKILL if it overstays; the exit code."""
        if self.proc is None:
            return None
        self.signal(sig)
        with contextlib.suppress(TimeoutError):
            await self._reap(timeout_s)
        if self.running:
            self.proc.kill()
            await self._reap(STOP_S)
        self._close()
        return self.proc.returncode

    async def kill9(self) -> None:
        """SIGKILL: no shutdown, no final commit, no drained tasks."""
        assert self.proc is not None and self.running, f"{self.name} is not running"
        self.proc.kill()
        await self._reap(STOP_S)
        assert self.proc.returncode == -SIGKILL

    async def _reap(self, timeout_s: float) -> None:
        assert self.proc is not None
        async with asyncio.timeout(timeout_s):
            while True:
                if self.proc.poll() is not None:
                    return
                await asyncio.sleep(0.05)

    def _close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def text(self, generation: int = -1) -> str:
        """What one start (the latest by default) wrote so far."""
        if not self.logs:
            return ""
        with contextlib.suppress(OSError):
            return self.logs[generation].read_text(errors="replace")
        return ""

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-n:])

    def lines(self, generation: int | None = None) -> list[dict[str, Any]]:
        """The JSON log lines of one start (or of all), in order; anything else is skipped."""
        found: list[dict[str, Any]] = []
        for g in range(len(self.logs)) if generation is None else [generation]:
            for line in self.text(g).splitlines():
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if isinstance(entry, dict):
                        found.append(entry)
        return found

    def events(self, name: str, generation: int | None = None) -> list[dict[str, Any]]:
        return [e for e in self.lines(generation) if e.get("event") == name]

    def rss_bytes(self) -> int | None:
        """Resident set size from /proc (Linux); None if the process is gone."""
        if self.proc is None:
            return None
        kib = status_kib(self.pid, "VmRSS")
        return None if kib is None else kib * 1024


def status_kib(pid: int | None, field: str) -> int | None:
    """A memory figure of ``/proc/<pid>/status`` in KiB (``VmRSS``, ``VmHWM``: the peak);
    None off Linux or once the process is gone."""
    if pid is None:
        return None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return None
