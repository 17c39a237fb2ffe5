"""Structured logs on the real stack: the JSON lines of real worker and bridge processes.

A State's signed acknowledgement goes through ``tracefreeze bridge`` into the request run by
``tracefreeze worker``. The bridge's line carries the answer's bound ids and Kafka position;
the workflow's own ``workflow.logger`` line, rendered by the same structlog pipeline, carries
the workflow and run ids as fields; the publishing activity's line its workflow, activity
and attempt. No line above debug carries a party's name or an asset's description.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from schemas.ledger import RequestStatus
from schemas.request import request_workflow_id
from tests.builders import acknowledgement, court_request, now
from tests.ops import App, apps
from tests.signed import signed_record
from tests.tracefreeze.e2e import isolated
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.kafka import make_producer
from tracefreeze.topics import ensure_topics

pytestmark = pytest.mark.stack

WAIT_S = 60.0


def one(app: App, **fields: Any) -> dict[str, Any]:
    """The first JSON line of ``app`` with these field values."""
    for record in app.lines():
        if all(record.get(k) == v for k, v in fields.items()):
            return record
    raise AssertionError(f"no {app.name} line with {fields}; last lines:\n{app.tail(40)}")


async def wait_line(app: App, **fields: Any) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_S):
        while True:
            try:
                return one(app, **fields)
            except AssertionError:
                await asyncio.sleep(0.1)


async def test_bridge_workflow_and_activity_lines_carry_their_ids(stack: Settings) -> None:
    s = isolated(stack)
    await ensure_topics(s)
    request = court_request()
    ref, workflow_id = request.reference, request_workflow_id(request.reference, "NLD")
    answer = acknowledgement(request, sent_at=now())
    async with apps(s) as (worker, bridge):
        client = await RequestClient.connect(s)
        await client.submit(request)
        value, headers = signed_record(answer, s.state_dir)
        producer = make_producer(s)
        await producer.start()
        try:
            sent = await producer.send_and_wait(
                s.topics.state_answers, value=value, key=ref.encode(), headers=headers
            )
        finally:
            await producer.stop()
        line = await wait_line(bridge, event="answer accepted", event_id=answer.event_id)
        flow = await wait_line(worker, logger="temporalio.workflow", event="answer accepted")
        published = await wait_line(worker, event="events published", request_reference=ref)
        view = await client.view(ref, "NLD")
        assert view.status is RequestStatus.ACKNOWLEDGED

    assert line["request_reference"] == ref
    assert line["state"] == "NLD"
    assert line["workflow_id"] == workflow_id
    assert (line["topic"], line["partition"], line["offset"]) == (
        sent.topic,
        sent.partition,
        sent.offset,
    )
    assert line["level"] == "info" and line["timestamp"]

    assert flow["workflow_id"] == workflow_id
    assert flow["run_id"] and flow["workflow_type"] == "RequestWorkflow"
    assert flow["event_id"] == answer.event_id and flow["action"] == "acknowledgement"
    assert (flow["case_number"], flow["state"]) == (request.case_number, "NLD")
    assert "(" not in flow["event"], "the SDK's ids belong in fields, not in the message"

    assert published["workflow_id"] == workflow_id
    assert published["activity_id"] and published["attempt"] == 1
    assert published["case_number"] == request.case_number
    # One line per topic, partition and request of a round: each event's id and offset.
    assert len(published["offsets"]) == len(published["event_ids"]) >= 1
    assert published["offsets"] == sorted(published["offsets"]) and published["partition"] >= 0
    assert published["event_types"]

    personal = [p.name for p in request.parties] + [a.description for a in request.known_assets]
    for app in (worker, bridge):
        for record in app.lines():
            if record.get("level") != "debug":
                text = str(record)
                assert not [p for p in personal if p and p in text], record
