"""Handing a State's answer to its request workflow, and reading what Temporal said.

Every outcome is one of three: the request took the answer (accepted, or a duplicate of an
answer it already has), the answer goes to the dead-letter topic with a reason (no such
request, request closed, answer rejected by the request's rules), or the outcome is not yet
known (Temporal unreachable, a timeout) and the same answer must be tried again later.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from schemas.answers import AnswerBatch
from schemas.deadletter import DeadLetterReason
from schemas.request import OPAQUE_ID_PREFIX, opaque_request_workflow_id
from schemas.views import AnswerReceipt, BatchReceipt
from tracefreeze.intake.routing import Route, Verdict
from tracefreeze.security.request_ids import request_id_key
from workflows.request import RequestWorkflow

T = TypeVar("T")

ALREADY_COMPLETED = "already completed"
DEFINITIVE_RPC = {RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.OUT_OF_RANGE}
"""RPC failures that retrying the same answer cannot cure (e.g. a payload over the limit)."""


class TryAgain(Exception):
    """The outcome is unknown (Temporal unreachable, a timeout): keep the answer, retry it."""


@dataclass(frozen=True)
class Accepted:
    receipt: AnswerReceipt


@dataclass(frozen=True)
class BatchAccepted:
    """The request took the batch: one receipt per answer (accepted, duplicate or refused)."""

    receipt: BatchReceipt


async def deliver(client: Client, route: Route, timeout_s: float) -> Accepted | Verdict:
    """Execute the answer's update (update id = the State's event id) and classify the result.

    Raises TryAgain when the outcome is not known; the caller must not commit the offset.
    """

    def call(workflow_id: str) -> Awaitable[AnswerReceipt]:
        handle = client.get_workflow_handle(workflow_id)
        return handle.execute_update(
            route.update_name, route.answer, id=route.answer.event_id, result_type=AnswerReceipt
        )

    outcome = await _outcome(client, route, call, timeout_s)
    return outcome if isinstance(outcome, Verdict) else Accepted(outcome)


async def deliver_batch(
    client: Client, routes: list[Route], timeout_s: float
) -> BatchAccepted | Verdict:
    """Execute one ``take_answers`` update with several answers to the same request, in order.

    The update id is derived from the answers' event ids (a redelivered batch is a duplicate);
    each answer is still deduplicated by its own event id. A Verdict refuses the whole batch
    (no such request, request closed, an answer not addressed to it)."""
    first = routes[0]
    batch = AnswerBatch(answers=[r.answer for r in routes])
    digest = hashlib.sha256("\n".join(r.answer.event_id for r in routes).encode()).hexdigest()

    def call(workflow_id: str) -> Awaitable[BatchReceipt]:
        return client.get_workflow_handle(workflow_id).execute_update(
            RequestWorkflow.take_answers, batch, id=f"batch-{len(routes)}-{digest[:32]}"
        )

    outcome = await _outcome(client, first, call, timeout_s, update_name="take_answers")
    return outcome if isinstance(outcome, Verdict) else BatchAccepted(outcome)


async def _outcome(
    client: Client,
    route: Route,
    call: Callable[[str], Awaitable[T]],
    timeout_s: float,
    update_name: str | None = None,
) -> T | Verdict:
    """The outcome of ``call`` on the route's request; a request not found under its plain id
    is tried once under the opaque id it has if it is ex parte (Rule 99(1))."""
    try:
        return await asyncio.wait_for(call(route.workflow_id), timeout=timeout_s)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "AnswerRejected":
            return Verdict(DeadLetterReason.REJECTED, cause.message)
        kind = type(cause).__name__ + (
            f" {cause.type}" if isinstance(cause, ApplicationError) else ""
        )
        name = update_name or route.update_name
        return Verdict(DeadLetterReason.REJECTED, f"update {name} failed: {kind}: {cause}")
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            ex_parte = _ex_parte_route(route)
            if ex_parte is not None:
                outcome = await _outcome(client, ex_parte, call, timeout_s, update_name)
                if not _unknown(outcome):
                    return outcome
            return await _not_running(client, route, err)
        if err.status in DEFINITIVE_RPC:
            return Verdict(DeadLetterReason.REJECTED, f"Temporal refused the answer: {err.message}")
        raise TryAgain(f"Temporal error {err.status.name}: {err.message}") from err
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise TryAgain(f"no outcome from Temporal within {timeout_s:g}s") from err


def _ex_parte_route(route: Route) -> Route | None:
    """The route to the opaque id of the answer's request, were it ex parte (needs the key)."""
    key = request_id_key()
    if key is None or route.workflow_id.startswith(OPAQUE_ID_PREFIX):
        return None
    answer = route.answer
    opaque = opaque_request_workflow_id(answer.request_reference, answer.state, key)
    return dataclasses.replace(route, workflow_id=opaque)


def _unknown(outcome: object) -> bool:
    """No request under the opaque id either: the plain id's verdict stands."""
    return isinstance(outcome, Verdict) and outcome.reason is DeadLetterReason.UNKNOWN_REQUEST


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
