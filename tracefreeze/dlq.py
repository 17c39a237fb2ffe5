"""Reading ``tracefreeze.dead-letter`` and replaying its records after a fix.

A dead-letter record (``tracefreeze/deadletter.py``) is the original value and key, our
``tf_reason*`` / ``tf_original_*`` headers, then the original headers. Replaying re-produces
the original value, key and headers (signature headers included: the State's signature covers
the body, which is untouched) to the original topic, with ``tf_replayed_from=<partition>:<offset>``
naming the dead-letter record. The bridge then handles it as any answer.

Safety rules:

- By default only ``unknown_request`` and ``rejected`` are replayed: the reasons a fix on our
  side (a request started late, a workflow rule corrected) can cure. ``request_closed`` is
  replayed only when ``--reason`` names it (a closed request is never reopened, so it goes
  back to the dead letters). ``malformed``, ``invalid``, ``oversize`` and every signature
  reason need ``--reason`` naming them *and* ``--force``: their bytes stay what they were.
- A record whose value was omitted (``tf_value_omitted``) is never replayed; read the
  original at its topic, partition and offset.
- Each produce is acknowledged (idempotent producer, acks=all) before the replay group's
  progress is committed; a crash in between means a record is replayed twice, which is
  harmless: the update id is the State's event id, so the request takes it once (a second
  copy is a duplicate, or the bridge's replay guard dead-letters it as ``replayed``).
- Only the records present when the run starts are read, so a replayed answer that is
  dead-lettered again is not replayed again in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from schemas.deadletter import (
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REASON,
    HEADER_REASON_CODE,
    HEADER_TOPIC,
    DeadLetterReason,
)
from tracefreeze.config import Settings
from tracefreeze.deadletter import HEADER_VALUE_OMITTED
from tracefreeze.errors import TracefreezeError

REPLAY_GROUP = "tracefreeze-dlq-replay"
HEADER_REPLAYED_FROM = "tf_replayed_from"
STRIPPED = frozenset(
    {
        HEADER_REASON_CODE,
        HEADER_REASON,
        HEADER_TOPIC,
        HEADER_PARTITION,
        HEADER_OFFSET,
        HEADER_VALUE_OMITTED,
        HEADER_REPLAYED_FROM,
    }
)
"""Our headers; what is left are the original record's headers."""

R = DeadLetterReason
DEFAULT_REASONS = frozenset({R.UNKNOWN_REQUEST.value, R.REJECTED.value})
NEEDS_FORCE = frozenset(r.value for r in R) - DEFAULT_REASONS - {R.REQUEST_CLOSED.value}
"""Malformed, invalid, oversize and the signature reasons: replayed only with --force."""
OMITTED = "value_omitted"
"""The skip reason of a record that carries no value."""


@dataclass(frozen=True)
class DeadLetter:
    """One dead-letter record as read back; ``value`` is never printed."""

    partition: int
    offset: int
    reason_code: str
    reason: str
    topic: str
    original_partition: int | None
    original_offset: int | None
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    """The original record's headers (ours stripped)."""
    value_omitted: bool = False

    @property
    def where(self) -> str:
        return f"{self.partition}:{self.offset}"


def parse(record: ConsumerRecord) -> DeadLetter:
    found: dict[str, str] = {}
    for name, raw in record.headers or ():
        if name in STRIPPED and name not in found:
            found[name] = (raw or b"").decode("utf-8", errors="replace")
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        reason_code=found.get(HEADER_REASON_CODE, "?"),
        reason=found.get(HEADER_REASON, ""),
        topic=found.get(HEADER_TOPIC, ""),
        original_partition=_int(found.get(HEADER_PARTITION)),
        original_offset=_int(found.get(HEADER_OFFSET)),
        key=record.key,
        value=record.value,
        headers=tuple((k, v) for k, v in record.headers or () if k not in STRIPPED),
        value_omitted=HEADER_VALUE_OMITTED in found,
    )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def replay_headers(dead: DeadLetter) -> list[tuple[str, bytes]]:
    """The original headers, then ``tf_replayed_from`` naming the dead-letter record."""
    return [*dead.headers, (HEADER_REPLAYED_FROM, dead.where.encode())]


@dataclass(frozen=True)
class Selection:
    """Which reason codes a replay takes (see the module docstring for the rules)."""

    reasons: frozenset[str]

    @classmethod
    def of(cls, named: Sequence[str] = (), force: bool = False) -> Selection:
        known = {r.value for r in R}
        unknown = sorted(set(named) - known)
        if unknown:
            raise TracefreezeError(
                f"unknown reason {', '.join(unknown)}; one of {', '.join(sorted(known))}"
            )
        forced = sorted(set(named) & NEEDS_FORCE)
        if forced and not force:
            raise TracefreezeError(
                f"{', '.join(forced)} cannot be cured by a fix on our side; "
                "add --force to replay them anyway"
            )
        return cls(frozenset(named) or DEFAULT_REASONS)

    def skip_reason(self, dead: DeadLetter) -> str | None:
        """Why ``dead`` is not replayed (its reason code, or ``value_omitted``); None: replay."""
        if dead.reason_code not in self.reasons:
            return dead.reason_code
        if dead.value_omitted or dead.value is None or not dead.topic:
            return OMITTED
        return None


