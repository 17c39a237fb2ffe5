"""The Kafka topics of tracefreeze, and creating them idempotently.

One source of truth: the shared topics are ``Settings.topics.partitions()``; each party of
the State directory (``policies/states.toml``) has its own outbound channel,
``Topics.party_channel(code)``, with ``PARTY_CHANNEL_PARTITIONS`` (``party_channels``).
``wanted_topics`` is both; deploy/k8s declares the same (tests/deploy). Locally the
replication factor is 1 (single broker); the cluster asks for 3. Topics that already exist
are left alone.

Run as ``python -m tracefreeze.topics`` to ensure every topic; it prints one line and exits
non-zero if the broker cannot be reached or refuses a topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Mapping
from typing import TypeVar

from aiokafka.admin import NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from tracefreeze.config import Settings, get_settings
from tracefreeze.kafka import make_admin
from tracefreeze.policy import load_directory
from tracefreeze.within import within

REPLICATION_FACTOR = 1
PARTY_CHANNEL_PARTITIONS = 1
"""One partition: a State reads its requests, decisions and reminders in the order made."""

T = TypeVar("T")


class TopicError(RuntimeError):
    """The broker refused to create a topic."""


async def _bounded(settings: Settings, what: str, call: Awaitable[T]) -> T:
    try:
        return await within(settings.kafka_timeout_s, call)
    except TimeoutError as exc:
        raise TimeoutError(f"{what} timed out after {settings.kafka_timeout_s:g}s") from exc


def party_channels(settings: Settings) -> dict[str, str]:
    """The outbound channel of every party of the State directory (State code -> topic)."""
    directory = load_directory(settings.state_directory_file)
    return {code: settings.topics.party_channel(code) for code in sorted(directory.states)}


def wanted_topics(settings: Settings) -> dict[str, int]:
    """Every topic of tracefreeze and its partitions: shared topics and party channels."""
    channels = dict.fromkeys(party_channels(settings).values(), PARTY_CHANNEL_PARTITIONS)
    return settings.topics.partitions() | channels


async def ensure_topics(
    settings: Settings,
    replication_factor: int = REPLICATION_FACTOR,
    configs: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Create the topics missing from the broker (``replication_factor`` copies, each topic
    with its ``configs`` by name: the cluster's three brokers,
    ``tracefreeze.stack.cluster.brokers``); return the names of those created."""
    timeout_ms = int(settings.kafka_timeout_s * 1000)
    admin = make_admin(settings, client_id="tracefreeze-topics")
    try:
        await _bounded(settings, "connecting to Kafka", admin.start())
        existing = set(await _bounded(settings, "listing topics", admin.list_topics()))
        wanted = wanted_topics(settings)
        missing = [
            NewTopic(
                name,
                num_partitions=n,
                replication_factor=replication_factor,
                topic_configs=dict((configs or {}).get(name, {})),
            )
            for name, n in wanted.items()
            if name not in existing
        ]
        if not missing:
            return []
        response = await _bounded(
            settings, "creating topics", admin.create_topics(missing, timeout_ms=timeout_ms)
        )
        created: list[str] = []
        for topic, code, *message in response.topic_errors:
            if code == 0:
                created.append(topic)
                continue
            error = for_code(code)
            if error is TopicAlreadyExistsError:  # created concurrently: fine
                continue
            detail = message[0] if message and message[0] else error.__name__
            raise TopicError(f"could not create topic {topic}: {detail}")
        return sorted(created)
    finally:
        with contextlib.suppress(Exception):  # best effort; the outcome is already decided
            await within(settings.kafka_timeout_s, admin.close())


def main() -> int:
    """Ensure every topic; one line on stdout (or stderr on failure)."""
    settings = get_settings()
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())  # no stray warnings
    try:
        created = asyncio.run(ensure_topics(settings))
    except Exception as exc:  # one clear line, not a traceback
        reason = str(exc) or type(exc).__name__
        print(
            f"tracefreeze.topics: cannot ensure topics on Kafka at {settings.kafka_bootstrap}: "
            f"{reason}",
            file=sys.stderr,
        )
        return 1
    wanted = wanted_topics(settings)
    if created:
        print(f"tracefreeze.topics: created {', '.join(created)} ({len(wanted)} topics wanted)")
    else:
        print(f"tracefreeze.topics: all {len(wanted)} topics exist")
    return 0


if __name__ == "__main__":
    sys.exit(main())
