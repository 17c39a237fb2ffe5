"""A case asks its open requests where they stand (the reconciliation that heals a lost
report), and sends them the Court's case-level acts (a judgment, the release of the case, the
closing of a settled request).

A request tells its case each change by signal (``workflows/request_publishing.py``). A signal
that never lands in the case's state (a report lost around a hand-over to a new run) would
leave the case's view of that request stale until the request changed again, and a lost
closure would keep the case from closing. So the case, at each new run and periodically, runs
this activity: it queries each open request's ``case_summary`` by workflow id and returns what
each said (``None`` for a request it could not ask this time: the next reconciliation asks
again). Nothing here decides anything: the case keeps a summary only if it is newer than the
one it holds (``RequestSummary.older_than``).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from temporalio import activity
from temporalio.client import (
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from schemas.case import (
    DELIVER_TO_REQUEST,
    REQUEST_SUMMARIES,
    DeliveryResult,
    RequestDelivery,
    RequestSummaries,
    RequestSummary,
)
from schemas.views import AnswerReceipt
from tracefreeze.court_signing import execute_signed
from tracefreeze.not_ready import turned_away_while_running
from tracefreeze.security.organ_keys import relayed
from tracefreeze.standing import Standing, standing
from workflows.request_guard import REJECTED

log = structlog.get_logger(__name__)

QUERY_TIMEOUT_S = 20.0
"""How long one request may take to answer (a worker replaying a long history)."""


@activity.defn(name=REQUEST_SUMMARIES)
async def request_summaries(inp: RequestSummaries) -> list[RequestSummary | None]:
    """Each request's own summary, in the order asked; ``None`` where it could not be had."""
    client = activity.client()

    async def ask(workflow_id: str) -> RequestSummary | None:
        handle = client.get_workflow_handle(workflow_id)
        try:
            async with asyncio.timeout(QUERY_TIMEOUT_S):
                return await handle.query("case_summary", result_type=RequestSummary)
        except (RPCError, WorkflowQueryFailedError, TimeoutError) as err:
            log.warning("request did not answer its case", workflow_id=workflow_id, error=str(err))
            return None

    return list(await asyncio.gather(*(ask(w) for w in inp.workflow_ids)))


@activity.defn(name=DELIVER_TO_REQUEST)
async def deliver_to_request(inp: RequestDelivery) -> DeliveryResult:
    """Send one request of the case a Court action as its own update, under the action's event
    id (a repeat is a duplicate there, never applied twice). The request takes it through its
    own validator and rules: only the validator's refusal (``AnswerRejected``) comes back as
    ``refused`` with the request's reason, so one request refusing never holds up the others;
    a request that has ended is ``ended``, one stopped outside the Court's process
    ``stopped`` (``outcome_if_not_running``). Anything else is transient and raises, so that the
    activity is retried: an action the request could not apply (``AnswerNotApplied``, nothing
    recorded there), a worker without the update's handler during a deploy, a server that
    cannot be reached or did not answer in time.

    Each attempt is its own update (its id the event id and a fresh suffix): the server keeps
    the outcome of an update by its id, so an attempt under the id of one that failed would
    get that failure back for ever. The request dedupes on the action's event id, so an action
    taken by an attempt whose answer was lost is a duplicate to the next, never taken twice."""
    handle = activity.client().get_workflow_handle(inp.workflow_id)
    try:  # its organ's signature, else the workers' relay key (decision_signatures.RELAYED)
        attempt = f"{inp.action.event_id}~{uuid.uuid4().hex[:12]}"
        receipt: AnswerReceipt = await execute_signed(
            handle, inp.update, inp.action, attempt, relayed
        )
    except WorkflowUpdateFailedError as err:
        reason = refusal(err)
        if reason is None:
            raise
        return DeliveryResult(outcome="refused", reason=reason[:2000])
    except RPCError as err:
        if turned_away_while_running(err):  # still running, its task failing: tried again
            raise
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            if (result := await outcome_if_not_running(handle, err)) is None:
                raise  # still running: tried again
            return result
        raise
    return DeliveryResult(outcome="taken", status=receipt.status)


async def outcome_if_not_running(
    handle: WorkflowHandle[Any, Any], err: RPCError
) -> DeliveryResult | None:
    """Why no running request took the action, as the server describes the request
    (``tracefreeze.standing``): ``ended`` only for a request the Court closed; ``gone`` for
    one no longer on the server (its case says which it was); ``stopped`` for one
    terminated, failed or timed out outside the Court's process, whose measures stand and
    which must be restored to take the action; a request still running (a namespace failing
    over, a run handing over) is ``None``: the action is tried again. A description that
    fails raises (tried again). A release filed as ``already_closed``, or a judgment left
    undelivered, for a request not closed by the Court would leave its assets frozen with no
    one told (RS 75(4), 93(1)(k); the conservative reading)."""
    where, status = await standing(handle)
    if where is Standing.RUNNING:
        return None
    if where is Standing.STOPPED:
        reason = f"the request's workflow was {status}, not closed by the Court: {err.message}"
        return DeliveryResult(outcome="stopped", reason=reason[:2000])
    gone = where is Standing.ABSENT  # closed long ago, or stopped and deleted: the case knows
    return DeliveryResult(outcome="gone" if gone else "ended", reason=err.message[:2000])


def refusal(err: WorkflowUpdateFailedError) -> str | None:
    """The request's reason if its validator refused the action (``AnswerRejected``: a real
    refusal, the same however often it is sent); ``None`` for any other failure of the
    update, which is transient and retried."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == REJECTED:
        return cause.message
    return None
