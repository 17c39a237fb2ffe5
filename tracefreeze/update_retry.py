"""An update the server aborted before the workflow took it is sent again, with the same id.

The server aborts every update in flight on a workflow, non-retryably, when a workflow task
that carried one failed while the worker was completing it (``WorkflowNotReady``: "Unable to
perform workflow execution update due to unexpected workflow task failure", FAILED_PRECONDITION).
The update was not taken: a State's answer or a Court action sent at that moment would come
back as an error that says nothing about it, though sending it again succeeds. Every client
``tracefreeze.temporal.connect`` makes sends it again a few times, backing off, under the same
update id (the request takes an event id once: a repeat is a duplicate, never a second
answer). The bridge has its own retries on top (``tracefreeze/intake/delivery.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from temporalio.client import Interceptor, OutboundInterceptor, StartWorkflowUpdateInput
from temporalio.service import RPCError, RPCStatusCode

log = structlog.get_logger(__name__)

NOT_READY = "type.googleapis.com/temporal.api.errordetails.v1.WorkflowNotReadyFailure"
ATTEMPTS = 6
FIRST_PAUSE_S = 0.1
LONGEST_PAUSE_S = 2.0


def aborted_before_taken(err: RPCError) -> bool:
    """The server's ``WorkflowNotReady``: the update was aborted, not refused by the workflow."""
    return err.status is RPCStatusCode.FAILED_PRECONDITION and any(
        detail.type_url == NOT_READY for detail in err.grpc_status.details
    )


class UpdateRetry(Interceptor):
    """The client interceptor that sends an aborted update again (``aborted_before_taken``)."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next)


class _Outbound(OutboundInterceptor):
    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> Any:
        attempt, pause = 1, FIRST_PAUSE_S
        while True:
            try:
                return await super().start_workflow_update(input)
            except RPCError as err:
                if attempt >= ATTEMPTS or not aborted_before_taken(err):
                    raise
            log.warning(  # the update's name and id only: never its content
                "update aborted by the server, sent again",
                workflow_id=input.id,  # opaque for an ex parte request (Rule 99(2))
                update=input.update,
                update_id=input.update_id,
                attempt=attempt,
            )
            await asyncio.sleep(pause)
            attempt, pause = attempt + 1, min(2 * pause, LONGEST_PAUSE_S)
