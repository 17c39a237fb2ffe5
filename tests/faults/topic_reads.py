"""What the fault drills read back from Kafka: a whole topic (no group), the reason codes of
dead letters, and a consumer group's committed offsets and lag; ``until`` waits on a check."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from schemas.deadletter import HEADER_REASON, HEADER_REASON_CODE
from tests.faults.drill import WAIT_S
from tracefreeze.config import Settings
from tracefreeze.security.kafka_security import security_kwargs

# --- reading a topic ---------------------------------------------------------------------


async def read_topic(s: Settings, topic: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` up to its end offsets now (no consumer group)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=s.kafka_bootstrap, enable_auto_commit=False, **security_kwargs(s)
    )
    await consumer.start()
    try:
        tps = partitions_of(s, topic)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        seen: list[ConsumerRecord] = []
        async with asyncio.timeout(WAIT_S):
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    seen.extend(batch)
        return seen
    finally:
        await consumer.stop()


def reason_codes(records: list[ConsumerRecord]) -> Counter[str]:
    return Counter(dict(r.headers).get(HEADER_REASON_CODE, b"?").decode() for r in records)


def reasons(records: list[ConsumerRecord]) -> list[str]:
    """Each dead letter's reason code and detail, so a drill that fails names the cause."""
    return [
        f"{dict(r.headers).get(HEADER_REASON_CODE, b'?').decode()}: "
        f"{dict(r.headers).get(HEADER_REASON, b'').decode()}"
        for r in records
    ]


# --- consumer-group lag -------------------------------------------------------------------


def partitions_of(s: Settings, topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in range(s.topics.partitions()[topic])]


async def group_offsets(s: Settings, group: str, topic: str) -> dict[TopicPartition, int]:
    """The group's committed offset of every partition of ``topic`` (0 if none)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap, **security_kwargs(s))
    await admin.start()
    try:
        tps = partitions_of(s, topic)
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
    finally:
        await admin.close()
    out = {}
    for tp in tps:
        meta = committed.get(tp)
        out[tp] = meta.offset if meta is not None and meta.offset >= 0 else 0
    return out


async def end_offsets(s: Settings, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=s.kafka_bootstrap, enable_auto_commit=False, **security_kwargs(s)
    )
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions_of(s, topic)))
    finally:
        await consumer.stop()


async def group_lag(s: Settings, group: str, topic: str) -> int:
    """End offsets minus the group's committed offsets, over every partition of ``topic``."""
    committed = await group_offsets(s, group, topic)
    ends = await end_offsets(s, topic)
    return sum(ends[tp] - committed[tp] for tp in ends)


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.3)
    return False
