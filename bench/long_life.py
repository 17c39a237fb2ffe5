"""Long life: one request takes ``answers`` signed answers through Kafka and the bridge.

The request is submitted as the product submits it (``answers_per_run`` at its default: it
continues as new after that many answers, or earlier when the server suggests it).
Afterwards the chain of runs is walked back from the latest (each run's start event names
the run it continues) and, for each run: its number of events and bytes, and the time to
replay it with ``temporalio.worker.Replayer`` and the product's data converter (the one
``tracefreeze.temporal.connect`` gives). The query must show every answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.worker import Replayer

from bench.common import (
    StateSigner,
    answer_script,
    send_and_wait_taken,
    summary,
)
from bench.drain import submit_all
from bench.stack import BenchStack
from schemas.request import request_workflow_id
from tracefreeze.client import RequestClient
from tracefreeze.temporal import connect
from workflows.request import RequestWorkflow

TASK_QUEUE = "bench-long"


@dataclass(frozen=True)
class LongLifeSizes:
    answers: int = 2_000
    replay_repeats: int = 2
    timeout_s: float = 400


QUICK_SIZES = LongLifeSizes(answers=200, replay_repeats=2, timeout_s=120)


async def runs_of(client: Client, workflow_id: str) -> list[tuple[str, Any]]:
    """(run id, history) of every run of the workflow, oldest first."""
    out: list[tuple[str, Any]] = []
    run_id: str | None = (await client.get_workflow_handle(workflow_id).describe()).run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        out.append((run_id, history))
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
    return out[::-1]


async def run_long_life(
    stack: BenchStack, signer: StateSigner, sizes: LongLifeSizes
) -> dict[str, Any]:
    settings = stack.settings.model_copy(update={"task_queue": TASK_QUEUE})
    reference = "ICC-01/22-LONG-0001"
    stack.start_app("worker", TASK_QUEUE)
    stack.start_app("bridge", TASK_QUEUE)
    try:
        await submit_all(settings, [reference])
        answers = answer_script(reference, sizes.answers, fresh=True)
        t0, done = await send_and_wait_taken(settings, signer, answers, sizes.timeout_s)
        client = await connect(settings)
        view = await RequestClient(client, settings).view(reference, "NLD")
        runs = await runs_of(client, request_workflow_id(reference, "NLD"))
    finally:
        await stack.stop_apps()

    replayer = Replayer(workflows=[RequestWorkflow], data_converter=client.data_converter)
    per_run = []
    for run_id, history in runs:
        times = []
        for _ in range(sizes.replay_repeats):
            t = time.perf_counter()
            await replayer.replay_workflow(history)
            times.append(time.perf_counter() - t)
        per_run.append(
            {
                "run_id": run_id,
                "events": len(history.events),
                "bytes": sum(e.ByteSize() for e in history.events),
                "replay_s": summary(times),
            }
        )
    events = [r["events"] for r in per_run]
    replay_total = [
        sum(r["replay_s"]["median"] for r in per_run),
    ]
    return {
        "answers": sizes.answers,
        "answers_seen": view.answers_seen,
        "all_applied": view.answers_seen == sizes.answers,
        "apply_seconds": (done - t0) if done else None,
        "answers_s": sizes.answers / (done - t0) if done else None,
        "runs": len(per_run),
        "per_run": per_run,
        "max_events_per_run": max(events),
        "total_events": sum(events),
        "max_bytes_per_run": max(r["bytes"] for r in per_run),
        "replay_total_s": replay_total[0],
        "replay_max_run_s": max(r["replay_s"]["median"] for r in per_run),
        "replay_largest_run_s": max(per_run, key=lambda r: r["events"])["replay_s"],
        "target_met": view.answers_seen == sizes.answers,
    }
