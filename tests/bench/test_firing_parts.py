"""The scale benchmark reads what a firing's lateness is made of from the histories the engine
kept (``bench/firing_parts.py``): each stage from the event that ends it, the firing of the
wave only, and a task that timed out after it counted."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from bench.firing_parts import stages_of

T0 = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)


def event(kind: EventType.ValueType, at_s: float, **attributes: object) -> HistoryEvent:
    e = HistoryEvent(event_type=kind, **attributes)  # type: ignore[arg-type]
    e.event_time.FromDatetime(T0 + timedelta(seconds=at_s))
    return e


def timer_started(at_s: float, timer_id: str, timeout_s: float) -> HistoryEvent:
    e = event(EventType.EVENT_TYPE_TIMER_STARTED, at_s)
    e.timer_started_event_attributes.timer_id = timer_id
    e.timer_started_event_attributes.start_to_fire_timeout.FromTimedelta(
        timedelta(seconds=timeout_s)
    )
    return e


def timer_fired(at_s: float, timer_id: str) -> HistoryEvent:
    e = event(EventType.EVENT_TYPE_TIMER_FIRED, at_s)
    e.timer_fired_event_attributes.timer_id = timer_id
    return e


def firing(fired_s: float, timed_out: bool = False) -> list[HistoryEvent]:
    """A deadline armed at 0 for 100 s, fired at ``fired_s``; its task (once timed out), the
    publishing round, the task that records it."""
    task = fired_s + 4
    events = [timer_started(0, "1", 100), timer_fired(fired_s, "1")]
    events.append(event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, fired_s))
    if timed_out:
        events.append(event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, fired_s + 1))
        events.append(event(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, fired_s + 2))
    events += [
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, task),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, task + 0.5),
        event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, task + 0.5),
        event(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, task + 0.5),
        event(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, task + 1),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, task + 1),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, task + 7),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, task + 8),
    ]
    return events


def test_each_stage_is_read_from_the_event_that_ends_it() -> None:
    stages = stages_of(firing(fired_s=103), after=T0.timestamp() + 99)
    assert stages == {
        "timer_late": 3.0,
        "task_wait": 4.0,
        "task_and_round": 1.0,
        "follow_up": 7.0,
        "tasks_timed_out": 0.0,
    }


def test_a_task_that_timed_out_is_counted_and_the_wait_runs_to_its_first_start() -> None:
    stages = stages_of(firing(fired_s=100, timed_out=True), after=T0.timestamp() + 99)
    assert stages is not None
    assert stages["tasks_timed_out"] == 1
    assert stages["task_wait"] == 1.0  # the first start: the wait the worker's queue caused


def test_only_a_firing_of_the_wave_is_read() -> None:
    """A timer that fired before the wave (a calibration run's, an earlier step's) is not
    the firing measured; a history with none in the wave gives nothing."""
    early = [timer_started(0, "0", 10), timer_fired(10, "0")]
    assert stages_of(early, after=T0.timestamp() + 99) is None
    stages = stages_of(early + firing(fired_s=102), after=T0.timestamp() + 99)
    assert stages is not None and stages["timer_late"] == 2.0


def test_the_deadline_runs_from_the_start_of_the_task_that_armed_the_timer() -> None:
    """The workflow sizes its timer from its task's time (when the task started); the server
    records the timer at the task's end: a task that ran 2 s does not hide 2 s of lateness."""
    armed = [event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, -2), *firing(fired_s=103)]
    stages = stages_of(armed, after=T0.timestamp() + 97)
    assert stages is not None and stages["timer_late"] == 5.0


def test_the_host_s_time_zone_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Event times are instants: a worker in The Hague reads the same stages as one in UTC."""
    expected = stages_of(firing(fired_s=103), after=T0.timestamp() + 99)
    monkeypatch.setenv("TZ", "Europe/Amsterdam")
    time.tzset()
    try:
        assert stages_of(firing(fired_s=103), after=T0.timestamp() + 99) == expected
        assert expected is not None
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_table_says_how_many_sampled_histories_were_not_counted() -> None:
    from bench.scale_table import parts_rows

    def side(unread: int, no_firing: int) -> dict[str, object]:
        return {"sampled": 300 - unread - no_firing, "unread": unread, "no_firing": no_firing,
                "tasks_timed_out": 0}  # fmt: skip

    rows = parts_rows({"parts": side(2, 5), "bare_escalating": {"parts": side(0, 1)}})
    left_out = [row[1:3] for row in rows if row[0].startswith("histories drawn and left out")]
    assert left_out == [["2 / 5", "0 / 1"]]
    timed_out = [row[0] for row in rows if row[0].startswith("workflow tasks timed out")]
    assert timed_out == ["workflow tasks timed out after a firing (of 293 / 299 histories read)"]
    older = {"sampled": 300, "tasks_timed_out": 0}  # a result saved before the counts existed
    rows = parts_rows({"parts": older, "bare": {"parts": older}})
    assert [row[1] for row in rows if row[0].startswith("histories drawn")] == ["- / -"]
