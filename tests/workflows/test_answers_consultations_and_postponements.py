"""A State's consultations and postponements (docs/legal-process.md, 'What a State may
answer'): consultation under RS 97(a), 97(c) pauses the request until the Court supplies
information; under RS 93(3), 96(3) it may end in a modified request or the requirements
supplied; postponement under RS 94 (agreed for a period, another period, or refused) and
RS 95 (at once, until resumed). Each driven through the real workflow on a time-skipping test
server, with its rejection where the request cannot take it (nothing written, nothing
published).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    SHARES,
    VESSEL,
    acknowledged,
    assert_rejected,
    consultation,
    court_action,
    court_request,
    execution_report,
    freeze_account,
    in_execution,
    postponement,
    published_count,
    published_since,
    reasons,
    result,
    send,
    settle,
    start_request,
    view,
)
from workflows.carry import RequestCarry
from workflows.ledger import ledger_from_request

S = RequestStatus


def modified(req, **changes: Any) -> dict[str, Any]:
    """The request as the Court modifies it after consultation (RS 93(3), 96(3))."""
    return {**req.model_dump(mode="json"), **changes}


# --- Consultation: RS 97(a), 97(c) ---------------------------------------------------------


@pytest.mark.parametrize("ground", ["RS 97(a)", "RS 97(c)"])
async def test_consultation_rs97_pauses_then_information_supplied_resumes(worker, ground) -> None:
    """RS 97(a) (insufficient information) and RS 97(c) (treaty conflict): the State consults,
    the request pauses in consultation remembering where it stood, and the Court supplying
    the information returns it there."""
    req, handle = await in_execution(worker)
    count = await published_count(handle, worker.published)

    consult = consultation(req, ground)
    assert (await send(handle, consult)).status is S.IN_CONSULTATION
    v = await view(handle)
    assert (v.status, v.resume_status) == (S.IN_CONSULTATION, S.IN_EXECUTION)
    assert v.status.paused
    assert ground in v.timeline[-1].what

    # While paused, the State cannot report execution nor consult a second time.
    await assert_rejected(
        handle,
        worker.published,
        execution_report(req, [result(SHARES, "identify")]),
        "execution_report is not allowed while the request is in_consultation",
    )
    await assert_rejected(
        handle,
        worker.published,
        consultation(req, ground),
        "consultation is not allowed while the request is in_consultation",
    )

    answer = court_action(
        c.ConsultationResponse,
        resolution="information_supplied",
        information="The owner's date of birth and the parcel number are attached.",
    )
    assert (await send(handle, answer)).status is S.IN_EXECUTION
    v = await view(handle)
    assert (v.status, v.resume_status, v.version) == (S.IN_EXECUTION, None, 1)
    assert v.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN  # the ledger is untouched
    assert [t.event_id for t in v.timeline[-2:]] == [consult.event_id, answer.event_id]

    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.answer_type, e.action, e.status) for e in events] == [
        (RequestEventType.ANSWER_ACCEPTED, "consultation", None, S.IN_CONSULTATION),
        (RequestEventType.COURT_ACTION, None, "consultation_response", S.IN_EXECUTION),
    ]


async def test_consultation_response_without_a_consultation_is_rejected(worker) -> None:
    """RS 97: the Court answers a consultation; there is none to answer in execution."""
    _, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.ConsultationResponse, resolution="information_supplied", information="x"),
        "consultation_response is not allowed while the request is in_execution",
    )


async def test_consultation_after_the_final_report_is_rejected(worker) -> None:
    """RS 97: a State consults instead of executing; once the final RS 99 report is in,
    there is nothing left to consult on."""
    req, handle = await acknowledged(worker)
    await send(handle, freeze_account(req, final=True))
    await assert_rejected(
        handle,
        worker.published,
        consultation(req),
        "consultation is not allowed while the request is partially_executed",
    )


# --- Consultation: RS 93(3), 96(3) ---------------------------------------------------------


@pytest.mark.parametrize("ground", ["RS 93(3)", "RS 96(3)"])
async def test_consultation_rs93_3_96_3_may_end_in_a_modified_request(worker, ground) -> None:
    """RS 93(3) (fundamental legal principle): a matter the consultation does not resolve ends
    in the Court modifying the request — information alone does not end it. RS 96(3)
    (national-law requirements) may end in a modification too. The modification is version 2
    of the request, the history is kept, new known assets join the ledger, and a
    'modification' of another request or to another State is refused."""
    req, handle = await in_execution(worker)
    consult = consultation(req, ground)
    await send(handle, consult)

    if ground == "RS 93(3)":
        await assert_rejected(
            handle,
            worker.published,
            court_action(
                c.ConsultationResponse, resolution="information_supplied", information="x"
            ),
            f"a consultation under {ground} that did not resolve the matter ends in the Court "
            "modifying the request",
        )
    for field, other in (("reference", court_request().reference), ("requested_state", "BEL")):
        await assert_rejected(
            handle,
            worker.published,
            court_action(
                c.ConsultationResponse,
                resolution="request_modified",
                modified_request=modified(req, **{field: other}),
            ),
            "a modified request keeps its reference, requested State and case number",
        )

    before = await view(handle)
    car = {
        "asset_id": "a-car-1",
        "kind": "vehicle",
        "description": "Armoured SUV registered to the suspect's company",
        "owner_party_ids": ["c-northwind"],
        "estimated_value": {"amount": "95000.00", "currency": "EUR"},
    }
    changed = modified(
        req,
        measures=["identify", "trace", "freeze", "seize"],
        procedure="Seize the vehicle under the national procedure the State described.",
        known_assets=[*modified(req)["known_assets"], car],
    )
    answer = court_action(
        c.ConsultationResponse, resolution="request_modified", modified_request=changed
    )
    assert (await send(handle, answer)).status is S.IN_EXECUTION

    v = await view(handle)
    assert (v.status, v.version, v.resume_status) == (S.IN_EXECUTION, 2, None)
    assert v.timeline[: len(before.timeline)] == before.timeline  # history kept
    assert v.timeline[-1].event_id == answer.event_id
    assert "version 2" in v.timeline[-1].what
    assert set(v.ledger.entries) == {ACCOUNT, APARTMENT, SHARES, VESSEL, "a-car-1"}
    assert v.ledger.entries["a-car-1"].status is AssetStatus.KNOWN
    assert v.ledger.entries["a-car-1"].asset.kind == "vehicle"
    # What was frozen under version 1 stays frozen, with its history.
    assert v.ledger.entries[ACCOUNT] == before.ledger.entries[ACCOUNT]

    # Version 2 is the request in force: seizure, which version 1 did not ask for, is taken.
    seize = execution_report(req, [result("a-car-1", "identify", "seize")])
    await send(handle, seize)
    assert (await view(handle)).ledger.entries["a-car-1"].status is AssetStatus.SEIZED


async def test_consultation_rs96_3_ends_with_the_requirements_supplied(worker) -> None:
    """RS 96(3): the State advises the specific requirements of its national law (RS 96(2)(e));
    the consultation ends when the Court supplies what they call for — no modification
    needed. The request stays at version 1 and execution resumes where it was."""
    req, handle = await in_execution(worker)
    advised = consultation(
        req,
        "RS 96(3)",
        details="National law requires a certified copy of the warrant and the asset's land "
        "registry number before the investigating judge can order the freeze.",
    )
    assert (await send(handle, advised)).status is S.IN_CONSULTATION
    supplied = court_action(
        c.ConsultationResponse,
        resolution="information_supplied",
        information="Certified copy of the warrant and land registry number 12-3456 attached.",
    )
    assert (await send(handle, supplied)).status is S.IN_EXECUTION
    v = await view(handle)
    assert (v.status, v.version, v.resume_status) == (S.IN_EXECUTION, 1, None)
    assert v.timeline[-1].event_id == supplied.event_id
    assert v.timeline[-1].what == "the Court supplied information"


async def test_request_modified_without_the_new_version_is_a_schema_error() -> None:
    """RS 93(3), 96(3), 97: a modification carries the new version of the request."""
    with pytest.raises(ValidationError, match="modified_request"):
        court_action(c.ConsultationResponse, resolution="request_modified")


# --- Postponement: RS 94, 95 ---------------------------------------------------------------


async def test_postponement_rs94_agreed_for_the_proposed_period(worker) -> None:
    """RS 94: the State proposes a postponement (another investigation); the proposal alone
    pauses no clock; the Court agrees without naming a date, so the proposed period applies;
    the request is postponed, its clock paused."""
    req, handle = await acknowledged(worker)
    proposal = postponement(req, "RS 94", "2026-09-30T00:00:00+02:00")
    assert (await send(handle, proposal)).status is S.POSTPONEMENT_PROPOSED
    v = await view(handle)
    assert (v.status, v.resume_status) == (S.POSTPONEMENT_PROPOSED, S.ACKNOWLEDGED)
    assert v.postponed_until == proposal.proposed_until
    assert not v.status.paused  # the Court has not agreed: the clock runs

    await assert_rejected(
        handle,
        worker.published,
        freeze_account(req),
        "execution_report is not allowed while the request is postponement_proposed",
    )
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.ResumeExecution, **reasons()),
        "resume_execution is not allowed while the request is postponement_proposed",
    )

    agreed = court_action(c.PostponementDecision, agreed=True, **reasons())
    assert (await send(handle, agreed)).status is S.POSTPONED
    v = await view(handle)
    assert (v.status, v.postponed_until) == (S.POSTPONED, proposal.proposed_until)
    assert v.status.paused
    assert "2026-09-30" in v.timeline[-1].what

    # The period ran out: execution resumes where it stood.
    resume = court_action(c.ResumeExecution, reasons="The agreed period has ended.")
    assert (await send(handle, resume)).status is S.ACKNOWLEDGED
    v = await view(handle)
    assert (v.status, v.postponed_until, v.resume_status) == (S.ACKNOWLEDGED, None, None)


async def test_postponement_rs94_agreed_for_another_period_or_refused(worker) -> None:
    """RS 94: the period is the one agreed with the Court (here another date than proposed);
    a refused postponement sends the request back to where it stood."""
    req, handle = await in_execution(worker)
    await send(handle, postponement(req))
    until = datetime(2027, 1, 31, tzinfo=UTC)  # after the decision
    decision = court_action(
        c.PostponementDecision, agreed=True, until=until.isoformat(), **reasons()
    )
    await send(handle, decision)
    v = await view(handle)
    assert (v.status, v.postponed_until) == (S.POSTPONED, until)

    await send(handle, court_action(c.ResumeExecution, **reasons()))
    assert (await view(handle)).status is S.IN_EXECUTION

    await send(handle, postponement(req))
    refused = court_action(c.PostponementDecision, agreed=False, **reasons())
    assert (await send(handle, refused)).status is S.IN_EXECUTION
    v = await view(handle)
    assert (v.status, v.postponed_until, v.resume_status) == (S.IN_EXECUTION, None, None)
    assert "refused" in v.timeline[-1].what


async def test_postponement_agreed_without_any_period_is_rejected(worker) -> None:
    """RS 94: a postponement lasts 'for a period agreed with the Court'; agreeing to one with
    no end date, when none was proposed either, is rejected. (A proposal always carries a
    date, so the request is started from a carried record that lost it.)"""
    req = court_request()
    carried = RequestCarry(
        status=S.POSTPONEMENT_PROPOSED,
        ledger=ledger_from_request(req),
        timeline=[],
        seen_event_ids=[],
        resume_status=S.ACKNOWLEDGED,
    )
    handle = await start_request(worker.client, worker.task_queue, req, carried=carried)
    await settle(handle)
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.PostponementDecision, agreed=True, **reasons()),
        "an agreed RS 94 postponement needs an end date",
    )
    # With a date it is taken.
    until = datetime(2027, 2, 1, tzinfo=UTC)
    decision = court_action(
        c.PostponementDecision, agreed=True, until=until.isoformat(), **reasons()
    )
    assert (await send(handle, decision)).status is S.POSTPONED
    assert (await view(handle)).postponed_until == until


async def test_postponement_rs95_holds_once_the_court_agrees_until_resumed(worker) -> None:
    """RS 95: a postponement while an admissibility challenge is pending has no period to
    agree; it holds, the clock paused, once the Court agrees (the challenge is pending before
    it), with no date; the Court's resume_execution returns the request where it stood."""
    req, handle = await in_execution(worker)
    count = await published_count(handle, worker.published)
    answer = postponement(req, "RS 95", None)
    assert (await send(handle, answer)).status is S.POSTPONEMENT_PROPOSED
    dated = court_action(
        c.PostponementDecision, agreed=True, until="2027-03-31T00:00:00+02:00", **reasons()
    )
    await assert_rejected(handle, worker.published, dated, "lasts while the admissibility")
    agreed = court_action(c.PostponementDecision, agreed=True, **reasons())
    assert (await send(handle, agreed)).status is S.POSTPONED
    v = await view(handle)
    assert (v.status, v.resume_status, v.postponed_until) == (S.POSTPONED, S.IN_EXECUTION, None)
    assert "RS 95" in v.timeline[-1].what and v.status.paused

    await assert_rejected(
        handle,
        worker.published,
        court_action(c.PostponementDecision, agreed=True, **reasons()),
        "postponement_decision is not allowed while the request is postponed",
    )
    resume = court_action(c.ResumeExecution, reasons="The admissibility challenge was rejected.")
    assert (await send(handle, resume)).status is S.IN_EXECUTION
    v = await view(handle)
    assert (v.status, v.resume_status) == (S.IN_EXECUTION, None)
    assert resume.reasons in v.timeline[-1].what
    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.status) for e in events] == [
        (RequestEventType.ANSWER_ACCEPTED, S.POSTPONEMENT_PROPOSED),
        (RequestEventType.COURT_ACTION, S.POSTPONED),
        (RequestEventType.COURT_ACTION, S.IN_EXECUTION),
    ]


async def test_postponement_before_acknowledgement_is_rejected(worker) -> None:
    """RS 94, 95: a State postpones the execution it has taken up; before acknowledging
    receipt there is nothing to postpone."""
    req = court_request()
    handle = await worker.start(req)
    await assert_rejected(
        handle,
        worker.published,
        postponement(req),
        "postponement is not allowed while the request is transmitted",
    )


def test_postponement_rs94_without_a_proposed_period_is_a_schema_error() -> None:
    """RS 94: the postponement is for a period to agree with the Court; the State proposes it."""
    req = court_request()
    with pytest.raises(ValidationError, match="an RS 94 postponement proposes a period"):
        postponement(req, "RS 94", None)
