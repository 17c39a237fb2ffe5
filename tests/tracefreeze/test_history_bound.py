"""A worker never runs a request's workflow on events no workflow task holds yet
(``tracefreeze/history_bound.py``), seen on the activations themselves: the core's activations
are made here as it sends them, so each case is exact. The fault it prevents (a history that
does not replay, the request's tasks failing for good and its deadlines unfired, RS 93(1)(k)
and art. 87(7): a request that stalls can never reach its escalation) was seen on the real
stack under load; ``test_case_load_e2e.py`` replays every history of that scenario."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
import temporalio
from prometheus_client import REGISTRY
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion

from tracefreeze.history_bound import (
    AHEAD_OF_HISTORY,
    REPEATS,
    Seen,
    _HistoryBound,
    report,
    runs_ahead,
)

SECOND = 1_000_000_000


def activation(
    at_s: int, history_length: int, *jobs: str, replaying: bool = False
) -> WorkflowActivation:
    act = WorkflowActivation(run_id="run-1", history_length=history_length, is_replaying=replaying)
    act.timestamp.FromNanoseconds(at_s * SECOND)
    for job in jobs:
        getattr(act.jobs.add(), job).SetInParent()
    return act


class Workflow:
    """The instance behind the guard: keeps what it was given."""

    def __init__(self) -> None:
        self.seen: list[WorkflowActivation] = []

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        self.seen.append(act)
        done = WorkflowActivationCompletion(run_id=act.run_id)
        done.successful.SetInParent()
        return done

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"not expected here: {name}")


def test_events_at_the_last_tasks_time_outside_a_replay_run_ahead() -> None:
    last = Seen(10 * SECOND, 14)
    assert runs_ahead(activation(10, 23, "resolve_activity"), last)
    assert runs_ahead(activation(10, 23, "fire_timer", "resolve_signal_external_workflow"), last)


def test_a_new_task_a_replay_a_query_and_a_second_activation_of_one_task_do_not() -> None:
    last = Seen(10 * SECOND, 14)
    assert not runs_ahead(activation(11, 24, "do_update", "resolve_activity"), last)  # new task
    assert not runs_ahead(activation(10, 23, "resolve_activity", replaying=True), last)
    assert not runs_ahead(activation(10, 23, "query_workflow"), last)
    assert not runs_ahead(activation(10, 23, "remove_from_cache"), last)
    assert not runs_ahead(activation(10, 14, "resolve_activity"), last)  # same task, no new event
    assert not runs_ahead(activation(10, 23, "resolve_activity"), None)  # nothing before it


def test_the_activation_that_runs_ahead_never_reaches_the_workflow_and_fails_the_query() -> None:
    """The refused activation fails (the core evicts the run and the query is asked again);
    the query and the next task reach the workflow as they come."""
    workflow = Workflow()
    guard = _HistoryBound(workflow)  # type: ignore[arg-type]
    started = activation(10, 3, "initialize_workflow", replaying=True)
    task = activation(12, 14, "do_update", replaying=True)
    ahead = activation(12, 23, "resolve_activity")
    ask = activation(12, 23, "query_workflow", replaying=True)
    next_task = activation(13, 24, "do_update", "resolve_activity")
    for act in (started, task):
        assert guard.activate(act).HasField("successful")
    refused = guard.activate(ahead)
    assert refused.HasField("failed") and refused.failed.failure.message == AHEAD_OF_HISTORY
    assert refused.run_id == "run-1"
    assert guard.activate(ask).HasField("successful")
    assert guard.activate(next_task).HasField("successful")
    assert workflow.seen == [started, task, ask, next_task]


def refusals_counted() -> float:
    return REGISTRY.get_sample_value("tracefreeze_query_events_refused_total") or 0.0


def test_a_refusal_is_counted_and_repeats_on_one_run_are_an_error() -> None:
    """What an operator sees: each refusal counted and logged with both times, both history
    lengths and the jobs; a third on one run (a server clock stepping back makes real tasks
    look like a query's events) logged as an error, to alert on."""
    before = refusals_counted()
    last = Seen(10 * SECOND, 14)
    ahead = activation(9, 23, "resolve_activity", "fire_timer")
    ahead.run_id = f"run-{uuid.uuid4()}"  # a run of this test alone
    with structlog.testing.capture_logs() as logs:
        for _ in range(REPEATS):
            report(ahead, last)
    assert refusals_counted() == before + REPEATS
    assert [entry["log_level"] for entry in logs] == ["warning"] * (REPEATS - 1) + ["error"]
    first = logs[0]
    assert first["behind_ms"] == 1000.0 and first["last_time_ns"] == 10 * SECOND
    assert (first["history_length"], first["last_history_length"]) == (23, 14)
    assert first["jobs"] == ["resolve_activity", "fire_timer"]
    assert [entry["refusals_on_run"] for entry in logs] == list(range(1, REPEATS + 1))


def test_a_task_taken_between_refusals_starts_the_count_again() -> None:
    """A long-lived request queried under load has a query's events refused now and then,
    each followed by a task taken: never the error meant for a clock stepping back."""
    guard = _HistoryBound(Workflow())  # type: ignore[arg-type]
    run = f"run-{uuid.uuid4()}"
    at = 10
    with structlog.testing.capture_logs() as logs:
        for _ in range(REPEATS + 2):
            task = activation(at, 14 + at, "do_update")
            task.run_id = run
            assert guard.activate(task).HasField("successful")  # a task taken
            ahead = activation(at, 23 + at, "resolve_activity")
            ahead.run_id = run
            assert guard.activate(ahead).HasField("failed")  # a query's events refused
            at += 1
    assert [entry["log_level"] for entry in logs] == ["warning"] * (REPEATS + 2)


def test_the_rule_is_read_against_the_sdk_it_was_written_for() -> None:
    """The rule rests on how temporalio 1.35's core stamps activations (the time of the last
    task started, the history length of the last event applied) and on its private runner
    types: an upgrade must re-read it (docs/versioning.md) before this is moved on."""
    assert temporalio.__version__.startswith("1.35."), temporalio.__version__
