"""Kafka security settings reach every client the factories make; bad combinations are refused.

No broker: the factories build real aiokafka clients, never started, and the tests read the
settings those clients were configured with.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from tests.certs import self_signed
from tests.environment import without_stack_environment
from tracefreeze import kafka, topics
from tracefreeze.config import Settings
from tracefreeze.security.kafka_security import security_kwargs

BOOTSTRAP = "127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test passes, not a test stack's TRACEFREEZE_* environment."""
    without_stack_environment(monkeypatch)


def every_client(settings: Settings) -> list[dict[str, Any]]:
    """What the real (unstarted) producer, consumer and admin client were configured with."""
    clients = [
        kafka.make_producer(settings).client,
        kafka.make_consumer(settings, "tracefreeze.state-answers", group_id="g")._client,
        kafka.make_admin(settings)._client,
    ]
    return [
        {
            "bootstrap_servers": c._bootstrap_servers,
            "security_protocol": c._security_protocol,
            "ssl_context": c._ssl_context,
            "sasl_mechanism": c._sasl_mechanism,
            "sasl_plain_username": c._sasl_plain_username,
            "sasl_plain_password": c._sasl_plain_password,
        }
        for c in clients
    ]


async def test_plaintext_is_the_default_and_the_local_stack() -> None:
    settings = Settings(kafka_bootstrap=BOOTSTRAP)
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert not {"sasl_mechanism", "sasl_plain_username", "ssl_context"} & set(
        security_kwargs(settings)
    )
    for kwargs in every_client(settings):
        assert kwargs["bootstrap_servers"] == BOOTSTRAP
        assert kwargs["security_protocol"] == "PLAINTEXT"
        assert kwargs["ssl_context"] is None and kwargs["sasl_plain_username"] is None


