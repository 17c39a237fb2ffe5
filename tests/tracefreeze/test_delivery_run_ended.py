"""The bridge's reading of an update whose run ended first, on the real Temporal server.

An answer's update can be accepted by a run that then ends before answering it: a request
continuing as new, or one restored by the server after a crash with the update accepted and not
completed. Temporal then fails the update with ``AcceptedUpdateCompletedWorkflow``. Whether the
answer took effect is not known to the bridge, and it is never the answer's fault: it must be
delivered again, never dead-lettered as refused (RS 93(1)(k), 96: a State's valid answer is not
lost to the Court's own machinery). Seen in the Temporal-kill drill as one answer dead-lettered
"rejected" and lost.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from temporalio import workflow
from temporalio.worker import Worker

from tests.builders import acknowledgement, to
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.intake.delivery import deliver
from tracefreeze.intake.retry import TryAgain
from tracefreeze.intake.routing import Route

pytestmark = pytest.mark.stack


@workflow.defn(sandboxed=False)
class EndsBeforeAnswering:
    """Accepts one update, then ends while its handler still waits."""

    def __init__(self) -> None:
        self.accepted = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.accepted)

    @workflow.update(unfinished_policy=workflow.HandlerUnfinishedPolicy.ABANDON)
    async def take(self, answer: Any) -> None:
        del answer
        self.accepted = True
        await workflow.wait_condition(lambda: False)


async def test_an_update_whose_run_ended_first_is_delivered_again(stack: Settings) -> None:
    client = (await RequestClient.connect(stack)).client
    task_queue = f"run-ended-{uuid.uuid4().hex[:8]}"
    workflow_id = f"run-ended-{uuid.uuid4().hex[:8]}"
    route = Route(
        answer=acknowledgement(to(f"ICC-RUN-ENDED-{uuid.uuid4().hex[:6].upper()}")),
        workflow_id=workflow_id,
        update_name="take",
    )
    async with Worker(client, task_queue=task_queue, workflows=[EndsBeforeAnswering]):
        handle = await client.start_workflow(
            EndsBeforeAnswering.run, id=workflow_id, task_queue=task_queue
        )
        with pytest.raises(TryAgain, match="run ended before the answer's outcome"):
            await deliver(client, route, timeout_s=60)
        await asyncio.wait_for(handle.result(), timeout=60)  # the run did end first
