"""Fault drills on the real stack: real processes, ``kill -9``, and an exact count at the end.

The processes of a drill:

- ``drill_app``: ``python -m tracefreeze worker|bridge`` as a child process
  (``tracefreeze.stack.process.App``) with the stack's environment (``stack_env``), its log in
  the stack's state dir; started, stopped (SIGTERM) and killed (SIGKILL) by its own pid.
- ``kill_service`` / ``restart_services``: the stack's Kafka broker and Temporal dev server,
  found through their pid files (``<state dir>/run/<name>.pid``), killed with SIGKILL and
  brought back by ``python -m tracefreeze.stack up`` with the same environment, which starts
  only what is down.
- the answer flow and its exact count: flow.py; what the drills read back from Kafka:
  topic_reads.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from tests.stack import isolated as isolated_settings
from tracefreeze.config import REPO_ROOT, Settings
from tracefreeze.security import identity
from tracefreeze.stack.isolated import kafka_security_env, run_cli, stack_env
from tracefreeze.stack.layout import Stack, StackOptions
from tracefreeze.stack.pids import alive, running_pid
from tracefreeze.stack.process import App

EXAMPLE = REPO_ROOT / "schemas" / "examples" / "court-request.json"
STATE = "NLD"
ASSET = "a-account-1"
AUTHORITY = "Fault-drill Central Authority"
MANAGER = "Fault-drill Asset Management Office"
SETUP_ANSWERS = 2
"""Acknowledgement + execution report (the asset frozen) per request, before the flow."""

N_REQUESTS = 6
"""One request per state-answers partition, so that every partition (and bridge) has work."""
ANSWERS_PER_REQUEST = 40
"""240 answers per drill."""
RATE_PER_S = 30.0
"""Pace of the flow, all requests together: about 8 s of answers."""

WAIT_S = 150.0
STOP_S = 30.0
PRODUCER_TIMEOUT_MS = 45_000
"""An idempotent send waits this long (retrying inside the producer) before failing for good."""

RESULTS: list[str] = []
"""One line per drill or flood, printed at the end of the run (``conftest.py``)."""


# --- settings and processes ---------------------------------------------------------------


def isolated(stack: Settings, name: str) -> Settings:
    """The stack with topics, task queue and consumer group of one drill alone."""
    return isolated_settings(stack, f"faults-{name}")


def app_env(s: Settings, kind: str = "worker") -> dict[str, str]:
    """The environment of a worker or bridge of ``s`` (addresses, topics, queue, group, and
    the bridge's retry budget and per-State answer budget), acting as its own principal where
    ``s`` acts with a token (``own_token``)."""
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
        | kafka_security_env(s)
        | own_token(s, kind)
    )


def own_token(s: Settings, kind: str) -> dict[str, str]:
    """The token of ``kind``'s principal beside the one ``s`` acts with (the cluster's
    tokens are one directory): the server lets only the workers' take tasks. None for the
    dev server, whose clients send no token."""
    subject = identity.APP_PRINCIPALS.get(kind)
    if s.temporal_token_file is None or subject is None:
        return {}
    own = s.temporal_token_file.with_name(f"{subject}.jwt")
    return {"TRACEFREEZE_TEMPORAL_TOKEN_FILE": str(own)} if own.exists() else {}


def drill_app(
    s: Settings,
    kind: str,
    name: str | None = None,
    env: dict[str, str] | None = None,
    health_port: int = 0,
) -> App:
    """``python -m tracefreeze <kind>`` of ``s`` (not started), restartable, its logs in the
    stack's state dir."""
    name = name or kind
    log = s.state_dir / "logs" / f"{s.task_queue}-{name}.log"
    argv = [sys.executable, "-m", "tracefreeze", kind]
    return App(name, argv, app_env(s, kind) | (env or {}), log, health_port=health_port)


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
    """The pid of a stack service (``kafka`` or ``temporal``) from its pid file."""
    return running_pid(Stack(s, StackOptions()), name)


async def kill_service(s: Settings, name: str) -> int:
    """SIGKILL the stack's ``kafka`` or ``temporal`` by its pid file; its pid."""
    pid = service_pid(s, name)
    assert pid is not None, f"{name} is not running from {s.state_dir}"
    os.kill(pid, signal.SIGKILL)
    async with asyncio.timeout(STOP_S):
        while True:  # a killed service may stay a zombie of ours: alive() says it is gone
            if not alive(pid):
                return pid
            await asyncio.sleep(0.05)


async def restart_services(s: Settings) -> str:
    """``python -m tracefreeze.stack up`` with the stack's environment: starts what is down,
    waits for health; its output."""
    result = await asyncio.to_thread(run_cli, "up", s, 300)
    assert result.returncode == 0, f"stack up failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


# --- requests and answers -----------------------------------------------------------------
