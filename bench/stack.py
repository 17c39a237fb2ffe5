"""The benchmark's own stack: Temporal dev server + Kafka on free ports, its own state dir.

The tests' isolated stack (``tracefreeze.stack.isolated``: on free ports with a fresh state
directory, so a developer's stack on the configured ports is never touched), run headless and
with ``BENCH_ENV``. The worker and bridge run as child processes (``python -m bench.apps``,
``tracefreeze.stack.process.App``), so that their RSS can be read and a profiler can be
switched on in them; they are stopped by their pid only (SIGTERM: drain, profile written).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tracefreeze.config import Settings
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.isolated import running_stack as isolated_stack
from tracefreeze.stack.isolated import stack_env
from tracefreeze.stack.ports import free_ports
from tracefreeze.stack.process import App

if TYPE_CHECKING:
    from tracefreeze.stack.cluster.layout import Cluster

BENCH_ENV = {
    "TRACEFREEZE_TEMPORAL_HEADLESS": "1",
    # A disposable server: SQLite in WAL mode without fsync (safe against a killed
    # process, not against a power cut). The baselines run on the same server.
    "TRACEFREEZE_TEMPORAL_SQLITE_PRAGMAS": "journal_mode=WAL synchronous=OFF",
}
"""What the benchmark's stack does differently from the tests' (``tests/conftest.py``)."""


@dataclass
class BenchStack:
    """A running isolated stack and the apps started on it."""

    settings: Settings
    env: dict[str, str]
    apps: list[App] = field(default_factory=list)
    counter: int = 0
    principals: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per app kind, the Kafka principal's variables it runs with (the cluster's workers and
    bridges as ``tracefreeze-worker`` / ``tracefreeze-bridge``, as in production)."""

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir

    def start_app(
        self,
        kind: str,
        task_queue: str | None = None,
        profile: Path | None = None,
        profile_on_signal: bool = False,
        extra_env: dict[str, str] | None = None,
        wait_for: str | None = "started",
        timeout_s: float = 60.0,
    ) -> App:
        """``python -m bench.apps <kind>``; waits until its log says ``wait_for``."""
        self.counter += 1
        log = self.state_dir / "logs" / f"bench-{kind}-{self.counter}.log"
        own = {"TRACEFREEZE_TASK_QUEUE": task_queue} if task_queue else {}
        principal = self.principals.get(kind, {})
        env = {**os.environ, **self.env, **principal, **own, **(extra_env or {})}
        args = [sys.executable, "-m", "bench.apps", kind]
        if profile is not None:
            args += ["--profile", str(profile)]
            if profile_on_signal:
                args.append("--profile-on-signal")
        # Its own free port for the probes and metrics (on, as in production).
        app = App(kind, args, env, log, health_port=free_ports(1)[0]).start()
        self.apps.append(app)
        if wait_for:
            deadline = time.monotonic() + timeout_s
            while wait_for not in app.text():
                if not app.running:
                    raise StackError(f"{kind} exited {app.returncode}:\n{app.tail()}")
                if time.monotonic() > deadline:
                    app.signal(signal.SIGKILL)
                    raise StackError(f"{kind} did not start in {timeout_s:g}s:\n{app.tail()}")
                time.sleep(0.05)
        return app

    async def stop_apps(self) -> None:
        for app in self.apps:
            await app.stop()
        self.apps.clear()


@contextlib.contextmanager
def running_stack(keep_state: bool = False) -> Iterator[BenchStack]:
    """Start an isolated stack in a fresh state dir; stop it (and its apps) on exit."""
    state_dir = Path(tempfile.mkdtemp(prefix="tracefreeze-bench-"))
    try:
        with isolated_stack(state_dir, BENCH_ENV) as settings:
            stack = BenchStack(settings, stack_env(settings, BENCH_ENV))
            try:
                yield stack
            finally:
                for app in stack.apps:  # whatever a benchmark left running
                    app.signal(signal.SIGKILL)
    finally:
        if not keep_state:
            shutil.rmtree(state_dir, ignore_errors=True)


def cluster_principals(cluster: Cluster) -> dict[str, dict[str, str]]:
    """Each app kind's Kafka principal and Temporal token on the secured cluster (a
    ``Cluster``). The product's worker and bridge run as
    their own principals, as in production. The bare worker takes tasks, which only the
    workers' Temporal token may, but sends to the bare engine's topics, which the benchmark
    creates as ``admin`` and no worker ACL names: the worker's token, ``admin``'s Kafka user.
    (With the worker's Kafka user every bare send was refused, ``TopicAuthorizationFailed``,
    and baseline (c) and the bare starts and timers that publish could not run here.)"""
    from tracefreeze.stack.cluster import apps

    return {
        "worker": apps.principal_env(cluster, "worker"),
        "bridge": apps.principal_env(cluster, "bridge"),
        "trivial-worker": apps.principal_env(cluster, "worker") | cluster.kafka_env(),
    }


@contextlib.contextmanager
def running_cluster(keep_state: bool = False) -> Iterator[BenchStack]:
    """The production-shaped cluster (``tracefreeze.stack.cluster``: the Temporal server on
    PostgreSQL, three brokers, topics replicated 3 with ``min.insync.replicas=2``) in a fresh
    dir, services only (the benchmarks start their own apps). The brokers speak SASL/SCRAM
    over TLS only and enforce the ACLs, as ``make cluster-up``'s: the benchmark's own clients
    (the State's producer, offsets, the bare engine's topics) connect as ``admin``, its
    workers and bridges as the product's principals (``tracefreeze.stack.cluster.apps``),
    every client through the product's settings (``tracefreeze.security.kafka_security``).
    Needs the Temporal build in the cache."""
    from tracefreeze.stack.cluster import build, control
    from tracefreeze.stack.cluster.layout import Cluster
    from tracefreeze.stack.isolated import exported
    from tracefreeze.stack.layout import StackOptions

    cache = StackOptions().cache_dir
    if not build.cached(cache):
        raise StackError(f"no Temporal build in {cache}: run `{build.BUILD_COMMAND}` first")
    state_dir = Path(tempfile.mkdtemp(prefix="tracefreeze-bench-cluster-"))
    own = {"TRACEFREEZE_CLUSTER_DIR": str(state_dir), "TRACEFREEZE_CLUSTER_SECURED": "1"}
    try:
        with exported(own):
            cluster = Cluster.from_env(create=True)
            control.up(cluster, with_apps=False)
            settings = cluster.client_settings()
            env = stack_env(settings, {"TRACEFREEZE_TEMPORAL_HEADLESS": "1", **own})
            env |= cluster.kafka_env()
            stack = BenchStack(settings, env, principals=cluster_principals(cluster))
            try:
                with exported(env):
                    yield stack
            finally:
                for app in stack.apps:
                    app.signal(signal.SIGKILL)
                control.down(cluster)
    finally:
        if not keep_state:
            shutil.rmtree(state_dir, ignore_errors=True)
