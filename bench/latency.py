"""End-to-end latency at light load, one answer at a time, two figures: a signed answer
produced to Kafka → visible in the request's ``progress`` query (its ``answers_seen`` counts
it), and → its ``answer.accepted`` event read by a downstream consumer of the events topic
(``bench/downstream.py``): the chain a downstream consumer sees.

Worker and bridge run warm; each repeat uses a fresh request (acknowledged and frozen first,
not timed), then ``answers`` asset-management valuations, each sent (``send_and_wait``) only
after the previous one is visible, with a short pause between. The clock starts before the
produce and stops when a query first shows the answer (the ``progress`` query — status and
count, no ledger or timeline — polled back to back, so the figure includes up to one query
round trip). Baselines of the same run: (a) Kafka round trip p50 + (b) Temporal update round
trip p50 for the first; (a)+(b)+(a) for the second (the event travels Kafka once more).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.bare_chain import bare_chain_runs
from bench.common import (
    StateSigner,
    freeze_report,
    fresh_acknowledgement,
    latency_stats,
    management,
    producer,
    send_signed,
    summary,
)
from bench.downstream import Downstream, reading
from bench.drain import submit_all
from bench.latency_parts import readers_round_trips, update_and_query_round_trips
from bench.stack import BenchStack
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.temporal import connect

TASK_QUEUE = "bench-latency"
PAUSE_S = 0.02
WARM_UP = 5
PARTS_ANSWERS = 50


@dataclass(frozen=True)
class LatencySizes:
    answers: int = 100
    repeats: int = 3
    timeout_s: float = 30


QUICK_SIZES = LatencySizes(answers=20, repeats=2)


async def _visible(requests: RequestClient, reference: str, count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while (await requests.progress(reference, "NLD")).answers_seen < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"answer {count} of {reference} not visible in {timeout_s:g}s")


async def one_repeat(
    settings: Settings, signer: StateSigner, reference: str, sizes: LatencySizes
) -> tuple[list[float], list[float]]:
    """Seconds from produce to visible in a query, and to the event read downstream."""
    await submit_all(settings, [reference])
    requests = RequestClient(await connect(settings), settings)
    prod = await producer(settings)
    try:
        async with reading(settings) as downstream:
            return await _timed(settings, signer, reference, sizes, requests, prod, downstream)
    finally:
        await prod.stop()


async def _timed(
    settings: Settings,
    signer: StateSigner,
    reference: str,
    sizes: LatencySizes,
    requests: RequestClient,
    prod: Any,
    downstream: Downstream,
) -> tuple[list[float], list[float]]:
    seen = 0
    for answer in (fresh_acknowledgement(reference), freeze_report(reference)):
        await send_signed(prod, settings, signer, answer, wait=True)
        seen += 1
        await _visible(requests, reference, seen, sizes.timeout_s)
    visible: list[float] = []
    consumed: list[float] = []
    for i in range(sizes.answers + WARM_UP):
        answer = management(reference, i)
        event = downstream.expect(answer.event_id)
        await asyncio.sleep(PAUSE_S)
        t0 = time.perf_counter()
        await send_signed(prod, settings, signer, answer, wait=True)
        seen += 1
        await _visible(requests, reference, seen, sizes.timeout_s)
        shown = time.perf_counter()
        read_at = await asyncio.wait_for(event, sizes.timeout_s)
        if i >= WARM_UP:
            visible.append(shown - t0)
            consumed.append(read_at - t0)
    return visible, consumed


async def run_latency(
    stack: BenchStack, signer: StateSigner, sizes: LatencySizes, baselines: dict[str, Any]
) -> dict[str, Any]:
    settings = stack.settings.model_copy(update={"task_queue": TASK_QUEUE})
    parts_n = min(sizes.answers, PARTS_ANSWERS)
    bare = await bare_chain_runs(stack, signer, sizes.repeats, sizes.answers, parts_n)
    worker = stack.start_app("worker", TASK_QUEUE)
    stack.start_app("bridge", TASK_QUEUE)
    runs, downstream, parts, readers = [], [], [], []
    try:
        for r in range(sizes.repeats):
            reference = f"ICC-01/22-LAT-{r:03d}"
            visible, consumed = await one_repeat(settings, signer, reference, sizes)
            runs.append(latency_stats(visible))
            downstream.append(latency_stats(consumed))
        for r in range(sizes.repeats):
            reference = f"ICC-01/22-LAT-PARTS-{r:03d}"
            parts.append(await update_and_query_round_trips(settings, reference, parts_n))
            reading_ref = f"ICC-01/22-LAT-READERS-{r:03d}"
            readers.append(
                await readers_round_trips(settings, reading_ref, parts_n, worker.health_port)
            )
    finally:
        await stack.stop_apps()
    kafka_p50 = baselines["kafka"]["round_trip_p50_ms"]["median"]
    temporal_p50 = baselines["temporal"]["round_trip_p50_ms"]["median"]
    kafka_p99 = baselines["kafka"]["round_trip_p99_ms"]["median"]
    temporal_p99 = baselines["temporal"]["round_trip_p99_ms"]["median"]
    p50 = summary([r["p50_ms"] for r in runs])
    p99 = summary([r["p99_ms"] for r in runs])
    base50, base99 = kafka_p50 + temporal_p50, kafka_p99 + temporal_p99
    out = {
        "runs": runs,
        "answers_per_repeat": sizes.answers,
        "p50_ms": p50,
        "p99_ms": p99,
        "baseline_p50_ms": base50,
        "baseline_p99_ms": base99,
        "ratio_p50": p50["median"] / base50,
        "ratio_p50_spread": [p50["min"] / base50, p50["max"] / base50],
        "ratio_p99": p99["median"] / base99,
        "target_ratio_p50": 1.25,
        "product_update_p50_ms": summary([p["update"]["p50_ms"] for p in parts]),
        "progress_query_p50_ms": summary([p["query"]["p50_ms"] for p in parts]),
        "baseline_update_p50_ms": temporal_p50,
    }
    out["ratio_update_p50"] = out["product_update_p50_ms"]["median"] / temporal_p50
    # (b'): the bare update whose task also sends a message out, as the request's schedules
    # its publishing round (``bench/bare_chain.py``): the engine's cost of that round.
    out["update_out_p50_ms"] = summary([r["p50_ms"] for r in bare.update_out])
    out["baseline_update_out_p50_ms"] = out["update_out_p50_ms"]["median"]
    out["ratio_update_out_p50"] = (
        out["product_update_p50_ms"]["median"] / out["baseline_update_out_p50_ms"]
    )
    out["baseline_query_p50_ms"] = baselines["temporal"]["query_p50_ms"]["median"]
    out["ratio_query_p50"] = out["progress_query_p50_ms"]["median"] / out["baseline_query_p50_ms"]
    out["readers"] = readers[0]["readers"]
    out["readers_queries"] = sum(r["n"] for r in readers)
    out["readers_refused_ahead"] = sum(r["refused_ahead"] for r in readers)
    for figure in ("p50_ms", "p99_ms", "max_ms"):
        out[f"readers_query_{figure}"] = summary([r[figure] for r in readers])
    out["ratio_readers_query_p99"] = (
        out["readers_query_p99_ms"]["median"] / out["baseline_query_p50_ms"]
    )
    # The figure ends with a query; (a)+(b) has none. Also given: against (a)+(b)+(b) query.
    out["baseline_with_query_p50_ms"] = base50 + out["baseline_query_p50_ms"]
    out["ratio_p50_with_query"] = p50["median"] / out["baseline_with_query_p50_ms"]
    out["target_met"] = out["ratio_p50"] <= 1.25
    # To the event read downstream: the answer crosses Kafka twice, Temporal once.
    out["downstream_runs"] = downstream
    out["downstream_p50_ms"] = down = summary([r["p50_ms"] for r in downstream])
    out["downstream_p99_ms"] = summary([r["p99_ms"] for r in downstream])
    out["baseline_downstream_p50_ms"] = 2 * kafka_p50 + temporal_p50
    out["ratio_downstream_p50"] = (
        out["downstream_p50_ms"]["median"] / out["baseline_downstream_p50_ms"]
    )
    # (c): the same chain on bare parts, the same observer (``bench/bare_chain.py``).
    chains = (("chain", bare.visible, p50), ("chain_downstream", bare.consumed, down))
    for name, runs_of, ours in chains:
        out[f"{name}_runs"] = runs_of
        out[f"{name}_p50_ms"] = summary([r["p50_ms"] for r in runs_of])
        out[f"baseline_{name}_p50_ms"] = out[f"{name}_p50_ms"]["median"]
        out[f"ratio_{name}_p50"] = ours["median"] / out[f"baseline_{name}_p50_ms"]
    return out
