"""``tracefreeze recorder``: the process that writes the record store from the Court's topics.

It reads, in its own consumer group (``TRACEFREEZE_RECORDER_GROUP_ID``), the request events,
the escalations, every party's outbound channel (the request as transmitted to the State and
each version, the Court's decisions, the reminders), the States' answers (each verified as
it is recorded, ``evidence.py``) and the signed originals of the Court's actions (each
verified as it is recorded against the organ key registry, ``decisions.py``). Each fetched
batch is written in ONE database transaction; the offsets are committed to Kafka only after
it commits. A crash between the two re-reads the batch, and the store's unique keys make the
second write a no-op (``write.py``): exactly once in effect, in Kafka's order per partition,
hence per request (records are keyed by the request reference). The migrations run at
start (``migrate.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import asyncpg
import structlog
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.kafka import make_consumer, start_with_timeout, stop_with_timeout
from tracefreeze.ops.lifecycle import stop_on_signals
from tracefreeze.record.decisions import check_action, organ_registry
from tracefreeze.record.evidence import check
from tracefreeze.record.migrate import migrate
from tracefreeze.record.rows import EntryKind, entry_of, kind_of
from tracefreeze.record.seal import Sealer
from tracefreeze.record.write import Writer
from tracefreeze.security.key_registry import RegistryFile, state_keys_file
from tracefreeze.security.request_ids import request_id_key
from tracefreeze.topics import party_channels

log = structlog.get_logger("tracefreeze.recorder")
BATCH = 500


def configured_dsn(settings: Settings) -> str | None:
    """``TRACEFREEZE_RECORD_DSN``, else the local stack's store (``make up``), else none."""
    from tracefreeze.stack.record_store import local_dsn

    return settings.record_dsn or local_dsn(settings.state_dir)


def dsn_of(settings: Settings) -> str:
    found = configured_dsn(settings)
    if not found:
        raise TracefreezeError("no record store: set TRACEFREEZE_RECORD_DSN")
    return found


def recorded_topics(settings: Settings) -> list[str]:
    t = settings.topics
    channels = party_channels(settings).values()
    return [t.request_events, t.escalations, t.state_answers, t.court_actions, *channels]


async def run_recorder(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Record until ``stop`` is set (or SIGTERM/SIGINT when no event is given)."""
    own_stop = stop is None
    stop = stop or asyncio.Event()
    conn = await asyncpg.connect(dsn_of(settings))
    try:
        applied = await migrate(conn)
        if applied:
            log.info("record store migrated", applied=applied)
        writer = Writer(conn, Sealer.from_settings(settings))
        id_key = request_id_key(settings.state_dir, ensure=True)
        assert id_key is not None
        registry = RegistryFile(state_keys_file(settings.state_dir))
        consumer = make_consumer(
            settings, *recorded_topics(settings), group_id=settings.recorder_group_id
        )
        await start_with_timeout(consumer, settings.kafka_timeout_s)
        log.info("recorder started", topics=len(recorded_topics(settings)))
        try:
            with stop_on_signals(stop) if own_stop else contextlib.nullcontext():
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=BATCH)
                    if batches:
                        await record_batch(settings, writer, registry, id_key, batches)
                        await consumer.commit(
                            {tp: records[-1].offset + 1 for tp, records in batches.items()}
                        )
        finally:
            await stop_with_timeout(consumer, settings.kafka_timeout_s)
    finally:
        await conn.close()


async def record_batch(
    settings: Settings,
    writer: Writer,
    registry: RegistryFile,
    id_key: bytes,
    batches: dict[TopicPartition, list[ConsumerRecord]],
) -> int:
    """Write one fetched batch in one transaction; how many entries were new."""
    written = 0
    async with writer.conn.transaction():
        for tp, records in batches.items():
            kind = kind_of(settings, tp.topic)
            if kind is None:
                continue
            for r in records:
                entry = entry_of(
                    kind, tp.topic, tp.partition, r.offset, r.value, list(r.headers or ()),
                    r.timestamp, id_key,
                )  # fmt: skip
                if kind is EntryKind.ANSWER:
                    keys, at = registry.current(), datetime.now(UTC)
                    verdict = check(r.value, entry.headers, keys, at)
                    version = await writer.registry_version(keys)
                    written += await writer.write(entry, verdict, version, at)
                elif kind is EntryKind.COURT_ACTION:
                    organs, at = organ_registry(settings), datetime.now(UTC)
                    verdict = check_action(r.value, organs)
                    version = await writer.registry_version(organs)
                    written += await writer.write(entry, verdict, version, at)
                else:
                    written += await writer.write(entry)
    log.debug("batch recorded", records=sum(map(len, batches.values())), written=written)
    return written
