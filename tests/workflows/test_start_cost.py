"""What a request's start costs the server, and the organ keys it brings in.

The start transmits the request to the State (RS 87(1)(a), 96(2)): one publishing round. The
first run also needs the organ key registry its Court actions are verified against
(``workflows/request_keys.py``); it is read in that same round, so a start is two workflow
tasks and one activity, as a bare workflow that sends one Kafka message is (docs/operations.md,
"what a start costs").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import RequestStatus as S
from schemas.organ_keys import REFRESH_ORGAN_KEYS, RESOLVE_ORGAN_KEYS
from schemas.outbox import PUBLISH_OUTBOX
from schemas.views import AnswerReceipt
from tests.builders import court_action, new_event_id, reasons
from tests.workflows.support import court_request, settle, view
from tracefreeze.security.organ_keys import FILE_ENV, signed
from workflows import catalog
from workflows.decision_signatures import UNKNOWN_KEY

E = EventType


async def _history(handle: Any) -> list[Any]:
    return [e async for e in handle.fetch_history_events()]


def _activities(history: list[Any]) -> list[str]:
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history
        if e.event_type == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def test_a_start_is_two_tasks_and_one_round_that_brings_the_organ_keys(worker) -> None:
    """The transmission's round reads the registry (the old code read it by an activity of its
    own first: three tasks, two activities); a Chamber's signed withdrawal sent straight after
    the start is taken as it is, with no refresh (RS 57(3)(e), 93(1)(k))."""
    req = court_request()
    handle = await worker.start(req)
    history = await _history(handle)
    completed = [e for e in history if e.event_type == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
    assert len(completed) == 2
    assert _activities(history) == [PUBLISH_OUTBOX]
    [first] = [r for r in worker.published.rounds if r.events]
    assert first.read_organ_keys and first.events[0].type is RequestEventType.TRANSMITTED
    assert not any("ORGAN KEYS" in t.what for t in (await view(handle)).timeline)

    withdrawal = signed(court_action(c.Withdrawal, **reasons()), req.workflow_id)
    await handle.execute_update(
        catalog.update_of(withdrawal),
        withdrawal,
        id=withdrawal.event_id,
        result_type=AnswerReceipt,
    )
    await settle(handle)
    assert (await view(handle)).status is S.WITHDRAWN
    names = _activities(await _history(handle))
    assert RESOLVE_ORGAN_KEYS not in names
    rounds = worker.published.rounds  # this test's worker: this request's rounds alone
    assert [r.read_organ_keys for r in rounds] == [True] + [False] * (len(rounds) - 1)


async def test_a_registry_that_cannot_be_read_at_start_is_said_and_refuses_every_action(
    worker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The round that transmits reads a registry file that is missing: the request is sent
    all the same (the State is not kept waiting on the Court's own file), the timeline says
    every Court action is refused, and one is, with the reason, until a refresh reads the
    file again (Rule 15: the Court's acts stay verifiable)."""
    held = os.environ[FILE_ENV]
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "missing.toml"))
    req = court_request()
    handle = await worker.start(req)
    monkeypatch.setenv(FILE_ENV, held)
    seen = await view(handle)
    assert seen.status is S.TRANSMITTED
    assert any("NO ORGAN KEYS" in t.what for t in seen.timeline)

    withdrawal = signed(court_action(c.Withdrawal, **reasons()), req.workflow_id)
    update = catalog.update_of(withdrawal)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(update, withdrawal, id=withdrawal.event_id)
    assert UNKNOWN_KEY in str(err.value.cause)

    await handle.execute_update(REFRESH_ORGAN_KEYS, id=new_event_id(), result_type=str)
    await handle.execute_update(
        update, withdrawal, id=f"{withdrawal.event_id}~again", result_type=AnswerReceipt
    )
    assert (await view(handle)).status is S.WITHDRAWN
