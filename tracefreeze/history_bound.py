"""A worker never runs a workflow on events that no workflow task holds yet.

The server may hand a query straight to a worker while events wait for the request's next
workflow task: a query that arrived while a task was running is released when that task
completes, with the history as it then stands (its last events an activity's result, a timer
fired, a case told, that no task has started on). The SDK's core (temporalio 1.35) applies those
events for the query, runs the workflow on them outside any task, and keeps the run cached: the
workflow reacts (publishes, arms a timer, tells the case) and its commands wait for the next
task. When that task carries a State's answers or a Court action sent meanwhile, the updates
are taken *after* the reaction; a replay of the same history takes them *before* it (the
updates and the events come in one activation, updates first). The recorded history then does
not replay: every later task of the request fails as non-deterministic and the request stalls
for good, its deadlines unfired (seen under load: a case's report to its parent, then an
answer accepted, in that order in history and in the other order on replay).

``HistoryBoundRunner`` wraps the worker's runner (never the replayer's: a replay of a running
request's history applies its last events the same way, and must) and refuses that activation
before the workflow sees it: a workflow task always starts at a later time than the one before
it, and events applied for a query alone keep the time of the last task. The query fails with
``AHEAD_OF_HISTORY`` (the product's clients ask again, ``tracefreeze/not_ready.py``), the core
evicts the run, and the next task replays the request's history whole, as any replay will.
Nothing of the request's state changes: the refused activation never reached it.

Not covered (the workflow may still run ahead, and the fault may come back): events delivered
with a query that carry a later time: a task that started and timed out among them, a task
started since the query's history was read, or a clock moved by a rejected update's task. A
query's activation cannot tell those from a task's (a sticky query brings no events, and ends
where the task ended). The cure is in the SDK's core: a query that applies events no task holds
should evict the run after it, or not apply them."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import structlog
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import WorkflowInstance

from tracefreeze.ops.metrics import QUERY_EVENTS_REFUSED
from tracefreeze.runners import InstanceAround, RunnerAround

log = structlog.get_logger(__name__)

AHEAD_OF_HISTORY = "events not yet in a workflow task: the request is busy, ask again"
"""The failure a query gets when it would have run the workflow ahead of its history."""

_BOOKKEEPING = frozenset({"query_workflow", "remove_from_cache"})


@dataclass(frozen=True)
class Seen:
    """What the workflow last saw: an activation's time (ns) and history length."""

    time_ns: int
    history_length: int


def runs_ahead(act: WorkflowActivation, last: Seen | None) -> bool:
    """``act`` applies events (its history grew) at the time of the previous activation
    outside a replay: events delivered with a query alone, which no workflow task has started
    on yet."""
    if last is None or act.is_replaying or _bookkeeping_only(act):
        return False
    return (
        act.timestamp.ToNanoseconds() <= last.time_ns and act.history_length > last.history_length
    )


def _bookkeeping_only(act: WorkflowActivation) -> bool:
    return all(job.WhichOneof("variant") in _BOOKKEEPING for job in act.jobs)


REPEATS = 3
"""Refusals on one run in this process, with no task taken between them, after which the
refusal is logged as an error: a query's trailing events are refused once (the run is evicted
and replayed, and its next task taken), so repeats mean the rule met real tasks (a server
clock stepping back: they pass again once it catches up)."""
_refusals: OrderedDict[str, int] = OrderedDict()
"""Refusals per run in this process, the most recent runs only (``KEPT_RUNS``)."""
KEPT_RUNS = 1_000


def report(act: WorkflowActivation, last: Seen) -> None:
    """Log a refusal with both times, both history lengths and the jobs refused; count it
    (``tracefreeze_query_events_refused_total``); an error once one run repeats."""
    times = _refusals.pop(act.run_id, 0) + 1
    _refusals[act.run_id] = times
    while len(_refusals) > KEPT_RUNS:
        _refusals.popitem(last=False)
    QUERY_EVENTS_REFUSED.inc()
    emit = log.error if times >= REPEATS else log.warning
    emit(
        "a query's events refused: no workflow task holds them yet"
        if times < REPEATS
        else "activations refused again on one run: a server clock stepping back?",
        run_id=act.run_id,
        refusals_on_run=times,
        history_length=act.history_length,
        last_history_length=last.history_length,
        time=act.timestamp.ToJsonString(),
        last_time_ns=last.time_ns,
        behind_ms=(last.time_ns - act.timestamp.ToNanoseconds()) / 1e6,
        jobs=[job.WhichOneof("variant") for job in act.jobs],
    )


class _HistoryBound(InstanceAround):
    def __init__(self, inner: WorkflowInstance) -> None:
        super().__init__(inner)
        self.last: Seen | None = None

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        if runs_ahead(act, self.last):
            assert self.last is not None
            report(act, self.last)
            refused = WorkflowActivationCompletion(run_id=act.run_id)
            refused.failed.failure.message = AHEAD_OF_HISTORY
            return refused
        if not _bookkeeping_only(act):
            self.last = Seen(act.timestamp.ToNanoseconds(), act.history_length)
            if not act.is_replaying:  # a task taken: refusals on this run start again
                _refusals.pop(act.run_id, None)
        return self.inner.activate(act)


class HistoryBoundRunner(RunnerAround):
    """``inner``'s instances, each refusing an activation that ``runs_ahead``."""

    instance = _HistoryBound
