"""A request under a flood of answers continues as new well before the Temporal server's limit
of updates per run (``history.maxTotalUpdates``, 2,000), past which the server would refuse
every answer to it. The time-skipping test server never suggests continue-as-new, so what is
shown here is the request's own limit, ``answers_per_run``, with the default the Court's
client leaves it at."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from schemas.views import (
    ANSWERS_PER_RUN,
    MAX_ANSWERS_PER_RUN,
    SERVER_UPDATES_PER_RUN,
    RequestInput,
)
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    chain_of_runs,
    court_request,
    freeze_account,
    send,
    settle,
)
from workflows.request import RequestWorkflow

SERVER_SUGGESTS_AT = 0.9
"""``history.maxTotalUpdates.suggestContinueAsNewThreshold``: where the server would suggest."""
SERVER_SUGGESTS_EVENTS = 4 * 1024
"""``limit.historyCount.suggestContinueAsNew``, the server's default."""
EVENTS_PER_ANSWER = 13


def test_the_default_stays_well_below_the_servers_limit() -> None:
    """Old code: no default (null: wait for the server's suggestion, which a test server or
    an older server never makes) and values up to 1,000,000 accepted. Now the default and
    the largest value allowed both leave room below the server's limit, and a null limit
    takes the default."""
    request = court_request()
    assert RequestInput(request=request).answers_per_run == ANSWERS_PER_RUN
    assert RequestInput(request=request, answers_per_run=None).answers_per_run == ANSWERS_PER_RUN
    assert ANSWERS_PER_RUN <= MAX_ANSWERS_PER_RUN <= SERVER_UPDATES_PER_RUN // 2
    assert MAX_ANSWERS_PER_RUN < SERVER_SUGGESTS_AT * SERVER_UPDATES_PER_RUN
    with pytest.raises(ValidationError):
        RequestInput(request=request, answers_per_run=SERVER_UPDATES_PER_RUN)


async def test_with_the_default_a_flood_of_answers_continues_as_new_and_keeps_them(
    worker,
) -> None:
    """The request is started as the Court's client starts it (no ``answers_per_run``) and
    takes a flood of valuations of a frozen account, one after another. Old code: the run
    never handed over; its update count would have reached the server's limit and every
    later answer been refused. Now the first run hands over after at most
    ``ANSWERS_PER_RUN`` answers, far below the limit, and the next run holds every answer
    taken. Here the server's suggestion comes first: it suggests at 4 Ki events, and an
    answer taken alone writes 13 (its update, its visibility, its workflow task, its
    publishing activity and the workflow task that follows it)."""
    req = court_request()
    first = await worker.start(req)
    handle = worker.client.get_workflow_handle_for(RequestWorkflow.run, req.workflow_id)
    answers = [acknowledgement(req), freeze_account(req)] + [
        asset_management(req, ACCOUNT, f"{400000 - i}.00") for i in range(ANSWERS_PER_RUN + 8)
    ]
    for answer in answers:
        receipt = await send(handle, answer)
        assert not receipt.duplicate
    await settle(handle)

    first_run = worker.client.get_workflow_handle(req.workflow_id, run_id=first.result_run_id)
    assert (await first_run.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW
    history = await first_run.fetch_history()
    taken = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    ]
    assert len(history.events) <= SERVER_SUGGESTS_EVENTS + EVENTS_PER_ANSWER
    assert 0 < len(taken) <= ANSWERS_PER_RUN < SERVER_SUGGESTS_AT * SERVER_UPDATES_PER_RUN
    runs = await chain_of_runs(worker.client, req.workflow_id, first.result_run_id)
    assert len(runs) == 2
    view = await handle.query(RequestWorkflow.view)
    assert view.answers_seen == len(answers)
    again = await send(handle, answers[2])  # from the first run: still a duplicate
    assert again.duplicate


async def test_repeated_and_refused_updates_count_toward_the_hand_over(worker) -> None:
    """The server counts every update a run admitted, not only the answers the request took:
    a State re-sending one answer (or sending answers its validator lets through and the
    handler then finds already taken) fills the server's count all the same. Old code counted
    accepted answers only, so one answer and its repeats never handed over. Now, with
    ``answers_per_run`` 4, an answer and three repeats of it make the run continue as new,
    and the next run still knows the answer (RS 93(1)(k): each answer taken once)."""
    req = court_request()
    first = await worker.start(req, answers_per_run=4)
    handle = worker.client.get_workflow_handle_for(RequestWorkflow.run, req.workflow_id)
    ack = acknowledgement(req)
    assert not (await send(handle, ack)).duplicate
    for n in range(3):  # each under an update id of its own, as a dead-letter replay sends
        assert (await send(handle, ack, update_id=f"{ack.event_id}~again~{n}")).duplicate
    await settle(handle)
    first_run = worker.client.get_workflow_handle(req.workflow_id, run_id=first.result_run_id)
    assert (await first_run.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert (await send(handle, ack, update_id=f"{ack.event_id}~next-run")).duplicate
    assert (await handle.query(RequestWorkflow.view)).answers_seen == 1
