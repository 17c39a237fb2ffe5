"""The worker's cache and task settings come from the settings (``TRACEFREEZE_WORKER_*``), and
are options the SDK's worker takes: many requests due together find their workflows cached and
their tasks on the worker's own queue (docs/operations.md, "Scaling out")."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest
from temporalio.worker import Worker

from tracefreeze.config import Settings
from tracefreeze.worker import tuning


def test_the_defaults_keep_a_busy_worker_s_tasks_on_its_own_queue() -> None:
    """The SDK's sticky timeout (10 s) would hand every task queued longer than that — many,
    when thousands of deadlines fall due at once — to be replayed from its whole history."""
    options = tuning(Settings())
    assert options["sticky_queue_schedule_to_start_timeout"] >= timedelta(seconds=30)
    assert options["max_cached_workflows"] >= 1_000
    assert set(options) <= set(inspect.signature(Worker).parameters)


def test_an_operator_sizes_the_cache_and_tasks_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACEFREEZE_WORKER_CACHED_WORKFLOWS", "12000")
    monkeypatch.setenv("TRACEFREEZE_WORKER_WORKFLOW_TASKS", "200")
    monkeypatch.setenv("TRACEFREEZE_WORKER_STICKY_TIMEOUT_S", "90")
    assert tuning(Settings()) == {
        "max_cached_workflows": 12_000,
        "max_concurrent_workflow_tasks": 200,
        "sticky_queue_schedule_to_start_timeout": timedelta(seconds=90),
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WORKER_CACHED_WORKFLOWS", "0"),
        ("WORKER_STICKY_TIMEOUT_S", "0"),
        ("WORKER_WORKFLOW_TASKS", "1"),
    ],
)
def test_settings_out_of_bounds_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"TRACEFREEZE_{name}", value)
    with pytest.raises(ValueError, match=name.lower()):
        Settings()
