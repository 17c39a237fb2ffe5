"""A worker never runs a request's workflow on events no workflow task holds yet
(``tracefreeze/history_bound.py``), seen on the activations themselves: the core's activations
are made here as it sends them, so each case is exact. The fault it prevents (a history that
does not replay, the request's tasks failing for good and its deadlines unfired, RS 93(1)(k)
and art. 87(7): a request that stalls can never reach its escalation) was seen on the real
stack under load; ``test_case_load_e2e.py`` replays every history of that scenario."""

from __future__ import annotations

from typing import Any

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion

from tracefreeze.history_bound import (
    AHEAD_OF_HISTORY,
    LEGACY_QUERY_ID,
    Seen,
    _HistoryBound,
    asked_after_running_ahead,
    runs_ahead,
)

SECOND = 1_000_000_000


def activation(
    at_s: int, history_length: int, *jobs: str, replaying: bool = False, query_id: str = "q-1"
) -> WorkflowActivation:
    act = WorkflowActivation(run_id="run-1", history_length=history_length, is_replaying=replaying)
    act.timestamp.FromNanoseconds(at_s * SECOND)
    for job in jobs:
        getattr(act.jobs.add(), job).SetInParent()
        if job == "query_workflow":
            act.jobs[-1].query_workflow.query_id = query_id
    return act


def direct_query(at_s: int, history_length: int) -> WorkflowActivation:
    legacy = LEGACY_QUERY_ID
    return activation(at_s, history_length, "query_workflow", replaying=True, query_id=legacy)


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
    last = Seen(10 * SECOND, 14, live=True)
    assert runs_ahead(activation(10, 23, "resolve_activity"), last)
    assert runs_ahead(activation(10, 23, "fire_timer", "resolve_signal_external_workflow"), last)


def test_a_new_task_a_replay_a_query_and_a_second_activation_of_one_task_do_not() -> None:
    last = Seen(10 * SECOND, 14, live=True)
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


def test_a_direct_query_that_came_with_the_events_the_workflow_just_ran_on_is_refused() -> None:
    """Events that carried a later time (a task that started and timed out among them) pass
    the first rule; the direct query that brought them ends where they ended."""
    ran_ahead = Seen(12 * SECOND, 23, live=True)
    assert asked_after_running_ahead(direct_query(12, 23), ran_ahead)
    # A direct query on a request idle since its last task: that task's completion is in the
    # query's history, so it ends later than the task's activation.
    assert not asked_after_running_ahead(direct_query(12, 25), Seen(12 * SECOND, 23, live=True))
    # The same position after a replay (a run built for the query, nothing run ahead), and a
    # query that came inside a workflow task.
    assert not asked_after_running_ahead(direct_query(12, 23), Seen(12 * SECOND, 23, live=False))
    inside_a_task = activation(12, 23, "query_workflow", replaying=True)
    assert not asked_after_running_ahead(inside_a_task, ran_ahead)
    assert not asked_after_running_ahead(direct_query(12, 23), None)


def test_the_refused_query_fails_and_the_workflow_never_answers_it() -> None:
    workflow = Workflow()
    guard = _HistoryBound(workflow)  # type: ignore[arg-type]
    task = activation(12, 14, "do_update")
    ahead = activation(13, 23, "fire_timer")  # carried a later time: not caught by the first rule
    assert guard.activate(task).HasField("successful")
    assert guard.activate(ahead).HasField("successful")
    refused = guard.activate(direct_query(13, 23))
    assert refused.HasField("failed") and refused.failed.failure.message == AHEAD_OF_HISTORY
    assert workflow.seen == [task, ahead]
