"""Scale baseline: the bare engine with exactly as many trivial timers falling due together
as the product's run had deadlines, in the same run.

Equal counts: the dev server's SQLite writer sets the pace, so a firing rate measured at
another count (1,800 timers against 9,800 deadlines) says nothing about the product. The bare
run has the product's shape: ``calibration`` timers started first and still open at the end
(due in a day, like the product's calibration requests), then ``due_together`` timers due at
one instant ``T``. The same dev server and the same worker cache size as the product's run, a
trivial workflow (``bench/trivial.py`` TimerWorkflow) on a bare client: the workflows are
started with as many in flight as the product's submissions, each with a timer of ``T`` -
(submission time) from its first task — exactly how the product's requests get their
deadline — and each returns how late its timer task ran. ``T`` is set from the bare engine's
own start rate so that every timer is started before it (a start that would come too close
to ``T`` is skipped, and the count is then reported as it is: ``due_together``). Figures:
start throughput, firing rate, lateness p50/p99 — the floor this machine's engine sets at
that count.

A bare start also sends one Kafka message, by an activity in its first task, as a request
publishes its transmission (the honest baseline for "transmit a request"), and starts are
paced by the same count of first messages on the topic as the product's (``bench/settled.py``):
starts per second then measure the same work on both sides.

With ``escalates``, each bare timer's task also sends one Kafka message by an activity when it
falls due, as a request publishes its escalation event (the honest baseline for "a deadline
falls due and the escalation leaves": the engine's price of publishing through an activity
whose completion is recorded, paid by both sides).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from bench.baselines import engine_topic
from bench.common import (
    ONCE,
    bare_client,
    bounded,
    end_offsets,
    partitions,
    percentile,
    stamped_after_due,
)
from bench.cpu import FIRING_CAP_S, until_idle, window
from bench.firing_parts import firing_parts
from bench.settled import Settled
from bench.stack import BenchStack
from bench.trivial import DUE_HEADER, TASK_QUEUE, TimerWorkflow

RESULT_CONCURRENCY = 64
RESULT_WAIT_S = 60.0
BARE_MARGIN = 1.5
"""The bare engine's ``T`` is at least this times the product's starting time away (and its
starting budget may be this much longer): since the organ key check is remembered the
product starts nearer the bare engine's rate (2026-12-02: 0.94x in a quick run, 0.71x in a
full one), so its
starting time no longer bounds the bare engine's from above, and a timer not started before
``T`` makes the counts unequal."""


async def bare_timers(
    stack: BenchStack,
    calibration: int,
    due_together: int,
    concurrency: int,
    start_budget_s: float,
    guard_s: float,
    escalates: bool = False,
    product_start_s: float = 0.0,
    worker_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``product_start_s``: the seconds the product took to start the same count; the bare
    engine's ``T`` is never set sooner than ``BARE_MARGIN`` times that from its calibration,
    so that a start rate that falls after calibration (the server filling) does not leave
    timers unstarted and the counts unequal. ``worker_env``: the trivial worker's own
    settings (the product worker's workflow cache, so both cache alike)."""
    settings = stack.settings
    n_partitions = len(await partitions(settings, settings.topics.request_events))
    topic = await engine_topic(settings, n_partitions)
    app = stack.start_app("trivial-worker", extra_env=worker_env)
    run = uuid.uuid4().hex[:6] + ("-esc" if escalates else "")
    settled = Settled(settings, 0, topic)
    submitted: list[int] = []
    try:
        client = await bare_client(settings)
        starting = window(app.pid, stack.state_dir)
        starting.open()
        async with settled:  # starts paced by first messages, as the product's
            t0 = time.perf_counter()

            async def start(i: int, due: float) -> Any:
                await settled.room(submitted)
                now = time.time()  # the timer runs from the first task, like a request's deadline
                if now > due - guard_s:
                    return None
                submitted.append(i)
                return await client.start_workflow(
                    TimerWorkflow.run,
                    args=[due - now, topic, escalates],
                    id=f"bench-timer-{run}-{i}",
                    task_queue=TASK_QUEUE,
                    id_reuse_policy=ONCE,
                )

            # Calibration (due in a day, still open at the end, like the product's run): the
            # start rate sets T so that the rest can be started before it.
            later = time.time() + 86_400
            calib, n = calibration, calibration + due_together
            await bounded(concurrency, [lambda i=i: start(i, later) for i in range(calib)])
            rate = max(calib, 1) / (time.perf_counter() - t0)
            # Generous: starts slow down as the server fills (a late T costs only waiting, and
            # a timer not started before it would make the counts unequal).
            # The product may start as fast as the bare engine: its time is no upper bound.
            estimate = max((n - calib) / rate * 3, product_start_s * BARE_MARGIN)
            lead = min(estimate + guard_s, start_budget_s * BARE_MARGIN)
            due = time.time() + max(lead, 3 * guard_s)
            jobs = [lambda i=i: start(i, due) for i in range(calib, n)]
            handles = [h for h in await bounded(concurrency, jobs) if h is not None]
            start_s = time.perf_counter() - t0
        start_idle = await until_idle(app.pid, due - time.time() - 2)
        starting.close()
        before_due = await end_offsets(settings, topic)  # escalations only carry a deadline
        await asyncio.sleep(max(0.0, due - time.time() - 1))
        cpu = window(app.pid, stack.state_dir)
        cpu.open()
        # Closed before the results are asked for: the server's answers to those long polls
        # are the benchmark's cost, not a firing's (the product's side reads Kafka).
        idle = await until_idle(app.pid, FIRING_CAP_S, busy_first=True)
        cpu.close()
        fired = await bounded(RESULT_CONCURRENCY, [lambda h=h: h.result() for h in handles])
        deadlines, lateness = [d for d, _ in fired], [late for _, late in fired]
        sent = (
            await stamped_after_due(settings, before_due, DUE_HEADER, len(handles), RESULT_WAIT_S)
            if escalates
            else []
        )
        parts = await firing_parts(client, [h.id for h in handles], due - 1)
    finally:
        await app.stop()
        stack.apps.remove(app)
    return {
        "requested": due_together,
        "started": calib + len(handles),
        "due_together": len(handles),
        "starts_s": (calib + len(handles)) / start_s,
        "lateness_p50_s": percentile(lateness, 50),
        "lateness_p99_s": percentile(lateness, 99),
        "lateness_max_s": max(lateness) if lateness else float("nan"),
        "fire_rate_s": fire_rate(len(handles), lateness),
        "wave_rate_s": wave_rate(deadlines, lateness),
        "parts": parts,
        **(out_rate(len(handles), [late for _, late in sent]) if escalates else {}),
        "deadline_spread_s": spread(deadlines) if deadlines else None,
        **cpu.per(len(handles)),
        **starting.per(calib + len(handles), "start_"),
        "cpu_idle_reached": idle,
        "start_cpu_idle_reached": start_idle,
    }


