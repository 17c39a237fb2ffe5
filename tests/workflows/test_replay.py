"""Every committed history (recorded from real runs by record_histories.py) replays against
the current RequestWorkflow: a change that would break running requests fails here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from schemas.case import DELIVER_TO_REQUEST
from schemas.directory import FORWARD_NOTICE
from schemas.organ_keys import RESOLVE_ORGAN_KEYS
from schemas.outbox import PUBLISH_OUTBOX
from schemas.policy import RESOLVE_POLICY
from schemas.views import RequestView
from tests.workflows.record_histories import SCENARIOS, STARTED, TIMED_SCENARIOS
from tests.workflows.support import HISTORIES
from workflows import search_attributes as sa
from workflows.carry import RequestRun
from workflows.request import RequestWorkflow
from workflows.request_outbox import FIRST_TRY, FIRST_TRY_WITHIN

HISTORY_FILES = sorted(HISTORIES.glob("*.json"))
EXPECTED = {
    "happy-path-close-refused",
    "no-assets-then-close",
    "rejections-and-duplicates",
    "full-asset-life",
    "escalation-ladder",
    "backlog-batch",
    "freeze-limit-consultation",
    "started-by-another-client",
    "enforcement-told",
    "firing-during-outage",
    "answer-during-outage",
}
"""One history per scenario of record_histories.py, recorded on the current code."""


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay/{path.stem}", path.read_text(encoding="utf-8"))


def test_the_recorded_scenarios_are_committed() -> None:
    """The replay test is only as good as its histories: every scenario is present, once."""
    recorded = set(SCENARIOS) | set(TIMED_SCENARIOS) | set(STARTED)
    assert {p.stem for p in HISTORY_FILES} == EXPECTED == recorded


PATCH_MARKER = "core_patch"
"""The marker the SDK records for ``workflow.patched``/``deprecate_patch``."""
CHANGE_VERSION = "TemporalChangeVersion"
"""The search attribute the SDK upserts with the names of the patches a run took."""


def patches_recorded(history: WorkflowHistory) -> list[str]:
    """Every trace a ``workflow.patched`` call leaves in a history: its marker events and
    the change-version search attribute."""
    found = []
    for e in history.events:
        if e.HasField("marker_recorded_event_attributes"):
            if e.marker_recorded_event_attributes.marker_name == PATCH_MARKER:
                found.append(f"marker {e.event_id}")
        if e.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes
            if CHANGE_VERSION in fields.indexed_fields:
                found.append(f"{CHANGE_VERSION} {e.event_id}")
    return found


STARTING_ACTIVITIES = {
    "started-by-another-client": {RESOLVE_POLICY},
    "enforcement-told": {DELIVER_TO_REQUEST},
    "freeze-limit-consultation": {FORWARD_NOTICE},  # the Rule 180 notice relayed
}
"""The activity tasks a history may hold: the policy in force resolved at start for a
request another client started (``workflows/request_policy.py``), the notice an enforcement
request sends the protective request it supplements (``workflows/request_links.py``). None
reads the organ key registry by an activity of its own: a first run reads it in its
transmission's round (``workflows/request_keys.py``)."""


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
def test_histories_carry_no_patch(path: Path) -> None:
    """Before 1.0 nothing is deployed and no ``workflow.patched`` branch exists
    (docs/versioning.md): a history recorded on the current code carries no patch marker and
    no change version, records no marker at all (its outbox is published by an activity, whose
    completion is an event: ``workflows/request_outbox.py``), and schedules no activity but the
    publishing rounds and the ones a start may schedule (``STARTING_ACTIVITIES``)."""
    history = load(path)
    assert patches_recorded(history) == []
    markers = {
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    }
    assert markers == set()
    scheduled = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    assert PUBLISH_OUTBOX in scheduled
    assert scheduled <= STARTING_ACTIVITIES.get(path.stem, set()) | {PUBLISH_OUTBOX}
    assert RESOLVE_ORGAN_KEYS not in scheduled


