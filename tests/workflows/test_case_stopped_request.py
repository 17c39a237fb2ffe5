"""A request of a case that an operator terminated (stopped outside the Court's process, not
closed by the Court) is never taken for closed by its case, on the time-skipping server.

RS 74, 81(3)(c), 83(2): the Chamber releases the case. NLD takes the release; BEL's request was
terminated before it. Its frozen account was not released by that (RS 93(1)(k); nothing is
released without a decision, and a decision taken is delivered): BEL is reported ``stopped``
with the server's status, never ``already_closed``, the release stays incomplete, and the
release stays queued, sent again an hour later (old code: BEL was filed ``already_closed`` and
the release never sent again)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from schemas.case import DELIVER_TO_REQUEST, DeliveryResult, RequestSummary
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from tests.workflows import case_support as cs
from tests.workflows.stopping import terminate
from tests.workflows.support import own_env, request_worker
from workflows.case import CaseWorkflow
from workflows.case_deliveries import GONE, RETRY_FIRST, RETRY_LONGEST, as_known, retry_after


async def sends_to(case: WorkflowHandle, request: CourtRequest) -> int:
    """How many deliveries the case scheduled to ``request`` (each attempt of a Court action
    is an activity whose input names the request's workflow)."""
    return len(await send_times(case, request))


async def send_times(case: WorkflowHandle, request: CourtRequest) -> list[datetime]:
    """When (the server's time) the case scheduled each delivery to ``request``."""
    sent: list[datetime] = []
    async for event in case.fetch_history_events():
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        scheduled = event.activity_task_scheduled_event_attributes
        if scheduled.activity_type.name != DELIVER_TO_REQUEST:
            continue
        if any(request.workflow_id.encode() in p.data for p in scheduled.input.payloads):
            sent.append(event.event_time.ToDatetime(tzinfo=UTC))
    return sent


async def test_a_terminated_request_is_reported_stopped_and_sent_the_release_again() -> None:
    async with own_env() as env, request_worker(env, "case-stopped", CaseWorkflow) as (queue, _):
        client = env.client
        nld, bel = cs.case_request("NLD"), cs.case_request("BEL")
        case = await cs.open_case(client, queue, nld, bel)
        await cs.frozen_everywhere(client, case, [nld, bel])
        acquittal = cs.judgment("acquittal")
        await cs.case_act(case, "record_judgment", acquittal)

        async def judgment_delivered() -> bool:  # BEL took it; nothing more on its way there
            return await sends_to(case, bel) == 1 and not await busy(case)

        await cs.until(judgment_delivered)
        await terminate(
            client.get_workflow_handle(bel.workflow_id), "an operator's act (test)", case
        )
        await cs.case_act(case, "release_case", cs.release_act(acquittal))
        nld_key, bel_key = f"{nld.reference}/NLD", f"{bel.reference}/BEL"

        async def both_answered() -> bool:  # each delivery answers on its own
            release = (await cs.case_view(case)).release
            assert release is not None
            assert release.requests[bel_key].outcome != "already_closed", release
            outcomes = (release.requests[bel_key].outcome, release.requests[nld_key].outcome)
            return outcomes[0] == "stopped" and outcomes[1] != "pending"

        await cs.until(both_answered)
        release = (await cs.case_view(case)).release
        assert release is not None
        assert release.requests[nld_key].outcome == "taken"
        assert "terminated" in (release.requests[bel_key].reason or "")
        assert not release.complete  # BEL's account is still frozen there
        before = await sends_to(case, bel)

        await env.sleep(timedelta(hours=2))  # the case's retry of what was not taken

        async def sent_again() -> bool:
            return await sends_to(case, bel) > before

        await cs.until(sent_again)
        release = (await cs.case_view(case)).release
        assert release is not None
        assert release.requests[bel_key].outcome == "stopped"
        assert not release.complete


async def test_a_judgment_a_stopped_request_did_not_take_is_sent_again_within_the_hour() -> None:
    """RS 74, 83(2): the Chamber's judgment reaches NLD; BEL's request was terminated and does
    not take it. Nothing else happens in the case: the judgment is still sent to BEL again an
    hour later (old code: the case went back to its weekly wait, armed before BEL's answer
    came, and BEL would have waited a week for the judgment once restored)."""
    async with own_env() as env, request_worker(env, "case-judged", CaseWorkflow) as (queue, _):
        case, bel = await judged_while_stopped(env.client, queue)
        await env.sleep(timedelta(hours=2))

        async def sent_again() -> bool:
            return await sends_to(case, bel) > 1

        await cs.until(sent_again)


async def test_a_stopped_request_is_tried_ever_less_often_and_never_given_up() -> None:
    """RS 93(1)(k), 75(4): nothing is released without the Chamber's decision reaching the
    request, so the case never gives a Court action up; but a request stopped for weeks is
    not asked every hour either. BEL's request is terminated before the judgment: over a day
    and a half the case tries it again after 1, 2, 4, 8 and 16 hours (old code: every hour,
    each time asking every request of the case where it stands)."""
    async with own_env() as env, request_worker(env, "case-backoff", CaseWorkflow) as (queue, _):
        case, bel = await judged_while_stopped(env.client, queue)
        await env.sleep(timedelta(hours=34))

        async def six_tries() -> bool:
            return await sends_to(case, bel) >= 6

        await cs.until(six_tries)
        sent = await send_times(case, bel)
        gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
        for tried, gap in enumerate(gaps[:5], start=1):
            assert retry_after(tried) <= gap < retry_after(tried) + timedelta(minutes=5), gaps
        assert len(sent) <= 7, gaps  # the sixth wait is a day: at most one more by 34 hours


def test_the_wait_between_tries_doubles_from_an_hour_to_a_day() -> None:
    hours = [retry_after(n) / timedelta(hours=1) for n in range(1, 9)]
    assert hours == [1, 2, 4, 8, 16, 24, 24, 24]
    assert retry_after(0) == RETRY_FIRST  # never sooner than the first wait
    assert retry_after(10**9) == RETRY_LONGEST  # a request stopped for years: daily, no overflow


async def judged_while_stopped(client: Client, queue: str) -> tuple[WorkflowHandle, CourtRequest]:
    """A case of NLD and BEL, frozen in both; BEL's request terminated, then a judgment
    recorded (RS 74, 83(2)): returns once the case tried BEL once and nothing is on its way."""
    nld, bel = cs.case_request("NLD"), cs.case_request("BEL")
    case = await cs.open_case(client, queue, nld, bel)
    await cs.frozen_everywhere(client, case, [nld, bel])
    await terminate(client.get_workflow_handle(bel.workflow_id), "an operator's act (test)", case)
    await cs.case_act(case, "record_judgment", cs.judgment("conviction"))

    async def judged_once() -> bool:
        return await sends_to(case, bel) == 1 and not await busy(case)

    await cs.until(judged_once)
    return case, bel


async def busy(case: WorkflowHandle) -> bool:
    """Whether the case has an activity on its way (a delivery not answered yet)."""
    return bool((await case.describe()).raw_description.pending_activities)


def test_a_request_gone_from_the_server_is_closed_only_if_the_case_saw_it_closed() -> None:
    """A request no longer on the server (``gone``) was closed long ago, or stopped and its
    history deleted after the namespace's retention: only the case knows which. Never
    closed as far as the case knows: ``stopped`` (its measures stand), never ``ended``."""
    bel = cs.case_request("BEL")
    gone = DeliveryResult(outcome="gone", reason="workflow not found")
    executing = RequestSummary.transmitted(bel).model_copy(
        update={"status": RequestStatus.IN_EXECUTION}
    )
    closed = executing.model_copy(update={"status": RequestStatus.CLOSED})
    assert as_known(gone, closed).outcome == "ended"
    for known in (executing, None):
        seen = as_known(gone, known)
        assert (seen.outcome, seen.reason) == ("stopped", GONE)
    refused = DeliveryResult(outcome="refused", reason="asset X-1 valued at 3,000,000 EUR")
    assert as_known(refused, executing) == refused
