"""How long and on what a client sends a call again (``tracefreeze/not_ready.py``), seen on
the calls themselves: the server's answers are made here the way it sends them (a gRPC status
with its details), so the budget can be tried in a second instead of by spoiling a worker for
a minute. What the server does is tried on the real dev server in ``test_not_ready.py``.

A Registry officer's query for a request's progress (RS 93(1)(k)) that reaches the request
while its workflow task is being retried is answered once a task completes, not refused."""

from __future__ import annotations

import time
from typing import Any

import pytest
from google.protobuf.any_pb2 import Any as AnyProto
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import (
    OutboundInterceptor,
    QueryWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowQueryFailedError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from tracefreeze.history_bound import AHEAD_OF_HISTORY
from tracefreeze.not_ready import LONGEST_PAUSE_S, NotReadyRetry, turned_away_while_running


def turned_away(
    message: str = "Unable to query workflow due to Workflow Task in failed state.",
) -> RPCError:
    """The server's ``WorkflowNotReady``, as it sends it: FAILED_PRECONDITION with the detail."""
    detail = AnyProto()
    detail.Pack(WorkflowNotReadyFailure())
    status = GrpcStatus(code=RPCStatusCode.FAILED_PRECONDITION, message=message, details=[detail])
    return RPCError(message, RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString())


def other_precondition() -> RPCError:
    """FAILED_PRECONDITION without the detail (e.g. a workflow already closed): not retried."""
    status = GrpcStatus(code=RPCStatusCode.FAILED_PRECONDITION, message="closed")
    return RPCError("closed", RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString())


class Server(OutboundInterceptor):
    """The end of the chain: answers each call with the next of ``answers`` (the last one
    again once they run out), and keeps the update ids it was sent."""

    def __init__(self, answers: list[Exception | str]) -> None:
        self.answers, self.calls, self.update_ids = answers, 0, list[str | None]()

    def _answer(self) -> Any:
        self.calls += 1
        answer = self.answers[min(self.calls, len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        return self._answer()

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> Any:
        self.update_ids.append(input.update_id)
        return self._answer()


def query() -> QueryWorkflowInput:
    return QueryWorkflowInput(
        id="request/ICC-01/22-REQ-0001/BEL",
        run_id=None,
        query="progress",
        args=[],
        reject_condition=None,
        headers={},
        ret_type=None,
        rpc_metadata={},
        rpc_timeout=None,
    )


async def test_a_query_turned_away_is_asked_again_until_answered() -> None:
    server = Server([turned_away(), turned_away(), turned_away(), "answered"])
    client = NotReadyRetry(budget_s=30).intercept_client(server)
    assert await client.query_workflow(query()) == "answered"
    assert server.calls == 4
    assert turned_away_while_running(turned_away()) and not turned_away_while_running(
        other_precondition()
    )


async def test_a_query_the_worker_turned_away_for_events_ahead_of_history_is_asked_again() -> None:
    """The worker refuses to run a request ahead of its history for a query
    (``tracefreeze/history_bound.py``): asked again, it is answered; a query the workflow
    itself failed is not asked again."""
    ahead = WorkflowQueryFailedError(AHEAD_OF_HISTORY)  # the worker's message, as sent
    server = Server([ahead, ahead, "answered"])
    client = NotReadyRetry(budget_s=30).intercept_client(server)
    assert await client.query_workflow(query()) == "answered"
    assert server.calls == 3
    failed = Server([WorkflowQueryFailedError("no such query: secrets"), "answered"])
    with pytest.raises(WorkflowQueryFailedError):
        await NotReadyRetry(budget_s=30).intercept_client(failed).query_workflow(query())
    assert failed.calls == 1


async def test_a_call_refused_for_another_reason_is_not_asked_again() -> None:
    server = Server([other_precondition(), "answered"])
    client = NotReadyRetry(budget_s=30).intercept_client(server)
    with pytest.raises(RPCError) as refused:
        await client.query_workflow(query())
    assert refused.value.message == "closed" and server.calls == 1


async def test_a_request_that_never_gets_ready_ends_in_the_servers_error_after_the_budget() -> None:
    budget_s = 0.5
    server = Server([turned_away()])
    client = NotReadyRetry(budget_s=budget_s).intercept_client(server)
    asked = time.monotonic()
    with pytest.raises(RPCError) as gave_up:
        await client.query_workflow(query())
    assert turned_away_while_running(gave_up.value)
    waited = time.monotonic() - asked
    assert waited >= budget_s  # never given up before the budget
    assert (
        waited < budget_s + LONGEST_PAUSE_S + 30
    )  # and given up (a generous bound: a busy machine)
    assert server.calls >= 2  # asked again meanwhile


async def test_a_request_that_ended_before_its_first_task_is_not_asked_again() -> None:
    """The one ``WorkflowNotReady`` that never clears: the request is over."""
    ended = turned_away("Workflow execution closed before WorkflowTaskStarted event")
    server = Server([ended, "answered"])
    client = NotReadyRetry(budget_s=30).intercept_client(server)
    with pytest.raises(RPCError):
        await client.query_workflow(query())
    assert server.calls == 1 and not turned_away_while_running(ended)


def update(update_id: str | None) -> StartWorkflowUpdateInput:
    return StartWorkflowUpdateInput(
        id="request/ICC-01/22-REQ-0001/BEL",
        run_id=None,
        first_execution_run_id=None,
        update_id=update_id,
        update="take_valuation",
        args=[],
        wait_for_stage=WorkflowUpdateStage.COMPLETED,
        headers={},
        ret_type=None,
        rpc_metadata={},
        rpc_timeout=None,
    )


@pytest.mark.parametrize("given", ["ev-0b6c1d", None])
async def test_an_update_turned_away_is_sent_again_under_one_id(given: str | None) -> None:
    """The request takes an event id once (RS 93(1)(k): one answer, one effect): every try of
    one call goes under one update id, the caller's or, if it gave none, one drawn once."""
    failed = "Unable to perform workflow execution update due to Workflow Task in failed state."
    server = Server([turned_away(failed), turned_away(failed), "taken"])
    client = NotReadyRetry(budget_s=30).intercept_client(server)
    assert await client.start_workflow_update(update(given)) == "taken"
    assert len(server.update_ids) == 3 and len(set(server.update_ids)) == 1
    assert server.update_ids[0] == given if given else server.update_ids[0]
