"""Record the histories that test_replay.py replays, from real runs of RequestWorkflow on a
time-skipping test server.

Run from the repository root after a change to the workflow (and commit the result with
the change):

    PYTHONPATH=. python -m tests.workflows.record_histories [SCENARIO ...]

Name scenarios to record only those. Before 1.0 nothing is deployed (docs/versioning.md):
a change that alters the workflow's commands is made directly, with no ``workflow.patched``
branch, and every history is recorded again from the new code, one per scenario.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import WithStartWorkflowOperation, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

import tests.organ_keys  # noqa: F401  (organ signing keys for the recorded runs)
from schemas import court as c
from schemas.answers import (
    AnswerBatch,
    ChannelChangeNotice,
    EnforcementReport,
    FreezeLimitProposal,
)
from schemas.court import DeadlineExtension, EscalationDecision, FreezeLimitResponse, Stage
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.workflows.stopping import terminate
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
    conviction,
    court_action,
    court_request,
    enforcement_request,
    execution_report,
    money,
    new_event_id,
    no_assets,
    own_env,
    postponement,
    reasons,
    request_worker,
    result,
    save_history,
    send,
    settle,
    shown,
    start_request,
    state_answer,
    third_party_claim,
    wait_for_events,
)
from tracefreeze import client as court_client
from tracefreeze.court_signing import presidency_notice
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows import search_attributes as sa
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
    await rejected(handle, acknowledgement(req, state="BEL"))  # another State's answer
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
    """Consultation under RS 93(3) ending in a modified request (a new known asset), an RS 94
    postponement agreed then resumed, a third-party claim upheld (apartment released), the
    account forfeited (RS 77(2)(b)), transferred (RS 109(3)) and allocated (Rule 221), a final
    report, a refused and then an accepted closure: the workflow completes."""
    await send(handle, acknowledgement(req))
    await send(handle, consultation(req, "RS 93(3)"))
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
    await send(handle, conviction())  # RS 74: forfeiture follows a conviction (RS 77(2)(b))
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
                {
                    "destination": "trust_fund_for_victims",
                    "amount": money("98214.37"),
                    "basis": "RS 79(2)",
                },
            ],
            reparations="satisfied",
        ),
    )
    await send(handle, execution_report(req, [result(SHARES, "identify")], final=True))
    await send(handle, close_action())
    await handle.result()


async def _advance(env: WorkflowEnvironment, handle: Handle, at: datetime) -> None:
    """Let policy time pass on the test server until ``at``; the clocks due meanwhile fire."""
    now = await env.get_current_time()
    if at > now:
        await env.sleep(at - now)
    await settle(handle)


async def escalation_ladder(
    env: WorkflowEnvironment, handle: Handle, req: CourtRequest, published: PublishRecorder
) -> None:
    """Default deadline policy (NLD: acknowledgement P5D), nobody answers: the reminder to the
    focal point (day 5), the Registry follow-up (day 12), a report to the Chamber proposed
    (day 26) and decided (level 3); the acknowledgement deadline extended by a week (still
    overdue, so the ladder stays); then the acknowledgement, which de-escalates to level 0
    (below the RS 87(7) floor) — and the first report, overdue since day 14, is reminded."""
    day = timedelta(days=1)
    t0 = (await handle.query(RequestWorkflow.view)).timeline[0].at
    for days in (4, 6, 13, 27):
        await _advance(env, handle, t0 + days * day)
    view = await handle.query(RequestWorkflow.view)
    assert (view.escalation_level, view.proposed_step) == (2, "chamber_report"), view
    decided = court_action(EscalationDecision, step="chamber_report", proceed=True, **reasons())
    await send(handle, decided)
    await _advance(env, handle, t0 + 28 * day)
    extended = court_action(DeadlineExtension, stage=Stage.ACKNOWLEDGEMENT, by=7 * day, **reasons())
    await send(handle, extended)
    await _advance(env, handle, t0 + 30 * day)
    assert (await handle.query(RequestWorkflow.view)).escalation_level == 3
    await send(handle, acknowledgement(req))
    await settle(handle)
    view = await handle.query(RequestWorkflow.view)
    # De-escalated to 0; the first report (day 14) is overdue, so its reminder comes at once.
    assert (view.escalation_level, view.escalation_step) == (1, "reminder"), view


async def freeze_limit_consultation(
    env: WorkflowEnvironment, handle: Handle, req: CourtRequest, published: PublishRecorder
) -> None:
    """Default policy (2026-11-30): the account is frozen; NLD notifies a Rule 180 change (for
    future requests) and proposes to end the freeze in 60 days (RS 97). The Court is silent:
    reminded on day 14, the proposal goes before the Chamber on day 28, the Chamber is told on
    day 60 that the date passed; the freeze stays. On day 70 the Chamber limits it from day
    80, and on day 80 its decision lifts it; the first periodic review never comes."""
    day = timedelta(days=1)
    await send(handle, acknowledgement(req))
    await send(handle, execution_report(req, [result(ACCOUNT, "identify", "freeze")]))
    notice = state_answer(ChannelChangeNotice, req, channel="central_authority", language="fr")
    await send(handle, notice)
    t0 = await env.get_current_time()
    proposal = state_answer(
        FreezeLimitProposal,
        req,
        sent_at=t0.isoformat(),
        asset_ids=[ACCOUNT],
        proposed_until=(t0 + 60 * day).isoformat(),
        reasons="National law limits a freeze without a conviction.",
    )
    await send(handle, proposal)
    await _advance(env, handle, t0 + 70 * day)
    entry = (await handle.query(RequestWorkflow.view)).ledger.entries[ACCOUNT]
    assert entry.status.value == "frozen", entry
    decided = court_action(
        FreezeLimitResponse,
        asset_ids=[ACCOUNT],
        outcome="freeze_limited",
        chamber="pre_trial_chamber",
        lift_at=(t0 + 80 * day).isoformat(),
        **reasons(),
    )
    await send(handle, decided)
    await _advance(env, handle, t0 + 85 * day)
    entry = (await handle.query(RequestWorkflow.view)).ledger.entries[ACCOUNT]
    assert entry.status.value == "released", entry


async def firing_during_outage(
    env: WorkflowEnvironment, handle: Handle, req: CourtRequest, published: PublishRecorder
) -> None:
    """Default policy; the broker takes nothing from day 4: the reminder due on day 5 fires,
    its round's bounded first try fails, the search attributes show the step at once (the Web
    UI shows it during the outage), and the round is tried again, with the same events, until
    the broker is back; then the acknowledgement."""
    t0 = (await handle.query(RequestWorkflow.view)).timeline[0].at
    await _advance(env, handle, t0 + timedelta(days=4))
    published.broker_down = True
    await env.sleep(t0 + timedelta(days=5, hours=1) - await env.get_current_time())
    await shown(handle, sa.ESCALATION_LEVEL, 1)
    assert published.refused, "the round was never tried during the outage"
    published.broker_down = False
    await env.sleep(timedelta(minutes=10))  # past the retry's back-off
    await settle(handle)
    await send(handle, acknowledgement(req))


async def answer_during_outage(
    env: WorkflowEnvironment, handle: Handle, req: CourtRequest, published: PublishRecorder
) -> None:
    """The broker takes nothing from the State's first answer on: the acknowledgement is
    taken (its update returns once it is in history), its round's bounded first try fails and
    the Web UI shows the status; a report taken while the broker stays down is shown at once,
    not when the broker is back; then both answers' events leave, in order."""
    published.broker_down, taken = True, len(published.rounds)
    await court_client.send(handle, acknowledgement(req))
    await env.sleep(timedelta(seconds=30))  # past the first try's back-off
    await shown(handle, sa.REQUEST_STATUS, RequestStatus.ACKNOWLEDGED.value)
    await court_client.send(handle, execution_report(req))
    await shown(handle, sa.REQUEST_STATUS, RequestStatus.IN_EXECUTION.value)
    assert len(published.rounds) == taken and len(published.refused) >= 2  # none left yet
    published.broker_down = False
    await env.sleep(timedelta(minutes=10))  # past the retry's back-off
    await settle(handle)