def out_rate(due_together: int, published: list[float]) -> dict[str, float]:
    """Escalations out per second: how many fell due together / how late after its own
    deadline the last one's message was stamped on Kafka (the product's step-reached
    escalation, the bare timer's one message: ``published``, each one's lateness), as
    ``fire_rate`` counts the firing tasks; with the p99; NaN unless all went out."""
    if len(published) < due_together or not published:
        return {"out_rate_s": float("nan"), "out_lateness_p99_s": float("nan")}
    return {
        "out_rate_s": due_together / max(max(published), 1e-3),
        "out_lateness_p99_s": percentile(published, 99),
    }


def spread(deadlines: list[float]) -> float:
    """Seconds between the first and the last deadline of those "due together"."""
    return max(deadlines) - min(deadlines)


def wave_rate(deadlines: list[float], lateness: list[float]) -> float:
    """Deadlines fired per second over the whole wave: how many fell due together / the
    seconds from the first deadline to the last firing. Unlike ``fire_rate`` it does not
    depend on how far the deadlines spread (a wider spread spreads the work and flatters a
    rate counted from each one's own deadline); the same definition on both sides."""
    if not deadlines:
        return float("nan")
    span = max(d + late for d, late in zip(deadlines, lateness, strict=True)) - min(deadlines)
    return len(deadlines) / span if span > 0 else float("nan")


def fire_rate(due_together: int, lateness: list[float]) -> float:
    """Deadlines fired per second until the last one: how many fell due together / how late
    the last one was (the same definition for the product and the bare engine)."""
    return due_together / max(lateness) if lateness and max(lateness) > 0 else float("nan")
