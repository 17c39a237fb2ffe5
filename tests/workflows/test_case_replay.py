"""The committed case histories (recorded from real runs by record_case_histories.py) replay
against the current CaseWorkflow: a change that would break running cases fails here, and an
incompatible change is detected (the replay test can fail)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from schemas.case import CaseInput, CaseView
from tests.workflows.record_case_histories import CASE_HISTORIES, SCENARIOS
from workflows.case import RECONCILE_EVERY, CaseWorkflow
from workflows.case_deliveries import RETRY_FIRST

HISTORY_FILES = sorted(CASE_HISTORIES.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay/{path.stem}", path.read_text(encoding="utf-8"))


def event_types(path: Path) -> list[EventType.ValueType]:
    return [e.event_type for e in load(path).events]


def test_every_case_scenario_is_committed() -> None:
    """The replay test is only as good as its histories: each scenario must be present."""
    assert {p.stem for p in HISTORY_FILES} == set(SCENARIOS)


def test_the_histories_hold_what_they_claim() -> None:
    """One case ends closed after reports, a Court update and three requests; another ends
    by continuing as new: both ways a run of the case ends are replayed; and a second run
    reconciles."""
    closed = event_types(CASE_HISTORIES / "case-two-states-to-closure.json")
    assert closed[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    assert closed.count(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED) == 3
    assert closed.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) >= 6
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED in closed
    continued = event_types(CASE_HISTORIES / "case-first-run-continued-as-new.json")
    assert continued[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    # A later run asks its open requests where they stand (the reconciliation that heals a
    # lost report): the activity is in its history.
    second = event_types(CASE_HISTORIES / "case-second-run-reconciles.json")
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED in second
    # RS 74, 81(3)(c): the case tells each request the judgment and its release, then closes
    # each (activities), and completes: the case-level release is replayed too.
    released = event_types(CASE_HISTORIES / "case-released-on-acquittal.json")
    assert released.count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) >= 6
    assert released[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    # A request terminated outside the Court's process does not take the release: the case
    # records it stopped and arms the hour's retry (a timer after a delivery's result).
    stopped = event_types(CASE_HISTORIES / "case-release-to-a-stopped-request.json")
    assert stopped.count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) >= 4
    history = load(CASE_HISTORIES / "case-release-to-a-stopped-request.json")
    waits = [
        e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    assert waits[-1] == RETRY_FIRST  # the first retry armed once BEL did not take it
    # The weekly wait before, to an instant set at the start (so less than a week by the time
    # the case first waited).
    assert RECONCILE_EVERY - timedelta(hours=1) < max(waits[:-1]) <= RECONCILE_EVERY


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
async def test_committed_case_history_replays(path: Path) -> None:
    """Running cases survive a deploy: their histories replay without non-determinism."""
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=True)
    assert result.replay_failure is None


@workflow.defn(name="CaseWorkflow")
class ChangedCaseWorkflow(CaseWorkflow):
    """CaseWorkflow with an incompatible change: a timer before it starts its requests."""

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseView:
        await workflow.sleep(1)
        return await super().run(inp)


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
async def test_an_incompatible_case_change_is_detected(path: Path) -> None:
    """The same histories against a changed case workflow of the same name fail to replay."""
    replayer = Replayer(
        workflows=[ChangedCaseWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),  # this module is not sandbox-importable
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(path), raise_on_replay_failure=True)