async def backlog_batch(handle: Handle, req: CourtRequest) -> None:
    """A backlog handed over in batch updates (2026-11-29): acknowledgement and a freezing
    report together, a batch with a duplicate and a refused answer, a report alone, closure
    refused; every round of events published by one activity."""
    ack, report = acknowledgement(req), execution_report(req)
    await handle.execute_update(
        RequestWorkflow.take_answers, AnswerBatch(answers=[ack, report]), id=new_event_id()
    )
    batch = AnswerBatch(answers=[report, acknowledgement(req), no_assets(req)])
    await handle.execute_update(RequestWorkflow.take_answers, batch, id=new_event_id())
    await send(handle, execution_report(req, [result(VESSEL, "freeze", value=("5.00", "EUR"))]))
    await rejected(handle, close_action())


SCENARIOS: dict[str, Callable[[Handle, CourtRequest], Awaitable[None]]] = {
    "happy-path-close-refused": happy_path_close_refused,
    "no-assets-then-close": no_assets_then_close,
    "rejections-and-duplicates": rejections_and_duplicates,
    "full-asset-life": full_asset_life,
    "backlog-batch": backlog_batch,
}
TIMED_SCENARIOS: dict[
    str, Callable[[WorkflowEnvironment, Handle, CourtRequest, PublishRecorder], Awaitable[None]]
] = {
    "escalation-ladder": escalation_ladder,
    "freeze-limit-consultation": freeze_limit_consultation,
    "firing-during-outage": firing_during_outage,
    "answer-during-outage": answer_during_outage,
}
"""Scenarios run under the default deadline policy: they let policy time pass (timers)."""


