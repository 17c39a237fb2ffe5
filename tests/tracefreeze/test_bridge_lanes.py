"""A partition's lane on a real broker: records arriving while the lane is busy are fetched and
queued behind it, never by pausing the partition (a paused partition is left out of the fetch
request then in flight, and an answer arriving just after its lane ended waited up to the
consumer's long poll, 500 ms, before it was fetched at all); order and commits hold, and the
queue is bounded (RS art. 93(1), 96: each request's answers taken in order, none lost).

Each test holds the lane on an event, so what it asserts never depends on timing: only
waiting for the broker to hand over what was produced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

import tracefreeze.intake.lanes as lanes_module
from tests.tracefreeze.e2e import isolated
from tracefreeze.config import Settings
from tracefreeze.intake.bridge import Bridge
from tracefreeze.intake.retry import Budget, Halt, Retry
from tracefreeze.kafka import make_consumer
from tracefreeze.topics import ensure_topics

pytestmark = pytest.mark.stack

WAIT_S = 30.0


class HeldLanes(Bridge):
    """The bridge's loop and lanes, with each chunk a lane takes recorded and held until the
    test releases it; ``outcome`` says what the chunk's handling returns."""

    def __init__(
        self, consumer: AIOKafkaConsumer, outcome: Callable[[list[int]], int | None]
    ) -> None:
        retry = Retry(Halt(asyncio.Event()), Budget(), 5.0)
        super().__init__(consumer, None, None, retry)  # type: ignore[arg-type]
        self.outcome = outcome
        self.chunks: list[list[int]] = []
        self.taken = asyncio.Event()
        self.release = asyncio.Event()
        self.holding = True

    async def _partition(self, records: list[ConsumerRecord]) -> int | None:
        offsets = [r.offset for r in records]
        self.chunks.append(offsets)
        self.taken.set()
        if self.holding:
            await self.release.wait()
            self.release.clear()
        return self.outcome(offsets)


def all_final(offsets: list[int]) -> int:
    return offsets[-1] + 1


def queued(bridge: Bridge, tp: TopicPartition) -> list[int]:
    queue = bridge.queued.get(tp)
    return [r.offset for r in queue.records] if queue else []


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT_S):
        while not condition():  # noqa: ASYNC110 (waits for the broker, not for a time)
            await asyncio.sleep(0.01)


@pytest.fixture
async def partition(stack: Settings) -> AsyncIterator[tuple[Settings, TopicPartition]]:
    settings = isolated(stack)
    await ensure_topics(settings)
    yield settings, TopicPartition(settings.topics.state_answers, 0)


@pytest.fixture
async def produce(
    partition: tuple[Settings, TopicPartition],
) -> AsyncIterator[Callable[[int], Awaitable[None]]]:
    settings, tp = partition
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()

    async def send(n: int) -> None:
        for i in range(n):
            await producer.send_and_wait(tp.topic, value=b"answer %d" % i, partition=tp.partition)

    try:
        yield send
    finally:
        await producer.stop()


async def running(
    settings: Settings, tp: TopicPartition, outcome: Callable[[list[int]], int | None]
) -> tuple[HeldLanes, asyncio.Task[None], AIOKafkaConsumer]:
    consumer = make_consumer(settings, group_id=settings.bridge_group_id)
    await consumer.start()
    consumer.assign([tp])
    bridge = HeldLanes(consumer, outcome)
    return bridge, asyncio.create_task(bridge.run()), consumer


async def stopped(bridge: HeldLanes, loop: asyncio.Task[None], consumer: AIOKafkaConsumer) -> None:
    bridge.halt.stop.set()
    bridge.release.set()
    async with asyncio.timeout(WAIT_S):
        await loop
    await consumer.stop()


async def test_answers_behind_a_busy_lane_are_fetched_without_pausing_its_partition(
    partition: tuple[Settings, TopicPartition], produce: Callable[[int], Awaitable[None]]
) -> None:
    settings, tp = partition
    bridge, loop, consumer = await running(settings, tp, all_final)
    try:
        await produce(1)
        await until(bridge.taken.is_set)  # the lane holds offset 0
        bridge.taken.clear()
        await produce(2)
        await until(lambda: queued(bridge, tp) == [1, 2])
        assert tp not in consumer.paused()  # fetched while the lane was busy
        bridge.release.set()
        await until(lambda: len(bridge.chunks) == 2)
        bridge.release.set()
        await until(lambda: not bridge.lanes)
        assert bridge.chunks == [[0], [1, 2]]  # in order, the queued ones together
        assert await consumer.committed(tp) == 3
    finally:
        await stopped(bridge, loop, consumer)


