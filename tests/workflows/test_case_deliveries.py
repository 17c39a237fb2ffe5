"""The Court actions a case delivers to its requests (RS 74, 81(3)(c), 83(2)), on the
time-skipping server: only a request's real refusal is recorded as one; anything transient is
sent again until the request takes the action.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    Interceptor,
    StartChildWorkflowInput,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from activities.case import refusal
from schemas.case import AddState, RequestSummary
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import CourtRequest
from tests.builders import now
from tests.workflows.case_support import (
    case_act,
    case_request,
    case_view,
    decided_now,
    frozen_everywhere,
    judgment,
    open_case,
    release_act,
    started,
    until,
)
from tests.workflows.support import (
    ACCOUNT,
    PublishRecorder,
    acknowledgement,
    freeze_account,
    own_env,
    send,
)
from tracefreeze.security.organ_keys import signed
from workflows import catalog
from workflows.carry import RequestCarry
from workflows.case import CaseWorkflow
from workflows.outcome import Outcome, Rule
from workflows.request import RequestWorkflow


async def both_taken(client: Any, case: Any, bel: Any) -> Any:
    """The case's release taken by NLD and BEL, and BEL's request closed: its view."""
    release = (await case_view(case)).release
    assert release is not None
    assert {k.rsplit("/", 1)[1]: r.outcome for k, r in release.requests.items()} == {
        "NLD": "taken",
        "BEL": "taken",
    }
    bel_view = await client.get_workflow_handle(bel.workflow_id).query(RequestWorkflow.view)
    assert bel_view.status is RequestStatus.CLOSED
    return bel_view


def test_only_the_requests_validator_refusing_is_a_refusal() -> None:
    """A request's refusal is its validator's (``AnswerRejected``); an action it could not
    apply (``AnswerNotApplied``: nothing recorded) or an update a worker has no handler for
    (a deploy under way) is transient: no reason is read from it, and the activity raises."""
    rejected = ApplicationError("no frozen asset to release", type="AnswerRejected")
    assert refusal(WorkflowUpdateFailedError(rejected)) == "no frozen asset to release"
    not_applied = ApplicationError("case_release e-1 could not be applied", type="AnswerNotApplied")
    assert refusal(WorkflowUpdateFailedError(not_applied)) is None
    no_handler = ApplicationError(
        "Update handler for 'release_for_case' expected but not found", type="RuntimeError"
    )
    assert refusal(WorkflowUpdateFailedError(no_handler)) is None


async def test_a_release_a_request_could_not_apply_once_is_sent_again_and_taken(
    case_worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RS 74: BEL's request fails once to apply the case's release (a fault rolled back and
    refused as ``AnswerNotApplied``: nothing recorded there). That is no refusal by BEL: the
    release is sent again, BEL takes it and is closed, and the release completes (old code:
    BEL was recorded as refusing and its account stayed frozen)."""
    client, queue, _ = case_worker
    nld, bel = case_request("NLD"), case_request("BEL")
    case = await open_case(client, queue, nld, bel)
    await frozen_everywhere(client, case, [nld, bel])

    own = catalog.RULES["case_release"]
    failed: list[str] = []

    def fails_once_for_bel(
        record: RequestCarry, request: CourtRequest, m: Any, now: datetime
    ) -> Outcome:
        # The first update that brings BEL the release fails (and fails again on replay).
        update = workflow.current_update_info()
        if request.requested_state == "BEL" and update is not None:
            if not failed:
                failed.append(update.id)
            if update.id == failed[0]:
                raise RuntimeError("a fault while applying (test)")
        return own.apply(record, request, m, now)

    monkeypatch.setitem(catalog.RULES, "case_release", Rule(own.check, fails_once_for_bel))
    acquittal = judgment("acquittal")
    await case_act(case, "record_judgment", acquittal)
    await case_act(case, "release_case", release_act(acquittal))

    async def complete() -> bool:
        release = (await case_view(case)).release
        assert release is not None
        assert release.requests[f"{bel.reference}/BEL"].outcome != "refused", release
        return release.complete

    await until(complete, timeout_s=60)
    assert failed, "the fault was never met: the test proves nothing"
    bel_view = await both_taken(client, case, bel)
    assert bel_view.ledger.entries[ACCOUNT].status is AssetStatus.RELEASED


HELD_FOR = timedelta(hours=1)
"""How long the case's start of a request to ``HELD_PARTY`` is held (``HoldStart``)."""
HELD_PARTY = "/BEL"


