"""Kafka clients with safe defaults, and start/stop bounded in time.

Producers are idempotent (acks=all), so a retried send is written once per session;
consumers commit by hand after the work is done and read only committed records. Every client
connects with the security settings (TLS, SASL/SCRAM: ``tracefreeze/security/kafka_security.py``).
"""

from __future__ import annotations

import contextlib
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from tracefreeze.config import Settings
from tracefreeze.security.kafka_security import security_kwargs
from tracefreeze.within import within

MAX_REQUEST_BYTES = 1_048_576
"""1 MiB: the broker's default ``message.max.bytes``; events are far smaller."""
CONSUMER_REQUEST_TIMEOUT_MIN_S = 40.0
"""A consumer's requests wait at least this long (a join waits for the group's rebalance)."""


def consumer_request_timeout_s(settings: Settings) -> float:
    return max(settings.kafka_timeout_s, CONSUMER_REQUEST_TIMEOUT_MIN_S)


def longest_timeout_s(settings: Settings) -> float:
    """The longest any Kafka client of a worker or bridge waits for one request (the
    producers', the admin's and every bounded call's ``kafka_timeout_s``, the consumers'
    request timeout): a broker down for longer has outlasted every one of them."""
    return max(settings.kafka_timeout_s, consumer_request_timeout_s(settings))


class _Lifecycle(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def make_producer(settings: Settings, client_id: str = "tracefreeze") -> AIOKafkaProducer:
    """An idempotent producer (acks=all) whose requests time out with the settings."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=int(settings.kafka_timeout_s * 1000),
        linger_ms=0,  # events wait for no batch: a workflow task waits for its round
        max_request_size=MAX_REQUEST_BYTES,
        **security_kwargs(settings),
    )


def make_consumer(settings: Settings, *topics: str, group_id: str) -> AIOKafkaConsumer:
    """A consumer of committed records, from the earliest offset, committing by hand."""
    return _committed(settings, *topics, group_id=group_id, client_id=group_id)


def make_reader(settings: Settings, client_id: str) -> AIOKafkaConsumer:
    """A consumer in no group (partitions assigned by hand, nothing committed), of committed
    records: reading a whole topic needs Read and Describe on it, and no group ACL."""
    return _committed(settings, group_id=None, client_id=client_id)


def _committed(
    settings: Settings, *topics: str, group_id: str | None, client_id: str
) -> AIOKafkaConsumer:
    """A consumer of committed records, from the earliest offset, never committing itself."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        request_timeout_ms=int(consumer_request_timeout_s(settings) * 1000),
        **security_kwargs(settings),
    )


def make_admin(settings: Settings, client_id: str = "tracefreeze-admin") -> AIOKafkaAdminClient:
    """An admin client (topics) whose requests time out with the settings."""
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=client_id,
        request_timeout_ms=int(settings.kafka_timeout_s * 1000),
        **security_kwargs(settings),
    )


async def start_with_timeout(client: _Lifecycle, timeout_s: float) -> None:
    """Start a producer or consumer; on timeout stop it and raise ``TimeoutError``."""
    try:
        await within(timeout_s, client.start())
    except BaseException:
        await stop_with_timeout(client, timeout_s)
        raise


async def stop_with_timeout(client: _Lifecycle, timeout_s: float) -> None:
    """Stop a producer or consumer without hanging while the broker is down."""
    with contextlib.suppress(Exception):
        await within(timeout_s, client.stop())
