"""The benchmark's own stack: Temporal dev server + Kafka on free ports, its own state dir.

Same approach as ``tests/stack.py``: ``deploy/local/stack.sh up`` with the ``TRACEFREEZE_*``
variables pointing at free ports and a fresh state directory (the Kafka jars come from the
repository's shared cache), so a developer's stack on the default ports is never touched.
The worker and bridge run as child processes (``python -m bench.apps``), so that their RSS
can be read and a profiler can be switched on in them; they are stopped by their pid only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tracefreeze.config import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_SH = REPO_ROOT / "deploy" / "local" / "stack.sh"
CACHE_DIR = Path(os.environ.get("TRACEFREEZE_CACHE_DIR", REPO_ROOT / ".state" / "cache"))
PYTHON = os.environ.get("TRACEFREEZE_PYTHON", sys.executable)
HOST = "127.0.0.1"
UP_TIMEOUT_S = 900  # a cold Maven cache fetches ~90 jars
DOWN_TIMEOUT_S = 120
APP_STOP_TIMEOUT_S = 30


class StackError(RuntimeError):
    """``stack.sh`` or an app process failed."""


def free_ports(count: int) -> list[int]:
    """Distinct ports that were free a moment ago (all held open together while picked)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]


def new_settings(state_dir: Path) -> Settings:
    temporal, ui, kafka, controller = free_ports(4)
    return Settings(
        temporal_address=f"{HOST}:{temporal}",
        temporal_ui_port=ui,
        kafka_bootstrap=f"{HOST}:{kafka}",
        kafka_controller_port=controller,
        state_dir=state_dir,
    )


def stack_env(settings: Settings) -> dict[str, str]:
    """The ``TRACEFREEZE_*`` variables that point stack.sh and the apps at ``settings``."""
    return {
        "TRACEFREEZE_TEMPORAL_ADDRESS": settings.temporal_address,
        "TRACEFREEZE_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TRACEFREEZE_TEMPORAL_UI_PORT": str(settings.temporal_ui_port),
        "TRACEFREEZE_TEMPORAL_HEADLESS": "1",
        # A disposable server: SQLite in WAL mode without fsync (safe against a killed
        # process, not against a power cut). The baselines run on the same server.
        "TRACEFREEZE_TEMPORAL_SQLITE_PRAGMAS": "journal_mode=WAL synchronous=OFF",
        "TRACEFREEZE_HEALTH_PORT": "0",  # worker and bridge on one host cannot share 8080
        "TRACEFREEZE_TASK_QUEUE": settings.task_queue,
        "TRACEFREEZE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "TRACEFREEZE_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "TRACEFREEZE_KAFKA_TIMEOUT_S": str(settings.kafka_timeout_s),
        "TRACEFREEZE_BRIDGE_GROUP_ID": settings.bridge_group_id,
        "TRACEFREEZE_STATE_DIR": str(settings.state_dir),
        "TRACEFREEZE_CACHE_DIR": str(CACHE_DIR),
        "TRACEFREEZE_PYTHON": PYTHON,
    }


def _stack_sh(command: str, settings: Settings, timeout_s: float) -> None:
    result = subprocess.run(
        [str(STACK_SH), command],
        env={**os.environ, **stack_env(settings)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"`stack.sh {command}` exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )


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
    settings = new_settings(state_dir)
    env = stack_env(settings)
    saved = {name: os.environ.get(name) for name in env}
    stack = BenchStack(settings, env)
    try:
        _stack_sh("up", settings, UP_TIMEOUT_S)
        os.environ.update(env)
        get_settings.cache_clear()
        yield stack
    finally:
        stack.stop_apps()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        try:
            _stack_sh("down", settings, DOWN_TIMEOUT_S)
        except (StackError, subprocess.TimeoutExpired) as err:
            print(f"bench: stopping the stack failed: {err}", file=sys.stderr)
        if not keep_state:
            shutil.rmtree(state_dir, ignore_errors=True)
