"""The Kafka principals of tracefreeze and their ACLs: one plan for deploy/k8s and the local
secured broker (deploy/kafka-security.md).

``acl_plan`` lists, per principal, the topics and groups it may use: the worker writes the
shared topics and every party's outbound channel; the bridge reads answers in its group and
writes dead letters; each State of the State directory (``state-<iso3>``) reads its own
channel in its own group and writes answers, nothing else. ``deploy/k8s/base/kafka-users.yaml``
is checked against it (tests/deploy), and the local secured broker
(``TRACEFREEZE_KAFKA_SECURED=1 make up``) is given exactly these ACLs by the local stack
(``tracefreeze/stack/kafka.py``: ``ensure_users``, ``scram_arguments``, ``apply_acls``).

Local SCRAM passwords are random, kept in ``<state dir>/kafka/users.json`` (mode 0600).
``admin`` is the broker's own identity and the local stack's super user (topics, worker,
bridge); production has no super user among the workloads.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tracefreeze.config import Settings
from tracefreeze.topics import party_channels

ADMIN = "admin"
WORKER = "tracefreeze-worker"
BRIDGE = "tracefreeze-bridge"
RECORDER = "tracefreeze-recorder"
SCRAM_MECHANISM = "SCRAM-SHA-512"
READ = ("Describe", "Read")
WRITE = ("Describe", "Write")


@dataclass(frozen=True)
class Acl:
    """Allow ``principal`` the ``operations`` on one topic or group (literal or prefix)."""

    principal: str
    resource: str  # "topic" or "group"
    name: str
    operations: tuple[str, ...]
    pattern: str = "literal"  # or "prefix"


def state_principal(code: str) -> str:
    """The Kafka principal of a State's system: ``state-<iso3>``, lower case."""
    return f"state-{code.lower()}"


def acl_plan(settings: Settings) -> list[Acl]:
    """Every ACL of every principal (deploy/kafka-security.md, 'Principals and ACLs')."""
    t = settings.topics
    plan = [
        Acl(WORKER, "topic", t.request_events, WRITE),
        Acl(WORKER, "topic", t.escalations, WRITE),
        Acl(WORKER, "topic", t.court_actions, WRITE),
        Acl(WORKER, "topic", f"{t.party_channels}.", WRITE, "prefix"),
        Acl(BRIDGE, "topic", t.state_answers, READ),
        Acl(BRIDGE, "group", settings.bridge_group_id, READ),
        Acl(BRIDGE, "topic", t.dead_letter, WRITE),
        # The record store's writer (tracefreeze/record/): reads, never writes, what the Court
        # keeps: answers, events, escalations, the Court's signed actions, every party's channel.
        Acl(RECORDER, "topic", t.state_answers, READ),
        Acl(RECORDER, "topic", t.request_events, READ),
        Acl(RECORDER, "topic", t.escalations, READ),
        Acl(RECORDER, "topic", t.court_actions, READ),
        Acl(RECORDER, "topic", f"{t.party_channels}.", READ, "prefix"),
        Acl(RECORDER, "group", settings.recorder_group_id, READ),
    ]
    for code, channel in party_channels(settings).items():
        principal = state_principal(code)
        plan += [
            Acl(principal, "topic", channel, READ),
            Acl(principal, "group", principal, READ),
            Acl(principal, "topic", t.state_answers, WRITE),
        ]
    return plan


def principals(settings: Settings) -> list[str]:
    """The SCRAM users of the local secured broker: admin first, then every planned one."""
    return [ADMIN, *dict.fromkeys(a.principal for a in acl_plan(settings))]


def users_file(state_dir: Path) -> Path:
    return state_dir / "kafka" / "users.json"


def ensure_users(settings: Settings) -> dict[str, str]:
    """The local SCRAM passwords (user -> password), made once, the file mode 0600."""
    path = users_file(settings.state_dir)
    users: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [p for p in principals(settings) if p not in users]
    if missing:
        users |= {p: secrets.token_urlsafe(24) for p in missing}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(users, out, indent=2, sort_keys=True)
    return users


def scram_arguments(users: dict[str, str]) -> list[str]:
    """``kafka-storage format`` arguments that create every SCRAM user with the storage."""
    out: list[str] = []
    for user, password in users.items():
        out += ["--add-scram", f"{SCRAM_MECHANISM}=[name={user},password={password}]"]
    return out


def acl_command_arguments(plan: list[Acl]) -> list[list[str]]:
    """One ``AclCommand --add`` argument list per (principal, pattern, operations)."""
    grouped: dict[tuple[str, str, tuple[str, ...]], list[Acl]] = {}
    for acl in plan:
        grouped.setdefault((acl.principal, acl.pattern, acl.operations), []).append(acl)
    commands = []
    for (principal, pattern, operations), acls in grouped.items():
        args = ["--add", "--allow-principal", f"User:{principal}"]
        args += ["--resource-pattern-type", "prefixed" if pattern == "prefix" else "literal"]
        for op in operations:
            args += ["--operation", op]
        for acl in acls:
            args += [f"--{acl.resource}", acl.name]
        commands.append(args)
    return commands


def apply_acls(settings: Settings, java: str, classpath: str, tls_ca: Path | None = None) -> int:
    """Create the plan's ACLs on the local secured broker as ``admin`` (idempotent); over
    TLS verified with ``tls_ca`` when given (the cluster of ``make cluster-up``)."""
    users = ensure_users(settings)
    tls = f"ssl.truststore.type=PEM\nssl.truststore.location={tls_ca}\n" if tls_ca else ""
    with tempfile.NamedTemporaryFile("w", suffix=".properties", delete=True) as config:
        os.chmod(config.name, 0o600)
        config.write(
            f"security.protocol={'SASL_SSL' if tls_ca else 'SASL_PLAINTEXT'}\n{tls}"
            f"sasl.mechanism={SCRAM_MECHANISM}\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
            f'required username="{ADMIN}" password="{users[ADMIN]}";\n'
        )
        config.flush()
        for args in acl_command_arguments(acl_plan(settings)):
            command = [java, "-cp", classpath, "org.apache.kafka.tools.AclCommand"]
            command += ["--bootstrap-server", settings.kafka_bootstrap]
            command += ["--command-config", config.name, *args]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stdout + done.stderr, file=sys.stderr)
                return 1
    return 0
