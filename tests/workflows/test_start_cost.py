"""What a request's start costs the server, and the organ keys it brings in.

The start transmits the request to the State (RS 87(1)(a), 96(2)): one publishing round. The
first run also needs the organ key registry its Court actions are verified against
(``workflows/request_keys.py``); it is read in that same round, so a start is two workflow
tasks and one activity, as a bare workflow that sends one Kafka message is (docs/operations.md,
"what a start costs").
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Worker

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import RequestStatus as S
from schemas.organ_keys import REFRESH_ORGAN_KEYS, RESOLVE_ORGAN_KEYS, OrganKeys
from schemas.outbox import PUBLISH_OUTBOX, PublishedRound, PublishOutbox
from schemas.views import AnswerReceipt
from tests.builders import court_action, new_event_id, reasons
from tests.workflows.support import (
    KEYS_READER,
    ORGAN_KEYS,
    RESOLVER,
    court_request,
    settle,
    start_request,
    view,
)
from tracefreeze import client as court_client
from tracefreeze.security.organ_keys import FILE_ENV, signed
from workflows import catalog
from workflows.carry import RequestCarry
from workflows.decision_signatures import UNKNOWN_KEY
from workflows.ledger import ledger_from_request
from workflows.request import RequestWorkflow
from workflows.request_keys import in_force_after, keys_from_round

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


class HeldRound:
    """The publishing activity, holding the round that reads the registry until let go."""

    def __init__(self) -> None:
        self.holding, self.go = asyncio.Event(), asyncio.Event()

    @activity.defn(name=PUBLISH_OUTBOX)
    async def publish_outbox(self, inp: PublishOutbox) -> PublishedRound:
        if not inp.read_organ_keys:
            return PublishedRound()
        self.holding.set()
        await self.go.wait()
        return PublishedRound(organ_keys=KEYS_READER.read())


async def test_an_action_before_the_round_brings_the_keys_is_taken_after_a_refresh(env) -> None:
    """A Chamber's withdrawal sent while the transmission's round is still out (a slow
    broker): the request holds no registry yet and refuses it as signed with a key it does
    not hold; the Court's client refreshes and sends it again, and it is taken. The round's
    own read, landing after, leaves the registry the refresh put in force (RS 57(3)(e))."""
    held, queue = HeldRound(), f"held-round-{uuid.uuid4()}"
    activities = [held.publish_outbox, RESOLVER, ORGAN_KEYS]
    async with Worker(
        env.client, task_queue=queue, workflows=[RequestWorkflow], activities=activities
    ):
        req = court_request()
        handle = await start_request(env.client, queue, req)
        await asyncio.wait_for(held.holding.wait(), timeout=30)
        receipt = await court_client.send(handle, court_action(c.Withdrawal, **reasons()))
        assert receipt.status is S.WITHDRAWN
        held.go.set()
        await settle(handle)
        names = _activities(await _history(handle))
        assert names.count(RESOLVE_ORGAN_KEYS) == 1  # the refresh's read
        seen = await view(handle)
        assert seen.status is S.WITHDRAWN
        assert not any("NO ORGAN KEYS" in t.what for t in seen.timeline)


def test_a_failed_refresh_during_the_round_never_keeps_its_registry_out() -> None:
    """A refresh that could read nothing, landing while the round was out, leaves a registry
    with a reason and no keys: the round's good registry still goes in force, said; a usable
    registry a refresh put in force is kept; a round that read nothing changes nothing."""
    req = court_request()
    good, failed = KEYS_READER.read(), OrganKeys(reason="file missing")
    assert good.keys

    def carry(held: OrganKeys | None) -> RequestCarry:
        ledger = ledger_from_request(req)
        return RequestCarry(status=S.TRANSMITTED, ledger=ledger, timeline=[], organ_keys=held)

    rec = carry(failed)
    note = keys_from_round(rec, good)
    assert rec.organ_keys == good and note is not None and "in force" in note
    rec = carry(good)
    assert keys_from_round(rec, failed) is None and rec.organ_keys == good
    rec = carry(None)
    assert keys_from_round(rec, good) is None and rec.organ_keys == good  # quietly
    rec = carry(None)
    assert "NO ORGAN KEYS" in (keys_from_round(rec, failed) or "")
    assert keys_from_round(rec, None) is None and rec.organ_keys == failed


def test_a_read_that_ends_after_a_refresh_keeps_the_better_registry() -> None:
    """A start's read (a request's run with no keys, a case's first run) or a round's can end
    after a refresh that anyone may ask for meanwhile: what goes in force is the read unless
    the refresh's registry is usable or neither is. Before, a start's read that failed put a
    registry with no keys over the refresh's good one, and every Court action was refused
    until the next refresh (found by a hostile read)."""
    good, failed = KEYS_READER.read(), OrganKeys(reason="file missing")
    older = OrganKeys(keys=good.keys, digest=good.digest)  # a usable read, begun earlier
    assert in_force_after(None, failed) is failed  # nothing held: the read, said loudly
    assert in_force_after(good, failed) is good  # the refresh's good registry stays
    assert in_force_after(failed, good) is good  # a failed refresh never keeps it out
    assert in_force_after(good, older) is good  # both usable: the refresh read as recently
    assert in_force_after(failed, OrganKeys(reason="unreadable")) is failed
