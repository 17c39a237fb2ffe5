"""Record the histories that test_replay.py replays, from real runs of RequestWorkflow on a
time-skipping test server.

Run from the repository root after a deliberate, compatible change to the workflow (and
commit the result with the change):

    PYTHONPATH=. python -m tests.workflows.record_histories

An incompatible change must instead keep the old code path behind ``workflow.patched`` so the
committed histories still replay.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.worker import Worker

from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.workflows.support import (
    ACCOUNT,
    HISTORIES,
    SHARES,
    VESSEL,
    PublishRecorder,
    acknowledgement,
    close_action,
    court_request,
    execution_report,
    new_event_id,
    no_assets,
    result,
    send,
    settle,
    start_env,
    start_request,
    wait_for_events,
)
from workflows.request import RequestWorkflow

Handle = WorkflowHandle[RequestWorkflow, RequestView]


async def rejected(handle: Handle, answer: Any) -> None:
    try:
        await send(handle, answer)
    except WorkflowUpdateFailedError:
        return
    raise AssertionError(f"{type(answer).__name__} {answer.event_id} was accepted")


async def happy_path_close_refused(handle: Handle, req: CourtRequest) -> None:
    """Acknowledged, partial report, final report freezing everything, close refused."""
    await send(handle, acknowledgement(req))
    await send(handle, execution_report(req))
    await send(
        handle,
        execution_report(
            req,
            [
                result(VESSEL, "freeze", value=("1100000.00", "EUR")),
                result(SHARES, "identify", "freeze", value=("300000.00", "EUR")),
            ],
            final=True,
        ),
    )
    await rejected(handle, close_action())


async def no_assets_then_close(handle: Handle, req: CourtRequest) -> None:
    """Acknowledged, no assets found, closed: the workflow completes."""
    await send(handle, acknowledgement(req))
    await send(handle, no_assets(req))
    await send(handle, close_action())
    await handle.result()


async def rejections_and_duplicates(handle: Handle, req: CourtRequest) -> None:
    """Rejected answers between accepted ones, and duplicates by update id and by event id."""
    await rejected(handle, execution_report(req))  # before acknowledgement
    ack = acknowledgement(req)
    await send(handle, ack)
    await send(handle, ack)  # same update id
    await send(handle, ack, update_id=new_event_id())  # same event id, new update id
    await rejected(handle, acknowledgement(req))  # second acknowledgement
    await rejected(handle, acknowledgement(req, state="BEL"))
    report = execution_report(req)
    await send(handle, report)
    await send(handle, report, update_id=new_event_id())
    await rejected(handle, execution_report(req, [result("a-unknown-9", "identify")]))
    await rejected(handle, execution_report(req, [result(ACCOUNT, "seize")]))
    await rejected(handle, no_assets(req))
    await rejected(handle, close_action())


SCENARIOS: dict[str, Callable[[Handle, CourtRequest], Awaitable[None]]] = {
    "happy-path-close-refused": happy_path_close_refused,
    "no-assets-then-close": no_assets_then_close,
    "rejections-and-duplicates": rejections_and_duplicates,
}


async def record() -> None:
    HISTORIES.mkdir(exist_ok=True)
    env = await start_env()
    try:
        recorder = PublishRecorder()
        task_queue = f"record-{uuid.uuid4()}"
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[RequestWorkflow],
            activities=[recorder.publish],
        ):
            for number, (name, scenario) in enumerate(SCENARIOS.items(), start=1):
                req = court_request(reference=f"ICC-01/22-REQ-HIST-{number:04d}")
                handle = await start_request(env.client, task_queue, req)
                await wait_for_events(recorder, req.reference, 1)
                await scenario(handle, req)
                await settle(handle)
                history = await handle.fetch_history()
                (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
                print(f"{name}: {len(history.events)} events")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record())