async def test_mutual_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    settings = Settings(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=cert,
        kafka_ssl_certfile=cert,
        kafka_ssl_keyfile=key,
    )
    assert "sasl_mechanism" not in security_kwargs(settings)
    for kwargs in every_client(settings):
        assert kwargs["security_protocol"] == "SSL"
        context = kwargs["ssl_context"]
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        assert len(context.get_ca_certs()) == 1  # our CA file, not the system's
        assert kwargs["sasl_plain_username"] is None


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_scram_over_tls(
    mechanism: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, _ = self_signed(tmp_path)
    env = {
        "TRACEFREEZE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "TRACEFREEZE_KAFKA_SASL_MECHANISM": mechanism,
        "TRACEFREEZE_KAFKA_SASL_USERNAME": "state-nld",
        "TRACEFREEZE_KAFKA_SASL_PASSWORD": "s3cret-not-logged",
        "TRACEFREEZE_KAFKA_SSL_CAFILE": str(cert),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert "s3cret-not-logged" not in repr(settings) and "s3cret" not in str(settings)
    for kwargs in every_client(settings):
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert kwargs["sasl_mechanism"] == mechanism
        assert kwargs["sasl_plain_username"] == "state-nld"
        assert kwargs["sasl_plain_password"] == "s3cret-not-logged"
        assert isinstance(kwargs["ssl_context"], ssl.SSLContext)


async def test_scram_without_tls() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="bridge",
        kafka_sasl_password="pw",
    )
    assert "ssl_context" not in security_kwargs(settings)
    for kwargs in every_client(settings):
        assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
        assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
        assert kwargs["ssl_context"] is None


async def test_aiokafka_accepts_the_arguments(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    settings = Settings(
        kafka_bootstrap=BOOTSTRAP,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="worker",
        kafka_sasl_password="pw",
        kafka_ssl_cafile=cert,
        kafka_ssl_certfile=cert,
        kafka_ssl_keyfile=key,
    )
    producer = kafka.make_producer(settings)
    consumer = kafka.make_consumer(settings, "t", group_id="g")
    admin = kafka.make_admin(settings)
    assert isinstance(producer, AIOKafkaProducer) and isinstance(consumer, AIOKafkaConsumer)
    assert isinstance(admin, AIOKafkaAdminClient)
    assert producer.client._security_protocol == "SASL_SSL"
    assert consumer._client._sasl_mechanism == "SCRAM-SHA-256"
    assert security_kwargs(settings)["ssl_context"] is not None


def test_the_topics_command_uses_the_admin_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []

    def admin(settings: Settings, client_id: str) -> Any:
        made.append(client_id)
        raise RuntimeError("stop here")

    monkeypatch.setattr(topics, "make_admin", admin)
    with pytest.raises(RuntimeError, match="stop here"):
        asyncio.run(topics.ensure_topics(Settings()))
    assert made == ["tracefreeze-topics"]


INVALID = {
    "SASL without user": (
        {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_password": "pw"},
        "SASL_SSL needs TRACEFREEZE_KAFKA_SASL_USERNAME and TRACEFREEZE_KAFKA_SASL_PASSWORD",
    ),
    "SASL without password": (
        {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "u"},
        "needs TRACEFREEZE_KAFKA_SASL_USERNAME and TRACEFREEZE_KAFKA_SASL_PASSWORD",
    ),
    "SASL with an empty password": (
        {
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_username": "u",
            "kafka_sasl_password": "",
        },
        "needs TRACEFREEZE_KAFKA_SASL_USERNAME",
    ),
    "credentials ignored": (
        {"kafka_sasl_username": "u", "kafka_sasl_password": "pw"},
        "SASL credentials are set but TRACEFREEZE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT",
    ),
    "TLS files ignored": (
        {
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_username": "u",
            "kafka_sasl_password": "pw",
            "kafka_ssl_cafile": "CERT",
        },
        "TRACEFREEZE_KAFKA_SSL_CAFILE set but TRACEFREEZE_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT",
    ),
    "missing CA file": (
        {"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "MISSING"},
        "TRACEFREEZE_KAFKA_SSL_CAFILE: no such file",
    ),
    "key without certificate": (
        {"kafka_security_protocol": "SSL", "kafka_ssl_keyfile": "KEY"},
        "TRACEFREEZE_KAFKA_SSL_KEYFILE needs TRACEFREEZE_KAFKA_SSL_CERTFILE",
    ),
    "unknown protocol": ({"kafka_security_protocol": "TLS"}, "PLAINTEXT"),
    "unknown mechanism": (
        {
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "PLAIN",
            "kafka_sasl_username": "u",
            "kafka_sasl_password": "pw",
        },
        "SCRAM-SHA-256",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_combinations_are_refused_clearly(case: str, tmp_path: Path) -> None:
    fields, message = INVALID[case]
    cert, key = self_signed(tmp_path)
    files = {"CERT": str(cert), "KEY": str(key), "MISSING": str(tmp_path / "nope.pem")}
    fields = {k: files.get(v, v) for k, v in fields.items()}
    with pytest.raises(ValidationError, match=message) as caught:
        Settings(**fields)
    assert "pw" not in str(caught.value).replace("password", "")  # inputs are not echoed


# --- the ACL plan and the local secured broker's users (tracefreeze/security/kafka_acls.py) ---


def test_the_acl_plan_gives_each_state_its_own_channel_only() -> None:
    from tracefreeze.security.kafka_acls import acl_plan, state_principal

    settings = Settings()
    plan = acl_plan(settings)
    for code in ("NLD", "BEL", "FRA"):
        mine = {
            (a.resource, a.name, a.operations) for a in plan if a.principal == state_principal(code)
        }
        assert mine == {
            ("topic", settings.topics.party_channel(code), ("Describe", "Read")),
            ("group", state_principal(code), ("Describe", "Read")),
            ("topic", settings.topics.state_answers, ("Describe", "Write")),
        }
    readers = {a.principal for a in plan if "Read" in a.operations and a.resource == "topic"}
    assert settings.topics.request_events not in {
        a.name for a in plan if a.principal.startswith("state-")
    }
    assert "tracefreeze-worker" not in readers


def test_local_scram_users_are_made_once_and_kept_private(tmp_path: Path) -> None:
    from tracefreeze.security.kafka_acls import (
        acl_command_arguments,
        acl_plan,
        ensure_users,
        scram_arguments,
    )

    settings = Settings(state_dir=tmp_path)
    users = ensure_users(settings)
    path = tmp_path / "kafka" / "users.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert {"admin", "tracefreeze-worker", "tracefreeze-bridge", "state-nld"} <= set(users)
    assert ensure_users(settings) == users  # kept across restarts of the stack
    args = scram_arguments(users)
    assert args[:2] == ["--add-scram", f"SCRAM-SHA-512=[name=admin,password={users['admin']}]"]
    commands = acl_command_arguments(acl_plan(settings))
    worker = [c for c in commands if "User:tracefreeze-worker" in c and "prefixed" in c]
    assert worker == [
        [
            "--add", "--allow-principal", "User:tracefreeze-worker",
            "--resource-pattern-type", "prefixed",
            "--operation", "Describe", "--operation", "Write",
            "--topic", "tracefreeze.party.",
        ]
    ]  # fmt: skip
