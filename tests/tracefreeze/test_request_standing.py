"""Where a request's workflow stands (``tracefreeze/standing.py``), asked of the real dev
server, and what the bridge and a case's delivery make of it.

Only a request the Court closed (its workflow completed) is closed: a State's late answer is
dead-lettered ``request_closed`` and a Court action is recorded as not delivered because the
request ended. A request an operator terminated is *stopped*, not closed (RS 93(1)(k): its
measures stand; nothing is released or given up without a decision): the answer is kept as
``request_stopped`` for a replay once it is restored, the Court action reported ``stopped``
and sent again. One still running is tried again, and so is one in a namespace the server
does not know (a misconfiguration is never taken for "no such request")."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.case import outcome_if_not_running
from schemas.deadletter import DeadLetterReason
from tests.builders import acknowledgement, to
from tests.stack import isolated
from tracefreeze.config import Settings
from tracefreeze.intake.delivery import deliver
from tracefreeze.intake.retry import TryAgain
from tracefreeze.intake.routing import Route, Verdict
from tracefreeze.standing import Standing, standing
from tracefreeze.temporal import connect

pytestmark = pytest.mark.stack


@workflow.defn(sandboxed=False)
class Takes:
    """Takes answers until told to end (completes, as a request the Court closed does)."""

    ended = False

    @workflow.signal
    def end(self) -> None:
        self.ended = True

    @workflow.update
    async def take(self, answer: Any) -> None:
        del answer

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.ended)


def route_to(workflow_id: str) -> Route:
    reference = f"ICC-STANDING-{uuid.uuid4().hex[:6].upper()}"
    return Route(answer=acknowledgement(to(reference)), workflow_id=workflow_id, update_name="take")


async def test_the_server_alone_says_where_a_request_stands(stack: Settings) -> None:
    settings = isolated(stack, "standing")
    client = await connect(settings)
    queue = settings.task_queue

    async def start() -> WorkflowHandle[Takes, None]:
        return await client.start_workflow(
            Takes.run, id=f"request/{uuid.uuid4()}", task_queue=queue
        )

    async with Worker(client, task_queue=queue, workflows=[Takes]):
        running, closed, stopped = await start(), await start(), await start()
        await closed.signal(Takes.end)
        await closed.result()
        await stopped.terminate("an operator's act (test)")
        absent = client.get_workflow_handle(f"request/never-{uuid.uuid4()}")

        assert await standing(running) == (Standing.RUNNING, "running")
        assert await standing(closed) == (Standing.CLOSED, "completed")
        assert await standing(stopped) == (Standing.STOPPED, "terminated")
        assert await standing(absent) == (Standing.ABSENT, "not found")
        nowhere = f"no-such-namespace-{uuid.uuid4().hex[:8]}"
        elsewhere = await connect(settings.model_copy(update={"temporal_namespace": nowhere}))
        with pytest.raises(RPCError) as unknown:  # a namespace not found is no absence
            await standing(elsewhere.get_workflow_handle(running.id))
        assert unknown.value.status is RPCStatusCode.NOT_FOUND

        # The bridge: a State's answer that no running request took.
        verdicts = {
            name: await deliver(client, route_to(handle.id), timeout_s=30)
            for name, handle in (("closed", closed), ("stopped", stopped), ("absent", absent))
        }
        assert all(isinstance(v, Verdict) for v in verdicts.values()), verdicts
        reasons = {name: v.reason for name, v in verdicts.items() if isinstance(v, Verdict)}
        assert reasons == {
            "closed": DeadLetterReason.REQUEST_CLOSED,
            "stopped": DeadLetterReason.REQUEST_STOPPED,
            "absent": DeadLetterReason.UNKNOWN_REQUEST,
        }
        assert "terminated" in verdicts["stopped"].detail  # type: ignore[union-attr]
        with pytest.raises(TryAgain):  # its namespace unknown: never dead-lettered as unknown
            await deliver(elsewhere, route_to(running.id), timeout_s=30)

        # A case's delivery: a Court action no running request took.
        refused = RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b"")
        assert await outcome_if_not_running(running, refused) is None  # tried again
        ended = await outcome_if_not_running(closed, refused)
        assert ended is not None and ended.outcome == "ended"
        kept = await outcome_if_not_running(stopped, refused)
        assert kept is not None and kept.outcome == "stopped"
        assert kept.reason is not None and "terminated" in kept.reason
        gone = await outcome_if_not_running(absent, refused)
        assert gone is not None and gone.outcome == "gone"  # the case says which
        await running.signal(Takes.end)
