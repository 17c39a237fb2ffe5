"""Every committed history (recorded from real runs by record_histories.py) replays against
the current RequestWorkflow: a change that would break running requests fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from schemas.views import RequestInput, RequestView
from tests.workflows.support import HISTORIES
from workflows.request import RequestWorkflow

HISTORY_FILES = sorted(HISTORIES.glob("*.json"))
EXPECTED = {
    "happy-path-close-refused",
    "no-assets-then-close",
    "rejections-and-duplicates",
    "full-asset-life",
    "escalation-ladder",
    "backlog-batch",
    "escalation-ladder-outbox-rounds",
    "backlog-batch-local-activity",
    "escalation-ladder-local-activity",
    "backlog-batch-clock-timer-kept",
    "escalation-ladder-clock-timer-kept",
    "freeze-limit-consultation",
}
RECORDED_BEFORE_OUTBOX_ROUNDS = {
    "happy-path-close-refused",
    "no-assets-then-close",
    "rejections-and-duplicates",
    "full-asset-life",
    "escalation-ladder",
}
"""Recorded before the patch ``outbox-in-one-activity``: they prove the old path replays."""
RECORDED_BEFORE_LOCAL_ACTIVITY = {"backlog-batch", "escalation-ladder-outbox-rounds"}
"""Recorded between that patch and ``outbox-local-activity``: one activity task per round."""


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay/{path.stem}", path.read_text(encoding="utf-8"))


def test_the_recorded_scenarios_are_committed() -> None:
    """The replay test is only as good as its histories: all scenarios must be present."""
    assert {p.stem for p in HISTORY_FILES} >= EXPECTED


def activity_types(history: WorkflowHistory) -> set[str]:
    """Activity tasks by type, and ``local`` for each local activity's marker."""
    kinds = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    markers = {
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    }
    return kinds | ({"local"} if "core_local_activity" in markers else set())


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
def test_both_sides_of_the_outbox_patch_are_recorded(path: Path) -> None:
    """Histories from before the patches publish one event per activity; then one round per
    activity task; now one round per local activity: every code path is replayed above."""
    kinds = activity_types(load(path))
    if path.stem in RECORDED_BEFORE_OUTBOX_ROUNDS:
        assert "publish_outbox" not in kinds and "publish_request_event" in kinds
    elif path.stem in RECORDED_BEFORE_LOCAL_ACTIVITY:
        assert kinds == {"publish_outbox"}
    else:
        assert kinds == {"local"}


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
async def test_committed_history_replays(path: Path) -> None:
    """Running requests survive a deploy: their histories replay without non-determinism."""
    history = load(path)
    assert len(history.events) > 20  # a real run, not an empty file
    replayer = Replayer(workflows=[RequestWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_all_histories_replay_together() -> None:
    """The same check as the CI would run it, over every committed history at once."""
    replayer = Replayer(workflows=[RequestWorkflow], data_converter=pydantic_data_converter)

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in HISTORY_FILES:
            yield load(path)

    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    assert results.replay_failures == {}


@workflow.defn(name="RequestWorkflow")
class ChangedRequestWorkflow(RequestWorkflow):
    """RequestWorkflow with an incompatible change: one more activity before anything else."""

    @workflow.run
    async def run(self, inp: RequestInput) -> RequestView:
        await workflow.execute_activity(
            "audit_request_start",
            inp.request.reference,
            start_to_close_timeout=timedelta(seconds=30),
        )
        return await super().run(inp)


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
async def test_an_incompatible_change_is_detected(path: Path) -> None:
    """The replay test can fail: the same histories against a changed workflow of the same
    name are reported as non-deterministic."""
    replayer = Replayer(
        workflows=[ChangedRequestWorkflow],
        data_converter=pydantic_data_converter,
        # This test module reads files at import, so it cannot be re-imported in the sandbox;
        # determinism checking does not depend on the sandbox.
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(path), raise_on_replay_failure=True)

    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, NondeterminismError)