class _HoldOutbound(WorkflowOutboundInterceptor):
    async def start_child_workflow(self, input: StartChildWorkflowInput) -> Any:
        if input.id.endswith(HELD_PARTY):  # a workflow timer: held until the test skips it
            await workflow.sleep(HELD_FOR)
        return await super().start_child_workflow(input)


class _HoldInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_HoldOutbound(outbound))


class HoldStart(Interceptor):
    """Holds the case's start of a request to BEL for ``HELD_FOR`` of workflow time: the
    window in which the start is not yet confirmed, made as long as the test needs."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _HoldInbound


async def test_a_release_ordered_while_a_request_is_being_added_reaches_it() -> None:
    """RS 74, 96(2): the Court adds BEL to the case; while the case's start of BEL's request
    is not yet confirmed (held here by a workflow timer), the Chamber releases the case. The
    release waits for BEL's request to exist, then BEL takes it and is closed (old code: the
    release was sent before the request existed, the server answered that no such workflow
    runs, and BEL was recorded ``already_closed``: never released, the release never
    complete). On a server of its own: the held start's hour passes for this case alone."""
    async with own_env() as env:
        await _release_while_adding(env)


async def _release_while_adding(env: WorkflowEnvironment) -> None:
    client, queue = env.client, f"case-hold-{uuid.uuid4()}"
    recorder = PublishRecorder()
    async with Worker(
        client,
        task_queue=queue,
        workflows=[RequestWorkflow, CaseWorkflow],
        activities=recorder.activities,
        interceptors=[HoldStart()],
    ):
        nld, bel = case_request("NLD"), case_request("BEL")
        case = await open_case(client, queue, nld)
        await frozen_everywhere(client, case, [nld])
        acquittal = judgment("acquittal")
        await case_act(case, "record_judgment", acquittal)
        adding = await case.start_update(
            CaseWorkflow.add_state,
            signed(decided_now(AddState, request=bel), case.id),  # signed for this case
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        view = await case_act(case, "release_case", release_act(acquittal))
        assert set(view.parties()) == {"NLD", "BEL"}  # BEL is in the case, not yet started

        async def nld_taken_and_nothing_in_flight() -> bool:
            release = (await case_view(case)).release
            if release is None or release.requests[f"{nld.reference}/NLD"].outcome != "taken":
                return False
            return not (await case.describe()).raw_description.pending_activities

        # Every delivery the case started before BEL exists has its answer.
        await until(nld_taken_and_nothing_in_flight, timeout_s=60)
        release = (await case_view(case)).release
        assert release is not None
        assert release.requests[f"{bel.reference}/BEL"].outcome == "pending", release
        await env.sleep(HELD_FOR * 2)  # the start goes on: BEL's request runs
        await adding.result()

        async def complete() -> bool:
            release = (await case_view(case)).release
            return release is not None and release.complete

        await until(complete, timeout_s=60)
        await both_taken(client, case, bel)


async def test_a_report_dated_in_the_future_never_freezes_the_cases_view(case_worker) -> None:
    """A report is a signal anyone able to reach the case could send. One for NLD's request
    dated fifty years ahead is taken as made at the case's now, never later: NLD's true
    reports that follow (acknowledged, the account frozen) still reach the case's view (old
    code: each looked older than the forged one and was dropped until NLD's closure)."""
    client, queue, _ = case_worker
    nld = case_request("NLD")
    case = await open_case(client, queue, nld)
    handle = client.get_workflow_handle(nld.workflow_id)
    await until(lambda: started(handle))
    forged = RequestSummary.transmitted(nld).model_copy(
        update={"status": RequestStatus.IN_EXECUTION, "as_of": now() + timedelta(days=50 * 365)}
    )
    await case.signal(CaseWorkflow.request_changed, forged)

    async def forged_taken() -> bool:
        summary = (await case_view(case)).requests[forged.key]
        return summary.status is RequestStatus.IN_EXECUTION

    await until(forged_taken)
    held = (await case_view(case)).requests[forged.key]
    assert held.as_of is not None and held.as_of < forged.as_of  # type: ignore[operator]
    await send(handle, acknowledgement(nld))
    await send(handle, freeze_account(nld))

    async def frozen_seen() -> bool:
        summary = (await case_view(case)).requests[forged.key]
        return summary.held.get(ACCOUNT) is AssetStatus.FROZEN

    await until(frozen_seen)
