"""Baseline (c): the product's end-to-end chain built from bare parts, timed as the product's.

(a)+(b) adds a Kafka round trip to an update's; the product's figure also holds how its
observer learns the answer was taken (a query, which the server holds while the update's
workflow task runs) and what the request does after the update returns (its events leave
by an activity). (c)
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
from typing import Any, NamedTuple

from aiokafka import TopicPartition
from temporalio.client import Client

from bench.apps import RELAY_TOPIC, RELAY_WORKFLOW
from bench.baselines import engine_topic
from bench.common import ONCE, StateSigner, bare_client, latency_stats, management, producer
from bench.stack import BenchStack
from bench.trivial import TASK_QUEUE, CounterWorkflow
from tracefreeze.kafka import make_reader

PAUSE_S = 0.02
WARM_UP = 5
TIMEOUT_S = 30.0
CLEANUP_S = 10.0
"""The longest each step of the cleanup may take: a failed run reports its own error."""


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


class ChainRuns(NamedTuple):
    """Baseline (c) per repeat: produce → visible in a query, produce → the message out read
    downstream; and (b'), the bare update whose task also sends that message out."""

    visible: list[dict[str, Any]]
    consumed: list[dict[str, Any]]
    update_out: list[dict[str, Any]]


async def bare_chain_runs(
    stack: BenchStack, signer: StateSigner, repeats: int, answers: int, updates: int
) -> ChainRuns:
    """Baseline (c): ``repeats`` runs of ``answers`` on a bare worker of its own (stopped
    after), then ``repeats`` runs of (b') of ``updates`` each; ``bench/latency.py`` runs it
    before the product's worker and bridge start."""
    value, _ = signer.sign(management("ICC-01/22-BENCH-SIZE", 1))
    app = stack.start_app("trivial-worker")
    runs = ChainRuns([], [], [])
    try:
        client = await bare_client(stack.settings)
        for _ in range(repeats):
            shown, read = await chain_round_trips(stack, client, value, answers)
            runs.visible.append(latency_stats(shown))
            runs.consumed.append(latency_stats(read))
        for _ in range(repeats):
            took = await update_out_round_trips(stack, client, updates)
            runs.update_out.append(latency_stats(took))
    finally:
        await app.stop()
        stack.apps.remove(app)
    return runs


async def update_out_round_trips(stack: BenchStack, client: Client, n: int) -> list[float]:
    """Baseline (b'): the product's update alone (``bench/latency_parts.py``) on bare parts.
    Sequential ``bump`` updates of a ``CounterWorkflow`` run with a topic, so the task that
    takes each update also schedules the activity that sends one message out, as a request's
    task that takes an answer schedules its publishing round; the same pause before each and
    query after it as the product's. What (b) costs plus the engine's share of a message out
    in the update's task: scheduling the activity and its eager start, written before the
    caller is answered."""
    handle = await _counter(client, "bench-update-out", await engine_topic(stack.settings, 1))
    took: list[float] = []
    try:
        for i in range(n + WARM_UP):
            await asyncio.sleep(PAUSE_S)
            t0 = time.perf_counter()
            await handle.execute_update(CounterWorkflow.bump)
            t1 = time.perf_counter()
            await handle.query(CounterWorkflow.value)
            if i >= WARM_UP:
                took.append(t1 - t0)
    finally:
        await _finish(handle)
    return took


async def chain_round_trips(
    stack: BenchStack, client: Client, value: bytes, n: int
) -> tuple[list[float], list[float]]:
    """Seconds from produce to visible in a query, and to the message out read downstream."""
    settings = stack.settings
    topic_in, topic_out = await engine_topic(settings, 1), await engine_topic(settings, 1)
    handle = await _counter(client, "bench-chain", topic_out)
    async with contextlib.AsyncExitStack() as cleanup:
        cleanup.push_async_callback(_finish, handle)
        env = {RELAY_TOPIC: topic_in, RELAY_WORKFLOW: handle.id}
        relay = stack.start_app("trivial-relay", extra_env=env, wait_for="relay started")
        cleanup.push_async_callback(_stop_app, stack, relay)
        reader = make_reader(settings, client_id="bench-chain-downstream")
        await reader.start()
        cleanup.push_async_callback(_quietly, reader.stop())
        prod = await producer(settings, "bench-chain")
        cleanup.push_async_callback(_quietly, prod.stop())
        reader.assign([TopicPartition(topic_out, 0)])
        await reader.seek_to_end()
        arrivals = _Arrivals()
        task = asyncio.create_task(arrivals.read(reader))
        cleanup.push_async_callback(_cancelled, task)
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
        # One update and one message out per message in, or the pairing above was wrong (a
        # redelivery or a retried send): refused rather than reported.
        counted = await handle.query(CounterWorkflow.value)
        await asyncio.sleep(PAUSE_S)
        if counted != n + WARM_UP or len(arrivals.times) != n + WARM_UP:
            raise RuntimeError(
                f"bare chain: {counted} counted and {len(arrivals.times)} read for "
                f"{n + WARM_UP} produced"
            )
        return visible, consumed


async def _counter(client: Client, prefix: str, topic: str) -> Any:
    """A new ``CounterWorkflow`` on the bare worker that sends one message to ``topic`` after
    the updates each task takes."""
    return await client.start_workflow(
        CounterWorkflow.run,
        topic,
        id=f"{prefix}-{uuid.uuid4().hex[:8]}",
        task_queue=TASK_QUEUE,
        id_reuse_policy=ONCE,
    )


async def _finish(handle: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(handle.execute_update(CounterWorkflow.finish), CLEANUP_S)


async def _stop_app(stack: BenchStack, app: Any) -> None:
    with contextlib.suppress(Exception):
        await app.stop()
    with contextlib.suppress(ValueError):
        stack.apps.remove(app)


async def _quietly(stopping: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(stopping, CLEANUP_S)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
