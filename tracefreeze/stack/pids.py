"""The stack's services found through their pid files only, never by name.

``<state dir>/run/<name>.pid`` holds the pid of a service started by ``up`` or ``apps-up``;
``<name>.addr`` the address it was started with. Every process the stack starts carries
``TRACEFREEZE_STATE_DIR=<its state dir>`` in its environment, so a pid file left over from a
crash never points at an unrelated process that reused the pid. One command at a time per
state dir (``locked``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from tracefreeze.stack.errors import StackError
from tracefreeze.stack.layout import Stack

LOCK_WAIT_S = 300.0


def alive(pid: int) -> bool:
    """Running and not a zombie (a killed service may wait to be reaped)."""
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


def pid_file(stack: Stack, name: str) -> Path:
    return stack.run_dir / f"{name}.pid"


def addr_file(stack: Stack, name: str) -> Path:
    return stack.run_dir / f"{name}.addr"


def forget(stack: Stack, name: str) -> None:
    pid_file(stack, name).unlink(missing_ok=True)
    addr_file(stack, name).unlink(missing_ok=True)


def record(stack: Stack, name: str, pid: int, address: str | None = None) -> None:
    pid_file(stack, name).write_text(f"{pid}\n")
    if address is not None:
        addr_file(stack, name).write_text(f"{address}\n")


def recorded_address(stack: Stack, name: str) -> str | None:
    """The address the running service was started with (first word of its addr file)."""
    with contextlib.suppress(OSError, IndexError):
        return addr_file(stack, name).read_text().split()[0]
    return None


def _ours(stack: Stack, pid: int) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self/environ").exists()  # no /proc: trust the pid file
    except OSError:
        return False
    return f"TRACEFREEZE_STATE_DIR={stack.state_dir}".encode() in environ.split(b"\0")


def running_pid(stack: Stack, name: str) -> int | None:
    """The service's pid if it runs from this state dir; a stale pid file is removed."""
    try:
        pid = int(pid_file(stack, name).read_text().strip())
    except (OSError, ValueError):
        pid = 0
    if pid > 0 and alive(pid) and _ours(stack, pid):
        return pid
    forget(stack, name)
    return None


def stop(stack: Stack, names: tuple[str, ...]) -> list[str]:
    """SIGTERM each running one, wait up to the stop timeout, then SIGKILL; one line each."""
    said: list[str] = []
    pids: dict[str, int] = {}
    for name in names:
        pid = running_pid(stack, name)
        if pid is None:
            said.append(f"{name}: not running")
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        pids[name] = pid
    deadline = time.monotonic() + stack.options.stop_timeout_s
    while pids:
        for name, pid in list(pids.items()):
            if not alive(pid):
                said.append(f"{name}: stopped (pid {pid})")
                forget(stack, name)
                del pids[name]
        if pids and time.monotonic() >= deadline:
            for name, pid in pids.items():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                said.append(
                    f"{name}: killed (pid {pid}, no exit "
                    f"{stack.options.stop_timeout_s:g}s after SIGTERM)"
                )
                forget(stack, name)
            break
        time.sleep(0.1)
    return said


@contextlib.contextmanager
def locked(stack: Stack) -> Iterator[None]:
    """One stack command at a time per state dir (``run/stack.lock``)."""
    stack.run_dir.mkdir(parents=True, exist_ok=True)
    with (stack.run_dir / "stack.lock").open("a") as lock:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StackError(f"another stack command holds {lock.name}") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
