"""The bridge: a State's answers on Kafka become updates of the request they answer.

Each answer on ``tracefreeze.state-answers`` becomes exactly one accepted update (the update id
is the State's event id, so a redelivered answer is a duplicate, never a second change) or
exactly one dead-letter record with its reason (oversize, malformed, invalid, a failed signature
check: see ``tracefreeze/intake/gate.py``; unknown request, request closed, rejected: see
``tracefreeze/intake/delivery.py``). An offset is committed only after that outcome is final:
Temporal took or definitively refused the answer, or the broker acknowledged the dead-letter
record. While the outcome is unknown (Temporal down, a
timeout) the answer is retried with backoff and never skipped. Answers to one request are
handled in order — several queued ones in one batch update — while different requests run side
by side, up to ``bridge_in_flight`` updates at once.

No State's answer can stall another's (RS art. 93(1), 96; Rule 176: each request is handled on
its own):

- Partitions progress independently. Each fetched partition gets its own task (a *lane*) that
  takes its records in offset order and commits its own offset, while the loop fetches every
  partition; what arrives meanwhile queues behind the lane (``tracefreeze/intake/lanes.py``).
  A partition is paused only for memory, never for a busy lane: a paused one is left out of
  the fetch in flight and waited for its long poll (500 ms) once resumed.
- Within a partition, requests run side by side; the partition waits at most one retry budget
  (``bridge_retry_budget_s``) for a request that cannot take its answer: past it the answer is
  *parked* (``tracefreeze/intake/delivery.py``) in the dead-letter topic with reason ``stuck``.
  Parking uses the dead-letter topic rather than a topic of its own: the record keeps the
  original value, key and headers, and its topic, partition and offset in the ``tf_*``
  headers like every dead letter, and ``tracefreeze dlq list|replay`` and the topic's ACLs and
  retention already serve it, so no new topic has to be provisioned before a stuck request
  can be set aside.
- Order per request is kept: once an answer to a request is parked, every later answer to
  that request this bridge reads is parked behind it (reason ``stuck``, naming the first:
  ``tracefreeze/intake/parking.py``), until an authenticated replay
  (``tracefreeze/intake/replay_auth.py``) to that request is taken. Replaying a request's
  parked answers together, in dead-letter order, restores them in their order.
- A State over its answer budget (``tracefreeze/intake/throttle.py``) waits, its requests
  only, and never longer than ``bridge_throttle_wait_s`` in all per chunk a lane takes of a
  partition: an answer whose turn would come later is parked at once as ``throttled``, in
  order, likewise.
- A replay counts as one only if its MAC verifies (``tracefreeze/intake/replay_auth.py``): a
  ``tf_replayed_from`` header any producer can write skips neither budget nor parking.
- Readiness is false while an answer has been retried for longer than the budget allows
  (parking itself failing, or Temporal or every worker down: ``tracefreeze/intake/retry.py``);
  the metrics ``tracefreeze_answers_parked_total`` and
  ``tracefreeze_oldest_stuck_answer_seconds`` say how many were parked and how old the oldest
  retry is.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from schemas.deadletter import DeadLetterReason
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.deadletter import DeadLetters
from tracefreeze.intake.delivery import AnswerDelivery
from tracefreeze.intake.gate import AnswerGate, ReceivedAnswer
from tracefreeze.intake.lanes import Queued, by_request, next_offset
from tracefreeze.intake.parking import ParkedRequests
from tracefreeze.intake.retry import Abandoned, Budget, Halt, Retry, TemporalProbe
from tracefreeze.intake.throttle import StateBudgets
from tracefreeze.kafka import make_consumer, make_producer, start_with_timeout, stop_with_timeout
from tracefreeze.not_ready import BRIDGE_BUDGET_S
from tracefreeze.ops.http import serving
from tracefreeze.ops.lifecycle import stop_on_signals
from tracefreeze.ops.metrics import (
    ANSWERS_THROTTLED,
    BRIDGE_LATENCY,
    CONSUMER_LAG,
    OLDEST_STUCK,
    sdk_runtime,
)
from tracefreeze.ops.tracing import consuming
from tracefreeze.security.verify import Rejection
from tracefreeze.temporal import connect, renewing_token
from tracefreeze.within import within

log = structlog.get_logger(__name__)

POLL_MS = 500
MAX_BATCH = 5000
"""Records per poll over all partitions: a backlog arrives in large batches per request."""
LAG_EVERY_S = 1.0


async def run_bridge(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Carry answers from Kafka to request workflows until ``stop`` is set (or, without one,
    until SIGTERM/SIGINT); then finish the answer in hand, commit, and close the clients."""
    own_stop = stop is None
    stop = stop or asyncio.Event()
    timeout = settings.kafka_timeout_s
    gate = AnswerGate.load(settings)  # no registry, no bridge: nothing could be verified
    runtime = sdk_runtime() if settings.health_port else None
    client = await connect(settings, runtime, not_ready_s=BRIDGE_BUDGET_S)
    producer = make_producer(settings, client_id=f"{settings.bridge_group_id}-dead-letter")
    consumer = make_consumer(settings, group_id=settings.bridge_group_id)
    retry = Retry(Halt(stop), Budget(settings.bridge_retry_budget_s), timeout)
    delivery = AnswerDelivery(
        client,
        DeadLetters(producer, settings.topics.dead_letter, timeout),
        retry,
        gate,
        asyncio.Semaphore(settings.bridge_in_flight),
    )
    bridge = Bridge(
        consumer,
        gate,
        delivery,
        retry,
        TemporalProbe(client, settings.task_queue, retry.budget, timeout),
        throttle=StateBudgets(settings.bridge_state_rate, settings.bridge_state_burst),
        throttle_wait_s=settings.bridge_throttle_wait_s,
    )
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
            async with (
                serving(settings.health_port, "bridge", bridge.ready),
                renewing_token(client, settings),
            ):
                probing = asyncio.create_task(bridge.probe.run())
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
    """The consumer loop: fetch, hand each partition's records to its own lane, repeat."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        gate: AnswerGate,
        delivery: AnswerDelivery,
        retry: Retry,
        probe: TemporalProbe | None = None,
        throttle: StateBudgets | None = None,
        throttle_wait_s: float = 2.0,
    ) -> None:
        self.consumer, self.gate, self.delivery = consumer, gate, delivery
        self.halt, self.budget, self.timeout_s = retry.halt, retry.budget, retry.timeout_s
        self.probe = probe or TemporalProbe(None, None, retry.budget, retry.timeout_s)
        self.throttle = throttle or StateBudgets(rate=1e9, burst=1_000_000)
        self.throttle_wait_s = throttle_wait_s
        self.joined = False
        """The consumer joined its group (an assignment, possibly empty, was received)."""
        self.lanes: dict[TopicPartition, asyncio.Task[None]] = {}
        self.queued: dict[TopicPartition, Queued] = {}
        """Per partition with a lane: the records fetched since the lane took its last ones."""
        self.parked = ParkedRequests()

    def ready(self) -> bool:
        """Readiness: joined, Temporal reachable, not stopping (false once the drain starts),
        and no answer retried for longer than its budget plus two update timeouts (which
        means parking itself fails, or Temporal or every worker is down)."""
        stuck = self.budget.oldest_s() > self.budget.seconds + 2 * self.timeout_s
        temporal_ok = self.probe.temporal_ok
        return self.joined and temporal_ok and not self.halt.stop.is_set() and not stuck

    async def run(self) -> None:
        measured = 0.0
        try:
            while not self.halt.stop.is_set():
                try:
                    fetched = await within(
                        POLL_MS / 1000 + self.timeout_s,
                        self.consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_BATCH),
                    )
                except (KafkaError, TimeoutError) as err:
                    log.warning("fetching answers failed; polling again", error=repr(err))
                    await self.halt.pause(1.0)
                    continue
                for tp, records in fetched.items():
                    if records:
                        self._start_lane(tp, records)
                OLDEST_STUCK.set(self.budget.oldest_s())
                if time.monotonic() >= measured + LAG_EVERY_S:
                    await self.measure_lag()
                    measured = time.monotonic()
        except asyncio.CancelledError:
            # Cancelled, not stopped: the lanes abandon their retries as on a stop (uncommitted,
            # read again), or the drain would wait for them up to a budget each.
            self.halt.cancelled.set()
            raise
        finally:
            await self.drain()

    def _start_lane(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        """Queue the partition's records behind its lane, starting the lane if none runs."""
        queue = self.queued.setdefault(tp, Queued())
        queue.add(records)
        if tp not in self.lanes:
            self.lanes[tp] = asyncio.create_task(self._lane(tp), name=f"lane-{tp}")
        elif queue.full():
            self.consumer.pause(tp)  # the memory bound; the lane resumes it as it takes them

    async def _lane(self, tp: TopicPartition) -> None:
        """One partition's records to their outcomes, in offset order: what is queued (up to
        ``MAX_BATCH`` records) taken together and committed, then the next, until nothing is
        queued. Records whose outcome is not final are read again, and nothing queued after
        them is taken."""
        try:
            while (records := self._take(tp)) and not self.halt.is_set():
                done: int | None = None
                try:
                    done = await self._partition(records)
                    if done is not None:
                        await self.commit({tp: done})
                except Exception:
                    log.exception(
                        "partition lane failed; its answers will be read again", tp=str(tp)
                    )
                again = records[0].offset if done is None else done
                if again <= records[-1].offset and not self.halt.is_set():
                    self._read_again(tp, again)
                    return
        finally:
            self.lanes.pop(tp, None)
            self.queued.pop(tp, None)  # on a stop or revocation: uncommitted, read again
            if tp in self.consumer.assignment() and tp in self.consumer.paused():
                self.consumer.resume(tp)

    def _take(self, tp: TopicPartition) -> list[ConsumerRecord]:
        """The partition's next records, in order; resumed once what is left is in bound."""
        queue = self.queued.get(tp)
        if queue is None:
            return []
        records = queue.take(MAX_BATCH)
        if not queue.records:
            del self.queued[tp]
        if not queue.full() and tp in self.consumer.paused():
            self.consumer.resume(tp)  # fetched again while these are handled
        return records

    def _read_again(self, tp: TopicPartition, offset: int) -> None:
        """Fetch the partition again from ``offset``, dropping what queued after it (the
        consumer drops what it holds of the partition too): order is never broken."""
        self.queued.pop(tp, None)
        if tp in self.consumer.assignment():
            self.consumer.seek(tp, offset)

    async def drain(self) -> None:
        """Until every lane ended (on stop or revocation they abandon retries at once)."""
        while self.lanes:
            await asyncio.gather(*list(self.lanes.values()), return_exceptions=True)

    async def measure_lag(self) -> None:
        """Consumer lag per assigned partition: end offset (last stable, read_committed)
        minus the position; partitions whose end is not known yet are skipped."""
        for tp in self.consumer.assignment():
            end = self.consumer.last_stable_offset(tp)
            end = end if end is not None and end >= 0 else self.consumer.highwater(tp)
            if end is None:
                continue
            try:
                position = await within(1.0, self.consumer.position(tp))
            except (KafkaError, TimeoutError, AssertionError, ValueError):
                continue
            queue = self.queued.get(tp)
            queued = len(queue.records) if queue else 0  # fetched, not yet taken by its lane
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(end - position, 0) + queued)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the next offset of each partition; a failure only means redelivery."""
        if not offsets:
            return
        try:
            await within(self.timeout_s, self.consumer.commit(offsets))
        except (KafkaError, TimeoutError) as err:
            log.warning("commit failed; answers will be redelivered", error=repr(err))

    async def _partition(self, records: list[ConsumerRecord]) -> int | None:
        """Handle one partition's answers: screen them (the refused ones dead-lettered
        together), then deliver each request's answers in order (a backlog in batch updates),
        requests side by side; the next offset to commit, if any."""
        finished: set[int] = set()
        if self.halt.is_set():
            return None
        started = time.perf_counter()
        items: list[ReceivedAnswer] = []
        refused: list[tuple[ConsumerRecord, Rejection]] = []
        for record, checked in zip(records, self.gate.screen(records), strict=True):
            if isinstance(checked, Rejection):
                refused.append((record, checked))
            else:
                items.append(checked)
        try:
            await self.delivery.refuse(refused)  # dead-lettered together
        except Abandoned:
            return None
        finished.update(record.offset for record, _ in refused)
        for _ in refused:
            BRIDGE_LATENCY.observe((time.perf_counter() - started) / max(len(refused), 1))
        # A State over its budget holds this lane at most throttle_wait_s in all (its
        # requests run side by side, so one deadline bounds them together); past it, its
        # answers are parked as throttled at once.
        deadline = self.throttle.clock() + self.throttle_wait_s
        await asyncio.gather(
            *(self._request(group, finished, deadline) for group in by_request(items))
        )
        return next_offset(records, finished)

    async def _request(
        self, group: list[ReceivedAnswer], finished: set[int], deadline: float
    ) -> None:
        """One request's answers, in order, batch after batch, within its State's budget;
        behind a parked answer of the same request, parked too."""
        pending = list(group)
        while pending and not self.halt.is_set():
            batch, behind = self.parked.next(pending)
            if behind is None and not batch[0].replayed:
                batch = batch[: self.throttle.burst]  # a batch pays for each of its answers
            started = time.perf_counter()
            try:
                if behind is not None:
                    await self.delivery.park(batch, behind.reason, behind.detail)
                elif not await self._within_budget(batch, pending, deadline):
                    finished.update(item.record.offset for item in pending)
                    return  # the request's remaining answers are parked as throttled
                else:
                    with consuming(batch[0].record.topic, batch[0].record.headers):
                        taken = await self.delivery.deliver(batch)
                    self.parked.delivered(batch, taken)
            except Abandoned:
                return
            for item in batch:  # per answer, so the count is the answers handled
                BRIDGE_LATENCY.observe((time.perf_counter() - started) / len(batch))
                finished.add(item.record.offset)
            pending = pending[len(batch) :]

    async def _within_budget(
        self, batch: list[ReceivedAnswer], pending: list[ReceivedAnswer], deadline: float
    ) -> bool:
        """Wait for the State's budget, but never past the lane's ``deadline``; False once
        the rest of the request's answers are parked as throttled because the wait would
        pass it (their outcome is final)."""
        if batch[0].replayed:
            return True  # an operator's authenticated replay is not the State's flood
        state = batch[0].answer.state
        left = max(0.0, deadline - self.throttle.clock())
        wait = self.throttle.reserve(state, len(batch), left)
        if wait is None:
            detail = (
                f"State {state} over its answer budget (bridge_state_rate, "
                f"bridge_state_burst): a partition waits at most "
                f"{self.throttle_wait_s:g}s per chunk of answers for a State's budget"
            )
            ANSWERS_THROTTLED.labels(state).inc(len(pending))
            await self.delivery.park(pending, DeadLetterReason.THROTTLED, detail)
            self.parked.mark(pending[0], DeadLetterReason.THROTTLED)
            return False
        if wait > 0:
            ANSWERS_THROTTLED.labels(state).inc(len(batch))
            await self.halt.pause(wait)
            if self.halt.is_set():
                raise Abandoned("waiting for the State's answer budget")
        return True


class _Listener(ConsumerRebalanceListener):
    """On revocation: let in-flight answers finish (or abandon retries), commit, hand over."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.bridge.halt.revoking.set()
        try:
            await self.bridge.drain()  # each lane commits what it finished
            log.info("partitions revoked", partitions=sorted(str(tp) for tp in revoked))
            for tp in revoked:
                with contextlib.suppress(KeyError):
                    CONSUMER_LAG.remove(tp.topic, str(tp.partition))
        finally:
            self.bridge.halt.revoking.clear()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.bridge.joined = True
        log.info("partitions assigned", partitions=sorted(str(tp) for tp in assigned))
