"""The committed party-directory history (recorded from a real run by
record_party_histories.py) replays against the current PartyDirectoryWorkflow: a change that
would break a party's running directory fails here, and an incompatible change is detected."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from schemas.directory import PartyRun, PartyView
from tests.workflows.record_party_histories import PARTY_HISTORIES, SCENARIO
from workflows.party_directory import PartyDirectoryWorkflow

HISTORY = PARTY_HISTORIES / f"{SCENARIO}.json"


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay/{path.stem}", path.read_text(encoding="utf-8"))


def test_the_history_holds_what_it_claims() -> None:
    """Rule 180 notice (a signal), the agreed time and an RS 96(3) consultation (three
    updates), the agreed change brought into force by its timer, and the memo the client
    reads the contact in force from."""
    types = [e.event_type for e in load(HISTORY).events]
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) == 1
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) == 3
    assert EventType.EVENT_TYPE_TIMER_FIRED in types
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED) >= 3


async def test_the_party_directory_history_replays() -> None:
    """A party's running directory survives a deploy: its history replays."""
    replayer = Replayer(workflows=[PartyDirectoryWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(load(HISTORY), raise_on_replay_failure=True)
    assert result.replay_failure is None


@workflow.defn(name="PartyDirectoryWorkflow")
class ChangedPartyDirectoryWorkflow(PartyDirectoryWorkflow):
    """An incompatible change: a timer before the directory starts."""

    @workflow.run
    async def run(self, inp: PartyRun) -> PartyView:
        await workflow.sleep(1)
        return await super().run(inp)


async def test_an_incompatible_party_directory_change_is_detected() -> None:
    replayer = Replayer(
        workflows=[ChangedPartyDirectoryWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(HISTORY), raise_on_replay_failure=True)
