"""The bridge: a State's answers on Kafka become updates of the request they answer.

Each answer on ``tracefreeze.state-answers`` becomes exactly one accepted update (the update id
is the State's event id, so a redelivered answer is a duplicate, never a second change) or
exactly one dead-letter record with its reason (oversize, malformed, invalid, a failed signature
check: see ``tracefreeze/gate.py``; unknown request, request closed, rejected). An offset is
committed only after that outcome is final: Temporal took or definitively refused the answer, or
the broker acknowledged the dead-letter record. While the outcome is unknown (Temporal down, a
timeout) the answer is retried with backoff and never skipped. Answers to one request are
handled in order — several queued ones in one batch update — while different requests run side
by side, up to ``bridge_in_flight`` updates at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from temporalio.client import Client

from tracefreeze.config import Settings
from tracefreeze.deadletter import DeadLetters
from tracefreeze.errors import TracefreezeError
from tracefreeze.gate import AnswerGate
from tracefreeze.handler import Abandoned, AnswerHandler, Halt
from tracefreeze.kafka import make_consumer, make_producer, start_with_timeout, stop_with_timeout
from tracefreeze.metrics import BRIDGE_LATENCY, CONSUMER_LAG, sdk_runtime
from tracefreeze.ops_http import serving
from tracefreeze.pipeline import ReceivedAnswer, batches, by_request, next_offset
from tracefreeze.temporal import connect
from tracefreeze.tracing import consuming
from tracefreeze.worker import stop_on_signals

log = structlog.get_logger(__name__)

POLL_MS = 500
MAX_BATCH = 5000
"""Records per poll over all partitions: a backlog arrives in large batches per request."""
PROBE_S = 5.0
"""How often readiness re-checks that Temporal answers."""


async def run_bridge(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Carry answers from Kafka to request workflows until ``stop`` is set (or, without one,
    until SIGTERM/SIGINT); then finish the answer in hand, commit, and close the clients."""
    own_stop = stop is None
    stop = stop or asyncio.Event()
    timeout = settings.kafka_timeout_s
    gate = AnswerGate.load(settings)  # no registry, no bridge: nothing could be verified
    client = await connect(settings, sdk_runtime() if settings.health_port else None)
    producer = make_producer(settings, client_id=f"{settings.bridge_group_id}-dead-letter")
    consumer = make_consumer(settings, group_id=settings.bridge_group_id)
    halt = Halt(stop)
    handler = AnswerHandler(
        client, DeadLetters(producer, settings.topics.dead_letter, timeout), halt, timeout, gate
    )
    bridge = Bridge(consumer, handler, halt, timeout, client, settings.bridge_in_flight)
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
            async with serving(settings.health_port, "bridge", bridge.ready):
                probing = asyncio.create_task(bridge.probe_temporal())
                log.info("bridge started", topic=settings.topics.state_answers)
                try:
                    await bridge.run()
                finally:
                    probing.cancel()
    finally:
        await stop_with_timeout(consumer, timeout)
        await stop_with_timeout(producer, timeout)
        log.info("bridge stopped")


