"""Any Temporal client starts a complete request (#19): a request started without a policy
(the input has none at all: another SDK, the `temporal` CLI) gets the policy in force, resolved
at start by an activity and recorded in the history; one that says ``"policy": null`` runs
without deadlines as asked; one for which none can be had says so loudly."""

from __future__ import annotations

import json
import uuid
from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from schemas.policy import RESOLVE_POLICY, PolicyAtStart
from schemas.request import CourtRequest
from tests.workflows.support import (
    ORGAN_KEYS,
    PublishRecorder,
    acknowledgement,
    court_request,
    view,
)
from workflows.request import RequestWorkflow


def bare_input(request: CourtRequest) -> dict[str, Any]:
    """The start input as another client sends it: the request, nothing else."""
    return {"request": json.loads(request.model_dump_json())}


async def activities_run(handle: Any) -> list[str]:
    names = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names.append(event.activity_task_scheduled_event_attributes.activity_type.name)
    return names


async def resolved(handle: Any) -> Any:
    """The view once the policy step at start is over (its note is on the timeline)."""
    for _ in range(200):
        seen = await view(handle)
        if any("resolved at start" in t.what or "NO DEADLINES" in t.what for t in seen.timeline):
            return seen
        await handle.query(RequestWorkflow.view)
    raise AssertionError("the policy step at start did not end")


async def test_a_request_started_without_a_policy_gets_the_one_in_force(worker) -> None:
    req = court_request()
    handle = await worker.client.start_workflow(
        "RequestWorkflow", bare_input(req), id=req.workflow_id, task_queue=worker.task_queue
    )
    seen = await resolved(handle)
    assert seen.next_deadline is not None, "the ladder runs: a next deadline is set"
    assert any("deadline policy" in t.what and "resolved at start" in t.what for t in seen.timeline)
    assert RESOLVE_POLICY in await activities_run(handle), "recorded in the history"


async def test_an_explicit_null_policy_runs_without_deadlines(worker) -> None:
    req = court_request()
    handle = await worker.start(req)  # the Court's client's input: "policy": null
    seen = await view(handle)
    assert seen.next_deadline is None
    assert RESOLVE_POLICY not in await activities_run(handle)


@activity.defn(name=RESOLVE_POLICY)
async def nothing_to_be_had(request: CourtRequest) -> PolicyAtStart:
    return PolicyAtStart(reason="policy file unreadable")


async def test_no_policy_to_be_had_is_said_loudly(env) -> None:
    recorder = PublishRecorder()
    queue = f"no-policy-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[RequestWorkflow],
        activities=[recorder.publish_outbox, nothing_to_be_had, ORGAN_KEYS],
    ):
        req = court_request()
        handle = await env.client.start_workflow(
            "RequestWorkflow", bare_input(req), id=req.workflow_id, task_queue=queue
        )
        seen = await resolved(handle)
    assert seen.next_deadline is None
    loud = [t.what for t in seen.timeline if "NO DEADLINES" in t.what]
    assert loud and "policy file unreadable" in loud[0]


async def test_an_answer_taken_before_the_policy_still_counts(worker) -> None:
    """An acknowledgement that arrives with the start, before the policy is resolved, meets
    its stage once the clocks exist: no reminder for what was answered."""
    req = court_request()
    ack = acknowledgement(req)
    start = WithStartWorkflowOperation(
        "RequestWorkflow",
        bare_input(req),
        id=req.workflow_id,
        task_queue=worker.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    await worker.client.execute_update_with_start_workflow(
        "acknowledge", ack, start_workflow_operation=start, id=ack.event_id
    )
    handle = await start.workflow_handle()
    seen = await resolved(handle)
    assert seen.status.value == "acknowledged"
    other = court_request()
    unanswered = await resolved(
        await worker.client.start_workflow(
            "RequestWorkflow", bare_input(other), id=other.workflow_id, task_queue=worker.task_queue
        )
    )
    assert seen.next_deadline is not None and unanswered.next_deadline is not None
    # The acknowledgement stage is met: the next deadline is the first report's, later.
    assert seen.next_deadline > unanswered.next_deadline
