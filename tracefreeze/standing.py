"""Where a request's workflow stands, as the server describes it: the one reading both the
bridge (an answer no running request took) and a case (a Court action no running request
took) act on.

Four standings, because each calls for a different record:

- ``RUNNING``: the call is tried again (a task failing, a run handing over to the next);
- ``CLOSED``: the latest run completed, which a request does only once the Court closed it
  (the Registry's close of a settled request, or the case's close after its release); a
  closed request is never reopened;
- ``STOPPED``: the latest run was terminated, cancelled, failed or timed out: stopped outside
  the Court's process (an operator's act, a fault), not closed. Its measures are *not*
  lifted by that (RS 93(1)(k); nothing is released or given up without a decision of a
  Chamber or the Presidency), and what it did not take is kept for the request restored;
- ``ABSENT``: no such workflow in the namespace (never started, or closed longer ago than the
  namespace's retention). Only the server's ``NotFoundFailure`` says so: a namespace that is
  not found (a misconfiguration, a namespace failing over) is an error, never an absence.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

NO_SUCH_WORKFLOW = "type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure"
"""The detail the server gives when the workflow, not the namespace, is not found."""


class Standing(StrEnum):
    RUNNING = "running"
    CLOSED = "closed"
    STOPPED = "stopped"
    ABSENT = "absent"


OPEN = {None, WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW}
"""A latest run still open, or one that has just handed over to the next (a description read
in the instant of a continue-as-new): the call is tried again."""


def no_such_workflow(err: RPCError) -> bool:
    """Whether the server said the workflow does not exist (not its namespace)."""
    if err.status is not RPCStatusCode.NOT_FOUND:
        return False
    return any(d.type_url == NO_SUCH_WORKFLOW for d in err.grpc_status.details)


async def standing(handle: WorkflowHandle[Any, Any]) -> tuple[Standing, str]:
    """The request's standing, and the status the server gave (for the record). A description
    that fails otherwise is not an answer: raises."""
    try:
        description = await handle.describe()
    except RPCError as err:
        if no_such_workflow(err):
            return Standing.ABSENT, "not found"
        raise
    except ValueError:  # a status this SDK does not know (a paused workflow): still open
        return Standing.RUNNING, "a status this client does not know"
    status = description.status
    if status in OPEN:
        return Standing.RUNNING, "running"
    assert status is not None
    if status is WorkflowExecutionStatus.COMPLETED:
        return Standing.CLOSED, "completed"
    return Standing.STOPPED, status.name.lower()
