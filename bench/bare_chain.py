"""Baseline (c): the product's end-to-end chain built from bare parts, timed as the product's.

(a)+(b) adds a Kafka round trip to an update's; the product's figure also holds how its
observer learns the answer was taken (a query) and what the request does after the update
returns (its events leave by an activity, whose completion is a workflow task, and a query
asked meanwhile waits for that task: the engine keeps a query consistent with history). (c)
is the same chain with nothing of the product's in it: a message of a signed answer's size
produced to a topic, read by a bare relay (``bench/apps.py trivial-relay``: the product's
consumer settings, one update per record, commit after), counted by ``CounterWorkflow.bump``
on a bare worker, which then sends one 1 KiB message by an activity
(``bench/trivial.py``); the clock stops when a back-to-back ``value`` query shows the count,
and (second figure) when that message is read downstream. Same pause, warm-up and one
answer at a time as ``bench/latency.py``: the engine's own figure for the whole chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from aiokafka import TopicPartition
from temporalio.client import Client

from bench.apps import RELAY_TOPIC, RELAY_WORKFLOW
from bench.baselines import engine_topic
from bench.common import ONCE, producer
from bench.stack import BenchStack
from bench.trivial import TASK_QUEUE, CounterWorkflow
from tracefreeze.kafka import make_reader

PAUSE_S = 0.02
WARM_UP = 5
TIMEOUT_S = 30.0


class _Arrivals:
    """Times at which each message of a topic was read, in order."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.grew = asyncio.Event()

    async def read(self, consumer: Any) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            read_at = time.perf_counter()
            for records in batches.values():
                self.times.extend(read_at for _ in records)
                self.grew.set()

    async def nth(self, n: int) -> float:
        """When the ``n``-th message (from 1) was read."""
        while len(self.times) < n:
            self.grew.clear()
            await self.grew.wait()
        return self.times[n - 1]


async def chain_round_trips(
    stack: BenchStack, client: Client, value: bytes, n: int
) -> tuple[list[float], list[float]]:
    """Seconds from produce to visible in a query, and to the message out read downstream."""
    settings = stack.settings
    topic_in, topic_out = await engine_topic(settings, 1), await engine_topic(settings, 1)
    handle = await client.start_workflow(
        CounterWorkflow.run,
        topic_out,
        id=f"bench-chain-{uuid.uuid4().hex[:8]}",
        task_queue=TASK_QUEUE,
        id_reuse_policy=ONCE,
    )
    env = {RELAY_TOPIC: topic_in, RELAY_WORKFLOW: handle.id}
    relay = stack.start_app("trivial-relay", extra_env=env, wait_for="relay started")
    reader = make_reader(settings, client_id="bench-chain-downstream")
    prod = await producer(settings, "bench-chain")
    await reader.start()
    arrivals = _Arrivals()
    task: asyncio.Task[None] | None = None
    try:
        reader.assign([TopicPartition(topic_out, 0)])
        await reader.seek_to_end()
        task = asyncio.create_task(arrivals.read(reader))
        visible: list[float] = []
        consumed: list[float] = []
        for i in range(n + WARM_UP):
            await asyncio.sleep(PAUSE_S)
            t0 = time.perf_counter()
            await prod.send_and_wait(topic_in, value=value, key=str(i).encode())
            deadline = t0 + TIMEOUT_S
            while await handle.query(CounterWorkflow.value) < i + 1:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"bare chain: message {i} not counted in {TIMEOUT_S:g}s")
            shown = time.perf_counter()
            read_at = await asyncio.wait_for(arrivals.nth(i + 1), TIMEOUT_S)
            if i >= WARM_UP:
                visible.append(shown - t0)
                consumed.append(read_at - t0)
        return visible, consumed
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await reader.stop()
        await prod.stop()
        await relay.stop()
        stack.apps.remove(relay)
        await handle.execute_update(CounterWorkflow.finish)
