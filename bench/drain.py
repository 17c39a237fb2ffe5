"""Backlog drain: signed State answers queued in Kafka while the bridge is down, then the
bridge starts and applies them all.

Setup (not timed): ``requests`` requests are submitted and settle (their transmission event
published); the worker stops. Each repeat queues ``answers`` signed answers spread evenly over
the requests and interleaved across them — the first repeat an acknowledgement and a freezing
execution report first, then asset-management valuations of the frozen assets, so every
answer is a valid update — then starts the bridge and times until the bridge's consumer
group has committed every answer (it commits only after Temporal took the answer). The first
repeat starts the worker as its answers are queued (its cache empty; each request's history
then holds its transmission only); the later ones find it running with every request cached,
as the bare engine's updates (baseline (b)) find theirs: a worker started again before each
repeat replays every request's whole history at its first batch, which grows from repeat to
repeat (2026-12-02: 1.05x, 0.89-1.48, against 1.76x, 1.69-1.87, with the worker kept). The
rate is
answers / (done - "bridge started"); also given from the bridge's launch, and until the
worker is idle (the publishing rounds after the last answers done too). At the end every
request is queried: exact count, none lost, none applied twice, nothing dead-lettered.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    StateSigner,
    answer_script,
    bounded,
    count_topic,
    end_offsets,
    log_time,
    producer,
    send_signed,
    summary,
    wait_committed,
)
from bench.cpu import IDLE_CAP_S, IDLE_WINDOW_S, CpuWindow, server_pid, until_idle
from bench.stack import BenchStack
from tests.builders import court_request
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.routing import Answer
from tracefreeze.stack.process import App
from tracefreeze.temporal import connect

TASK_QUEUE = "bench-drain"
QUERY_ATTEMPTS = 5
CPU_KEYS = ("worker_cpu_ms", "bridge_cpu_ms", "server_cpu_ms")
"""CPU per answer of each process (``bench/cpu.py``), median over the repeats."""
POLL_S = 0.05
TARGET_RATIO = 1.5
"""The drain target: 1.5 times the bare engine's updates/s (its answers go several to a
batch update, so the product can beat one update per answer)."""


@dataclass(frozen=True)
class DrainSizes:
    requests: int = 500
    answers: int = 10_000
    """Per repeat: 20 answers to each of 500 requests, interleaved across them."""
    repeats: int = 3
    profile_answers: int = 500
    timeout_s: float = 400


QUICK_SIZES = DrainSizes(requests=40, answers=400, repeats=1, profile_answers=200, timeout_s=180)


def settings_for(stack: BenchStack) -> Settings:
    return stack.settings.model_copy(update={"task_queue": TASK_QUEUE})


async def submit_all(settings: Settings, references: list[str], policy: Any = None) -> float:
    """Submit the requests (20 in flight); returns starts per second."""
    client = await RequestClient.connect(settings)
    t0 = time.perf_counter()
    await bounded(
        20,
        [lambda r=r: client.submit(court_request(reference=r), policy=policy) for r in references],
    )
    return len(references) / (time.perf_counter() - t0)


async def wait_topic_count(settings: Settings, topic: str, target: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        count = await count_topic(settings, topic)
        if count >= target:
            break
        await asyncio.sleep(0.5)
    return count


async def queue_answers(
    settings: Settings, signer: StateSigner, scripts: list[list[Answer]]
) -> list[Answer]:
    """Produce the answers interleaved across requests (as many States' systems would)."""
    order: list[Answer] = []
    for i in range(max(len(s) for s in scripts)):
        order += [s[i] for s in scripts if i < len(s)]
    prod = await producer(settings)
    try:
        futures = [await send_signed(prod, settings, signer, a, wait=False) for a in order]
        await asyncio.gather(*futures)
    finally:
        await prod.stop()
    return order


async def started_both(*apps: App, timeout_s: float = 60.0) -> None:
    """Return once each app's log says it started (or after ``timeout_s``)."""
    for _ in range(int(timeout_s / POLL_S)):
        if all("started" in a.text() for a in apps):
            return
        await asyncio.sleep(POLL_S)


async def drain_once(
    stack: BenchStack,
    signer: StateSigner,
    references: list[str],
    per_request: int,
    fresh: bool,
    timeout_s: float,
    profile_dir: Path | None = None,
    running: App | None = None,
) -> tuple[dict[str, Any], list[Answer]]:
    """One repeat; the worker ``running`` (kept running after), else one started with the
    bridge and stopped with it (the profiled repeat's: its profiler is armed at its start)."""
    settings = settings_for(stack)
    scripts = [answer_script(r, per_request, fresh) for r in references]
    answers = await queue_answers(settings, signer, scripts)
    target = await end_offsets(settings, settings.topics.state_answers)
    profile = (lambda k: profile_dir / f"profile-drain-{k}") if profile_dir else (lambda k: None)
    launch = time.time()
    worker = running or stack.start_app(
        "worker", TASK_QUEUE, profile=profile("worker"), wait_for=None
    )
    bridge = stack.start_app("bridge", TASK_QUEUE, profile=profile("bridge"), wait_for=None)
    spent = CpuWindow(
        {"worker": worker.pid, "bridge": bridge.pid, "server": server_pid(stack.state_dir)}
    )
    await started_both(worker, bridge)  # their imports are no answer's cost
    spent.open()
    peak_rss = {"worker": 0, "bridge": 0}

    def sample(_: int, __: float) -> None:
        for name, app in (("worker", worker), ("bridge", bridge)):
            peak_rss[name] = max(peak_rss[name], app.rss_bytes() or 0)
        for app in (worker, bridge):
            if not app.running:
                raise RuntimeError(f"{app.name} exited:\n{app.tail()}")

    try:
        done, progress = await wait_committed(
            settings, settings.topics.state_answers, target, timeout_s, on_progress=sample
        )
        # The publishing rounds after the last answers too: all of the drain's work is in the
        # CPU, whether the worker is kept running or stopped after.
        idle = await until_idle(worker.pid, IDLE_CAP_S)
        spent.close()
        # Its last window of IDLE_WINDOW_S was idle: the work ended before it (an upper bound).
        rounds_done = time.time() - IDLE_WINDOW_S if idle else None
    finally:
        await bridge.stop()
        stack.apps.remove(bridge)
        if running is None:
            await worker.stop()
            stack.apps.remove(worker)
    started = log_time(bridge.log, "bridge started") or launch
    n = len(answers)
    result: dict[str, Any] = {
        "answers": n,
        "requests": len(references),
        "completed": done is not None,
        "seconds_from_bridge_start": (done - started) if done else None,
        "seconds_from_launch": (done - launch) if done else None,
        "answers_s": n / (done - started) if done else 0.0,
        "answers_s_from_launch": n / (done - launch) if done else 0.0,
        "answers_s_until_idle": n / (rounds_done - started) if done and rounds_done else 0.0,
        "cpu_idle_reached": idle,
        "remaining_at_timeout": None if done else progress[-1][1],
        "peak_rss_mib": {k: v / 2**20 for k, v in peak_rss.items()},
        **(spent.per(n) if done else {}),
    }
    return result, answers


async def verify(
    settings: Settings, references: list[str], produced: list[Answer], per_request: int
) -> dict[str, Any]:
    """Query every request: every produced answer applied exactly once."""
    client = await connect(settings)
    requests = RequestClient(client, settings)
    expected: Counter[str] = Counter(a.request_reference for a in produced)
    ids = {a.event_id for a in produced}

    async def one(reference: str) -> tuple[int, list[str]]:
        for attempt in range(QUERY_ATTEMPTS):  # a cold worker replays each request first
            try:
                view = await requests.view(reference, "NLD")
            except TracefreezeError:
                if attempt == QUERY_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(1)
                continue
            return view.answers_seen, [t.event_id for t in view.timeline if t.event_id]
        raise AssertionError("unreachable")

    results = await bounded(4, [lambda r=r: one(r) for r in references])
    seen_total = sum(n for n, _ in results)
    timeline = Counter(e for _, events in results for e in events)
    applied = {e for e in timeline if e in ids}
    mismatched = sum(1 for r, (n, _) in zip(references, results, strict=True) if n != expected[r])
    dead = await count_topic(settings, settings.topics.dead_letter)
    return {
        "expected": len(ids),
        "answers_seen": seen_total,
        "applied": len(applied),
        "lost": len(ids - applied),
        "duplicated": sum(1 for e in applied if timeline[e] > 1),
        "requests_with_wrong_count": mismatched,
        "dead_lettered": dead,
        "ok": seen_total == len(ids) == len(applied) and dead == 0 and mismatched == 0,
    }


async def run_drain(
    stack: BenchStack,
    signer: StateSigner,
    sizes: DrainSizes,
    baseline_updates_s: float,
    baseline_cpu: dict[str, float] | None = None,
) -> dict[str, Any]:
    """``baseline_cpu``: the bare updates' CPU per update (``update_<process>_cpu_ms``,
    medians), printed beside the product's CPU per answer."""
    settings = settings_for(stack)
    references = [f"ICC-01/22-DRAIN-{i:05d}" for i in range(sizes.requests)]
    per_request = sizes.answers // sizes.requests
    worker = stack.start_app("worker", TASK_QUEUE)
    try:
        events_before = await count_topic(settings, settings.topics.request_events)
        await submit_all(settings, references)
        await wait_topic_count(
            settings, settings.topics.request_events, events_before + len(references), 120
        )
    finally:
        await worker.stop()
        stack.apps.remove(worker)

    runs: list[dict[str, Any]] = []
    produced: list[Answer] = []
    kept: App | None = None
    for r in range(sizes.repeats):
        if kept is None:  # started as the first repeat's answers are queued, then kept
            kept = stack.start_app("worker", TASK_QUEUE, wait_for=None)
        result, answers = await drain_once(
            stack, signer, references, per_request, r == 0, sizes.timeout_s, running=kept
        )
        runs.append(result)
        produced += answers
        print(
            f"  drain repeat {r + 1}/{sizes.repeats}: {result['answers']} answers, "
            f"{result['answers_s']:.0f}/s",
            flush=True,
        )
        if not result["completed"]:
            break

    worker = kept or stack.start_app("worker", TASK_QUEUE)
    try:
        check = await verify(settings, references, produced, per_request)
    finally:
        await worker.stop()
        stack.apps.remove(worker)

    rates = [r["answers_s"] for r in runs]
    rate = summary(rates)
    out: dict[str, Any] = {
        "runs": runs,
        "answers_per_repeat": per_request * sizes.requests,
        "requests": sizes.requests,
        "answers_s": rate,
        "answers_s_from_launch": summary([r["answers_s_from_launch"] for r in runs]),
        "answers_s_until_idle": summary([r["answers_s_until_idle"] for r in runs]),
        "baseline_updates_s": baseline_updates_s,
        "baseline_cpu": baseline_cpu or {},
        "ratio": rate["median"] / baseline_updates_s if baseline_updates_s else float("nan"),
        "ratio_spread": [x / baseline_updates_s for x in (rate["min"], rate["max"])],
        "target_ratio": TARGET_RATIO,
        "verify": check,
        **{k: summary(v) for k in CPU_KEYS if (v := [r[k] for r in runs if r.get(k) is not None])},
    }
    out["target_met"] = out["ratio"] >= TARGET_RATIO and check["ok"]
    return out


async def profile_drain(
    stack: BenchStack, signer: StateSigner, sizes: DrainSizes, results_dir: Path
) -> dict[str, Any]:
    """A shorter repeat with worker and bridge under pyinstrument (their profiles saved)."""
    references = [f"ICC-01/22-DRAIN-{i:05d}" for i in range(sizes.requests)]
    per_request = max(1, sizes.profile_answers // sizes.requests)
    result, _ = await drain_once(
        stack, signer, references, per_request, False, sizes.timeout_s, profile_dir=results_dir
    )
    result["profiles"] = [
        str(results_dir / f"profile-drain-{k}.{ext}")
        for k in ("worker", "bridge")
        for ext in ("html", "txt")
    ]
    return result
