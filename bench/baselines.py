"""Baselines, measured on the same broker and dev server in the same run.

(a) Bare aiokafka: produce → consume round trip (one message at a time, p50/p99) and
    throughput (a burst produced and consumed at once), with the product's producer and
    consumer settings (idempotent acks=all producer; read-committed consumer committing each
    batch) and message values of the size of a signed answer.
(b) Bare Temporal: a trivial workflow (``bench/trivial.py``: one update returning a counter)
    on a bare client and its own worker process. Round trip: sequential updates on one
    workflow. Throughput: as many concurrent sequential streams as the bridge has updates in
    flight (``bridge_in_flight``), spread over many workflows.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import NewTopic
from temporalio.client import Client

from bench.common import (
    ONCE,
    StateSigner,
    bare_client,
    latency_stats,
    management,
    producer,
    summary,
)
from bench.cpu import CpuWindow, window
from bench.stack import BenchStack
from bench.trivial import TASK_QUEUE, CounterWorkflow
from tracefreeze.config import Settings
from tracefreeze.kafka import make_admin, make_consumer


@dataclass(frozen=True)
class BaselineSizes:
    repeats: int = 3
    kafka_round_trips: int = 200
    kafka_burst: int = 10_000
    temporal_round_trips: int = 200
    temporal_updates: int = 1_500
    temporal_workflows: int = 60


QUICK_SIZES = BaselineSizes(
    repeats=2,
    kafka_round_trips=40,
    kafka_burst=1_000,
    temporal_round_trips=40,
    temporal_updates=300,
    temporal_workflows=12,
)


REPLICATION = 1
MIN_INSYNC = 1
"""Of the bare engine's topics: 1 on the dev stack; the cluster's (3, 2) with ``--cluster``."""


def bridge_concurrency(settings: Settings) -> int:
    """Updates the bridge has in flight at once (requests side by side, over partitions)."""
    return settings.bridge_in_flight


async def engine_topic(settings: Settings, partitions: int) -> str:
    """A topic of the bare engine, replicated as the product's own on this stack."""
    name = f"bench.engine-{uuid.uuid4().hex[:8]}"
    admin = make_admin(settings, client_id="bench-admin")
    await admin.start()
    try:
        config = {"min.insync.replicas": str(MIN_INSYNC)} if REPLICATION > 1 else {}
        await admin.create_topics([NewTopic(name, partitions, REPLICATION, topic_configs=config)])
    finally:
        await admin.close()
    return name


