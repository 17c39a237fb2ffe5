"""The bridge: a State's answers on Kafka become updates of the request they answer.

Each answer on ``tracefreeze.state-answers`` becomes exactly one accepted update (the update id
is the State's event id, so a redelivered answer is a duplicate, never a second change) or
exactly one dead-letter record with its reason (oversize, malformed, invalid, a failed signature
check: see ``tracefreeze/gate.py``; unknown request, request closed, rejected). An offset is
committed only after that outcome is final: Temporal took or definitively refused the answer, or
the broker acknowledged the dead-letter record. While the outcome is unknown (Temporal down, a
timeout) the answer is retried with backoff and never skipped. Answers of one partition (one
request reference) are handled in order; partitions run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from tracefreeze.config import Settings
from tracefreeze.deadletter import DeadLetters
from tracefreeze.errors import TracefreezeError
from tracefreeze.gate import AnswerGate
from tracefreeze.handler import Abandoned, AnswerHandler, Halt
from tracefreeze.kafka import make_consumer, make_producer, start_with_timeout, stop_with_timeout
from tracefreeze.temporal import connect
from tracefreeze.worker import stop_on_signals

log = structlog.get_logger(__name__)

POLL_MS = 500
MAX_BATCH = 200


async def run_bridge(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Carry answers from Kafka to request workflows until ``stop`` is set (or, without one,
    until SIGTERM/SIGINT); then finish the answer in hand, commit, and close the clients."""
    own_stop = stop is None
    stop = stop or asyncio.Event()
    timeout = settings.kafka_timeout_s
    gate = AnswerGate.load(settings)  # no registry, no bridge: nothing could be verified
    client = await connect(settings)
    producer = make_producer(settings, client_id=f"{settings.bridge_group_id}-dead-letter")
    consumer = make_consumer(settings, group_id=settings.bridge_group_id)
    halt = Halt(stop)
    handler = AnswerHandler(
        client, DeadLetters(producer, settings.topics.dead_letter, timeout), halt, timeout, gate
    )
    bridge = Bridge(consumer, handler, halt, timeout)
    consumer.subscribe([settings.topics.state_answers], listener=_Listener(bridge))
    try:
        try:
            await start_with_timeout(producer, timeout)
            await start_with_timeout(consumer, timeout)
        except (TimeoutError, KafkaError) as err:
            raise TracefreezeError(
                f"cannot reach Kafka at {settings.kafka_bootstrap}; is the stack up? try `make up`"
            ) from err
        with stop_on_signals(stop) if own_stop else contextlib.nullcontext():
            log.info("bridge started", topic=settings.topics.state_answers)
            await bridge.run()
    finally:
        await stop_with_timeout(consumer, timeout)
        await stop_with_timeout(producer, timeout)
        log.info("bridge stopped")


class Bridge:
    """The consumer loop: one batch at a time, partitions side by side, then one commit."""

    def __init__(
        self, consumer: AIOKafkaConsumer, handler: AnswerHandler, halt: Halt, timeout_s: float
    ) -> None:
        self.consumer, self.handler, self.halt, self.timeout_s = consumer, handler, halt, timeout_s
        self.in_flight = asyncio.Lock()

    async def run(self) -> None:
        while not self.halt.stop.is_set():
            try:
                batches = await asyncio.wait_for(
                    self.consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_BATCH),
                    timeout=POLL_MS / 1000 + self.timeout_s,
                )
            except (KafkaError, TimeoutError) as err:
                log.warning("fetching answers failed; polling again", error=repr(err))
                await self.halt.pause(1.0)
                continue
            if not batches:
                continue
            async with self.in_flight:
                done = await asyncio.gather(*(self._partition(r) for r in batches.values()))
                offsets = dict(zip(batches, done, strict=True))
                await self.commit({tp: n for tp, n in offsets.items() if n is not None})

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the next offset of each partition; a failure only means redelivery."""
        if not offsets:
            return
        try:
            await asyncio.wait_for(self.consumer.commit(offsets), timeout=self.timeout_s)
        except (KafkaError, TimeoutError) as err:
            log.warning("commit failed; answers will be redelivered", error=repr(err))

    async def _partition(self, records: list[ConsumerRecord]) -> int | None:
        """Handle one partition's answers in order; the next offset to commit, if any."""
        done: int | None = None
        for record in records:
            if self.halt.is_set():
                break
            try:
                await self.handler.handle(record)
            except Abandoned:
                break
            done = record.offset + 1
        return done


class _Listener(ConsumerRebalanceListener):
    """On revocation: let in-flight answers finish (or abandon retries), commit, hand over."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.bridge.halt.revoking.set()
        try:
            async with self.bridge.in_flight:  # the batch commits what it finished
                log.info("partitions revoked", partitions=sorted(str(tp) for tp in revoked))
        finally:
            self.bridge.halt.revoking.clear()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("partitions assigned", partitions=sorted(str(tp) for tp in assigned))
