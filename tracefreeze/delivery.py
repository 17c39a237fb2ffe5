"""Handing a State's answer to its request workflow, and reading what Temporal said.

Every outcome is one of three: the request took the answer (accepted, or a duplicate of an
answer it already has), the answer goes to the dead-letter topic with a reason (no such
request, request closed, answer rejected by the request's rules), or the outcome is not yet
known (Temporal unreachable, a timeout) and the same answer must be tried again later.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from schemas.deadletter import DeadLetterReason
from schemas.views import AnswerReceipt
from tracefreeze.routing import Route, Verdict

ALREADY_COMPLETED = "already completed"
DEFINITIVE_RPC = {RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.OUT_OF_RANGE}
"""RPC failures that retrying the same answer cannot cure (e.g. a payload over the limit)."""


class TryAgain(Exception):
    """The outcome is unknown (Temporal unreachable, a timeout): keep the answer, retry it."""


@dataclass(frozen=True)
class Accepted:
    receipt: AnswerReceipt


async def deliver(client: Client, route: Route, timeout_s: float) -> Accepted | Verdict:
    """Execute the answer's update (update id = the State's event id) and classify the result.

    Raises TryAgain when the outcome is not known; the caller must not commit the offset.
    """
    handle = client.get_workflow_handle(route.workflow_id)
    try:
        receipt = await asyncio.wait_for(
            handle.execute_update(route.update, route.answer, id=route.answer.event_id),
            timeout=timeout_s,
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "AnswerRejected":
            return Verdict(DeadLetterReason.REJECTED, cause.message)
        kind = type(cause).__name__ + (
            f" {cause.type}" if isinstance(cause, ApplicationError) else ""
        )
        return Verdict(
            DeadLetterReason.REJECTED, f"update {route.update_name} failed: {kind}: {cause}"
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return await _not_running(client, route, err)
        if err.status in DEFINITIVE_RPC:
            return Verdict(DeadLetterReason.REJECTED, f"Temporal refused the answer: {err.message}")
        raise TryAgain(f"Temporal error {err.status.name}: {err.message}") from err
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise TryAgain(f"no outcome from Temporal within {timeout_s:g}s") from err
    return Accepted(receipt)


async def _not_running(client: Client, route: Route, err: RPCError) -> Verdict:
    """No running request took the update: either it never existed or it is closed."""
    answer = route.answer
    closed = Verdict(
        DeadLetterReason.REQUEST_CLOSED,
        f"request {answer.request_reference} to {answer.state} is closed; "
        "a closed request is never reopened",
    )
    if ALREADY_COMPLETED in err.message:
        return closed
    try:
        description = await client.get_workflow_handle(route.workflow_id).describe()
    except RPCError as describe_err:
        if describe_err.status == RPCStatusCode.NOT_FOUND:
            return Verdict(
                DeadLetterReason.UNKNOWN_REQUEST,
                f"no request {answer.request_reference} addressed to {answer.state} "
                f"(workflow {route.workflow_id} does not exist)",
            )
        raise TryAgain(
            f"Temporal error {describe_err.status.name}: {describe_err.message}"
        ) from describe_err
    if description.status not in (None, WorkflowExecutionStatus.RUNNING):
        return closed
    raise TryAgain(f"request workflow is running but the update was not found: {err.message}")