class Bridge:
    """The consumer loop: one batch at a time, partitions side by side, then one commit."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        handler: AnswerHandler,
        halt: Halt,
        timeout_s: float,
        client: Client | None = None,
        in_flight: int = 1,
    ) -> None:
        self.consumer, self.handler, self.halt, self.timeout_s = consumer, handler, halt, timeout_s
        self.client = client
        self.in_flight = asyncio.Lock()
        self.joined = False
        """The consumer joined its group (an assignment, possibly empty, was received)."""
        self.temporal_ok = client is not None
        self.slots = asyncio.Semaphore(in_flight)
        """Updates in flight at once, over all partitions."""

    def ready(self) -> bool:
        """Readiness: joined, Temporal reachable, and not stopping (false once the drain
        starts)."""
        return self.joined and self.temporal_ok and not self.halt.stop.is_set()

    async def probe_temporal(self) -> None:
        """Keep ``temporal_ok`` current (the HTTP thread cannot await)."""
        while self.client is not None:
            try:
                self.temporal_ok = await self.client.service_client.check_health(
                    timeout=timedelta(seconds=min(self.timeout_s, PROBE_S))
                )
            except Exception:
                self.temporal_ok = False
            await asyncio.sleep(PROBE_S)

    async def run(self) -> None:
        while not self.halt.stop.is_set():
            try:
                fetched = await asyncio.wait_for(
                    self.consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_BATCH),
                    timeout=POLL_MS / 1000 + self.timeout_s,
                )
            except (KafkaError, TimeoutError) as err:
                log.warning("fetching answers failed; polling again", error=repr(err))
                await self.halt.pause(1.0)
                continue
            if not fetched:
                await self.measure_lag()
                continue
            async with self.in_flight:
                done = await asyncio.gather(*(self._partition(r) for r in fetched.values()))
                offsets = dict(zip(fetched, done, strict=True))
                await self.commit({tp: n for tp, n in offsets.items() if n is not None})
            await self.measure_lag()

    async def measure_lag(self) -> None:
        """Consumer lag per assigned partition: end offset (last stable, read_committed)
        minus the position; partitions whose end is not known yet are skipped."""
        for tp in self.consumer.assignment():
            end = self.consumer.last_stable_offset(tp)
            end = end if end is not None and end >= 0 else self.consumer.highwater(tp)
            if end is None:
                continue
            try:
                position = await asyncio.wait_for(self.consumer.position(tp), timeout=1.0)
            except (KafkaError, TimeoutError, AssertionError, ValueError):
                continue
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(end - position, 0))

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the next offset of each partition; a failure only means redelivery."""
        if not offsets:
            return
        try:
            await asyncio.wait_for(self.consumer.commit(offsets), timeout=self.timeout_s)
        except (KafkaError, TimeoutError) as err:
            log.warning("commit failed; answers will be redelivered", error=repr(err))

    async def _partition(self, records: list[ConsumerRecord]) -> int | None:
        """Handle one partition's answers: screen them in order, then deliver each request's
        answers in order (a backlog in batch updates), requests side by side; the next
        offset to commit, if any."""
        finished: set[int] = set()
        items: list[ReceivedAnswer] = []
        for record in records:
            if self.halt.is_set():
                return next_offset(records, finished)
            started = time.perf_counter()
            try:
                answer = await self.handler.screen(record)
            except Abandoned:
                return next_offset(records, finished)
            if answer is None:  # dead-lettered by the gate
                BRIDGE_LATENCY.observe(time.perf_counter() - started)
                finished.add(record.offset)
            else:
                items.append(ReceivedAnswer(record, answer))
        await asyncio.gather(*(self._request(group, finished) for group in by_request(items)))
        return next_offset(records, finished)

    async def _request(self, group: list[ReceivedAnswer], finished: set[int]) -> None:
        """One request's answers, in order, batch after batch, within the in-flight limit."""
        for batch in batches(group):
            if self.halt.is_set():
                return
            started = time.perf_counter()
            async with self.slots:
                try:
                    with consuming(batch[0].record.topic, batch[0].record.headers):
                        await self.handler.deliver(batch)
                except Abandoned:
                    return
            for item in batch:  # per answer, so the count is the answers handled
                BRIDGE_LATENCY.observe((time.perf_counter() - started) / len(batch))
                finished.add(item.record.offset)


class _Listener(ConsumerRebalanceListener):
    """On revocation: let in-flight answers finish (or abandon retries), commit, hand over."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.bridge.halt.revoking.set()
        try:
            async with self.bridge.in_flight:  # the batch commits what it finished
                log.info("partitions revoked", partitions=sorted(str(tp) for tp in revoked))
            for tp in revoked:
                with contextlib.suppress(KeyError):
                    CONSUMER_LAG.remove(tp.topic, str(tp.partition))
        finally:
            self.bridge.halt.revoking.clear()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.bridge.joined = True
        log.info("partitions assigned", partitions=sorted(str(tp) for tp in assigned))
