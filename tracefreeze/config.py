"""Configuration, read once from the environment (prefix ``TRACEFREEZE_``) and validated.

Workflows never read the environment: whatever they need reaches them as input.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tracefreeze.security.kafka_security import KafkaSecurity

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKER_CACHE_LIMIT = 100_000
"""The most workflows a worker may be asked to cache (``worker_cached_workflows``)."""


class Topics(BaseModel):
    """The Kafka topics of tracefreeze and their partition counts."""

    state_answers: str = "tracefreeze.state-answers"
    request_events: str = "tracefreeze.request-events"
    escalations: str = "tracefreeze.escalations"
    dead_letter: str = "tracefreeze.dead-letter"
    court_actions: str = "tracefreeze.court-actions"
    """Court-internal: the signed original of each Court action a request took, for the
    record store only (``schemas/court_record.py``); the request-events topic carries its
    audit, never its text."""
    party_channels: str = "tracefreeze.party"
    """Prefix of each requested party's own outbound channel, ``<prefix>.<iso3>.outbound``
    (one per party of the State directory: ``tracefreeze/topics.py``)."""

    def party_channel(self, state: str) -> str:
        """The outbound channel of one party (State code, ISO 3166-1 alpha-3)."""
        return f"{self.party_channels}.{state.lower()}.outbound"

    def partitions(self) -> dict[str, int]:
        """Explicit partition counts; answers and events are keyed by request reference."""
        return {
            self.state_answers: 6,
            self.request_events: 6,
            self.escalations: 3,
            self.dead_letter: 3,
            self.court_actions: 6,
        }


class Settings(KafkaSecurity, BaseSettings):
    """Addresses, ports, topics and names shared by the worker, bridge, CLI and local stack.

    The ``kafka_security_protocol``, ``kafka_sasl_*`` and ``kafka_ssl_*`` fields come from
    ``KafkaSecurity`` (``tracefreeze/security/kafka_security.py``, deploy/kafka-security.md)."""

    # An empty variable is an unset one (`export TRACEFREEZE_TEMPORAL_TOKEN_FILE=` unsets it).
    model_config = SettingsConfigDict(
        env_prefix="TRACEFREEZE_", env_nested_delimiter="__", env_ignore_empty=True
    )

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    temporal_tls: bool = False
    """TLS to Temporal with the system's roots (Temporal Cloud); see the files below."""
    temporal_tls_ca_file: Path | None = None
    """PEM CA bundle the server certificate must chain to (a private CA)."""
    temporal_tls_cert_file: Path | None = None
    """PEM client certificate (mTLS); with ``temporal_tls_key_file``."""
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str | None = None
    """The name the server certificate is checked against, if not the address's host."""
    temporal_token_file: Path | None = None
    """The bearer token (a JWT) this client acts with, re-read at every connection: the
    principal the cluster's frontend authorizes (``tracefreeze/security/identity.py``)."""
    temporal_token: SecretStr | None = None
    """The token itself, when no file holds it (``TRACEFREEZE_TEMPORAL_TOKEN``)."""
    codec_port: int = 8081
    """The codec server's port (``tracefreeze codec-server``; the local UI's codec endpoint)."""
    codec_refuse_plaintext: bool = False
    """Once every history is encrypted, decoding an unencrypted payload is an error
    (``tracefreeze/security/codec.py``, read there from ``TRACEFREEZE_CODEC_REFUSE_PLAINTEXT``)."""
    task_queue: str = "tracefreeze-requests"
    build: str = Field(default="dev", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._+-]+$")
    """The build a worker runs (``TRACEFREEZE_BUILD``: the image tag or commit its deployment
    sets). Part of the worker's Temporal identity (``tracefreeze.worker.worker_identity``),
    which the server records on every workflow task the worker completes, and of its start
    line: a request's history says which build took each step, e.g. during a rolling
    deploy (docs/operations.md)."""
    check_timeout_s: float = Field(default=5.0, gt=0, le=300)
    """Longest ``tracefreeze submit --check`` waits for Temporal (connecting, reading the
    party's RS 96(3) register and a supplemented request) before it reports them unverified
    (exit 4; ``tracefreeze/completeness_records.py``)."""

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_controller_port: int = 9093
    kafka_timeout_s: float = Field(default=15.0, gt=0, le=25.0)
    """How long one Kafka call waits (``TRACEFREEZE_KAFKA_TIMEOUT_S``). At most 25 s: a
    publishing round gives up within it, before the server's 30 s limit on the round sends the
    same events again from another attempt (``workflows/request_outbox.py``)."""
    bridge_group_id: str = "tracefreeze-bridge"
    bridge_in_flight: int = Field(default=16, ge=1, le=256)
    """Updates a bridge process has in flight at once (different requests side by side)."""
    bridge_retry_budget_s: float = Field(default=300.0, gt=0, le=86_400)
    """How long the bridge keeps retrying one answer whose request cannot take it (its update
    times out while Temporal and the workers are up) before the answer is parked in the
    dead-letter topic with reason ``stuck`` and its partition moves on (docs/operations.md,
    "Stuck answers"). Time while Temporal or every worker is down does not count."""
    bridge_state_rate: float = Field(default=1000.0, gt=0)
    """Answers per second one State may have delivered, over all its requests (a token bucket
    per State, the signed sender); a State above it waits, other States do not. The default
    only stops a flood far beyond any State's real traffic; set it to what a State may send."""
    bridge_state_burst: int = Field(default=50_000, ge=1)
    """Answers a State may have delivered at once above its rate (the bucket's size): a
    backlog after an outage of the bridge drains without waiting."""
    bridge_throttle_wait_s: float = Field(default=2.0, ge=0, le=60)
    """Longest a partition's lane waits, in all per chunk it takes, for its States' answer
    budgets; an answer whose turn would come later is parked at once with reason
    ``throttled`` (replayable) so that its partition's other States are not held."""
    answer_max_age_days: float = Field(default=21.0, gt=0)
    """An answer whose ``sent_at`` is older than this is ``too_old``. At least the answers
    topic's retention plus ``answer_max_delivery_days``: whatever Kafka kept, the bridge takes."""
    answer_max_delivery_days: float = Field(default=7.0, gt=0)
    """Longest time from ``sent_at`` to the broker's record timestamp (the answer's age when it
    reached Kafka); older is ``too_old``, judged by the broker's clock, not the bridge's."""
    answers_retention_days: float = Field(default=14.0, gt=0)
    """The answers topic's ``retention.ms`` in days (deploy/k8s/base/kafka-topics.yaml)."""
    worker_cached_workflows: int = Field(default=1_000, ge=1, le=WORKER_CACHE_LIMIT)
    """Workflows a worker keeps in its cache (``TRACEFREEZE_WORKER_CACHED_WORKFLOWS``): one out
    of it is rebuilt by replaying its whole history at its next task. Size it to the requests
    whose deadlines fall due together (a policy's round numbers make many) and memory to it
    (docs/operations.md, "Scaling out")."""
    worker_workflow_tasks: int = Field(default=100, ge=2, le=10_000)
    """Workflow tasks a worker runs at once (``TRACEFREEZE_WORKER_WORKFLOW_TASKS``)."""
    worker_sticky_timeout_s: float = Field(default=60.0, ge=1, le=3_600)
    """How long a task waits on the worker's own (sticky) queue before the server hands it to
    any worker, which rebuilds the workflow from its history
    (``TRACEFREEZE_WORKER_STICKY_TIMEOUT_S``). Many deadlines due together queue tasks behind
    each other: the SDK's 10 s would send them to be replayed exactly when the worker is
    busiest. A worker that crashes holds its requests' tasks this long (a worker that stops
    hands them over at once)."""
    record_dsn: str | None = None
    """The record store (``tracefreeze/record/``): a PostgreSQL DSN, e.g.
    ``postgresql://recorder@db:5432/tracefreeze_record`` (``TRACEFREEZE_RECORD_DSN``). Unset:
    no store; ``tracefreeze report`` then reads Temporal visibility only."""
    recorder_group_id: str = "tracefreeze-recorder"
    topics: Topics = Topics()
    report_min_group: int = Field(default=5, ge=2, le=10_000)
    """Fewest confidential requests a figure of the cooperation report may cover
    (``TRACEFREEZE_REPORT_MIN_GROUP``; RS 87(3)): fewer are withheld, so no confidential
    request can be read off a total (``tracefreeze/report/disclosure.py``)."""

    health_host: str = "127.0.0.1"
    """Address the /metrics and probe server binds (``TRACEFREEZE_HEALTH_HOST``): loopback
    locally; ``0.0.0.0`` in a container, where the kubelet or compose probes it."""
    health_port: int = Field(default=8080, ge=0, le=65535)
    """The worker's and bridge's /metrics, /healthz and /readyz (``tracefreeze/ops/http.py``);
    0 = no server (the tests' default, unless a test sets a free port)."""
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    """Where OpenTelemetry spans go (``tracefreeze/ops/tracing.py``); otlp reads the standard
    ``OTEL_EXPORTER_OTLP_*`` variables."""

    state_dir: Path = REPO_ROOT / ".state"
    policy_file: Path = Path(__file__).resolve().parent / "policies" / "deadlines.toml"
    state_directory_file: Path = Path(__file__).resolve().parent / "policies" / "states.toml"
    situation_register_file: Path = Path(__file__).resolve().parent / "policies" / "situations.toml"
    """How each situation reached the Court (RS 13): where a referral may go."""

    @model_validator(mode="after")
    def _answers_kept_are_not_too_old(self) -> Settings:
        """An answer Kafka still holds must not be refused for its age alone."""
        floor = self.answers_retention_days + self.answer_max_delivery_days
        if self.answer_max_age_days < floor:
            raise ValueError(
                f"answer_max_age_days ({self.answer_max_age_days:g}) must be at least the "
                f"answers topic's retention plus answer_max_delivery_days ({floor:g})"
            )
        return self

    @property
    def temporal_ui_url(self) -> str:
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}/namespaces/{self.temporal_namespace}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated once."""
    return Settings()
