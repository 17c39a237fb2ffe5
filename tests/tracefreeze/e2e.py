"""What the end-to-end tests on the real stack share: a worker and a bridge run as asyncio
tasks on topics, task queue and consumer group of one test alone (the ``running`` fixture in
conftest.py), signed answers sent the way a State's system sends them (tests/signed.py), and
readers of topics, views and committed offsets that wait with a bound."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord, RecordMetadata

from schemas.answers import AnswerBase
from schemas.deadletter import HEADER_OFFSET, HEADER_PARTITION
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from schemas.party import PartyMessage
from schemas.views import RequestView
from tests.signed import Headers, signed_record
from tests.stack import isolated as isolated_settings
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.intake.bridge import run_bridge
from tracefreeze.kafka import make_consumer, start_with_timeout, stop_with_timeout
from tracefreeze.policy import DEMO_POLICY
from tracefreeze.topics import ensure_topics
from tracefreeze.worker import run_worker

WAIT_S = 60.0


@dataclass
class Running:
    settings: Settings
    client: RequestClient
    producer: AIOKafkaProducer


def isolated(stack: Settings) -> Settings:
    """The stack with topics, task queue and consumer group of one test alone."""
    return isolated_settings(stack, "e2e")


@contextlib.asynccontextmanager
async def worker_and_bridge(settings: Settings) -> AsyncIterator[Running]:
    """Worker + bridge (asyncio tasks) on ``settings`` (one test's own, see ``isolated``),
    with a client and a plain producer; the bridge must stop cleanly at the end."""
    await ensure_topics(settings)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings))
    bridge = asyncio.create_task(run_bridge(settings, stop))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield Running(settings, await RequestClient.connect(settings), producer)
    finally:
        await producer.stop()
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(bridge, timeout=30)  # clean shutdown, no exception
        print(f"\nbridge shutdown took {time.monotonic() - started:.2f}s")
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def send(r: Running, key: str, value: bytes, headers: Headers) -> RecordMetadata:
    return await r.producer.send_and_wait(
        r.settings.topics.state_answers, value=value, key=key.encode(), headers=headers
    )


async def send_signed(r: Running, answer: AnswerBase) -> RecordMetadata:
    """The answer, signed with its own State's demo key, keyed by its request reference."""
    value, headers = signed_record(answer, r.settings.state_dir)
    return await send(r, answer.request_reference, value, headers)


async def read_until(
    settings: Settings, topic: str, done: Callable[[list[ConsumerRecord]], bool]
) -> list[ConsumerRecord]:
    """Read the whole topic (no group) until ``done`` holds for what was read."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        partitions = range(settings.topics.partitions()[topic])
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        seen: list[ConsumerRecord] = []
        async with asyncio.timeout(WAIT_S):
            while not done(seen):
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    seen.extend(batch)
        return seen
    finally:
        await consumer.stop()


async def wait_view(
    client: RequestClient, ref: str, ok: Callable[[RequestView], bool]
) -> RequestView:
    async with asyncio.timeout(WAIT_S):
        while True:
            view = await client.view(ref, "NLD")
            if ok(view):
                return view
            await asyncio.sleep(0.05)


def headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def origin(dead_letter: ConsumerRecord) -> tuple[int, int]:
    """(partition, offset) of the answer a dead-letter record carries, from its headers."""
    h = headers(dead_letter)
    return int(h[HEADER_PARTITION]), int(h[HEADER_OFFSET])


async def committed_total(s: Settings) -> int:
    """Sum of the bridge group's committed offsets on the answers topic."""
    probe = AIOKafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=s.bridge_group_id)
    await probe.start()
    try:
        parts = s.topics.partitions()[s.topics.state_answers]
        tps = [TopicPartition(s.topics.state_answers, p) for p in range(parts)]
        return sum([await probe.committed(tp) or 0 for tp in tps])
    finally:
        await probe.stop()


@dataclass
class Delivered:
    event: EscalationEvent
    at: datetime  # the Kafka record's timestamp


class Escalations:
    """A downstream consumer of ``tracefreeze.escalations``, separate from the worker."""

    def __init__(self, settings: Settings, reference: str) -> None:
        self.reference = reference
        self.seen: list[Delivered] = []
        self.consumer = AIOKafkaConsumer(
            settings.topics.escalations,
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=f"escalation-watch-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
        )

    async def until(self, count: int) -> list[EscalationEvent]:
        async with asyncio.timeout(WAIT_S):
            while len(self.seen) < count:
                for records in (await self.consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        event = EscalationEvent.model_validate_json(record.value)
                        if event.subject == self.reference:
                            at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
                            self.seen.append(Delivered(event, at))
        return self.events

    @property
    def events(self) -> list[EscalationEvent]:
        """The request's escalation events taken so far, in order."""
        return [d.event for d in self.seen]


@dataclass
class DemoPolicyRun:
    """A worker on a task queue and topics of one test alone, and a client whose configured
    deadline policy is the demo policy in seconds (the escalation ladders climb in seconds)."""

    settings: Settings
    client: RequestClient


@contextlib.asynccontextmanager
async def worker_on_demo_policy(stack: Settings, prefix: str) -> AsyncIterator[DemoPolicyRun]:
    settings = isolated_settings(stack, prefix).model_copy(update={"policy_file": DEMO_POLICY})
    await ensure_topics(settings)
    worker = asyncio.create_task(run_worker(settings))
    try:
        yield DemoPolicyRun(settings, await RequestClient.connect(settings))
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def on_channel(s: Settings, party: str, reference: str, count: int) -> list[PartyMessage]:
    """The messages about ``reference`` on ``party``'s own outbound channel, once ``count``."""
    consumer = AIOKafkaConsumer(
        s.topics.party_channel(party),
        bootstrap_servers=s.kafka_bootstrap,
        group_id=f"party-channel-watch-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[PartyMessage] = []
    try:
        async with asyncio.timeout(WAIT_S):
            while len(seen) < count:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        message = PartyMessage.model_validate_json(record.value)
                        if message.subject == reference:
                            seen.append(message)
    finally:
        await consumer.stop()
    return seen


async def wait_for_transmitted_event(stack: Settings, reference: str) -> RequestEvent:
    consumer = make_consumer(
        stack, stack.topics.request_events, group_id=f"test-worker-{uuid.uuid4().hex}"
    )
    await start_with_timeout(consumer, stack.kafka_timeout_s)
    try:
        async with asyncio.timeout(30):
            async for record in consumer:
                if record.key == reference.encode():
                    return RequestEvent.model_validate_json(record.value)
    finally:
        await stop_with_timeout(consumer, stack.kafka_timeout_s)
    raise AssertionError("unreachable")
