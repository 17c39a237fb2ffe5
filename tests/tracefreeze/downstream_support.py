"""What the downstream tests share: the Court's topics of one test, and events published
exactly as the worker's publishing activity publishes them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaProducer

from activities.publish import EventPublisher
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from tests.stack import isolated
from tracefreeze.config import Settings
from tracefreeze.topics import ensure_topics


@contextlib.asynccontextmanager
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def publish(p: AIOKafkaProducer, topic: str, event: RequestEvent | EscalationEvent) -> int:
    """As the worker's publishing activity does (binary mode, key = request reference)."""
    # The record exactly as the worker's activity makes it.
    record = EventPublisher._record(event)
    return (await p.send_and_wait(topic, **record)).partition


async def topics_of(stack: Settings) -> Settings:
    s = isolated(stack, "downstream")
    await ensure_topics(s)
    return s
