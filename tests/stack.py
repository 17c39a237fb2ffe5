"""An isolated real stack for the tests: Temporal dev server (with its web UI) + Kafka broker
on free ports.

``running_stack`` runs ``deploy/local/stack.sh up`` with its own ports and state dir (the
Kafka jars come from the repository's shared cache), so the suite runs beside a developer's
stack on the default ports. While it runs, ``os.environ`` carries the same addresses
(``stack_env``), so ``get_settings()`` and child processes such as ``tracefreeze bridge``
reach the test stack. ``stack.sh up`` makes the stack's own keys in its state dir (demo
State signing keys + registry, payload codec key): the bridge verifies, the simulator and
``tests/signed.py`` sign, and every client and worker of the stack encrypts its history.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from tracefreeze.config import Settings, Topics, get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_SH = REPO_ROOT / "deploy" / "local" / "stack.sh"
CACHE_DIR = Path(os.environ.get("TRACEFREEZE_CACHE_DIR", REPO_ROOT / ".state" / "cache"))
PYTHON = os.environ.get("TRACEFREEZE_PYTHON", sys.executable)
HOST = "127.0.0.1"
UP_TIMEOUT_S = 900  # a cold Maven cache fetches ~90 jars
DOWN_TIMEOUT_S = 120


def free_ports(count: int) -> list[int]:
    """Distinct ports that were free a moment ago (all held open together while picked)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]


def new_settings(state_dir: Path) -> Settings:
    """Settings of a new isolated stack: free ports, the given state dir."""
    temporal, ui, kafka, controller, codec = free_ports(5)
    return Settings(
        temporal_address=f"{HOST}:{temporal}",
        temporal_ui_port=ui,
        codec_port=codec,
        kafka_bootstrap=f"{HOST}:{kafka}",
        kafka_controller_port=controller,
        state_dir=state_dir,
        health_port=0,  # no /metrics or probes unless a test asks for them on a free port
    )


def stack_env(settings: Settings, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The ``TRACEFREEZE_*`` variables that point stack.sh and child processes at ``settings``
    (``overrides`` last: the benchmark's stack, for one, runs headless)."""
    return {
        "TRACEFREEZE_TEMPORAL_ADDRESS": settings.temporal_address,
        "TRACEFREEZE_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TRACEFREEZE_TEMPORAL_UI_PORT": str(settings.temporal_ui_port),
        "TRACEFREEZE_CODEC_PORT": str(settings.codec_port),
        "TRACEFREEZE_TEMPORAL_HEADLESS": "0",  # the UI, on its own free port, for tests/ui
        "TRACEFREEZE_HEALTH_PORT": str(settings.health_port),
        "TRACEFREEZE_TASK_QUEUE": settings.task_queue,
        "TRACEFREEZE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "TRACEFREEZE_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "TRACEFREEZE_KAFKA_TIMEOUT_S": str(settings.kafka_timeout_s),
        "TRACEFREEZE_BRIDGE_GROUP_ID": settings.bridge_group_id,
        "TRACEFREEZE_STATE_DIR": str(settings.state_dir),
        "TRACEFREEZE_CACHE_DIR": str(CACHE_DIR),
        "TRACEFREEZE_PYTHON": PYTHON,
        "TRACEFREEZE_TOPICS__STATE_ANSWERS": settings.topics.state_answers,
        "TRACEFREEZE_TOPICS__REQUEST_EVENTS": settings.topics.request_events,
        "TRACEFREEZE_TOPICS__ESCALATIONS": settings.topics.escalations,
        "TRACEFREEZE_TOPICS__DEAD_LETTER": settings.topics.dead_letter,
        "TRACEFREEZE_TOPICS__PARTY_CHANNELS": settings.topics.party_channels,
        **(overrides or {}),
    }


def isolated(stack: Settings, prefix: str) -> Settings:
    """The stack with a task queue, consumer group and topics of one test alone."""
    tag = f"{prefix}-{uuid.uuid4().hex[:10]}"
    return stack.model_copy(
        update={
            "task_queue": tag,
            "bridge_group_id": tag,
            "topics": Topics(
                state_answers=f"{tag}.state-answers",
                request_events=f"{tag}.request-events",
                escalations=f"{tag}.escalations",
                dead_letter=f"{tag}.dead-letter",
                party_channels=f"{tag}.party",
            ),
        }
    )


def run_stack_sh(
    command: str,
    settings: Settings,
    timeout_s: float = UP_TIMEOUT_S,
    overrides: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``stack.sh <command>`` against ``settings``; output captured, never raises on rc."""
    return subprocess.run(
        [str(STACK_SH), command],
        env={**os.environ, **stack_env(settings, overrides)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


class StackError(RuntimeError):
    """``stack.sh`` failed."""


def _describe(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"`stack.sh {result.args[-1]}` exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    )


@contextlib.contextmanager
def running_stack(state_dir: Path, overrides: dict[str, str] | None = None) -> Iterator[Settings]:
    """Start an isolated stack, export its environment, stop it on exit (state is kept)."""
    settings = new_settings(state_dir)
    env = stack_env(settings, overrides)
    saved = {name: os.environ.get(name) for name in env}
    try:
        result = run_stack_sh("up", settings, overrides=overrides)
        if result.returncode != 0:
            raise StackError(_describe(result))
        os.environ.update(env)
        get_settings.cache_clear()
        yield settings
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        result = run_stack_sh("down", settings, DOWN_TIMEOUT_S, overrides)
        if result.returncode != 0:
            print(_describe(result), file=sys.stderr)
