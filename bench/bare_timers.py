"""Scale baseline: the bare engine with as many trivial timers falling due together.

At most ``BARE_TIMERS`` (2,000) timers: the engine's firing rate is what the product's is
compared with (at 9,000 timers the bare engine alone needed ~4 minutes for its slowest
timers, which the 20-minute budget of ``make bench`` cannot hold next to the product's run).
The same dev server and the same worker cache size as the product's run, a trivial workflow
(``bench/trivial.py`` TimerWorkflow) on a bare client: ``n`` workflows are started (as many
in flight as the product's submissions), each with a timer of ``T`` - (submission time) from
its first task — exactly how the product's requests get their deadline — and returns how
late its timer task ran. Figures: start throughput, and lateness p50/p99 — the
floor this machine's engine sets for "10,000 deadlines due together".
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from temporalio.client import Client

from bench.common import bounded, percentile
from bench.stack import BenchStack
from bench.trivial import TASK_QUEUE, TimerWorkflow
from tracefreeze.temporal import access

RESULT_CONCURRENCY = 64
CALIBRATION = 200


async def bare_timers(
    stack: BenchStack, n: int, concurrency: int, start_budget_s: float, guard_s: float
) -> dict[str, Any]:
    settings = stack.settings
    app = stack.start_app("trivial-worker")
    run = uuid.uuid4().hex[:6]
    try:
        client = await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace, **access(settings)
        )
        t0 = time.perf_counter()

        async def start(i: int, due: float) -> Any:
            now = time.time()  # the timer runs from the first task, like a request's deadline
            if now > due - guard_s:
                return None
            return await client.start_workflow(
                TimerWorkflow.run, due - now, id=f"bench-timer-{run}-{i}", task_queue=TASK_QUEUE
            )

        # Calibration (due in a day, still open at the end, like the product's run): the
        # start rate sets T so that the rest can be started before it.
        later = time.time() + 86_400
        calib = min(CALIBRATION, n // 4)
        await bounded(concurrency, [lambda i=i: start(i, later) for i in range(calib)])
        rate = calib / (time.perf_counter() - t0)
        lead = min((n - calib) / rate * 1.1 + guard_s, start_budget_s)
        due = time.time() + max(lead, 3 * guard_s)
        jobs = [lambda i=i: start(i, due) for i in range(calib, n)]
        handles = [h for h in await bounded(concurrency, jobs) if h is not None]
        start_s = time.perf_counter() - t0
        await asyncio.sleep(max(0.0, due - time.time()))
        lateness = await bounded(RESULT_CONCURRENCY, [lambda h=h: h.result() for h in handles])
    finally:
        await app.stop()
        stack.apps.remove(app)
    return {
        "requested": n,
        "started": calib + len(handles),
        "due_together": len(handles),
        "starts_s": (calib + len(handles)) / start_s,
        "lateness_p50_s": percentile(lateness, 50),
        "lateness_p99_s": percentile(lateness, 99),
        "lateness_max_s": max(lateness) if lateness else float("nan"),
        "fire_rate_s": fire_rate(len(handles), lateness),
    }


def fire_rate(due_together: int, lateness: list[float]) -> float:
    """Deadlines fired per second until the last one: how many fell due together / how late
    the last one was (the same definition for the product and the bare engine)."""
    return due_together / max(lateness) if lateness and max(lateness) > 0 else float("nan")
