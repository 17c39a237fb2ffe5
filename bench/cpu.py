"""CPU seconds a process spent, to divide by the work it did: what one firing asks of the
worker and of the server, on the product's side and on the bare engine's, in the same run.

A rate (firings per second) moves by half between runs of the same code on a shared
two-core machine; the CPU a process spent per unit of work moves far less, since it counts
what was done rather than when. Read from ``/proc/<pid>/stat`` (Linux; ``None`` elsewhere or
once the process is gone): user and system time, the process's own threads only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from tracefreeze.stack.process import status_kib

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
IDLE_SHARE = 0.03
"""A worker spending under 3% of a core over ``IDLE_WINDOW_S`` has finished its work."""
IDLE_WINDOW_S = 1.0
BUSY_SHARE = 0.2
"""A window of a fifth of a core or more is work begun (``until_idle(busy_first=True)``): a
worker holding thousands of cached workflows spends a few percent of a core on its own
between tasks, which once closed a bare firing's window before the firing had begun."""
IDLE_CAP_S = 60.0
"""The longest a CPU window waits for its worker to be idle once its work is known done."""
FIRING_CAP_S = 600.0
"""The longest a bare firing's CPU window waits for its worker to be busy and then idle."""


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of ``pid`` so far."""
    if pid is None:
        return None
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces and parentheses
        return (int(fields[11]) + int(fields[12])) / TICKS
    return None


def window(worker_pid: int | None, state_dir: Path) -> CpuWindow:
    """A window over the worker, the dev server and this process (the benchmark's client)."""
    return CpuWindow({"worker": worker_pid, "server": server_pid(state_dir), "client": os.getpid()})


def server_pid(state_dir: Path) -> int | None:
    """The Temporal server's pid as the stack recorded it (``run/temporal.pid``), or ``None``
    if the pid file is gone. On the cluster that is the Temporal process alone: PostgreSQL,
    where its visibility and history writes land, is not counted. Read plainly rather than
    through ``tracefreeze.stack.pids.running_pid``: that one removes a pid file whose process
    does not carry this state dir in its environment, which a measurement must never do to
    the cluster's own server."""
    with contextlib.suppress(OSError, ValueError):
        return int((state_dir / "run" / "temporal.pid").read_text().strip())
    return None


def peak_rss_mib(pid: int | None) -> float | None:
    """The peak resident memory of ``pid`` over its life so far (``VmHWM``), in MiB."""
    kib = status_kib(pid, "VmHWM")
    return None if kib is None else kib / 1024


async def until_idle(pid: int | None, cap_s: float, busy_first: bool = False) -> bool:
    """Whether ``pid`` went idle (under ``IDLE_SHARE`` of a core over ``IDLE_WINDOW_S``: the
    tasks after the last publishing round have run) before ``cap_s``; with ``busy_first``,
    idle only after it was seen busy, ``BUSY_SHARE`` of a core over a window (work that has
    yet to begin is not its end)."""
    deadline = time.monotonic() + cap_s
    before, busy = cpu_seconds(pid), not busy_first
    while before is not None and time.monotonic() < deadline:
        await asyncio.sleep(IDLE_WINDOW_S)
        after = cpu_seconds(pid)
        if after is None:
            return False
        idle = after - before < IDLE_SHARE * IDLE_WINDOW_S
        if idle and busy:
            return True
        busy = busy or after - before >= BUSY_SHARE * IDLE_WINDOW_S
        before = after
    return False


@dataclass
class CpuWindow:
    """The CPU seconds each process (name → pid: the worker, the server, the benchmark's own
    client) spent between ``open`` and ``close``, and the window's wall seconds."""

    pids: dict[str, int | None]
    spent: dict[str, float | None] = field(default_factory=dict)
    wall_s: float = 0.0

    def open(self) -> None:
        self.spent = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.wall_s = time.monotonic()

    def close(self) -> None:
        self.spent = {
            name: _spent(self.spent.get(name), cpu_seconds(pid)) for name, pid in self.pids.items()
        }
        self.wall_s = time.monotonic() - self.wall_s

    def per(self, count: int, prefix: str = "") -> dict[str, float | None]:
        """Milliseconds of each process's CPU per unit of work (``count`` firings or starts),
        as ``<prefix><name>_cpu_ms``, and the window's length as ``<prefix>cpu_window_s``."""
        out = {f"{prefix}{name}_cpu_ms": _ms(s, count) for name, s in self.spent.items()}
        return out | {f"{prefix}cpu_window_s": self.wall_s}


def _spent(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


def _ms(seconds: float | None, count: int) -> float | None:
    return seconds / count * 1000 if seconds is not None and count > 0 else None
