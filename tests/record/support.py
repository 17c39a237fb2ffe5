"""What the record store's tests share: the recorder as an asyncio task on one test's topics
and database, the Kafka records it must have kept, waits with a bound, Temporal's deletion
of a closed request (as the namespace retention would), and signed answers written to the
store as the recorder writes them."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests.builders import acknowledgement, now, to
from tests.signed import signed_record
from tests.stack import isolated
from tracefreeze.config import Settings
from tracefreeze.demo.keys import ensure_demo_keys
from tracefreeze.record.evidence import check, fingerprint
from tracefreeze.record.migrate import migrate
from tracefreeze.record.reader import RequestRecord, open_entry
from tracefreeze.record.rows import EntryKind, entry_of
from tracefreeze.record.seal import Sealer
from tracefreeze.record.write import Writer
from tracefreeze.record.writer import recorded_topics, run_recorder
from tracefreeze.report.cooperation import CooperationReport, build_report, year_query
from tracefreeze.security.key_registry import load_registry
from tracefreeze.topics import wanted_topics

WAIT_S = 60.0
TOPIC = "test.state-answers"


def recorder_settings(stack: Settings, record_dsn: str, prefix: str) -> Settings:
    """The stack with topics, task queue and groups of one test alone, and its own store."""
    base = isolated(stack, prefix)
    group = base.bridge_group_id + "-rec"
    return base.model_copy(update={"record_dsn": record_dsn, "recorder_group_id": group})


@contextlib.asynccontextmanager
async def recording(settings: Settings) -> AsyncIterator[asyncio.Task[None]]:
    """The recorder on ``settings`` until the block ends; it must stop cleanly. The store is
    migrated first, so that a test may count its tables at once."""
    conn = await asyncpg.connect(settings.record_dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    stop = asyncio.Event()
    task = asyncio.create_task(run_recorder(settings, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def records_on_topics(settings: Settings) -> int:
    """How many records the recorded topics hold (fresh topics of one test: end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        wanted = wanted_topics(settings)
        parts = [TopicPartition(t, p) for t in recorded_topics(settings) for p in range(wanted[t])]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


async def wait_count(dsn: str, sql: str, want: int, *args: object) -> int:
    """Poll ``sql`` (a count) until it reaches ``want``; its last value."""
    conn = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(WAIT_S):
            while True:
                got = await conn.fetchval(sql, *args)
                if got >= want:
                    return int(got)
                await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def delete_workflow(client: Client, workflow_id: str) -> None:
    """Delete a closed request's workflow, history and visibility, as retention does."""
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        )
    )
    handle = client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(WAIT_S):
        while True:
            try:
                await handle.describe()
            except RPCError as err:
                if err.status is RPCStatusCode.NOT_FOUND:
                    return
                raise
            await asyncio.sleep(0.1)


async def store_answers(
    conn: asyncpg.Connection, tmp_path: Path, sealer: Sealer, as_states: list[str | None]
) -> RequestRecord:
    """Signed acknowledgements to one NLD request, each signed by ``as_state`` (None: NLD
    itself), recorded as the recorder records them; every entry of the store."""
    registry = load_registry(ensure_demo_keys(tmp_path, ["NLD", "BEL"]))
    id_key = os.urandom(32)
    writer = Writer(conn, sealer)
    version = await writer.registry_version(registry)
    request = to("ICC-01/22-STORE-0001")
    for offset, as_state in enumerate(as_states):
        value, headers = signed_record(acknowledgement(request, sent_at=now()), tmp_path, as_state)
        entry = entry_of(EntryKind.ANSWER, TOPIC, 0, offset, value, list(headers), 0, id_key)
        at = now()
        assert await writer.write(entry, check(value, entry.headers, registry, at), version, at)
        assert not await writer.write(entry)  # met again: nothing twice
    assert fingerprint(registry) == version
    rows = await conn.fetch("SELECT * FROM entries ORDER BY seq")  # filed or not
    return RequestRecord(str(rows[0]["request_key"]), {}, [open_entry(r, sealer) for r in rows])


async def visibility_report(
    client: Client, year: int, extra: str, closed: int, min_group: int
) -> CooperationReport:
    """The year's report from Temporal visibility, once it shows ``closed`` requests closed."""
    query = year_query(year, extra) + ' AND RequestStatus = "closed"'
    async with asyncio.timeout(WAIT_S):
        while True:
            if (await client.count_workflows(query)).count >= closed:
                break
            await asyncio.sleep(0.2)
    return await build_report(client, year, progress=False, extra_query=extra, min_group=min_group)


def assert_same_figures(live: CooperationReport, stored: CooperationReport) -> None:
    """The store's report gives what visibility gave for the same requests (times to the
    second: the store dates an answer by the event the workflow made of it)."""
    assert (live.sent, live.ex_parte, live.outstanding) == (
        stored.sent, stored.ex_parte, stored.outstanding
    )  # fmt: skip
    for a, b in zip(live.states, stored.states, strict=True):
        counts = ("state", "sent", "answered", "outstanding", "answered_outstanding", "escalated")
        assert [getattr(a, c) for c in counts] == [getattr(b, c) for c in counts]
        assert a.totals == b.totals
        for name in ("to_acknowledgement", "to_first_report", "to_execution_end"):
            x, y = sorted(getattr(a, name).seconds), sorted(getattr(b, name).seconds)
            assert len(x) == len(y) and all(abs(p - q) < 1 for p, q in zip(x, y, strict=True))