async def started_by_another_client(
    env: WorkflowEnvironment, task_queue: str, number: int
) -> Handle:
    """A request started as another Temporal client starts one: the request alone, no policy
    (the policy in force is resolved at start, by activity), with an acknowledgement that
    came with the start, then a report (``workflows/request_policy.py``)."""
    req = court_request(reference=f"ICC-01/22-REQ-HIST-{number:04d}")
    ack = acknowledgement(req)
    start = WithStartWorkflowOperation(
        "RequestWorkflow",
        {"request": json.loads(req.model_dump_json())},
        id=req.workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    await env.client.execute_update_with_start_workflow(
        "acknowledge", ack, start_workflow_operation=start, id=ack.event_id
    )
    handle: Handle = await start.workflow_handle()
    await settle(handle)
    await send(handle, execution_report(req))
    return handle


async def enforcement_told(env: WorkflowEnvironment, task_queue: str, number: int) -> Handle:
    """The Presidency's enforcement request (RS 109) telling the protective request it
    supplements, by activity, with the Presidency's signed act it came with, then a State's
    enforcement report (``workflows/request_links.py``).
    The enforcement request's history is the one kept."""
    protective = court_request(reference=f"ICC-01/22-REQ-HIST-{number:04d}")
    first = await start_request(env.client, task_queue, protective)
    await send(first, acknowledgement(protective))
    await send(first, execution_report(protective))
    await send(first, conviction(judgment_reference="ICC-01/22-377"))
    order = court_action(
        c.ForfeitureOrder,
        decided_by="Trial Chamber IX",
        order_reference="ICC-01/22-388",
        asset_ids=[ACCOUNT],
    )
    await send(first, order)
    req = enforcement_request(
        reference=f"ICC-01/22-ENF-HIST-{number:04d}", supplements=protective.reference
    )
    notice = presidency_notice(req)  # the Presidency's act, signed for the protective request
    handle: Handle = await start_request(env.client, task_queue, req, enforcement_notice=notice)
    await settle(handle)
    await send(handle, conviction(judgment_reference="ICC-01/22-377"))
    await send(handle, acknowledgement(req))
    report = state_answer(
        EnforcementReport,
        req,
        results=[{"asset_id": ACCOUNT, "outcome": "forfeited", "amount": money("398214.37")}],
    )
    await send(handle, report)
    await terminate(first, "recorded", handle)
    return handle


STARTED: dict[str, Callable[[WorkflowEnvironment, str, int], Awaitable[Handle]]] = {
    "started-by-another-client": started_by_another_client,
    "enforcement-told": enforcement_told,
}
"""Scenarios that start their request themselves: their histories schedule an activity (the
policy in force; the notice to the protective request)."""


async def record(names: list[str]) -> None:
    known = [*SCENARIOS, *TIMED_SCENARIOS, *STARTED]
    unknown = set(names) - set(known)
    if unknown:
        raise SystemExit(f"unknown scenarios {sorted(unknown)}; known: {known}")
    HISTORIES.mkdir(exist_ok=True)
    async with own_env() as env, request_worker(env, "record") as (task_queue, recorder):
        for number, name in enumerate(known, start=1):
            if names and name not in names:
                continue
            if name in STARTED:
                handle = await STARTED[name](env, task_queue, number)
                await settle(handle)
                history = await handle.fetch_history()
                save_history(HISTORIES / f"{name}.json", history)
                print(f"{name}: {len(history.events)} events")
                continue
            req = court_request(reference=f"ICC-01/22-REQ-HIST-{number:04d}")
            timed = TIMED_SCENARIOS.get(name)
            fields = {"policy": resolve(load_policy(), load_directory(), req)} if timed else {}
            handle = await start_request(env.client, task_queue, req, **fields)
            await wait_for_events(recorder, req.reference, 1)
            if timed:
                await timed(env, handle, req, recorder)
            else:
                await SCENARIOS[name](handle, req)
            await settle(handle)
            history = await handle.fetch_history()
            save_history(HISTORIES / f"{name}.json", history)
            print(f"{name}: {len(history.events)} events")
            if timed:  # its timers must not fire with no worker left to take them
                await terminate(handle, "recorded")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:]))
