"""Drill (#16): the recorder killed with SIGKILL mid-stream loses no record and doubles none.

A ``tracefreeze recorder`` process records a stream of signed State answers (RS 93(1)(k)) to
this test's own database; once it has written some, it is killed with SIGKILL (no shutdown:
whatever batch it held is cut where it was, its offsets maybe committed to the database and
not to Kafka). More answers arrive while it is down. A new recorder takes over: in the end the
store holds every answer once, each partition's offsets without a gap, each verified. Where
the kill landed varies; the outcome may not. The counts are printed for the closing note
(with the store's size per 1,000 answers, measured on this stream).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from tests.builders import acknowledgement, now, to
from tests.record.support import recorder_settings, records_on_topics, wait_count
from tests.signed import signed_record
from tracefreeze.config import Settings
from tracefreeze.kafka import make_consumer
from tracefreeze.record.migrate import migrate
from tracefreeze.record.seal import Sealer
from tracefreeze.record.write import Writer
from tracefreeze.record.writer import record_batch
from tracefreeze.security.key_registry import RegistryFile, state_keys_file
from tracefreeze.security.request_ids import request_id_key
from tracefreeze.stack.isolated import stack_env
from tracefreeze.topics import ensure_topics

pytestmark = [pytest.mark.stack, pytest.mark.faults]

BEFORE_KILL = 2000
WHILE_DOWN = 1000
REQUESTS = 100


async def produce(settings: Settings, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        refs = [f"ICC-01/22-DRL-{uuid.uuid4().hex[:10].upper()}" for _ in range(REQUESTS)]
        sends = []
        for n in range(count):
            answer = acknowledgement(to(refs[n % REQUESTS]), sent_at=now())
            value, headers = signed_record(answer, settings.state_dir)
            key = answer.request_reference.encode()
            topic = settings.topics.state_answers
            sends.append(await producer.send(topic, value=value, key=key, headers=headers))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def recorder(settings: Settings) -> asyncio.subprocess.Process:
    env = os.environ | stack_env(settings) | {
        "TRACEFREEZE_RECORD_DSN": settings.record_dsn or "",
        "TRACEFREEZE_RECORDER_GROUP_ID": settings.recorder_group_id,
        "TRACEFREEZE_TOPICS__PARTY_CHANNELS": settings.topics.party_channels,
    }  # fmt: skip
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tracefreeze", "--log-level", "WARNING", "recorder", env=env
    )


async def committed(settings: Settings) -> int:
    consumer = make_consumer(settings, group_id=settings.recorder_group_id)
    await consumer.start()
    try:
        t = settings.topics.state_answers
        parts = [TopicPartition(t, p) for p in range(settings.topics.partitions()[t])]
        return sum([await consumer.committed(tp) or 0 for tp in parts])
    finally:
        await consumer.stop()


async def test_recorder_killed_mid_stream_keeps_every_answer_once(
    stack: Settings, record_dsn: str
) -> None:
    settings = recorder_settings(stack, record_dsn, "recdrill")
    await ensure_topics(settings)
    await produce(settings, BEFORE_KILL)
    conn = await asyncpg.connect(record_dsn)
    await migrate(conn)  # the tables exist before the first recorder counts
    first = await recorder(settings)
    try:
        await wait_count(record_dsn, "SELECT count(*) FROM entries", 1)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    try:
        at_kill = await conn.fetchval("SELECT count(*) FROM entries")
        committed_at_kill = await committed(settings)
        await produce(settings, WHILE_DOWN)
        second = await recorder(settings)
        try:
            total = BEFORE_KILL + WHILE_DOWN
            assert await records_on_topics(settings) == total
            await wait_count(record_dsn, "SELECT count(*) FROM entries", total)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=30)
        assert second.returncode == 0
        stats = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT event_id) AS ids, "
            "count(*) FILTER (WHERE verdict = 'verified') AS verified FROM entries"
        )
        assert dict(stats) == {"n": total, "ids": total, "verified": total}
        gaps = await conn.fetch(
            "SELECT kafka_partition, count(*) AS n, max(kafka_offset) AS last FROM entries "
            "GROUP BY kafka_partition"
        )
        assert all(g["last"] == g["n"] - 1 for g in gaps)  # offsets 0..n-1: none missing
        assert await committed(settings) == total
        size = await conn.fetchval(
            "SELECT pg_total_relation_size('entries') + pg_total_relation_size('requests') "
            "+ pg_total_relation_size('key_registry_versions')"
        )
        print(
            f"\nrecorder drill: {total} answers; store had {at_kill} at the kill, Kafka had "
            f"{committed_at_kill} committed; after restart {stats['n']} recorded, "
            f"{stats['n'] - stats['ids']} doubled, 0 missing; store size "
            f"{size / total * 1000 / 1024:.0f} KiB per 1,000 answers (tables and indexes)"
        )
    finally:
        await conn.close()


async def test_a_batch_in_the_store_but_not_committed_to_kafka_is_not_doubled(
    stack: Settings, record_dsn: str
) -> None:
    """The crash the SIGKILL drill may or may not hit, made to happen: a batch written to the
    store whose offsets never reached Kafka. The next recorder is given the batch again and
    writes nothing twice."""
    settings = recorder_settings(stack, record_dsn, "recbatch")
    await ensure_topics(settings)
    await produce(settings, 300)
    conn = await asyncpg.connect(record_dsn)
    try:
        await migrate(conn)
        consumer = make_consumer(
            settings, settings.topics.state_answers, group_id=settings.recorder_group_id
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=30_000, max_records=100)
            writer = Writer(conn, Sealer.from_settings(settings))
            registry = RegistryFile(state_keys_file(settings.state_dir))
            key = request_id_key(settings.state_dir, ensure=True)
            assert key is not None
            first = await record_batch(settings, writer, registry, key, batches)
        finally:
            await consumer.stop()  # no commit: the crash
        assert first == sum(map(len, batches.values())) > 0
        assert await committed(settings) == 0
        second = await recorder(settings)
        try:
            await wait_count(record_dsn, "SELECT count(*) FROM entries", 300)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=30)
        assert await conn.fetchval("SELECT count(DISTINCT event_id) FROM entries") == 300
        assert await conn.fetchval("SELECT count(*) FROM entries") == 300
    finally:
        await conn.close()
