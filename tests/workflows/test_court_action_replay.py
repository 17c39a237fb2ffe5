"""A genuine signed Court action is taken once in a request's life (review M3, #17).

An insider who captured an organ's signed act (a ``resume_execution``, in the request's history
and on the Court's topic) must not have it taken again once a State's answers' ids have left
the dedupe window, nor after a continue-as-new hand-over: a Court action's id is kept for the
request's life (``workflows/request_seen.py``). Its date is bounded too
(``workflows/court_admission.py``): not after the request's clock (plus a few minutes' skew),
not before the request was issued (a decision cannot predate the request it acts on).
RS 94: the period of a postponement is agreed with the Court, and only the Court resumes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from schemas import court as c
from schemas.court import request_address
from schemas.directory import MAX_SEEN, PartyCarry
from schemas.ledger import RequestStatus as S
from tests.workflows.case_support import case_act, case_request, case_view, judgment, open_case
from tests.workflows.support import (
    ACCOUNT,
    DECIDED_AT,
    acknowledgement,
    assert_rejected,
    conviction,
    court_action,
    court_request,
    execution_report,
    forfeiture,
    new_event_id,
    own_env,
    postponement,
    reasons,
    send,
    view,
)
from tracefreeze.security.organ_keys import signed
from workflows import party_rules as pr
from workflows.carry import MAX_REQUEST_COURT_ACTIONS, RequestCarry, SeenDay
from workflows.court_admission import CLOCK_SKEW, DECISIONS_RESERVED, admit
from workflows.ledger import ledger_from_request
from workflows.outcome import Refusal
from workflows.request_seen import SeenIds


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this module alone (another module's timers would stop the
    sleep past the window)."""
    async with own_env() as env:
        yield env


def until(days: int) -> str:
    """An end ``days`` after the builders' decisions (``DECIDED_AT``)."""
    return (datetime.fromisoformat(DECIDED_AT) + timedelta(days=days)).isoformat()


async def test_a_signed_resume_replayed_after_the_window_and_a_hand_over_is_not_taken(
    env, worker
) -> None:
    """RS 94: the Court resumes a postponed request (its signed act); the State proposes a new
    postponement, the Court agrees; the first resume, sent again as signed once the dedupe
    window has passed and the request has handed over to new runs, is a duplicate: the request
    stays postponed (old code: its id forgotten, the resume taken again, execution resumed)."""
    req = court_request()
    window = timedelta(days=2)
    handle = await worker.start(req, dedupe_window=window, answers_per_run=3)
    await send(handle, acknowledgement(req))
    await send(handle, execution_report(req))
    address = request_address(req.reference, req.requested_state)
    await send(handle, postponement(req))
    agreed = court_action(c.PostponementDecision, agreed=True, until=until(60), **reasons())
    assert (await send(handle, signed(agreed, address))).status is S.POSTPONED
    resume = signed(court_action(c.ResumeExecution, **reasons()), address)
    assert (await send(handle, resume)).status is S.IN_EXECUTION
    latest = worker.client.get_workflow_handle(handle.id)
    run_of_resume = (await latest.describe()).run_id

    await env.sleep(window + timedelta(days=1, hours=1))  # every answer's id has left the window
    await send(handle, postponement(req))
    again = court_action(c.PostponementDecision, agreed=True, until=until(90), **reasons())
    assert (await send(handle, signed(again, address))).status is S.POSTPONED
    assert (await latest.describe()).run_id != run_of_resume  # handed over since the resume

    replayed = await send(handle, resume, update_id=new_event_id())
    assert (replayed.duplicate, replayed.status) == (True, S.POSTPONED)
    assert (await view(handle)).status is S.POSTPONED


async def test_an_action_dated_after_the_requests_clock_is_refused(env, worker) -> None:
    """An act is taken once decided: one dated later than the clock here by more than
    the skew allowed is refused with its reason (old code: the withdrawal was taken)."""
    req = court_request()
    handle = await worker.start(req)
    ahead = await env.get_current_time() + CLOCK_SKEW + timedelta(hours=1)
    withdrawal = court_action(c.Withdrawal, decided_at=ahead, **reasons())
    await assert_rejected(handle, worker.published, withdrawal, "later than the clock here")
    assert (await view(handle)).status is S.TRANSMITTED


async def test_an_action_dated_before_the_request_was_issued_is_refused(worker) -> None:
    """A decision cannot predate the request it acts on: an act dated before the request was
    issued is refused (old code: the withdrawal was taken); dated after, it is taken."""
    req = court_request()
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    before = req.issued_at - CLOCK_SKEW - timedelta(days=1)
    withdrawal = court_action(c.Withdrawal, decided_at=before, **reasons())
    await assert_rejected(handle, worker.published, withdrawal, "before this request was issued")
    receipt = await send(handle, court_action(c.Withdrawal, **reasons()))
    assert receipt.status is S.WITHDRAWN


