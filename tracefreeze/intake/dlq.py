"""Reading ``tracefreeze.dead-letter`` and replaying its records after a fix.

A dead-letter record (``tracefreeze/intake/deadletter.py``) is the original value and key, our
``tf_reason*`` / ``tf_original_*`` headers, then the original headers. Replaying re-produces
the original value, key and headers (signature headers included: the State's signature covers
the body, which is untouched) to the answers topic of the settings (never a topic an operator
or a header names), with ``tf_replayed_from=<partition>:<offset>`` naming the dead-letter record,
``tf_replayed_by`` naming the operator, ``tf_replay_received_ms`` the original record's broker
timestamp, and ``tf_replay_mac`` authenticating all of them with the record's key and value
under the Court's replay key (``tracefreeze/intake/replay_auth.py``: only a replay whose MAC
verifies
skips its State's answer budget and the parking behind an earlier parked answer, and is
judged by its original timestamp). The bridge then handles it as any answer. Each
replayed record is an audit event (the structlog line ``dead letter replayed``, ``audit=true``,
with the operator, the event id and both positions, never the contents).

A run selects by reason, by dead-letter offsets (``--partition``, ``--since-offset``,
``--until-offset``, or one record ``--at P:O``) and by event id (``--event-id``, the answer's
``ce_id``): a record is replayed only if it passes every filter given.

Safety rules:

- By default only ``unknown_request``, ``request_stopped``, ``rejected``, ``stuck`` and
  ``throttled`` are replayed: the reasons a fix on our side (a request started late, a
  stopped request restored, a workflow rule corrected, a request that could not take answers
  repaired) or time (a State back within its budget) can cure.
  ``request_closed`` is replayed only when ``--reason`` names it (a closed request is never
  reopened, so it goes back to the dead letters). ``malformed``, ``invalid``, ``oversize``
  and every signature reason need ``--reason`` naming them *and* ``--force``: their bytes
  stay what they were.
- A record whose value was omitted (``tf_value_omitted``) is never replayed; read the
  original at its topic, partition and offset.
- Each produce is acknowledged (idempotent producer, acks=all) before the replay group's
  progress is committed; a crash in between means a record is replayed twice, which is
  harmless: the request takes an answer once by its event id (a second copy is a
  duplicate, or the bridge's replay guard dead-letters it as ``replayed``). Each replay is
  delivered under an update id of its own (``ReceivedAnswer.update_id``), so that Temporal
  tries it afresh rather than return the stored failure of the first delivery.
- Only the records present when the run starts are read, so a replayed answer that is
  dead-lettered again is not replayed again in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord, RecordMetadata

from schemas.deadletter import (
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REASON,
    HEADER_REASON_CODE,
    HEADER_REPLAYED_FROM,
    HEADER_TOPIC,
    DeadLetterReason,
)
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.deadletter import HEADER_TIMESTAMP, HEADER_VALUE_OMITTED
from tracefreeze.intake.replay_auth import (
    HEADER_REPLAY_MAC,
    HEADER_REPLAY_RECEIVED,
    HEADER_REPLAYED_BY,
    replay_key,
)
from tracefreeze.intake.replay_auth import replay_headers as signed_replay_headers
from tracefreeze.within import within

log = structlog.get_logger(__name__)

REPLAY_GROUP = "tracefreeze-dlq-replay"
STRIPPED = frozenset(
    {
        HEADER_REASON_CODE,
        HEADER_REASON,
        HEADER_TOPIC,
        HEADER_PARTITION,
        HEADER_OFFSET,
        HEADER_VALUE_OMITTED,
        HEADER_REPLAYED_FROM,
        HEADER_REPLAYED_BY,
        HEADER_REPLAY_RECEIVED,
        HEADER_REPLAY_MAC,
        HEADER_TIMESTAMP,
    }
)
"""Our headers; what is left are the original record's headers."""

