"""A backlog on the real stack: answers queued in Kafka while no bridge ran are delivered,
per request in order and several in one ``take_answers`` update, requests side by side; a
refused answer inside a batch, and a batch for a request that does not exist, are
dead-lettered answer by answer with their reason, and everything is committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from schemas.answers import AnswerBase
from schemas.deadletter import HEADER_OFFSET, HEADER_REASON, HEADER_REASON_CODE
from schemas.ledger import AssetStatus, RequestStatus
from tests.builders import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    court_request,
    execution_report,
    no_assets,
    result,
)
from tests.signed import signed_record
from tests.tracefreeze.e2e import committed_total, headers, isolated, read_until
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.intake.bridge import run_bridge
from tracefreeze.topics import ensure_topics
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack


@pytest.fixture
async def backlog(stack: Settings) -> AsyncIterator[Settings]:
    """A worker on topics, task queue and group of this test alone; no bridge yet."""
    settings = isolated(stack)
    await ensure_topics(settings)
    worker = asyncio.create_task(run_worker(settings))
    try:
        yield settings
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def queue(settings: Settings, answers: list[AnswerBase]) -> dict[str, int]:
    """Produce the signed answers in this order; each answer's offset by event id."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        offsets = {}
        for queued in answers:
            answer = queued.model_copy(update={"sent_at": datetime.now(UTC)})  # fresh, not too old
            value, signed = signed_record(answer, settings.state_dir)
            meta = await producer.send_and_wait(
                settings.topics.state_answers,
                value=value,
                key=answer.request_reference.encode(),
                headers=signed,
            )
            offsets[answer.event_id] = meta.offset
        return offsets
    finally:
        await producer.stop()


async def test_a_backlog_is_delivered_in_batches_in_order_and_refusals_dead_lettered(
    backlog: Settings,
) -> None:
    s = backlog
    client = await RequestClient.connect(s)
    first, second = court_request(), court_request()
    for request in (first, second):
        await client.submit(request)
    missing = court_request()  # never submitted
    first_answers = [
        acknowledgement(first),
        execution_report(first, [result(ACCOUNT, "identify", "freeze", value=("100.00", "EUR"))]),
        *(asset_management(first, ACCOUNT, f"{200 + i}.00") for i in range(3)),
    ]
    refused = acknowledgement(first)  # a second acknowledgement: refused by its rule
    last = asset_management(first, ACCOUNT, "999.00")
    second_answers = [acknowledgement(second), no_assets(second)]
    orphans = [acknowledgement(missing), acknowledgement(missing)]
    # Interleaved, as many States' systems would; all queued before any bridge runs.
    order = [*first_answers[:2], *second_answers, *orphans, *first_answers[2:], refused, last]
    offsets = await queue(s, order)
    total = len(order)

    stop = asyncio.Event()
    bridge = asyncio.create_task(run_bridge(s, stop))
    try:
        async with asyncio.timeout(90):
            while await committed_total(s) < total:  # noqa: ASYNC110 (polls the broker)
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(bridge, timeout=30)

    view = await client.view(first.reference, "NLD")
    taken = [*first_answers, last]
    assert [t.event_id for t in view.timeline if t.event_id] == [a.event_id for a in taken]
    assert view.answers_seen == len(taken)
    progress = await client.progress(first.reference, "NLD")  # the cheap query agrees
    assert (progress.status, progress.answers_seen) == (view.status, view.answers_seen)
    assert view.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    assert view.ledger.entries[ACCOUNT].value.amount == 999  # the last valuation, in order
    assert (await client.view(second.reference, "NLD")).status is RequestStatus.NO_ASSETS

    # The backlog went in batch updates (one request's queued answers in one update).
    history = await client.handle(first.reference, "NLD").fetch_history()
    updates = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert "take_answers" in updates and len(updates) < len(taken) + 1, updates

    wanted = {offsets[refused.event_id]} | {offsets[o.event_id] for o in orphans}
    dead = await read_until(
        s, s.topics.dead_letter, lambda rs: {int(headers(r)[HEADER_OFFSET]) for r in rs} >= wanted
    )
    by_offset = {int(headers(r)[HEADER_OFFSET]): headers(r) for r in dead}
    assert len(dead) == 3, [(h[HEADER_REASON_CODE], h[HEADER_REASON]) for h in by_offset.values()]
    assert by_offset[offsets[refused.event_id]][HEADER_REASON_CODE] == "rejected"
    for orphan in orphans:
        found = by_offset[offsets[orphan.event_id]]
        assert found[HEADER_REASON_CODE] == "unknown_request"
        assert missing.reference in found[HEADER_REASON]
