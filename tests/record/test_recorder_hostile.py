"""Hostile input on the answers topic never stalls the recorder (a State's bad record must not
keep every other State's answers out of the Court's record, RS 93(1)(k)): text PostgreSQL
cannot hold (NUL) in the ids and the key id header, a body that is no JSON at all. Each is
kept byte for byte, marked, filed with no request; the honest answer sent after them is
recorded and verified."""

from __future__ import annotations

import json

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from tests.builders import acknowledgement, now, to
from tests.record.support import recorder_settings, recording, wait_count
from tests.signed import signed_record
from tracefreeze.config import Settings
from tracefreeze.record.evidence import headers_from_json
from tracefreeze.record.seal import Sealer
from tracefreeze.security.canonical import HEADER_KEY_ID, HEADER_SIGNATURE
from tracefreeze.topics import ensure_topics

pytestmark = pytest.mark.stack


async def test_records_postgres_cannot_hold_are_kept_and_the_stream_goes_on(
    stack: Settings, record_dsn: str
) -> None:
    settings = recorder_settings(stack, record_dsn, "rechostile")
    await ensure_topics(settings)
    request = to("ICC-01/22-HOSTILE-0001")
    body = json.loads(acknowledgement(request, sent_at=now()).model_dump_json())
    nul = json.dumps(body | {"event_id": "a\u0000b", "answer_type": "x\u0000"}).encode()
    bad_key = [(HEADER_SIGNATURE, b"AAAA"), (HEADER_KEY_ID, b"k\x00\x01")]
    good, good_headers = signed_record(acknowledgement(request, sent_at=now()), stack.state_dir)
    hostile = [(nul, bad_key), (b"\x00\xff not json", [("\x00", b"\x00")])]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        topic = settings.topics.state_answers
        for value, headers in hostile:
            await producer.send_and_wait(topic, value, key=b"k", headers=headers)
        await producer.send_and_wait(topic, good, key=b"k", headers=good_headers)
    finally:
        await producer.stop()

    async with recording(settings):
        await wait_count(record_dsn, "SELECT count(*) FROM entries", 3)
    conn = await asyncpg.connect(record_dsn)
    try:
        rows = await conn.fetch("SELECT * FROM entries ORDER BY kafka_offset")
    finally:
        await conn.close()
    sealer = Sealer.from_settings(settings)
    assert [sealer.open(r["body"]) for r in rows] == [nul, b"\x00\xff not json", good]
    assert headers_from_json(sealer.open(rows[0]["headers"])) == bad_key
    assert [r["verdict"] for r in rows[:2]] == ["unknown_key", "missing_signature"]
    assert rows[0]["event_id"] is None and rows[0]["key_id"] is None  # not text PG holds
    assert rows[0]["request_key"] is None and rows[1]["request_key"] is None
    assert rows[2]["verdict"] == "verified" and rows[2]["request_key"] is not None
