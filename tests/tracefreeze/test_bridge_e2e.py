"""End to end on the real stack: a State's answers travel Kafka → bridge → request workflow.

Worker and bridge run here as asyncio tasks against the real Temporal dev server and Kafka
broker; answers are produced by a plain aiokafka producer and signed with the stack's demo State
keys (tests/signed.py), as a State's system would. Each
test gets its own topics, task queue and consumer group, so nothing leaks between tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from decimal import Decimal

import pytest
from aiokafka.structs import ConsumerRecord, RecordMetadata
from temporalio.client import WorkflowExecutionStatus

from schemas.deadletter import (
    HEADER_REASON,
    HEADER_REASON_CODE,
    HEADER_TOPIC,
)
from schemas.events import RequestEvent, RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from schemas.views import RequestView
from tests.builders import acknowledgement, court_request, execution_report, frozen_at, now, to
from tests.signed import signed_bytes
from tests.tracefreeze.e2e import (
    WAIT_S,
    Running,
    committed_total,
    headers,
    isolated,
    origin,
    read_until,
    send,
    send_signed,
    wait_view,
)
from tracefreeze.client import RequestClient, close_action
from tracefreeze.config import Settings
from tracefreeze.demo.simulator import simulate_state
from tracefreeze.intake.bridge import run_bridge
from tracefreeze.stack.isolated import stack_env
from tracefreeze.topics import ensure_topics
from tracefreeze.worker import run_worker
from workflows.request import RequestWorkflow

pytestmark = pytest.mark.stack


async def test_answers_reach_the_request_and_bad_ones_are_dead_lettered(running: Running) -> None:
    r, s = running, running.settings
    request = court_request(tag="E2E")
    ref = request.reference
    await r.client.submit(request)
    frozen = {"a-account-1": Decimal("398214.37"), "a-apartment-1": Decimal("860000.00")}
    report = execution_report(request, frozen_at(frozen), sent_at=now())
    acknowledged = acknowledgement(request, sent_at=now())
    started = time.monotonic()
    await send_signed(r, acknowledged)
    await send_signed(r, report)

    def all_frozen(v: RequestView) -> bool:
        return all(v.ledger.entries[a].status is AssetStatus.FROZEN for a in frozen)

    view = await wait_view(r.client, ref, all_frozen)
    print(f"\nanswers produced → both assets frozen in the view: {time.monotonic() - started:.2f}s")
    assert view.status is RequestStatus.IN_EXECUTION
    assert view.totals["EUR"].frozen == sum(frozen.values())
    assert view.answers_seen == 2

    wanted = [RequestEventType.TRANSMITTED] + [RequestEventType.ANSWER_ACCEPTED] * 2
    wanted += [RequestEventType.ASSET_FROZEN] * 2

    def ours(records: list[ConsumerRecord]) -> list[RequestEvent]:
        events = [RequestEvent.model_validate_json(rec.value) for rec in records]
        return [e for e in events if e.subject == ref]

    records = await read_until(
        s, s.topics.request_events, lambda rs: sorted(e.type for e in ours(rs)) == sorted(wanted)
    )
    events = ours(records)
    assert {e.caused_by for e in events if e.type is RequestEventType.ANSWER_ACCEPTED} == {
        acknowledged.event_id,
        report.event_id,
    }
    assert {e.asset.asset_id for e in events if e.asset} == set(frozen)
    print(f"events published: {time.monotonic() - started:.2f}s after the answers")

    # (a) not JSON (validly signed bytes), (b) unknown request, (c) the report re-sent at
    # another offset (a replay), (d) another State (FRA, signing as itself) answering.
    unknown, wrong_state = (
        acknowledgement(to("ICC-E2E-NO-SUCH-REQUEST"), sent_at=now()),
        acknowledgement(to(ref, "FRA"), sent_at=now()),
    )
    bad_started = time.monotonic()
    garbage = b"\x00this is not JSON{"
    malformed = await send(
        r, ref, garbage, [("ce_id", b"bad-bytes"), *signed_bytes(garbage, "NLD", s.state_dir)]
    )
    orphan = await send_signed(r, unknown)
    duplicate = await send_signed(r, report)
    stranger = await send_signed(r, wrong_state)
    assert duplicate.partition == stranger.partition  # so (d) dead-lettered means (c) was handled

    sent = {key_of_meta(m) for m in (malformed, orphan, duplicate, stranger)}
    dead = await read_until(
        s,
        s.topics.dead_letter,
        lambda rs: {origin(rec) for rec in rs} >= sent,
    )
    print(f"four dead-letter records: {time.monotonic() - bad_started:.2f}s")
    by_origin = {origin(rec): rec for rec in dead if origin(rec) in sent}
    assert len(dead) == 4

    a = by_origin[key_of_meta(malformed)]
    assert headers(a)[HEADER_REASON_CODE] == "malformed"
    assert a.value == b"\x00this is not JSON{" and a.key == ref.encode()
    assert headers(a)["ce_id"] == "bad-bytes"  # the original headers travel along
    b = by_origin[key_of_meta(orphan)]
    assert headers(b)[HEADER_REASON_CODE] == "unknown_request"
    assert "ICC-E2E-NO-SUCH-REQUEST" in headers(b)[HEADER_REASON]
    c = by_origin[key_of_meta(duplicate)]
    assert headers(c)[HEADER_REASON_CODE] == "replayed"
    assert report.event_id in headers(c)[HEADER_REASON]
    d = by_origin[key_of_meta(stranger)]
    assert headers(d)[HEADER_REASON_CODE] in ("rejected", "unknown_request")
    assert "FRA" in headers(d)[HEADER_REASON]
    for rec in (a, b, c, d):
        assert headers(rec)[HEADER_TOPIC] == s.topics.state_answers

    after = await r.client.view(ref, "NLD")
    assert after.timeline == view.timeline
    assert after.answers_seen == view.answers_seen
    assert after.ledger == view.ledger


def key_of_meta(meta: RecordMetadata) -> tuple[int, int]:
    return meta.partition, meta.offset


async def test_late_answer_to_a_closed_request_is_dead_lettered(running: Running) -> None:
    r, s = running, running.settings
    request = court_request(tag="E2E")
    ref = request.reference
    workflow_id = await r.client.submit(request)
    await simulate_state(s, ref, "NLD", "acknowledge")
    await wait_view(r.client, ref, lambda v: v.status is RequestStatus.ACKNOWLEDGED)
    await simulate_state(s, ref, "NLD", "no-assets")
    await wait_view(r.client, ref, lambda v: v.status is RequestStatus.NO_ASSETS)
    await r.client.close(ref, "NLD", close_action("no assets found", "Registry"))
    handle = r.client.client.get_workflow_handle_for(RequestWorkflow.run, workflow_id)
    closed = await asyncio.wait_for(handle.result(), timeout=WAIT_S)
    run_id = (await handle.describe()).run_id

    [late_id] = await simulate_state(s, ref, "NLD", "acknowledge")
    dead = await read_until(
        s, s.topics.dead_letter, lambda rs: any(headers(x).get("ce_id") == late_id for x in rs)
    )
    [late] = [x for x in dead if headers(x).get("ce_id") == late_id]
    assert headers(late)[HEADER_REASON_CODE] == "request_closed"
    assert ref in headers(late)[HEADER_REASON]
    description = await handle.describe()
    assert description.status is WorkflowExecutionStatus.COMPLETED
    assert description.run_id == run_id  # nothing reopened
    assert (await handle.result()).answers_seen == closed.answers_seen


async def test_bridge_process_commits_and_stops_on_sigterm(stack: Settings) -> None:
    """`python -m tracefreeze bridge` as a real process; the simulator plays the State."""
    s = isolated(stack)
    await ensure_topics(s)
    env = os.environ | stack_env(s)
    worker = asyncio.create_task(run_worker(s))
    bridge = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tracefreeze", "bridge", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        client = await RequestClient.connect(s)
        request = court_request(tag="E2E")
        ref = request.reference
        await client.submit(request)
        started = time.monotonic()
        await simulate_state(s, ref, "NLD", "acknowledge")
        await wait_view(client, ref, lambda v: v.status is RequestStatus.ACKNOWLEDGED)
        print(f"\nprocess bridge: acknowledgement applied {time.monotonic() - started:.2f}s")
        await simulate_state(s, ref, "NLD", "freeze-known")
        view = await wait_view(
            client,
            ref,
            lambda v: all(e.status is AssetStatus.FROZEN for e in v.ledger.entries.values()),
        )
        expected = sum(
            (a.estimated_value.amount if a.estimated_value else Decimal("250000.00"))
            for a in request.known_assets
        )
        assert view.totals["EUR"].frozen == expected
    finally:
        stopping = time.monotonic()
        bridge.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bridge.communicate(), timeout=30)
        print(f"process bridge stopped {time.monotonic() - stopping:.2f}s after SIGTERM")
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert bridge.returncode == 0, err.decode()[-3000:]
    assert b"bridge stopped" in err

    # Both answers were committed before the process left: a new member starts after them.
    assert await committed_total(s) == 2


async def test_answer_waits_while_no_worker_runs_the_request(stack: Settings) -> None:
    """No outcome from Temporal (no worker): the answer is retried, not dead-lettered, not
    committed; once a worker runs the request, the same answer is taken exactly once.

    The retry budget is shorter than the wait: with no worker polling the task queue the
    time does not count, so nothing is parked (an outage of every worker parks nothing)."""
    s = isolated(stack).model_copy(update={"kafka_timeout_s": 1.5, "bridge_retry_budget_s": 2.0})
    await ensure_topics(s)
    client = await RequestClient.connect(s)
    request = court_request(tag="E2E")
    await client.submit(request)  # no worker yet: the workflow cannot take updates
    stop = asyncio.Event()
    bridge = asyncio.create_task(run_bridge(s, stop))
    worker: asyncio.Task[None] | None = None
    try:
        [event_id] = await simulate_state(s, request.reference, "NLD", "acknowledge")
        await asyncio.sleep(3 * s.kafka_timeout_s)  # at least two attempts time out
        assert not bridge.done()
        assert await committed_total(s) == 0
        worker = asyncio.create_task(run_worker(s))
        started = time.monotonic()
        view = await wait_view(client, request.reference, lambda v: v.answers_seen == 1)
        print(f"\nworker back → retried answer applied in {time.monotonic() - started:.2f}s")
        assert view.status is RequestStatus.ACKNOWLEDGED
        assert view.timeline[-1].event_id == event_id
        async with asyncio.timeout(WAIT_S):
            while True:
                if await committed_total(s) == 1:
                    break
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(bridge, timeout=30)
        if worker:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
    dead = await read_until(s, s.topics.dead_letter, lambda rs: True)
    assert dead == []
