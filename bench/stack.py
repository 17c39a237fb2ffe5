"""The benchmark's own stack: Temporal dev server + Kafka on free ports, its own state dir.

The tests' isolated stack (``tests/stack.py``: ``deploy/local/stack.sh up`` on free ports with
a fresh state directory, so a developer's stack on the default ports is never touched), run
headless and with ``BENCH_ENV``.
The worker and bridge run as child processes (``python -m bench.apps``), so that their RSS
can be read and a profiler can be switched on in them; they are stopped by their pid only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.stack import PYTHON, REPO_ROOT, StackError, free_ports, stack_env
from tests.stack import running_stack as isolated_stack
from tracefreeze.config import Settings

APP_STOP_TIMEOUT_S = 30
BENCH_ENV = {
    "TRACEFREEZE_TEMPORAL_HEADLESS": "1",
    # A disposable server: SQLite in WAL mode without fsync (safe against a killed
    # process, not against a power cut). The baselines run on the same server.
    "TRACEFREEZE_TEMPORAL_SQLITE_PRAGMAS": "journal_mode=WAL synchronous=OFF",
}
"""What the benchmark's stack does differently from the tests' (``tests/stack.py``)."""


@dataclass
class App:
    """A worker, bridge or trivial worker process started by the benchmark."""

    kind: str
    proc: subprocess.Popen[bytes]
    log: Path
    started_at: float

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_bytes(self) -> int | None:
        """Resident set size from /proc (Linux); None if the process is gone."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout_s: float = APP_STOP_TIMEOUT_S) -> int | None:
        """SIGINT (graceful drain, profile written), then SIGKILL after ``timeout_s``."""
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class BenchStack:
    """A running isolated stack and the apps started on it."""

    settings: Settings
    env: dict[str, str]
    apps: list[App] = field(default_factory=list)
    counter: int = 0

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
        log.parent.mkdir(parents=True, exist_ok=True)
        # Its own free port for the probes and metrics (on, as in production).
        own = {"TRACEFREEZE_HEALTH_PORT": str(free_ports(1)[0])}
        if task_queue:
            own["TRACEFREEZE_TASK_QUEUE"] = task_queue
        env = {**os.environ, **self.env, **own, **(extra_env or {})}
        args = [PYTHON, "-m", "bench.apps", kind]
        if profile is not None:
            args += ["--profile", str(profile)]
            if profile_on_signal:
                args.append("--profile-on-signal")
        with log.open("wb") as out:
            proc = subprocess.Popen(
                args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        app = App(kind, proc, log, time.time())
        self.apps.append(app)
        if wait_for:
            deadline = time.monotonic() + timeout_s
            while wait_for not in app.log.read_text(errors="replace"):
                if not app.alive():
                    raise StackError(f"{kind} exited {app.proc.returncode}:\n{app.log_tail()}")
                if time.monotonic() > deadline:
                    app.stop()
                    raise StackError(f"{kind} did not start in {timeout_s:g}s:\n{app.log_tail()}")
                time.sleep(0.05)
        return app

    def stop_apps(self) -> None:
        for app in self.apps:
            app.stop()
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
                stack.stop_apps()
    finally:
        if not keep_state:
            shutil.rmtree(state_dir, ignore_errors=True)