def test_the_outage_history_holds_the_failed_first_try() -> None:
    """The recorded outage (a firing whose round the broker refused) holds the path the replay
    test must keep: the round's bounded first try failed, then the search attributes showing
    the step were written, then the same round was scheduled again and completed
    (``workflows/request_outbox.py``). Without it the replay would not cover that branch."""
    events = load(HISTORIES / "firing-during-outage.json").events
    steps = [(step, e) for e in events if (step := _step(e, *_ROUND))]
    [at] = [i for i, (step, _) in enumerate(steps) if step in {"failed", "timed_out"}]
    assert at >= 1
    kinds = [step for step, _ in steps[at - 1 : at + 4]]
    assert kinds[0] == "scheduled" and kinds[2:] == ["upsert", "scheduled", "completed"]
    first, shown, again = (
        steps[at - 1][1].activity_task_scheduled_event_attributes,
        steps[at + 1][1].upsert_workflow_search_attributes_event_attributes,
        steps[at + 2][1].activity_task_scheduled_event_attributes,
    )
    assert first.activity_type.name == again.activity_type.name == PUBLISH_OUTBOX
    assert first.input == again.input  # the same round: the same events under the same ids
    assert first.retry_policy.maximum_attempts == FIRST_TRY.maximum_attempts
    assert first.schedule_to_close_timeout.ToTimedelta() == FIRST_TRY_WITHIN
    assert again.retry_policy.maximum_attempts == 0  # then without a bound
    assert sa.ESCALATION_LEVEL.name in shown.search_attributes.indexed_fields


def test_the_answer_outage_history_shows_what_was_taken_meanwhile() -> None:
    """The recorded answer outage (``answer_during_outage``) holds the two paths by which an
    answer taken while the broker is down reaches the Web UI before its events leave: the
    status written once the round's bounded first try failed, and a report taken while the
    round was retried written in the report's own workflow task, before the round ended."""
    events = load(HISTORIES / "answer-during-outage.json").events
    steps = [(step, e) for e in events if (step := _step(e, *_ROUND, "update"))]
    kinds = [step for step, _ in steps]
    at = kinds.index("failed")
    first = steps[at - 1][1].activity_task_scheduled_event_attributes
    assert first.retry_policy.maximum_attempts == FIRST_TRY.maximum_attempts
    end = kinds.index("completed", at)  # the round, retried, taken once the broker is back
    assert kinds[at + 1 : end] == ["upsert", "scheduled", "update", "upsert"]
    shown = [e.upsert_workflow_search_attributes_event_attributes for _, e in steps[at:end]]
    statuses = [
        a.search_attributes.indexed_fields[sa.REQUEST_STATUS.name].data
        for a in shown
        if sa.REQUEST_STATUS.name in a.search_attributes.indexed_fields
    ]
    assert statuses == [b'"acknowledged"', b'"in_execution"']


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
def test_an_answers_workflow_task_writes_no_visibility(path: Path) -> None:
    """An answer's update returns without a visibility write: on every recorded run (answers
    sent one at a time, each settled), a workflow task that completes an update and schedules
    the round publishing its events holds no search-attribute or memo write; they follow that
    round (``workflows/request.py``), so the answer is seen in a query one write sooner. The
    first task of a run (its own first write) is left out. Under load an answer taken in the
    task that ends a round is shown with that round's changes, in its own task."""
    events = load(path).events
    tasks = _command_groups(events)
    answered = [t for t in tasks[1:] if "update" in t and "publish" in t]
    assert [t for t in answered if "visibility" in t] == []
    if path.stem not in {"started-by-another-client"}:  # answers beyond the first task
        assert answered, "no answer's task in the history: the check would pass vacuously"


