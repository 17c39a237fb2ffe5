"""Record the histories that test_replay.py replays, from real runs of RequestWorkflow on a
time-skipping test server.

Run from the repository root after a deliberate, compatible change to the workflow (and
commit the result with the change):

    PYTHONPATH=. python -m tests.workflows.record_histories [SCENARIO ...]

Name scenarios to record only those (the others' committed histories stay as they are, so
they keep proving that histories recorded by older code still replay).

An incompatible change must instead keep the old code path behind ``workflow.patched`` so the
committed histories still replay.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.worker import Worker

from schemas import court as c
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    HISTORIES,
    SHARES,
    VESSEL,
    PublishRecorder,
    acknowledgement,
    close_action,
    consultation,
    court_action,
    court_request,
    execution_report,
    money,
    new_event_id,
    no_assets,
    postponement,
    reasons,
    result,
    send,
    settle,
    start_env,
    start_request,
    third_party_claim,
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


async def full_asset_life(handle: Handle, req: CourtRequest) -> None:
    """Consultation under RS 96(3) ending in a modified request (a new known asset), an RS 94
    postponement agreed then resumed, a third-party claim upheld (apartment released), the
    account forfeited (RS 77(2)(b)), transferred (RS 109(3)) and allocated (Rule 221), a final
    report, a refused and then an accepted closure: the workflow completes."""
    await send(handle, acknowledgement(req))
    await send(handle, consultation(req, "RS 96(3)"))
    car = {
        "asset_id": "a-car-1",
        "kind": "vehicle",
        "description": "Vehicle registered to the suspect's company",
        "owner_party_ids": ["c-northwind"],
    }
    changed = req.model_dump(mode="json")
    changed["known_assets"] = [*changed["known_assets"], car]
    await rejected(
        handle,
        court_action(c.ConsultationResponse, resolution="information_supplied", information="x"),
    )
    await send(
        handle,
        court_action(
            c.ConsultationResponse, resolution="request_modified", modified_request=changed
        ),
    )
    await send(handle, execution_report(req))  # account and apartment frozen
    await send(handle, postponement(req, "RS 94"))
    await send(handle, court_action(c.PostponementDecision, agreed=True, **reasons()))
    await send(handle, court_action(c.ResumeExecution, **reasons()))
    await send(handle, third_party_claim(req, APARTMENT, "claim-1"))
    forfeit = court_action(c.ForfeitureOrder, order_reference="ICC-01/22-FO-9", asset_ids=[ACCOUNT])
    await rejected(
        handle,
        court_action(c.ForfeitureOrder, order_reference="ICC-01/22-FO-9", asset_ids=[APARTMENT]),
    )
    await send(
        handle,
        court_action(c.ThirdPartyClaimDecision, claim_id="claim-1", upheld=True, **reasons()),
    )
    await send(handle, forfeit)
    await send(handle, court_action(c.TransferToCourt, asset_id=ACCOUNT, amount=money("398214.37")))
    await rejected(handle, close_action())
    await send(
        handle,
        court_action(
            c.Allocation,
            asset_id=ACCOUNT,
            shares=[
                {"destination": "reparations", "amount": money("300000.00")},
                {"destination": "legal_aid_refund", "amount": money("98214.37")},
            ],
        ),
    )
    await send(handle, execution_report(req, [result(SHARES, "identify")], final=True))
    await send(handle, close_action())
    await handle.result()


SCENARIOS: dict[str, Callable[[Handle, CourtRequest], Awaitable[None]]] = {
    "happy-path-close-refused": happy_path_close_refused,
    "no-assets-then-close": no_assets_then_close,
    "rejections-and-duplicates": rejections_and_duplicates,
    "full-asset-life": full_asset_life,
}


async def record(names: list[str]) -> None:
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios {sorted(unknown)}; known: {list(SCENARIOS)}")
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
                if names and name not in names:
                    continue
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
    asyncio.run(record(sys.argv[1:]))