async def _assigned(consumer: Any, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise TimeoutError("consumer got no partitions")
        await consumer.getmany(timeout_ms=100)


async def kafka_round_trips(settings: Settings, value: bytes, n: int) -> list[float]:
    topic = await engine_topic(settings, 1)
    consumer = make_consumer(settings, topic, group_id=f"bench-rt-{uuid.uuid4().hex[:8]}")
    prod = await producer(settings, "bench-baseline")
    await consumer.start()
    try:
        await _assigned(consumer)
        samples: list[float] = []
        for i in range(n + 5):  # 5 warm-up messages
            key = str(i).encode()
            t0 = time.perf_counter()
            await prod.send_and_wait(topic, value=value, key=key)
            got = False
            while not got:
                batches = await consumer.getmany(timeout_ms=500)
                for tp, records in batches.items():
                    got = got or any(r.key == key for r in records)
                    await consumer.commit({tp: records[-1].offset + 1})
            if i >= 5:
                samples.append(time.perf_counter() - t0)
        return samples
    finally:
        await consumer.stop()
        await prod.stop()


async def kafka_throughput(settings: Settings, value: bytes, n: int, partitions: int) -> float:
    topic = await engine_topic(settings, partitions)
    consumer = make_consumer(settings, topic, group_id=f"bench-tp-{uuid.uuid4().hex[:8]}")
    prod = await producer(settings, "bench-baseline")
    await consumer.start()
    try:
        await _assigned(consumer)
        seen = 0

        async def consume() -> float:
            nonlocal seen
            while seen < n:
                batches = await consumer.getmany(timeout_ms=500, max_records=200)
                for tp, records in batches.items():
                    seen += len(records)
                    await consumer.commit({tp: records[-1].offset + 1})
            return time.perf_counter()

        reader = asyncio.create_task(consume())
        t0 = time.perf_counter()
        futures = [
            await prod.send(topic, value=value, key=f"REF-{i % 500}".encode()) for i in range(n)
        ]
        await asyncio.gather(*futures)
        t1 = await asyncio.wait_for(reader, timeout=300)
        return n / (t1 - t0)
    finally:
        await consumer.stop()
        await prod.stop()


async def temporal_round_trips(client: Client, n: int) -> tuple[list[float], list[float]]:
    """Sequential update round trips on one workflow, each followed by a query of it."""
    handle = await client.start_workflow(
        CounterWorkflow.run,
        id=f"bench-rt-{uuid.uuid4().hex[:8]}",
        task_queue=TASK_QUEUE,
        id_reuse_policy=ONCE,
    )
    samples: list[float] = []
    queries: list[float] = []
    for i in range(n + 5):
        t0 = time.perf_counter()
        await handle.execute_update(CounterWorkflow.bump)
        t1 = time.perf_counter()
        await handle.query(CounterWorkflow.value)
        if i >= 5:
            samples.append(t1 - t0)
            queries.append(time.perf_counter() - t1)
    await handle.execute_update(CounterWorkflow.finish)
    return samples, queries


async def temporal_throughput(
    client: Client, n: int, workflows: int, concurrency: int, spent: CpuWindow | None = None
) -> float:
    workflows = max(workflows, 2 * concurrency)  # every stream has workflows of its own
    run = uuid.uuid4().hex[:8]
    handles = [
        await client.start_workflow(
            CounterWorkflow.run,
            id=f"bench-tp-{run}-{i}",
            task_queue=TASK_QUEUE,
            id_reuse_policy=ONCE,
        )
        for i in range(workflows)
    ]
    for h in handles:  # warm: every workflow has run its first task and is cached
        await h.execute_update(CounterWorkflow.bump)
    per_stream = n // concurrency

    async def stream(s: int) -> None:
        mine = handles[s::concurrency]
        for j in range(per_stream):
            await mine[j % len(mine)].execute_update(CounterWorkflow.bump)

    if spent is not None:
        spent.open()
    t0 = time.perf_counter()
    await asyncio.gather(*(stream(s) for s in range(concurrency)))
    elapsed = time.perf_counter() - t0
    if spent is not None:
        spent.close()
    await asyncio.gather(*(h.execute_update(CounterWorkflow.finish) for h in handles))
    return per_stream * concurrency / elapsed


async def run_baselines(stack: BenchStack, signer: StateSigner, sizes: BaselineSizes) -> dict:
    settings = stack.settings
    concurrency = bridge_concurrency(settings)
    value, _ = signer.sign(management("ICC-01/22-BENCH-SIZE", 1))
    partitions = settings.topics.partitions()[settings.topics.state_answers]
    out: dict[str, Any] = {"concurrency": concurrency, "value_bytes": len(value)}

    rt_runs, tp_runs = [], []
    for _ in range(sizes.repeats):
        rt_runs.append(
            latency_stats(await kafka_round_trips(settings, value, sizes.kafka_round_trips))
        )
        tp_runs.append(await kafka_throughput(settings, value, sizes.kafka_burst, partitions))
    out["kafka"] = {
        "round_trip_runs": rt_runs,
        "round_trip_p50_ms": summary([r["p50_ms"] for r in rt_runs]),
        "round_trip_p99_ms": summary([r["p99_ms"] for r in rt_runs]),
        "throughput_runs": tp_runs,
        "throughput_msgs_s": summary(tp_runs),
        "n_round_trips": sizes.kafka_round_trips,
        "n_burst": sizes.kafka_burst,
    }

    app = stack.start_app("trivial-worker")
    try:
        client = await bare_client(settings)
        rt_runs, tp_runs, q_runs = [], [], []
        cpu_runs: list[dict[str, float | None]] = []
        for _ in range(sizes.repeats):
            updates, queries = await temporal_round_trips(client, sizes.temporal_round_trips)
            rt_runs.append(latency_stats(updates))
            q_runs.append(latency_stats(queries))
            spent = window(app.pid, stack.state_dir)
            tp_runs.append(
                await temporal_throughput(
                    client, sizes.temporal_updates, sizes.temporal_workflows, concurrency, spent
                )
            )
            updates_made = sizes.temporal_updates // concurrency * concurrency
            cpu_runs.append(spent.per(updates_made))
    finally:
        await app.stop()
        stack.apps.remove(app)
    out["temporal"] = {
        "round_trip_runs": rt_runs,
        "round_trip_p50_ms": summary([r["p50_ms"] for r in rt_runs]),
        "round_trip_p99_ms": summary([r["p99_ms"] for r in rt_runs]),
        "query_p50_ms": summary([r["p50_ms"] for r in q_runs]),
        "throughput_runs": tp_runs,
        "updates_s": summary(tp_runs),
        **{
            f"update_{k}": summary(v)
            for k in ("worker_cpu_ms", "server_cpu_ms", "client_cpu_ms")
            if (v := [x for c in cpu_runs if (x := c.get(k)) is not None])
        },
        "n_round_trips": sizes.temporal_round_trips,
        "n_updates": sizes.temporal_updates,
        "workflows": max(sizes.temporal_workflows, 2 * concurrency),
    }
    return out