@dataclass
class Summary:
    selected: int = 0
    replayed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)

    def render(self, dry_run: bool) -> str:
        verb = "would replay" if dry_run else "replayed"
        skipped = ", ".join(f"{k} {n}" for k, n in sorted(self.skipped.items())) or "none"
        done = self.selected if dry_run else self.replayed
        return f"selected {self.selected}, {verb} {done}, skipped: {skipped}"


@dataclass(frozen=True)
class Window:
    """Offsets to read in each dead-letter partition, inclusive; None: from the group's
    committed position (or the beginning) up to the end at start."""

    since: int | None = None
    until: int | None = None
    partition: int | None = None

    @property
    def explicit(self) -> bool:
        return self.since is not None or self.until is not None


async def read(
    consumer: AIOKafkaConsumer, settings: Settings, window: Window, timeout_s: float
) -> AsyncIterator[list[ConsumerRecord]]:
    """Batches of one partition, in order, up to the end offsets taken at start."""
    topic = settings.topics.dead_letter
    parts = range(settings.topics.partitions()[topic])
    tps = [TopicPartition(topic, p) for p in parts if window.partition in (None, p)]
    consumer.assign(tps)
    ends = await asyncio.wait_for(consumer.end_offsets(tps), timeout_s)
    if window.until is not None:
        ends = {tp: min(end, window.until + 1) for tp, end in ends.items()}
    for tp in tps:
        if window.since is not None:
            consumer.seek(tp, window.since)
        elif window.explicit:
            await consumer.seek_to_beginning(tp)
    pending = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
    async with asyncio.timeout(timeout_s + 30 * len(tps)):
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=500)
            for tp, records in batches.items():
                inside = [r for r in records if r.offset < ends[tp]]
                if inside:
                    yield inside
                if not records or records[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)


@dataclass
class Replay:
    """One replay run: ``producer`` None is a dry run (nothing sent, nothing committed).

    Progress is committed to the consumer's group only when the window is not explicit, and
    only up to the records whose produce was acknowledged (or that were skipped)."""

    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer | None
    settings: Settings
    selection: Selection
    window: Window = Window()
    on_record: Callable[[DeadLetter, str | None], None] = lambda dead, skip: None
    summary: Summary = field(default_factory=Summary)

    async def run(self) -> Summary:
        timeout = self.settings.kafka_timeout_s
        batches = read(self.consumer, self.settings, self.window, timeout)
        async with contextlib.aclosing(batches):
            async for batch in batches:
                await self._batch(batch)
        return self.summary

    async def _batch(self, batch: list[ConsumerRecord]) -> None:
        """One partition's records in order; then commit the offset after the last done."""
        timeout, done = self.settings.kafka_timeout_s, None
        try:
            for record in batch:
                dead = parse(record)
                skip = self.selection.skip_reason(dead)
                self.on_record(dead, skip)
                if skip:
                    self.summary.skipped[skip] += 1
                else:
                    self.summary.selected += 1
                    if self.producer is not None:
                        await _produce(self.producer, dead, timeout)
                        self.summary.replayed += 1
                done = record.offset + 1
        finally:
            if done is not None and self.producer is not None and not self.window.explicit:
                tp = TopicPartition(batch[0].topic, batch[0].partition)
                await asyncio.wait_for(self.consumer.commit({tp: done}), timeout)


async def _produce(producer: AIOKafkaProducer, dead: DeadLetter, timeout_s: float) -> None:
    """Send the original value, key and headers; return once the broker acknowledged it."""
    await asyncio.wait_for(
        producer.send_and_wait(
            dead.topic, value=dead.value, key=dead.key, headers=replay_headers(dead)
        ),
        timeout=timeout_s,
    )


async def listing(
    consumer: AIOKafkaConsumer, settings: Settings, reasons: Sequence[str], limit: int
) -> list[DeadLetter]:
    """Up to ``limit`` records (each partition in order) whose reason code is in ``reasons``
    (every record if empty)."""
    found: list[DeadLetter] = []
    batches = read(consumer, settings, Window(), settings.kafka_timeout_s)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            found += [d for d in map(parse, batch) if not reasons or d.reason_code in reasons]
            if len(found) >= limit:
                break
    return found[:limit]
