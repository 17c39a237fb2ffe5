"""What a firing's lateness is made of, read from the histories the engine kept, for the
product's requests and the bare engine's timers alike (the same reading for both sides).

A firing passes four stages, each ended by an event of its workflow's history:

- ``timer_late``: the server fired the timer this long after it fell due (TimerFired against
  the start of the task that armed it plus its timeout: the workflow sizes a timer from its
  task's time): the history service's timer queue, before any worker sees it;
- ``task_wait``: the task that timer woke waited this long for a worker (WorkflowTaskStarted
  after TimerFired): the queue of the wave's tasks;
- ``task_and_round``: the task ran and its publishing activity completed (ActivityTaskCompleted
  after WorkflowTaskStarted): the escalation is on Kafka by then;
- ``follow_up``: the task that records the round ran this long after it (WorkflowTaskCompleted
  after ActivityTaskCompleted): off the escalation's path, but in the same queue as the
  later firings' tasks.

A workflow task that timed out after the firing is counted (``tasks_timed_out``): a task that
waited past the worker's sticky timeout is replayed from its whole history.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.service import RPCError

from bench.common import bounded, percentile

SAMPLE = 300
"""Histories read per side: enough for a p99 within a few seconds, read in under a minute."""
READ_CONCURRENCY = 16
STAGES = ("timer_late", "task_wait", "task_and_round", "follow_up")


def _at(event: HistoryEvent) -> float:
    """Seconds since the epoch, read from the timestamp itself (never through a naive
    datetime, which the host's time zone would shift)."""
    return event.event_time.seconds + event.event_time.nanos / 1e9


def stages_of(events: Sequence[HistoryEvent], after: float) -> dict[str, float] | None:
    """The stages of the first timer of ``events`` fired at or after ``after`` (seconds since
    the epoch), or None if none fired then."""
    due: dict[str, float] = {}
    task_began: float | None = None
    for i, e in enumerate(events):
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            task_began = _at(e)
        elif e.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            # The workflow sized the timer from its task's time (``workflow.now()``: when the
            # task started), not from when the server recorded the timer (the task's end).
            a = e.timer_started_event_attributes
            began = _at(e) if task_began is None else task_began
            due[a.timer_id] = began + a.start_to_fire_timeout.ToTimedelta().total_seconds()
        elif e.event_type == EventType.EVENT_TYPE_TIMER_FIRED and _at(e) >= after:
            fell_due = due.get(e.timer_fired_event_attributes.timer_id)
            return None if fell_due is None else _after_firing(events[i:], fell_due)
    return None


def _after_firing(events: Sequence[HistoryEvent], fell_due: float) -> dict[str, float]:
    fired = _at(events[0])
    out: dict[str, float] = {"timer_late": fired - fell_due, "tasks_timed_out": 0.0}
    task_started = round_done = None
    for e in events[1:]:
        kind = e.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            out["tasks_timed_out"] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED and task_started is None:
            task_started = _at(e)
            out["task_wait"] = task_started - fired
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED and task_started is not None:
            round_done = _at(e)
            out["task_and_round"] = round_done - task_started
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and round_done is not None:
            out["follow_up"] = _at(e) - round_done
            break
    return out


async def firing_parts(
    client: Client, workflow_ids: Sequence[str], after: float, sample: int = SAMPLE
) -> dict[str, Any]:
    """p50 and p99 of each stage over a random sample of ``workflow_ids`` (their latest runs),
    the firings at or after ``after``; and how many tasks timed out after a firing."""
    chosen = random.Random(0).sample(list(workflow_ids), min(sample, len(workflow_ids)))

    async def read(workflow_id: str) -> dict[str, float] | BaseException | None:
        try:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        except RPCError as err:  # one history unread must not lose the run's figures
            return err
        return stages_of(history.events, after)

    read_all = await bounded(READ_CONCURRENCY, [lambda w=w: read(w) for w in chosen])
    found = [s for s in read_all if isinstance(s, dict)]
    out: dict[str, Any] = {
        "sampled": len(found),
        "unread": sum(isinstance(s, BaseException) for s in read_all),
        "no_firing": sum(s is None for s in read_all),
    }
    for stage in STAGES:
        values = [s[stage] for s in found if stage in s]
        out[f"{stage}_p50_s"] = percentile(values, 50)
        out[f"{stage}_p99_s"] = percentile(values, 99)
    out["tasks_timed_out"] = int(sum(s["tasks_timed_out"] for s in found))
    return out
