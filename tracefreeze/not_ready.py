"""An update or query the server turned away before the workflow saw it is sent again, with
the same update id, for a bounded time.

The server answers ``WorkflowNotReady`` (FAILED_PRECONDITION) when a request's workflow task
cannot take the call now: a task that carried updates failed on its completion, and every
update in it was aborted ("... unexpected workflow task failure"); or the task has failed
twice in a row and the server turns every new update and query away until one completes
("... Workflow Task in failed state"): a task that timed out on a worker overloaded for
seconds counts as failed, and so does an attempt to continue as new that a late event
refused. Nothing was taken in either case. A State's answer or a Court action sent at that
moment would come back as an error that says nothing about it, though sending it again
succeeds once a task completes. A query may also be turned away by the worker itself, when it
came with events no workflow task holds yet (``tracefreeze/history_bound.py``).

Every client ``tracefreeze.temporal.connect`` makes sends it again, backing off, until its
budget has passed since the first try (``BUDGET_S`` for the CLI and the Court's and cases'
clients: the time a loaded worker may take to complete a task that timed out, and the next),
under one update id (the caller's; every product call gives one): the request takes an event
id once, a repeat is a duplicate, never a second answer. A request whose tasks fail every time
ends in the server's error once the budget is spent. Two clients spend less: the bridge none
(``BRIDGE_BUDGET_S``: it backs off between its own attempts without holding an update slot,
and keeps the server's reason for a parked answer; ``tracefreeze/intake/retry.py``), the
worker's activities ``WORKER_BUDGET_S`` (within their own start-to-close timeouts)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from tracefreeze.history_bound import AHEAD_OF_HISTORY

log = structlog.get_logger(__name__)
T = TypeVar("T")

NOT_READY = "type.googleapis.com/temporal.api.errordetails.v1.WorkflowNotReadyFailure"
BUDGET_S = 60.0
"""How long a call turned away is sent again: a workflow task times out after 10 s and the
server turns calls away until a later attempt completes, which a worker busy for tens of
seconds (a replay of a long history on a loaded machine) may take."""
BRIDGE_BUDGET_S = 0.0
WORKER_BUDGET_S = 20.0
FIRST_PAUSE_S = 0.1
LONGEST_PAUSE_S = 2.0


CLOSED_BEFORE_STARTED = "closed before WorkflowTaskStarted"
"""The one ``WorkflowNotReady`` that never clears: the workflow ended (terminated) before its
first task ran. Not sent again: the request is over."""


def turned_away_while_running(err: Exception) -> bool:
    """The server's ``WorkflowNotReady`` for a workflow that is still running: the call was
    turned away, not refused by the workflow, and a later one may be taken. Or a query the
    worker turned away because it came with events no workflow task holds yet
    (``tracefreeze/history_bound.py``): asked again, it is answered once a task holds them."""
    if isinstance(err, WorkflowQueryFailedError):
        return AHEAD_OF_HISTORY in err.message
    return (
        isinstance(err, RPCError)
        and err.status is RPCStatusCode.FAILED_PRECONDITION
        and any(detail.type_url == NOT_READY for detail in err.grpc_status.details)
        and CLOSED_BEFORE_STARTED not in err.message
    )


class NotReadyRetry(Interceptor):
    """The client interceptor that sends a call turned away again (``turned_away_while_running``)
    for at most ``budget_s``."""

    def __init__(self, budget_s: float = BUDGET_S) -> None:
        self.budget_s = budget_s

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next, self.budget_s)


class _Outbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, budget_s: float) -> None:
        super().__init__(next)
        self.budget_s = budget_s

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> Any:
        # One id for every try (the SDK would draw a new one per call if none was given).
        input = dataclasses.replace(input, update_id=input.update_id or str(uuid.uuid4()))
        return await self._again(
            lambda: super(_Outbound, self).start_workflow_update(input),
            workflow_id=input.id,  # opaque for an ex parte request (Rule 99(2))
            update=input.update,  # the update's name and id only: never its content
            update_id=input.update_id,
        )

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        return await self._again(
            lambda: super(_Outbound, self).query_workflow(input),
            workflow_id=input.id,
            query=input.query,
        )

    async def _again(self, call: Callable[[], Awaitable[T]], **said: Any) -> T:
        started, attempt, pause = time.monotonic(), 1, FIRST_PAUSE_S
        while True:
            try:
                return await call()
            except (RPCError, WorkflowQueryFailedError) as err:
                left = self.budget_s - (time.monotonic() - started)
                if left <= 0 or not turned_away_while_running(err):
                    raise
            log.warning(
                "turned away (workflow not ready), sent again",
                **said,
                attempt=attempt,
            )
            await asyncio.sleep(min(pause, left))
            attempt, pause = attempt + 1, min(2 * pause, LONGEST_PAUSE_S)
