"""Where the production-shaped cluster lives and on which ports: ``Cluster``.

Everything lives under ``TRACEFREEZE_CLUSTER_DIR`` (``<repo>/.state/cluster``): ``ports.json``
(the ports picked free at the first ``cluster-up`` and kept, so that the brokers' quorum and
PostgreSQL's data find each other again after a restart), ``run/`` (pid files, lock),
``logs/``, ``postgres/`` (data dir, owned by the ``postgres`` user when run as root),
``temporal/`` and ``temporal-ui/`` (generated server configs), ``tls/`` (the local CA and
certificates), ``kafka/`` (one data dir per broker), ``keys/`` (the
demo State keys and the codec key) and ``cluster.env`` (the ``TRACEFREEZE_*`` addresses of the
cluster, for the demo and any client). The built Temporal server and schema tool are cached in
``<TRACEFREEZE_CACHE_DIR>/temporal-<version>/``, the UI server in ``ui-server-<version>/``,
beside the Kafka jars.

The variables (besides ``TRACEFREEZE_CACHE_DIR``):

  TRACEFREEZE_CLUSTER_DIR          the cluster's state               (<repo>/.state/cluster)
  TRACEFREEZE_CLUSTER_KAFKA_HEAP   max heap of each broker           (384m)
  TRACEFREEZE_CLUSTER_TIMEOUT_S    wait for each part's health, s    (300)
  TRACEFREEZE_CLUSTER_STOP_TIMEOUT_S  wait after SIGTERM, s          (30)
  TRACEFREEZE_CLUSTER_SECURED      1 = the brokers speak SASL/SCRAM over TLS only, with the
                                   ACLs of deploy/kafka-security.md, and the Temporal server
                                   mutual TLS (frontend and internode) (1); 0 = plain text
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tracefreeze.config import REPO_ROOT, Settings
from tracefreeze.security.identity import token_file
from tracefreeze.stack.isolated import kafka_security_env
from tracefreeze.stack.layout import Stack, StackOptions
from tracefreeze.stack.ports import HOST, taken

BROKERS = 3
WORKERS = 2
BRIDGES = 2
NAMESPACE = "tracefreeze"
"""The namespace of deploy/k8s (temporal-values.yaml, configmap.yaml); checked by a test."""


class ClusterOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRACEFREEZE_CLUSTER_", extra="ignore")

    dir: Path = REPO_ROOT / ".state" / "cluster"
    kafka_heap: str = "384m"
    timeout_s: float = 300.0
    stop_timeout_s: float = 30.0
    secured: bool = True


LOW_PORTS = range(20000, 32768)


def low_free_ports(count: int) -> list[int]:
    """Distinct ports below 32768 that nothing listens on now (random, then checked)."""
    chosen: list[int] = []
    rng = random.SystemRandom()
    while len(chosen) < count:
        port = rng.choice(LOW_PORTS)
        if port not in chosen and not taken(HOST, port):
            chosen.append(port)
    return chosen


class Ports(BaseModel):
    """Every port of the cluster, picked free once (``ports.json``)."""

    postgres: int
    frontend: int
    frontend_http: int
    frontend_membership: int
    history: int
    history_membership: int
    matching: int
    matching_membership: int
    internal_worker: int
    internal_worker_membership: int
    temporal_metrics: int
    brokers: list[int]
    controllers: list[int]
    codec: int
    workers: list[int]
    bridges: list[int]
    temporal_ui: int = 0
    """The Temporal UI server's HTTP port (0 in a ports.json older than it: picked then)."""

    @classmethod
    def pick(cls) -> Ports:
        """Free ports, all below 32768, outside the kernel's ephemeral range (32768-60999).
        Temporal's because PostgreSQL's schema keeps a membership port in a ``smallint`` (the
        server dies at start on a port of the ephemeral range); every other one because a
        port of that range picked now can be taken before its process starts: by the
        ephemeral port another app binds at run time (the SDK's metrics endpoint of
        ``tracefreeze/ops/metrics.py``), as a worker took its twin's health port once."""
        every = low_free_ports(11 + 1 + 2 * BROKERS + WORKERS + BRIDGES + 1)
        temporal, free = iter(every[:11]), iter(every[11:])
        single = {name: next(temporal) for name in list(cls.model_fields)[1:11]}
        return cls(
            postgres=next(free),
            **single,
            brokers=[next(free) for _ in range(BROKERS)],
            controllers=[next(free) for _ in range(BROKERS)],
            codec=next(free),
            workers=[next(free) for _ in range(WORKERS)],
            bridges=[next(free) for _ in range(BRIDGES)],
            temporal_ui=next(temporal),
        )

    def one_more_low_port(self) -> int:
        """A free port below 32768 that is none of these."""
        ours = {
            port for value in self.model_dump().values()
            for port in (value if isinstance(value, list) else [value])
        }  # fmt: skip
        while (port := low_free_ports(1)[0]) in ours:
            pass
        return port


