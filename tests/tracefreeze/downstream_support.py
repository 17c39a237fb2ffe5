"""What the downstream tests share: the Court's topics of one test, and events published
exactly as the worker's publishing activity publishes them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

from aiokafka import AIOKafkaProducer

from activities.publish import EventPublisher
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from schemas.request import CourtRequest
from tests.builders import acknowledgement, court_request, execution_report, frozen_at, now
from tests.stack import isolated
from tests.tracefreeze.e2e import Running, send_signed
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


FROZEN = {"a-account-1": Decimal("398214.37"), "a-apartment-1": Decimal("860000.00")}
"""The worked example's two assets and the amounts its party reports frozen."""


async def both_assets_frozen(r: Running, tag: str) -> tuple[CourtRequest, dict[str, Decimal]]:
    """Submit the worked example's request to the running worker; its party acknowledges it
    and reports both its assets frozen, signed, over Kafka. The request and the amount
    frozen of each asset."""
    request = court_request(tag=tag)
    await r.client.submit(request)
    await send_signed(r, acknowledgement(request, sent_at=now()))
    await send_signed(r, execution_report(request, frozen_at(FROZEN), sent_at=now()))
    return request, dict(FROZEN)