R = DeadLetterReason
DEFAULT_REASONS = frozenset(
    {
        R.UNKNOWN_REQUEST.value,
        R.REQUEST_STOPPED.value,
        R.REJECTED.value,
        R.STUCK.value,
        R.THROTTLED.value,
    }
)
NEEDS_FORCE = frozenset(r.value for r in R) - DEFAULT_REASONS - {R.REQUEST_CLOSED.value}
"""Malformed, invalid, oversize and the signature reasons: replayed only with --force."""
OMITTED = "value_omitted"
"""The skip reason of a record that carries no value."""
NOT_SELECTED = "other_event_id"
"""The skip reason of a record whose event id was not named."""
NOT_AN_ANSWER = "not_from_answers_topic"
"""The skip reason of a record that did not come from the answers topic."""


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
    received_ms: int | None = None
    """When the original first reached Kafka (``tf_original_timestamp``; else when the
    dead letter was written, which is later)."""

    @property
    def where(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def event_id(self) -> str | None:
        """The answer's event id: its ``ce_id`` header, else the body's ``event_id``."""
        for name, raw in self.headers:
            if name == "ce_id" and raw:
                return bytes(raw).decode("utf-8", errors="replace")
        try:
            found = json.loads(self.value or b"").get("event_id")
        except (ValueError, AttributeError):
            return None
        return found if isinstance(found, str) else None


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
        received_ms=_int(found.get(HEADER_TIMESTAMP))
        or (record.timestamp if record.timestamp and record.timestamp > 0 else None),
    )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def replay_headers(
    dead: DeadLetter, operator: str | None = None, key: bytes | None = None
) -> list[tuple[str, bytes]]:
    """The original headers, then ``tf_replayed_from`` naming the dead-letter record (and
    ``tf_replayed_by`` naming the operator); with the Court's replay ``key``, the original
    broker timestamp and the MAC that makes the bridge take it as a replay
    (``tracefreeze/intake/replay_auth.py``)."""
    if key is not None and operator:
        received = dead.received_ms or 0
        ours = signed_replay_headers(key, dead.where, received, operator, dead.key, dead.value)
        return [*dead.headers, *ours]
    ours = [(HEADER_REPLAYED_FROM, dead.where.encode())]
    if operator:
        ours.append((HEADER_REPLAYED_BY, operator.encode()))
    return [*dead.headers, *ours]


@dataclass(frozen=True)
class Selection:
    """Which reason codes (and, if named, which event ids) a replay takes (see the module
    docstring for the rules)."""

    reasons: frozenset[str]
    event_ids: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, named: Sequence[str] = (), force: bool = False, event_ids: Sequence[str] = ()
    ) -> Selection:
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
        return cls(frozenset(named) or DEFAULT_REASONS, frozenset(event_ids))

    def skip_reason(self, dead: DeadLetter, answers_topic: str | None = None) -> str | None:
        """Why ``dead`` is not replayed (its reason code, ``other_event_id``,
        ``not_from_answers_topic`` or ``value_omitted``); None: replay."""
        if self.event_ids and dead.event_id not in self.event_ids:
            return NOT_SELECTED
        if dead.reason_code not in self.reasons:
            return dead.reason_code
        if answers_topic is not None and dead.topic != answers_topic:
            return NOT_AN_ANSWER
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
) -> AsyncGenerator[list[ConsumerRecord]]:
    """Batches of one partition, in order, up to the end offsets taken at start."""
    topic = settings.topics.dead_letter
    parts = range(settings.topics.partitions()[topic])
    tps = [TopicPartition(topic, p) for p in parts if window.partition in (None, p)]
    consumer.assign(tps)
    ends = await within(timeout_s, consumer.end_offsets(tps))
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

    Progress is committed to the consumer's group only when neither the window nor event ids
    were named, and only up to the records whose produce was acknowledged (or that were
    skipped). ``operator`` names who replays, on each record and in the audit log."""

    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer | None
    settings: Settings
    selection: Selection
    window: Window = Window()
    operator: str = ""
    on_record: Callable[[DeadLetter, str | None], None] = lambda dead, skip: None
    summary: Summary = field(default_factory=Summary)
    key: bytes | None = None
    """The Court's replay key; None: read (or made) under the settings' state dir."""

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
        answers = self.settings.topics.state_answers
        explicit = self.window.explicit or bool(self.selection.event_ids)
        try:
            for record in batch:
                dead = parse(record)
                skip = self.selection.skip_reason(dead, answers)
                self.on_record(dead, skip)
                if skip:
                    self.summary.skipped[skip] += 1
                else:
                    self.summary.selected += 1
                    if self.producer is not None:
                        if not self.operator:
                            raise TracefreezeError("a replay names its operator")
                        if self.key is None:
                            self.key = replay_key(self.settings.state_dir, ensure=True)
                        meta = await _produce(
                            self.producer, answers, dead, self.operator, timeout, self.key
                        )
                        self.summary.replayed += 1
                        log.warning(
                            "dead letter replayed",
                            audit=True,
                            operator=self.operator,
                            event_id=dead.event_id,
                            reason_code=dead.reason_code,
                            dead_letter=f"{record.topic}/{dead.where}",
                            original=f"{dead.topic}/{dead.original_partition}/"
                            f"{dead.original_offset}",
                            replayed_to=f"{meta.topic}/{meta.partition}/{meta.offset}",
                        )
                done = record.offset + 1
        finally:
            if done is not None and self.producer is not None and not explicit:
                tp = TopicPartition(batch[0].topic, batch[0].partition)
                await within(timeout, self.consumer.commit({tp: done}))


async def _produce(
    producer: AIOKafkaProducer,
    answers: str,
    dead: DeadLetter,
    operator: str,
    timeout_s: float,
    key: bytes | None,
) -> RecordMetadata:
    """Send the original value, key and headers, with the MAC'd replay headers, to the
    answers topic ``answers``; return once the broker acknowledged it."""
    headers = replay_headers(dead, operator, key)
    send = producer.send_and_wait(answers, value=dead.value, key=dead.key, headers=headers)
    return await within(timeout_s, send)


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
