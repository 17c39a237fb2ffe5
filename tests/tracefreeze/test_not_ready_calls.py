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
from temporalio.client import OutboundInterceptor, QueryWorkflowInput
from temporalio.service import RPCError, RPCStatusCode

from tracefreeze.not_ready import NotReadyRetry, aborted_before_taken


def turned_away() -> RPCError:
    """The server's ``WorkflowNotReady``, as it sends it: FAILED_PRECONDITION with the detail."""
    detail = AnyProto()
    detail.Pack(WorkflowNotReadyFailure())
    message = "Unable to query workflow due to Workflow Task in failed state."
    status = GrpcStatus(code=RPCStatusCode.FAILED_PRECONDITION, message=message, details=[detail])
    return RPCError(message, RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString())


def other_precondition() -> RPCError:
    """FAILED_PRECONDITION without the detail (e.g. a workflow already closed): not retried."""
    status = GrpcStatus(code=RPCStatusCode.FAILED_PRECONDITION, message="closed")
    return RPCError("closed", RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString())


class Server(OutboundInterceptor):
    """The end of the chain: answers each query with the next of ``answers``."""

    def __init__(self, answers: list[RPCError | str]) -> None:
        self.answers, self.calls = answers, 0

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        self.calls += 1
        answer = self.answers[min(self.calls, len(self.answers)) - 1]
        if isinstance(answer, RPCError):
            raise answer
        return answer


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
    assert aborted_before_taken(turned_away()) and not aborted_before_taken(other_precondition())


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
    assert aborted_before_taken(gave_up.value)
    assert time.monotonic() - asked >= budget_s  # never given up before the budget
    assert server.calls >= 3  # asked again meanwhile, backing off from 0.1 s
