"""End to end on the real stack: the bridge takes only answers signed by their own State.

A real ``tracefreeze bridge`` process (its log read back for the audit events) and an
in-process worker; answers produced to Kafka by a plain producer. Unsigned, badly signed,
signed with an unknown key, signed by another State, replayed, too old and from the future:
each lands in the dead-letter topic with its reason, is logged as an ``answer rejected``
audit event without the answer's contents, and leaves the request untouched. A validly
signed answer before and after them is applied.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from schemas.answers import Acknowledgement, AnswerBase
from schemas.deadletter import HEADER_REASON, HEADER_REASON_CODE
from schemas.ledger import RequestStatus
from tests.builders import acknowledgement as ack
from tests.builders import court_request, no_assets, now
from tests.signed import Headers, signed_record
from tests.tracefreeze.e2e import headers, isolated, origin, read_until, wait_view
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.demo.simulator import answer_headers
from tracefreeze.security.canonical import HEADER_KEY_ID, HEADER_SIGNATURE
from tracefreeze.stack.isolated import stack_env
from tracefreeze.topics import ensure_topics
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack

AUTHORITY = "Signed-answers e2e Central Authority"


@dataclass
class Stack:
    settings: Settings
    client: RequestClient
    producer: AIOKafkaProducer
    bridge: asyncio.subprocess.Process


@pytest.fixture
async def bridged(stack: Settings) -> AsyncIterator[Stack]:
    """In-process worker, ``python -m tracefreeze bridge`` process, on topics of this test."""
    s = isolated(stack)
    await ensure_topics(s)
    env = os.environ | stack_env(s)
    worker = asyncio.create_task(run_worker(s))
    bridge = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tracefreeze", "bridge", env=env, stderr=asyncio.subprocess.PIPE
    )
    producer = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield Stack(s, await RequestClient.connect(s), producer, bridge)
    finally:
        await producer.stop()
        if bridge.returncode is None:
            bridge.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bridge.wait(), timeout=30)
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def produce(x: Stack, answer: AnswerBase, value: bytes, hdrs: Headers) -> RecordMetadata:
    return await x.producer.send_and_wait(
        x.settings.topics.state_answers,
        value=value,
        key=answer.request_reference.encode(),
        headers=hdrs,
    )


async def test_only_answers_signed_by_their_own_state_reach_the_request(bridged: Stack) -> None:
    x, s = bridged, bridged.settings
    request = court_request()
    ref = request.reference
    await x.client.submit(request)

    def acknowledgement(**fields: Any) -> Acknowledgement:
        return ack(request, authority=AUTHORITY, **{"sent_at": now(), **fields})

    first = acknowledgement()
    first_value, first_headers = signed_record(first, s.state_dir)
    await produce(x, first, first_value, first_headers)
    before = await wait_view(x.client, ref, lambda v: v.answers_seen == 1)
    assert before.status is RequestStatus.ACKNOWLEDGED

    sent: dict[str, RecordMetadata] = {}
    started = time.monotonic()

    unsigned = acknowledgement()
    sent["missing_signature"] = await produce(
        x, unsigned, unsigned.model_dump_json().encode(), answer_headers(unsigned)
    )

    tampered = acknowledgement()
    value, hdrs = signed_record(tampered, s.state_dir)
    forged = value.replace(AUTHORITY.encode(), b"Someone Else Entirely")
    assert forged != value
    sent["bad_signature"] = await produce(x, tampered, forged, hdrs)

    stranger_key = acknowledgement()
    value, hdrs = signed_record(stranger_key, s.state_dir)
    hdrs = [(k, b"nld-not-in-registry-1" if k == HEADER_KEY_ID else v) for k, v in hdrs]
    sent["unknown_key"] = await produce(x, stranger_key, value, hdrs)

    as_other = acknowledgement()  # claims to be NLD, signed with France's key
    value, hdrs = signed_record(as_other, s.state_dir, as_state="FRA")
    sent["misaddressed"] = await produce(x, as_other, value, hdrs)

    sent["replayed"] = await produce(x, first, first_value, first_headers)

    old = acknowledgement(sent_at=datetime.now(UTC) - timedelta(days=8))
    sent["too_old"] = await produce(x, old, *signed_record(old, s.state_dir))

    future = acknowledgement(sent_at=datetime.now(UTC) + timedelta(hours=1))
    sent["from_future"] = await produce(x, future, *signed_record(future, s.state_dir))

    mislabelled = acknowledgement()  # validly signed, but its envelope names another request
    value, hdrs = signed_record(mislabelled, s.state_dir)
    hdrs = [(k, b"ICC-01/99-REQ-0001" if k == "ce_subject" else v) for k, v in hdrs]
    sent["envelope"] = await produce(x, mislabelled, value, hdrs)

    positions = {(m.partition, m.offset): reason for reason, m in sent.items()}
    dead = await read_until(
        s, s.topics.dead_letter, lambda rs: {origin(r) for r in rs} >= set(positions)
    )
    elapsed = time.monotonic() - started
    print(f"\n{len(sent)} rejected answers dead-lettered in {elapsed:.2f}s")
    assert len(dead) == len(sent)
    for record in dead:
        h = headers(record)
        assert h[HEADER_REASON_CODE] == positions[origin(record)], h[HEADER_REASON]
        assert h[HEADER_SIGNATURE] if positions[origin(record)] != "missing_signature" else True
        assert h["ce_id"] and h["ce_type"]  # the original CloudEvents headers travel along
        if positions[origin(record)] == "envelope":
            assert h["ce_subject"] == "ICC-01/99-REQ-0001" and "ce_subject" in h[HEADER_REASON]

    after = await x.client.view(ref, "NLD")
    assert after.answers_seen == before.answers_seen == 1
    assert len(after.timeline) == len(before.timeline)
    assert after.status is before.status and after.ledger == before.ledger

    # The bridge is still up and takes a valid answer after all of them.
    last = no_assets(request, sent_at=now(), registers_searched=["land register"])
    await produce(x, last, *signed_record(last, s.state_dir))
    done = await wait_view(x.client, ref, lambda v: v.answers_seen == 2)
    assert done.status is RequestStatus.NO_ASSETS
    assert done.timeline[-1].event_id == last.event_id

    x.bridge.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(x.bridge.communicate(), timeout=30)
    assert x.bridge.returncode == 0, err.decode()[-3000:]
    audit = [json.loads(line) for line in err.decode().splitlines() if "answer rejected" in line]
    assert sorted(e["reason_code"] for e in audit) == sorted(sent)
    by_reason = {e["reason_code"]: e for e in audit}
    assert by_reason["misaddressed"]["state"] == "FRA"  # the signer, from the registry
    assert by_reason["unknown_key"]["key_id"] == "nld-not-in-registry-1"
    assert by_reason["replayed"]["event_id"] == first.event_id
    for event in audit:
        assert event["level"] == "warning" and event["topic"] == s.topics.state_answers
        assert {"event_id", "key_id", "partition", "offset"} <= set(event)
        assert AUTHORITY not in json.dumps(event)  # no payload contents in the audit trail
