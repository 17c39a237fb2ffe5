"""Case: one State floods one request of a two-State case; the case's history stays small.

A case (``workflows/case.py``) is opened as the product opens it (``CaseClient.open_case``):
one request to the Netherlands, one to Belgium. The Netherlands sends ``answers`` signed
answers to its request through Kafka and the bridge (an acknowledgement, a freezing report,
then valuations). Afterwards the chain of the case's runs is walked back from the latest and,
for each run, its history bytes (the server's count) and events are read. Figures: bytes per
run (target < 2 MB; the server terminates a run near 50 MB), the number of runs, and that the
case knows the Netherlands' last answer and Belgium's untouched request.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, replace
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError

from bench.common import (
    StateSigner,
    answer_script,
    send_and_wait_taken,
)
from bench.stack import BenchStack
from schemas.case import CaseOrder
from schemas.request import CourtRequest
from schemas.views import RequestProgress
from tests.builders import court_request
from tracefreeze.case_client import CaseClient
from tracefreeze.client import RequestClient
from tracefreeze.errors import TracefreezeError
from tracefreeze.temporal import connect

TASK_QUEUE = "bench-case"
TARGET_BYTES_PER_RUN = 2_000_000


@dataclass(frozen=True)
class CaseSizes:
    answers: int = 10_000
    timeout_s: float = 300


QUICK_SIZES = CaseSizes(answers=300, timeout_s=120)
ANSWERS_ENV = "TRACEFREEZE_BENCH_CASE_ANSWERS"
"""Overrides the number of answers (e.g. to measure below a request's own limits)."""


def sizes_for(quick: bool) -> CaseSizes:
    sizes = QUICK_SIZES if quick else CaseSizes()
    answers = os.environ.get(ANSWERS_ENV)
    return replace(sizes, answers=int(answers)) if answers else sizes


def two_state_order(tag: str) -> CaseOrder:
    """A case against the Netherlands (the flooding State) and Belgium."""
    nld = court_request(reference=f"ICC-01/22-CASE-{tag}-NLD")
    bel = court_request(reference=f"ICC-01/22-CASE-{tag}-BEL", requested_state="BEL")
    return CaseOrder(
        order_reference=f"ICC-01/22-ORD-CASE-{tag}",
        case_number=nld.case_number,
        requests=(nld, bel),
    )


async def case_runs(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    """Bytes (as the server counts them) and events of every run, oldest first."""
    out: list[dict[str, Any]] = []
    run_id: str | None = (await client.get_workflow_handle(workflow_id).describe()).run_id
    while run_id:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        described = await handle.describe()
        info = described.raw_description.workflow_execution_info
        history = await handle.fetch_history()
        out.append(
            {
                "run_id": run_id,
                "status": described.status.name if described.status else None,
                "bytes": info.history_size_bytes,
                "events": len(history.events),
                "event_bytes": sum(e.ByteSize() for e in history.events),
            }
        )
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
    return out[::-1]


async def wait_reported(cases: CaseClient, order: CaseOrder, answers: int, timeout_s: float) -> Any:
    """The case's view once it knows the Netherlands' last answer (or at the timeout)."""
    deadline = time.monotonic() + timeout_s
    view = None
    while time.monotonic() < deadline:
        try:
            view = await cases.case_view(order.order_reference)
        except TracefreezeError:
            view = None  # a terminated case cannot be queried: that is the failure shown
            break
        nld = view.requests.get("NLD")
        if nld is not None and nld.answers_seen >= answers:
            break
        await asyncio.sleep(0.5)
    return view


async def view_or_error(
    requests: RequestClient, request: CourtRequest
) -> tuple[RequestProgress | None, str | None]:
    """The request's progress (status and answers; its full view of thousands of answers is
    over the payload limit), or why it cannot be had (a request stuck is a finding)."""
    try:
        return await requests.progress(request.reference, request.requested_state), None
    except (TracefreezeError, WorkflowQueryFailedError) as err:
        return None, str(err)


async def run_case(stack: BenchStack, signer: StateSigner, sizes: CaseSizes) -> dict[str, Any]:
    settings = stack.settings.model_copy(update={"task_queue": TASK_QUEUE})
    order = two_state_order(str(int(time.time())))
    nld, bel = order.requests
    stack.start_app("worker", TASK_QUEUE)
    stack.start_app("bridge", TASK_QUEUE)
    try:
        client = await connect(settings)
        cases, requests = CaseClient(client, settings), RequestClient(client, settings)
        await cases.open_case(order)
        for _ in range(300):  # the requests run before the State answers
            if (await view_or_error(requests, nld))[0] is not None:
                break
            await asyncio.sleep(0.2)
        answers = answer_script(nld.reference, sizes.answers, fresh=True)
        t0, done = await send_and_wait_taken(settings, signer, answers, sizes.timeout_s)
        view = await wait_reported(cases, order, sizes.answers, 60)
        nld_view, nld_error = await view_or_error(requests, nld)
        bel_view, bel_error = await view_or_error(requests, bel)
        runs = await case_runs(client, order.workflow_id)
        described = await client.get_workflow_handle(order.workflow_id).describe()
    finally:
        await stack.stop_apps()
    reported = view.party("NLD").answers_seen if view is not None else None
    max_bytes = max(r["bytes"] for r in runs)
    applied = nld_view.answers_seen if nld_view is not None else None
    return {
        "answers": sizes.answers,
        "answers_seen": applied,
        "all_applied": applied == sizes.answers,
        "request_error": nld_error,
        "case_reported_answers": reported,
        "case_status": described.status.name if described.status else None,
        "other_state_status": bel_view.status.value if bel_view is not None else bel_error,
        "other_state_answers_seen": bel_view.answers_seen if bel_view is not None else None,
        "apply_seconds": (done - t0) if done else None,
        "runs": len(runs),
        "per_run": runs,
        "max_bytes_per_run": max_bytes,
        "max_events_per_run": max(r["events"] for r in runs),
        "total_bytes": sum(r["bytes"] for r in runs),
        "target_bytes_per_run": TARGET_BYTES_PER_RUN,
        "target_met": (
            max_bytes < TARGET_BYTES_PER_RUN
            and reported == sizes.answers
            and applied == sizes.answers
            and described.status is WorkflowExecutionStatus.RUNNING
        ),
    }
