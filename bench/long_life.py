"""Long life: one request takes ``answers`` signed answers through Kafka and the bridge.

The request is submitted as the product submits it (``answers_per_run`` at its default: it
continues as new after that many answers, or earlier when the server suggests it).
Afterwards the chain of runs is walked back from the latest (each run's start event names
the run it continues) and, for each run: its number of events and bytes, and the time to
replay it with ``temporalio.worker.Replayer`` and the product's data converter (the one
``tracefreeze.temporal.connect`` gives), and the bytes of its first event's input (what the run
before carried over: ``workflows/request_handover.py``). The query must show every answer.

The figure for a request that lives ten years (100,000 answers) runs the same path, larger:
``python -m bench.run --only long_life --long-life-answers 100000``. The bridge hands the
answers over in batches (``take_answers``), so the cost is the answers' signing and the
bridge's drain, not one update each. Ten years compressed into minutes puts every answer
inside the dedupe window, which holds ``seen_ids_cap`` ids (16,000 by default): past that many
the request refuses a State's flood, as it should. ``--long-life-window-s`` starts the request
with a dedupe window of that many seconds and the cap at its most (100,000), so the figure can
run past 16,000 answers. Ids are forgotten by whole UTC days (``workflows/request_seen.py``),
so within one day every id is still held: the carry then grows by 12 bytes an answer (the
seen ids' digests) up to the cap, and by nothing else; over a real life it holds only the
ids of the window's days.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.common import TypedSearchAttributes
from temporalio.worker import Replayer

from bench.common import (
    ONCE,
    StateSigner,
    answer_script,
    send_and_wait_taken,
    summary,
)
from bench.drain import submit_all
from bench.stack import BenchStack
from schemas.ledger import RequestStatus
from schemas.request import request_workflow_id
from schemas.views import SEEN_IDS_CAP
from tests.builders import court_request
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.request_start import first_run
from tracefreeze.temporal import connect
from workflows import search_attributes as sa
from workflows.request import RequestWorkflow

TASK_QUEUE = "bench-long"


@dataclass(frozen=True)
class LongLifeSizes:
    answers: int = 2_000
    replay_repeats: int = 2
    timeout_s: float = 400
    window_s: float | None = None
    """The request's dedupe window in seconds (none: the product's, from the settings)."""


MAX_SEEN_IDS_CAP = 100_000
"""The most ``seen_ids_cap`` a request takes (``RequestInput``)."""


def sizes_for(quick: bool, answers: int | None, window_s: float | None) -> LongLifeSizes:
    """The sizes of a run: the default or quick ones, or ``answers`` (the drain at about 100
    answers/s on a loaded machine sets the timeout)."""
    base = QUICK_SIZES if quick else LongLifeSizes()
    if answers is None:
        return LongLifeSizes(base.answers, base.replay_repeats, base.timeout_s, window_s)
    return LongLifeSizes(answers, 1, max(base.timeout_s, answers / 50), window_s)


async def submit_compressed(settings: Settings, reference: str, window_s: float) -> None:
    """Start the request as the Court's client does (``RequestClient.submit``: its policy in
    force, its search attributes) but with a dedupe window of ``window_s`` seconds and the
    cap at its most: a life of years compressed into minutes (see the module's docstring)."""
    rc = await RequestClient.connect(settings)
    request = court_request(reference=reference)
    policy = await rc.policy_in_force(request)
    await rc.client.start_workflow(
        RequestWorkflow.run,
        first_run(
            settings,
            request,
            policy,
            window=timedelta(seconds=window_s),
            seen_ids_cap=MAX_SEEN_IDS_CAP,
        ),
        id=request_workflow_id(reference, request.requested_state),
        task_queue=settings.task_queue,
        id_reuse_policy=ONCE,
        search_attributes=TypedSearchAttributes(
            sa.initial_attributes(request, RequestStatus.TRANSMITTED.value, policy.party_kind.value)
        ),
    )


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


def first_event_bytes(history: Any) -> int:
    """Bytes of the run's input: the carried state from the run before (none in the first)."""
    started = history.events[0].workflow_execution_started_event_attributes
    return sum(len(p.data) for p in started.input.payloads)


async def run_long_life(
    stack: BenchStack, signer: StateSigner, sizes: LongLifeSizes
) -> dict[str, Any]:
    settings = stack.settings.model_copy(update={"task_queue": TASK_QUEUE})
    reference = "ICC-01/22-LONG-0001"
    stack.start_app("worker", TASK_QUEUE)
    stack.start_app("bridge", TASK_QUEUE)
    try:
        if sizes.window_s is not None:
            await submit_compressed(settings, reference, sizes.window_s)
        elif sizes.answers > SEEN_IDS_CAP - 2:
            raise ValueError(
                f"{sizes.answers:,} answers in minutes exceed the request's cap of ids within "
                f"its dedupe window ({SEEN_IDS_CAP:,}): give --long-life-window-s"
            )
        else:
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
                "first_event_bytes": first_event_bytes(history),
                "replay_s": summary(times),
            }
        )
    events = [r["events"] for r in per_run]
    replay_total = [
        sum(r["replay_s"]["median"] for r in per_run),
    ]
    largest = max(per_run, key=lambda r: r["bytes"])
    return {
        "answers": sizes.answers,
        "window_s": sizes.window_s,
        "max_first_event_bytes": max(r["first_event_bytes"] for r in per_run),
        "largest_run": {k: largest[k] for k in ("events", "bytes", "first_event_bytes")}
        | {"replay_s": largest["replay_s"]["median"]},
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
