"""Metrics and probes on the real stack: worker and bridge (asyncio tasks, one process, so one
server) on a free health port; /metrics scraped before and after one valid signed answer and
one bad one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from tests.builders import acknowledgement, court_request, now
from tests.ops import Samples, aget, scrape, total, wait_status
from tests.signed import signed_bytes, signed_record
from tests.tracefreeze.e2e import isolated, worker_and_bridge
from tracefreeze.config import Settings
from tracefreeze.stack.ports import free_ports

pytestmark = pytest.mark.stack

ACCEPTED = "tracefreeze_answers_accepted_total"
REJECTED = "tracefreeze_answers_rejected_total"
DEAD = "tracefreeze_dead_lettered_total"
LATENCY = "tracefreeze_bridge_processing_seconds_count"
LAG = "tracefreeze_consumer_lag"


async def wait_scrape(port: int, ok: Callable[[Samples], bool], timeout_s: float = 60) -> Samples:
    async with asyncio.timeout(timeout_s):
        while True:
            found = await scrape(port)
            if ok(found):
                return found
            await asyncio.sleep(0.1)


def moved(before: Samples, after: Samples, name: str) -> dict[tuple, float]:
    """The label sets of ``name`` whose value changed, and by how much."""
    keys = {k for k in (*before, *after) if k[0] == name}
    deltas = {k[1]: after.get(k, 0.0) - before.get(k, 0.0) for k in keys}
    return {labels: d for labels, d in deltas.items() if d}


async def test_counters_move_and_probes_answer(stack: Settings) -> None:
    (port,) = free_ports(1)
    s = isolated(stack).model_copy(update={"health_port": port})
    async with worker_and_bridge(s) as r:
        producer, client = r.producer, r.client
        both = {"ok": True, "components": {"worker": True, "bridge": True}}
        async with asyncio.timeout(60):  # each registers once connected
            while True:
                if json.loads(await wait_status(port, "/readyz", 200)) == both:
                    break
                await asyncio.sleep(0.1)
        assert (await aget(port, "/healthz"))[0] == 200

        request = court_request()
        await client.submit(request)
        before = await scrape(port)

        good = acknowledgement(request, sent_at=now())
        value, headers = signed_record(good, s.state_dir)
        await producer.send_and_wait(
            s.topics.state_answers, value=value, key=request.reference.encode(), headers=headers
        )
        garbage = b"{not json"
        await producer.send_and_wait(
            s.topics.state_answers,
            value=garbage,
            key=request.reference.encode(),
            headers=signed_bytes(garbage, "NLD", s.state_dir),
        )
        after = await wait_scrape(
            port, lambda f: total(f, ACCEPTED) > total(before, ACCEPTED) and total(f, DEAD) > 0
        )
        await asyncio.sleep(1.0)  # nothing else may move
        after = await scrape(port)

        assert moved(before, after, ACCEPTED) == {(("answer_type", "acknowledgement"),): 1.0}
        (dead,) = moved(before, after, DEAD).items()
        assert dead[1] == 1.0, dead
        (rejected,) = moved(before, after, REJECTED).items()
        assert rejected[1] == 1.0 and rejected[0] == dead[0], (rejected, dead)
        assert total(after, LATENCY) - total(before, LATENCY) == 2
        assert any(name == LAG for name, _ in after), "no consumer lag gauge"
        sdk = {name for name, _ in after if name.startswith("temporal_")}
        assert any(n.startswith("temporal_workflow_task_execution_latency") for n in sdk), sdk
        assert any(n.startswith("temporal_activity_execution_latency") for n in sdk), sdk
        assert (await aget(port, "/healthz"))[0] == 200
        assert (await aget(port, "/readyz"))[0] == 200
    assert (await aget(port, "/healthz"))[0] == 0, "the server stops with its last component"