def _command_groups(events: list[HistoryEvent]) -> list[set[str]]:
    """What each completed workflow task wrote, in order: its update completions, its
    visibility writes and its publishing rounds scheduled."""
    groups: list[set[str]] = []
    for event in events:
        if event.HasField("workflow_task_completed_event_attributes"):
            groups.append(set())
        elif event.HasField("workflow_task_scheduled_event_attributes"):
            continue
        elif groups:
            step = _step(event, "update", "upsert", "memo", "scheduled")
            scheduled = event.activity_task_scheduled_event_attributes
            if step == "scheduled":
                step = "publish" if scheduled.activity_type.name == PUBLISH_OUTBOX else ""
            if step:
                groups[-1].add(_VISIBILITY.get(step, step))
    return groups


_STEPS = {
    "activity_task_scheduled_event_attributes": "scheduled",
    "activity_task_completed_event_attributes": "completed",
    "activity_task_failed_event_attributes": "failed",
    "activity_task_timed_out_event_attributes": "timed_out",
    "upsert_workflow_search_attributes_event_attributes": "upsert",
    "workflow_properties_modified_event_attributes": "memo",
    "workflow_execution_update_completed_event_attributes": "update",
}
"""The events the outage and visibility checks read, each by the step it stands for."""
_ROUND = ("scheduled", "completed", "failed", "timed_out", "upsert")
"""A round's scheduling and end, and the search-attribute writes around it."""
_VISIBILITY = {"upsert": "visibility", "memo": "visibility"}


def _step(event: HistoryEvent, *wanted: str) -> str:
    """The step ``event`` stands for (``_STEPS``) if it is one of ``wanted``, else ""."""
    step = next((step for f, step in _STEPS.items() if event.HasField(f)), "")
    return step if step in wanted else ""


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
def test_histories_name_no_machine(path: Path) -> None:
    """A committed history holds no failure's stack trace: it would name the paths of the
    machine that recorded it (``save_history`` drops them; a replay never reads them)."""
    assert '"stackTrace"' not in path.read_text(encoding="utf-8")


def test_the_patch_check_can_fail() -> None:
    """The check above finds a patch: a history given the marker and the change version that
    ``workflow.patched("outbox-local-activity")`` recorded is flagged for both."""
    history = load(HISTORIES / "backlog-batch.json")
    assert patches_recorded(history) == []
    marker = history.events[-1].__class__()
    marker.event_id = len(history.events) + 1
    marker.marker_recorded_event_attributes.marker_name = PATCH_MARKER
    upsert = history.events[-1].__class__()
    upsert.event_id = len(history.events) + 2
    fields = upsert.upsert_workflow_search_attributes_event_attributes.search_attributes
    fields.indexed_fields[CHANGE_VERSION].data = b'["outbox-local-activity"]'
    patched = WorkflowHistory(history.workflow_id, [*history.events, marker, upsert])
    assert patches_recorded(patched) == [
        f"marker {marker.event_id}",
        f"{CHANGE_VERSION} {upsert.event_id}",
    ]


WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
PATCH_CALL = re.compile(r"\b(patched|deprecate_patch)\(")


def patch_calls(source: str) -> list[str]:
    """The lines of a module that call ``workflow.patched`` or ``deprecate_patch``."""
    return [line.strip() for line in source.splitlines() if PATCH_CALL.search(line)]


def test_no_workflow_code_is_patched() -> None:
    """Before 1.0 a change to a workflow is made directly (docs/versioning.md): no module of
    ``workflows/`` calls ``workflow.patched`` or ``deprecate_patch``. (A new patch would not
    show in the histories above: replaying a history without its marker takes the old side.)"""
    modules = sorted(WORKFLOWS.glob("*.py"))
    assert len(modules) > 10
    found = {m.name: patch_calls(m.read_text(encoding="utf-8")) for m in modules}
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert patch_calls('if workflow.patched("clock-timer-kept"):')  # the check can fail


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
    async def run(self, inp: RequestRun) -> RequestView:
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