async def test_an_unfinished_chunk_is_read_again_before_anything_queued_behind_it(
    partition: tuple[Settings, TopicPartition], produce: Callable[[int], Awaitable[None]]
) -> None:
    """Offset 0's outcome is not final the first time (Temporal gave none): the lane reads it
    again from 0; offset 1, queued meanwhile, is never taken before it."""
    settings, tp = partition
    first = [True]

    def once_unfinished(offsets: list[int]) -> int | None:
        if first[0]:
            first[0] = False
            return None
        return offsets[-1] + 1

    bridge, loop, consumer = await running(settings, tp, once_unfinished)
    try:
        await produce(1)
        await until(bridge.taken.is_set)
        await produce(1)
        await until(lambda: queued(bridge, tp) == [1])
        bridge.holding = False
        bridge.release.set()  # not final: offset 0 read again, the queue dropped
        await until(lambda: sum(len(c) for c in bridge.chunks[1:]) >= 2 and not bridge.lanes)
        assert bridge.chunks[1][0] == 0
        assert [o for c in bridge.chunks[1:] for o in c] == [0, 1]
        assert await consumer.committed(tp) == 2
    finally:
        await stopped(bridge, loop, consumer)


async def test_a_partition_is_paused_only_past_the_queue_bound_and_resumed_when_taken(
    partition: tuple[Settings, TopicPartition],
    produce: Callable[[int], Awaitable[None]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lanes_module, "QUEUED_MAX", 2)
    settings, tp = partition
    bridge, loop, consumer = await running(settings, tp, all_final)
    try:
        await produce(1)
        await until(bridge.taken.is_set)
        bridge.taken.clear()
        await produce(1)
        await until(lambda: queued(bridge, tp) == [1])
        assert tp not in consumer.paused()  # below the bound
        await produce(1)
        await until(lambda: queued(bridge, tp) == [1, 2])
        assert tp in consumer.paused()  # the bound: memory, never a reason to stall
        bridge.release.set()
        await until(bridge.taken.is_set)  # the lane took the queue and resumed the partition
        assert tp not in consumer.paused()
        await produce(1)
        await until(lambda: queued(bridge, tp) == [3])
        bridge.release.set()
        await until(lambda: len(bridge.chunks) == 3)
        bridge.release.set()
        await until(lambda: not bridge.lanes)
        assert bridge.chunks == [[0], [1, 2], [3]]
        assert await consumer.committed(tp) == 4
    finally:
        await stopped(bridge, loop, consumer)


async def test_a_stop_with_answers_queued_leaves_them_uncommitted_for_the_next_bridge(
    partition: tuple[Settings, TopicPartition], produce: Callable[[int], Awaitable[None]]
) -> None:
    """Stopped while its lane holds offset 0 and offsets 1-2 wait behind it: the lane finishes
    0 and commits it, the queue is dropped uncommitted, and the next bridge of the group takes
    1 and 2, in order (each answer's outcome is final before its offset is committed)."""
    settings, tp = partition
    bridge, loop, consumer = await running(settings, tp, all_final)
    try:
        await produce(1)
        await until(bridge.taken.is_set)
        await produce(2)
        await until(lambda: queued(bridge, tp) == [1, 2])
    finally:
        await stopped(bridge, loop, consumer)
    assert bridge.chunks == [[0]] and not bridge.queued
    after, loop, consumer = await running(settings, tp, all_final)
    after.holding = False
    try:
        await until(lambda: sum(len(c) for c in after.chunks) >= 2 and not after.lanes)
        assert [o for c in after.chunks for o in c] == [1, 2]
        assert await consumer.committed(tp) == 3
    finally:
        await stopped(after, loop, consumer)


class RetryingLane(HeldLanes):
    """A lane whose answer Temporal never takes: it waits between tries as the bridge's
    retries do (``Halt.pause``), for an hour, unless the bridge stops."""

    async def _partition(self, records: list[ConsumerRecord]) -> int | None:
        self.chunks.append([r.offset for r in records])
        self.taken.set()
        await self.halt.pause(3600)
        return None  # abandoned: not final, not committed


async def test_a_cancelled_bridge_stops_its_lanes_retrying_and_ends(
    partition: tuple[Settings, TopicPartition], produce: Callable[[int], Awaitable[None]]
) -> None:
    """Cancelled instead of stopped (a test's task, an embedding process): the bridge takes it
    as a stop, so its lanes abandon their retries and it ends; before, it waited for them in
    its drain (here an hour; in production up to a retry budget)."""
    settings, tp = partition
    consumer = make_consumer(settings, group_id=settings.bridge_group_id)
    await consumer.start()
    consumer.assign([tp])
    bridge = RetryingLane(consumer, all_final)
    loop = asyncio.create_task(bridge.run())
    try:
        await produce(1)
        await until(bridge.taken.is_set)
        loop.cancel()
        await asyncio.wait({loop}, timeout=WAIT_S)  # an hour without the change
        assert loop.done() and loop.cancelled()
        assert bridge.halt.is_set() and not bridge.lanes
        assert not bridge.halt.stop.is_set()  # the caller's event: never set for it
        assert await consumer.committed(tp) is None  # abandoned, read again by the next
    finally:
        if not loop.done():  # failed: stop it, so nothing outlives the test
            bridge.halt.stop.set()
            await asyncio.wait({loop}, timeout=WAIT_S)
        await consumer.stop()