def test_a_court_actions_id_outlives_the_window_and_the_carry() -> None:
    """A State's answer's id is forgotten after the window; a Court action's is kept, carried
    and read back (``RequestCarry.court_ids``); rolled back, it is forgotten at once."""
    day = datetime(2026, 5, 1, 12, tzinfo=UTC)
    seen = SeenIds([], [], 0, day)
    seen.add("answer-1", day)
    seen.add("action-1", day, court=True)
    seen.add("action-2", day, court=True)
    seen.discard("action-2")
    later, window = day + timedelta(days=30), timedelta(days=22)
    seen.forget_before(later, window)
    assert "answer-1" not in seen and "action-1" in seen and "action-2" not in seen
    carried = SeenIds(
        [SeenDay(day=d.day, digests=d.digests) for d in seen.carried()],
        [],
        seen.taken,
        later,
        seen.court_carried(),
    )
    assert "action-1" in carried and carried.court_actions == 1 and len(carried) == 2


def test_a_party_directory_never_forgets_a_court_actions_id() -> None:
    """Rule 180(2): an agreed change of channel, captured and sent again after the directory
    took ``MAX_SEEN`` more Court actions, is still a no-op (old code: the oldest ids were
    dropped to make room, and the change taken again); past the cap a new act is refused."""
    carry = PartyCarry.model_construct(seen=[])  # its ids alone
    pr.remember(carry, "agreed-change-1")
    for i in range(MAX_SEEN):  # the handler remembers what its validator let through
        pr.remember(carry, f"act-{i}")
    assert "agreed-change-1" in carry.seen
    with pytest.raises(Refusal, match="its cap"):
        pr.check_room(carry, court_action(c.Withdrawal, **reasons()))  # a Chamber's


async def test_a_case_refuses_a_judgment_dated_after_its_clock(env, case_worker) -> None:
    """What a case takes it relays to its requests, which refuse an act dated ahead of their
    clock: the case refuses it first, with the reason (old code: recorded, then relayed)."""
    client, queue, _ = case_worker
    case = await open_case(client, queue, case_request("NLD"))
    ahead = await env.get_current_time() + CLOCK_SKEW + timedelta(hours=1)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await case_act(case, "record_judgment", judgment("conviction", decided_at=ahead))
    assert "later than the clock here" in str(refused.value.cause)
    assert (await case_view(case)).judgments == []


def test_a_request_refuses_a_court_action_past_its_cap() -> None:
    """The Court actions' ids kept for ever are bounded: past ``MAX_REQUEST_COURT_ACTIONS`` a
    new act is refused with its reason, and the carry stays bounded."""
    req = court_request()
    rec = RequestCarry(status=S.IN_EXECUTION, ledger=ledger_from_request(req), timeline=[])
    at = datetime.fromisoformat(DECIDED_AT)
    seen = SeenIds([], [], 0, at)
    for i in range(MAX_REQUEST_COURT_ACTIONS - 1):
        seen.add(f"act-{i}", at, court=True)
    withdrawal = court_action(c.Withdrawal, **reasons())
    admit(rec, seen, req, withdrawal, at, signature=False)  # one more has room
    seen.add(withdrawal.event_id, at, court=True)
    with pytest.raises(Refusal, match="Court actions, its cap"):
        admit(rec, seen, req, court_action(c.Withdrawal, **reasons()), at, signature=False)


def test_a_decision_in_the_case_may_predate_the_request_a_measure_may_not() -> None:
    """RS 81(4), 109; Rule 217: the final conviction comes before the Presidency's enforcement
    request, and a request issued after judgment (assets found since) takes the judgment and
    the forfeiture order given with the sentence (RS 77(2)(b)); a release of the request's own
    measures dated before it was issued is refused."""
    req = court_request()
    rec = RequestCarry(status=S.IN_EXECUTION, ledger=ledger_from_request(req), timeline=[])
    at = req.issued_at + timedelta(days=1)
    seen = SeenIds([], [], 0, at)
    months_before = req.issued_at - timedelta(days=90)
    final = conviction(decided_at=months_before, delivered_on=months_before.date())
    admit(rec, seen, req, final, at, signature=False)
    order = forfeiture(ACCOUNT).model_copy(update={"decided_at": months_before})
    admit(rec, seen, req, order, at, signature=False)
    release = court_action(c.Release, asset_ids=[ACCOUNT], ground="revocation", **reasons())
    with pytest.raises(Refusal, match="before this request was issued"):
        admit(rec, seen, req, release.model_copy(update={"decided_at": months_before}), at, False)


def test_the_registrys_acts_leave_room_for_the_chambers_decisions() -> None:
    """However many administrative acts the Registry records (an exchange rate each day, RS
    43(1)), a Chamber's release (RS 57(3)(e)) or withdrawal still finds room."""
    req = court_request()
    rec = RequestCarry(status=S.IN_EXECUTION, ledger=ledger_from_request(req), timeline=[])
    at = datetime.fromisoformat(DECIDED_AT)
    seen = SeenIds([], [], 0, at)
    for i in range(MAX_REQUEST_COURT_ACTIONS - DECISIONS_RESERVED):
        seen.add(f"rate-{i}", at, court=True)
    close = court_action(c.CloseRequest, decided_by="Registrar", reason="Done.")
    with pytest.raises(Refusal, match="the Registry's acts' share"):
        admit(rec, seen, req, close, at, signature=False)
    admit(rec, seen, req, court_action(c.Withdrawal, **reasons()), at, signature=False)
