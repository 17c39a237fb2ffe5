"""A stack of its own on free ports: how the tests, the fault drills and the benchmark run
beside a developer's stack on the configured ports without ever colliding with it.

``running_stack`` brings one up in a given state dir (the Kafka jars come from the shared
cache) and exports its environment (``stack_env``) while it runs, so that ``get_settings()``
and child processes such as ``tracefreeze bridge`` reach it; it stops it on exit (the state is
kept). ``up`` makes the stack's own keys in its state dir (demo State signing keys + registry,
payload codec key): the bridge verifies, the simulator and the tests sign, and every client
and worker of the stack encrypts its history. ``run_cli`` runs ``python -m tracefreeze.stack``
against such a stack, as ``make`` does.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tracefreeze.config import REPO_ROOT, Settings, get_settings
from tracefreeze.stack import services
from tracefreeze.stack.layout import Stack, StackOptions
from tracefreeze.stack.ports import HOST, free_ports

UP_TIMEOUT_S = 900.0
"""A cold Maven cache fetches ~90 jars."""


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
    """The ``TRACEFREEZE_*`` variables that point the stack and its child processes at
    ``settings`` (``overrides`` last: the benchmark's stack, for one, runs headless)."""
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
        "TRACEFREEZE_CACHE_DIR": str(StackOptions().cache_dir),
        "TRACEFREEZE_TOPICS__STATE_ANSWERS": settings.topics.state_answers,
        "TRACEFREEZE_TOPICS__REQUEST_EVENTS": settings.topics.request_events,
        "TRACEFREEZE_TOPICS__ESCALATIONS": settings.topics.escalations,
        "TRACEFREEZE_TOPICS__DEAD_LETTER": settings.topics.dead_letter,
        "TRACEFREEZE_TOPICS__COURT_ACTIONS": settings.topics.court_actions,
        "TRACEFREEZE_TOPICS__PARTY_CHANNELS": settings.topics.party_channels,
        **temporal_tls_env(settings),
        **temporal_token_env(settings),
        **(overrides or {}),
    }


def temporal_tls_env(s: Settings) -> dict[str, str]:
    """The ``TRACEFREEZE_TEMPORAL_TLS*`` variables of ``s``: none to a plain-text Temporal
    (the dev server); the CA, certificate, key and server name on the cluster."""
    files = {
        "TRACEFREEZE_TEMPORAL_TLS_CA_FILE": s.temporal_tls_ca_file,
        "TRACEFREEZE_TEMPORAL_TLS_CERT_FILE": s.temporal_tls_cert_file,
        "TRACEFREEZE_TEMPORAL_TLS_KEY_FILE": s.temporal_tls_key_file,
        "TRACEFREEZE_TEMPORAL_TLS_SERVER_NAME": s.temporal_tls_server_name,
    }
    found = {name: str(value) for name, value in files.items() if value is not None}
    return found | ({"TRACEFREEZE_TEMPORAL_TLS": "true"} if s.temporal_tls else {})


def temporal_token_env(s: Settings) -> dict[str, str]:
    """The token variable of ``s``: the principal its processes act as on the cluster
    (``tracefreeze/security/identity.py``); none on the dev server's stack."""
    path = s.temporal_token_file
    return {"TRACEFREEZE_TEMPORAL_TOKEN_FILE": str(path)} if path is not None else {}


def kafka_security_env(s: Settings) -> dict[str, str]:
    """The ``TRACEFREEZE_KAFKA_*`` security variables of ``s``: none on a PLAINTEXT stack;
    SASL/SCRAM over TLS as the settings' principal on the cluster."""
    if s.kafka_sasl_password is None:
        return {}
    return {
        "TRACEFREEZE_KAFKA_SECURITY_PROTOCOL": s.kafka_security_protocol,
        "TRACEFREEZE_KAFKA_SASL_MECHANISM": s.kafka_sasl_mechanism,
        "TRACEFREEZE_KAFKA_SASL_USERNAME": str(s.kafka_sasl_username),
        "TRACEFREEZE_KAFKA_SASL_PASSWORD": s.kafka_sasl_password.get_secret_value(),
        "TRACEFREEZE_KAFKA_SSL_CAFILE": str(s.kafka_ssl_cafile or ""),
    }


@contextlib.contextmanager
def exported(env: dict[str, str]) -> Iterator[None]:
    """``env`` in ``os.environ`` (and the cached settings forgotten) inside the block."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@contextlib.contextmanager
def running_stack(state_dir: Path, overrides: dict[str, str] | None = None) -> Iterator[Settings]:
    """Start an isolated stack, export its environment, stop it on exit (state is kept)."""
    settings = new_settings(state_dir)
    env = stack_env(settings, overrides)
    with exported(env):
        stack = Stack.from_env()
        try:
            services.up(stack)
            yield settings
        finally:
            services.down(stack)


def run_cli(
    command: str,
    settings: Settings,
    timeout_s: float = UP_TIMEOUT_S,
    overrides: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m tracefreeze.stack <command>`` against ``settings``; output captured, never
    raises on its exit status."""
    return subprocess.run(
        [sys.executable, "-m", "tracefreeze.stack", command],
        env={**os.environ, **stack_env(settings, overrides)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
