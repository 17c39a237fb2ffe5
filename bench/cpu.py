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

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
IDLE_SHARE = 0.03
"""A worker spending under 3% of a core over ``IDLE_WINDOW_S`` has finished its work."""
IDLE_WINDOW_S = 1.0
IDLE_CAP_S = 60.0
"""The longest a CPU window waits for its worker to be idle."""


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
    """The dev server's pid as the isolated stack recorded it; ``None`` on the cluster (its
    server is several processes) or if the pid file is gone."""
    with contextlib.suppress(OSError, ValueError):
        return int((state_dir / "run" / "temporal.pid").read_text().strip())
    return None


async def until_idle(pid: int | None, cap_s: float) -> None:
    """Return once ``pid`` spent under ``IDLE_SHARE`` of a core over ``IDLE_WINDOW_S`` (the
    tasks after the last firing's publishing round have run), or after ``cap_s``."""
    deadline = time.monotonic() + cap_s
    before = cpu_seconds(pid)
    while before is not None and time.monotonic() < deadline:
        await asyncio.sleep(IDLE_WINDOW_S)
        after = cpu_seconds(pid)
        if after is None or after - before < IDLE_SHARE * IDLE_WINDOW_S:
            return
        before = after


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
