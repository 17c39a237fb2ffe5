"""A consumer of the Court's outbound topics that hands each event to the caller once, in each
request's order, and commits only what the caller finished.

- **Order.** The key of every event is its request reference, so all events of one request
  are on one partition, in the order the request made them. Records of a partition are
  handed over one at a time in offset order; the next waits until the handler returned. The
  consumer never reorders, skips ahead or retries a record later: a handler that raises stops
  the loop (what finished before it is committed), and the record is delivered again on the
  next run. Events of different requests (other partitions) have no order between them.
- **Duplicates.** Kafka delivers at least once. Each event id is looked up in a ``SeenStore``
  (``seen.py``) and handed over only if unseen; the id is added after the handler finished.
  The store is bounded: a handler stays idempotent by id.
- **Commits.** By hand, only offsets whose record the handler (or the unreadable callback)
  finished, every ``commit_every`` records or ``commit_interval_s`` seconds, on partitions
  revoked in a rebalance, on a clean stop and when a handler raises. A run cancelled or a
  process killed commits nothing more: its records after the last commit are delivered again.
- **Unreadable records** (not JSON, unknown type, an envelope that disagrees with its body:
  ``envelope.py``) go to the ``unreadable`` callback with their position and reason, and the
  loop goes on. Nothing is dropped silently.

Connection, security and "read committed" come from ``tracefreeze/kafka.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from tracefreeze.config import Settings
from tracefreeze.downstream.envelope import Received, Unreadable, known_types, read
from tracefreeze.downstream.seen import InMemorySeen, SeenStore
from tracefreeze.kafka import make_consumer, start_with_timeout, stop_with_timeout
from tracefreeze.within import within

log = structlog.get_logger(__name__)

Handler = Callable[[Received], Awaitable[None]]
UnreadableHandler = Callable[[Unreadable], Awaitable[None]]
POLL_MS = 200


@dataclass
class Tally:
    """What one run did."""

    handled: int = 0
    duplicates: int = 0
    unreadable: int = 0
    commits: int = 0


class _Revoked(ConsumerRebalanceListener):
    def __init__(self, owner: CourtEventsConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self.owner._commit(set(revoked))

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        return None


class CourtEventsConsumer:
    """Reads the request events and escalations topics (or ``topics``) in group ``group_id``.

    A new ``group_id`` reads from the beginning of what the broker keeps (a replay); the
    same group goes on from its last commit."""

    def __init__(
        self,
        settings: Settings,
        group_id: str,
        *,
        handle: Handler,
        unreadable: UnreadableHandler,
        seen: SeenStore | None = None,
        topics: Sequence[str] | None = None,
        commit_every: int = 100,
        commit_interval_s: float = 5.0,
    ) -> None:
        if commit_every < 1:
            raise ValueError(f"commit_every {commit_every}: at least 1")
        self.settings = settings
        self.group_id = group_id
        self.handle = handle
        self.unreadable = unreadable
        self.seen: SeenStore = seen if seen is not None else InMemorySeen()
        carried = known_types(settings.topics)
        self.topics = tuple(topics or carried)
        unknown = [t for t in self.topics if t not in carried]
        if unknown:
            raise ValueError(f"not a Court outbound topic: {', '.join(unknown)}")
        self._types = carried
        self.commit_every = commit_every
        self.commit_interval_s = commit_interval_s
        self.tally = Tally()
        self._finished: dict[TopicPartition, int] = {}
        self._pending = 0
        self._committed_at = time.monotonic()
        self._consumer: AIOKafkaConsumer | None = None

    async def run(
        self, stop: asyncio.Event | None = None, *, until_caught_up: bool = False
    ) -> Tally:
        """Consume until ``stop`` is set (or, with ``until_caught_up``, until every assigned
        partition is read to its end), then commit what finished and return the tally."""
        stop = stop or asyncio.Event()
        timeout = self.settings.kafka_timeout_s
        consumer = make_consumer(self.settings, group_id=self.group_id)
        self._consumer = consumer
        await start_with_timeout(consumer, timeout)
        try:
            consumer.subscribe(list(self.topics), listener=_Revoked(self))
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=POLL_MS)
                for tp, records in batches.items():
                    await self._partition(consumer, tp, records, stop)
                if not batches and until_caught_up and await self._caught_up(consumer):
                    break
                if self._due():
                    await self._commit()
            await self._commit()
        except Exception:
            await self._commit()  # what finished before the failure, then the failure
            raise
        finally:
            self._consumer = None
            await stop_with_timeout(consumer, timeout)
        return self.tally

    async def _partition(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord],
        stop: asyncio.Event,
    ) -> None:
        """One partition's records, in offset order, each finished before the next."""
        for record in records:
            if stop.is_set() or tp not in consumer.assignment():
                return  # not handled: delivered again to whoever owns the partition next
            await self._one(tp, record)
            self._finished[tp] = record.offset + 1
            self._pending += 1
            if self._due():
                await self._commit()

    async def _one(self, tp: TopicPartition, record: ConsumerRecord) -> None:
        types = self._types[tp.topic]
        item = read(
            tp.topic, tp.partition, record.offset, record.key, record.value, record.headers, types
        )
        if isinstance(item, Unreadable):
            await self.unreadable(item)
            self.tally.unreadable += 1
            return
        if await self.seen.seen(item.id):
            self.tally.duplicates += 1
            return
        await self.handle(item)
        await self.seen.add(item.id)
        self.tally.handled += 1

    def _due(self) -> bool:
        if not self._pending:
            return False
        elapsed = time.monotonic() - self._committed_at
        return self._pending >= self.commit_every or elapsed >= self.commit_interval_s

    async def _commit(self, only: set[TopicPartition] | None = None) -> None:
        """Commit the finished offsets (of ``only``, when given) of partitions still ours."""
        consumer = self._consumer
        if consumer is None:
            return
        owned = consumer.assignment()
        chosen = [tp for tp in self._finished if only is None or tp in only]
        finished = {tp: self._finished.pop(tp) for tp in chosen}
        offsets = {tp: o for tp, o in finished.items() if tp in owned}
        if only is None:
            self._pending = 0
            self._committed_at = time.monotonic()
        if not offsets:
            return
        try:
            await within(self.settings.kafka_timeout_s, consumer.commit(offsets))
        except (KafkaError, TimeoutError) as err:
            log.warning(
                "commit failed: the records after the last commit will be delivered again",
                group=self.group_id,
                error=repr(err),
            )
            return
        self.tally.commits += 1

    async def _caught_up(self, consumer: AIOKafkaConsumer) -> bool:
        """Every assigned partition read to its end (none assigned yet: not caught up)."""
        assigned = consumer.assignment()
        if not assigned:
            return False
        ends = await consumer.end_offsets(list(assigned))
        for tp in assigned:
            if await consumer.position(tp) < ends[tp]:
                return False
        return True