@dataclass(frozen=True)
class Cluster:
    """One cluster: its options, its ports, and a ``Stack`` view of it (pid files, keys and
    the processes' environment work as for the dev stack)."""

    options: ClusterOptions
    ports: Ports

    @classmethod
    def from_env(cls, create: bool = False) -> Cluster:
        """The cluster of ``TRACEFREEZE_CLUSTER_DIR``; ``create``: pick its ports if new."""
        options = ClusterOptions()
        directory = options.dir.resolve()
        options = options.model_copy(update={"dir": directory})
        path = directory / "ports.json"
        if path.exists():
            ports = Ports.model_validate_json(path.read_text())
            if not ports.temporal_ui:  # a cluster made before its UI server: one port more
                ports = ports.model_copy(update={"temporal_ui": ports.one_more_low_port()})
                if create:
                    path.write_text(ports.model_dump_json(indent=2) + "\n")
        else:
            ports = Ports.pick()
            if create:
                directory.mkdir(parents=True, exist_ok=True)
                path.write_text(ports.model_dump_json(indent=2) + "\n")
        return cls(options, ports)

    @property
    def dir(self) -> Path:
        return self.options.dir

    @property
    def temporal_tls(self) -> dict[str, Any]:
        """The ``Settings`` fields of a Temporal client of this cluster: mutual TLS with the
        cluster's client certificate when secured (``temporal_certs``), else none."""
        if not self.options.secured:
            return {}
        from tracefreeze.stack.cluster import temporal_certs

        return temporal_certs.client_settings(self)

    @property
    def settings(self) -> Settings:
        """The cluster's addresses, as a Temporal client (TLS when secured) and a PLAINTEXT
        Kafka client (``client_settings``: as a Kafka principal)."""
        p = self.ports
        return Settings(
            temporal_address=f"{HOST}:{p.frontend}",
            temporal_namespace=NAMESPACE,
            kafka_bootstrap=",".join(f"{HOST}:{port}" for port in p.brokers),
            kafka_controller_port=p.controllers[0],
            codec_port=p.codec,
            temporal_ui_port=p.temporal_ui,
            state_dir=self.dir,
            health_port=0,
            **self.temporal_tls,
            temporal_token_file=token_file(self.dir, "registry-officer"),  # authorization.py
        )

    def client_settings(self, user: str = "admin") -> Settings:
        """``settings`` as the Kafka principal ``user`` (SASL/SCRAM over TLS when secured)."""
        base = self.settings
        if not self.options.secured:
            return base
        from tracefreeze.security.kafka_acls import ensure_users

        return base.model_copy(
            update={
                "kafka_security_protocol": "SASL_SSL",
                "kafka_sasl_mechanism": "SCRAM-SHA-512",
                "kafka_sasl_username": user,
                "kafka_sasl_password": SecretStr(ensure_users(base)[user]),
                "kafka_ssl_cafile": self.dir / "tls" / "ca.crt",
            }
        )

    def kafka_env(self, user: str = "admin") -> dict[str, str]:
        """The ``TRACEFREEZE_KAFKA_*`` security variables of the principal ``user``."""
        return kafka_security_env(self.client_settings(user))

    @property
    def stack(self) -> Stack:
        options = StackOptions(temporal_headless=True, stop_timeout_s=self.options.stop_timeout_s)
        return Stack(self.settings, options)

    @property
    def cache_dir(self) -> Path:
        return self.stack.options.cache_dir

    @property
    def log_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def env_file(self) -> Path:
        return self.dir / "cluster.env"

    def make_dirs(self) -> None:
        for sub in ("run", "logs", "temporal", "kafka"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        # Traversable by the postgres user (its data dir is below); nothing here is secret
        # but keys/ and kafka/users.json, which keep their own modes.
        os.chmod(self.dir, 0o711)
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        """The ``TRACEFREEZE_*`` variables that point a client at this cluster."""
        s = self.settings
        return (
            {
                "TRACEFREEZE_TEMPORAL_ADDRESS": s.temporal_address,
                "TRACEFREEZE_TEMPORAL_NAMESPACE": s.temporal_namespace,
                "TRACEFREEZE_TEMPORAL_HEADLESS": "1",
                "TRACEFREEZE_TEMPORAL_UI_PORT": str(s.temporal_ui_port),
                "TRACEFREEZE_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
                "TRACEFREEZE_KAFKA_CONTROLLER_PORT": str(s.kafka_controller_port),
                "TRACEFREEZE_CODEC_PORT": str(s.codec_port),
                "TRACEFREEZE_STATE_DIR": str(self.dir),
                "TRACEFREEZE_TEMPORAL_TOKEN_FILE": str(s.temporal_token_file),
                "TEMPORAL_ADDRESS": s.temporal_address,  # the ``temporal`` CLI's own
                "TEMPORAL_NAMESPACE": s.temporal_namespace,
            }
            | self.kafka_env()
            | self.temporal_env()
        )

    def temporal_env(self) -> dict[str, str]:
        """The Temporal TLS variables of a client (ours and the ``temporal`` CLI's)."""
        if not self.options.secured:
            return {}
        from tracefreeze.stack.cluster import temporal_certs

        return temporal_certs.client_env(self)

    def write_env(self, extra: dict[str, str] | None = None) -> None:
        lines = [f"{k}={v}" for k, v in (self.env() | (extra or {})).items()]
        fd = os.open(self.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("# Written by cluster-up: the cluster's addresses (and admin's secret).\n")
            out.write("\n".join(lines) + "\n")

    def describe(self) -> str:
        return json.dumps(self.ports.model_dump())
