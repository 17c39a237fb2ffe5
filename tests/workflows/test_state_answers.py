"""Every answer a State may give (docs/legal-process.md, 'What a State may answer'), driven
through the real workflow on a time-skipping test server: its effect on the request and the
ledger, and its rejection where the request cannot take it (nothing written, nothing published)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import court as c
from schemas.answers import Denial
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, CurrencyTotals, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    SHARES,
    VESSEL,
    acknowledgement,
    assert_rejected,
    asset_management,
    close_action,
    consultation,
    court_action,
    court_request,
    denial,
    domestic_challenge,
    example,
    execution_report,
    freeze_account,
    freeze_limit,
    no_assets,
    postponement,
    published_count,
    published_since,
    reasons,
    result,
    send,
    settle,
    start_request,
    state_answer,
    third_party_claim,
)
from workflows.carry import RequestCarry
from workflows.ledger import ledger_from_request
from workflows.request import RequestWorkflow

S = RequestStatus
ACCOUNT_EUR = Decimal("398214.37")
APARTMENT_EUR = Decimal("860000.00")


async def acknowledged(worker, **request_fields: Any):
    req = court_request(**request_fields)
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    return req, handle


async def in_execution(worker, **request_fields: Any):
    """Acknowledged, then the example RS 99 report: account and apartment frozen, vessel
    identified and traced."""
    req, handle = await acknowledged(worker, **request_fields)
    await send(handle, execution_report(req))
    return req, handle


async def view(handle):
    return await handle.query(RequestWorkflow.view)


def modified(req, **changes: Any) -> dict[str, Any]:
    """The request as the Court modifies it after consultation (RS 93(3), 96(3))."""
    return {**req.model_dump(mode="json"), **changes}


# --- Acknowledgement ---------------------------------------------------------------------


async def test_acknowledgement_starts_execution_and_comes_once(worker) -> None:
    """Acknowledgement of receipt (practice) moves the request to acknowledged; a second one
    is rejected (the clock starts once)."""
    req = court_request()
    handle = await worker.start(req)
    ack = acknowledgement(req)
    assert (await send(handle, ack)).status is S.ACKNOWLEDGED
    v = await view(handle)
    assert v.status is S.ACKNOWLEDGED
    assert v.timeline[-1].event_id == ack.event_id
    assert ack.authority in v.timeline[-1].what

    await assert_rejected(
        handle,
        worker.published,
        acknowledgement(req),
        "acknowledgement is not allowed while the request is acknowledged",
    )


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
    """RS 94: the State proposes a postponement (another investigation); the Court agrees
    without naming a date, so the proposed period applies; the request is postponed."""
    req, handle = await acknowledged(worker)
    proposal = postponement(req, "RS 94", "2026-09-30T00:00:00+02:00")
    assert (await send(handle, proposal)).status is S.POSTPONEMENT_PROPOSED
    v = await view(handle)
    assert (v.status, v.resume_status) == (S.POSTPONEMENT_PROPOSED, S.ACKNOWLEDGED)
    assert v.postponed_until == proposal.proposed_until
    assert v.status.paused

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
    until = datetime(2026, 7, 31, tzinfo=UTC)
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
    until = datetime(2026, 8, 1, tzinfo=UTC)
    decision = court_action(
        c.PostponementDecision, agreed=True, until=until.isoformat(), **reasons()
    )
    assert (await send(handle, decision)).status is S.POSTPONED
    assert (await view(handle)).postponed_until == until


async def test_postponement_rs95_postpones_at_once_until_resumed(worker) -> None:
    """RS 95: while an admissibility challenge is pending the State postpones at once, with
    no period to agree; the Court's resume_execution returns the request where it stood."""
    req, handle = await in_execution(worker)
    count = await published_count(handle, worker.published)
    answer = postponement(req, "RS 95", None)
    assert (await send(handle, answer)).status is S.POSTPONED
    v = await view(handle)
    assert (v.status, v.resume_status, v.postponed_until) == (S.POSTPONED, S.IN_EXECUTION, None)
    assert "RS 95" in v.timeline[-1].what

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
        (RequestEventType.ANSWER_ACCEPTED, S.POSTPONED),
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


# --- Denial: RS 93(4), 93(6) -----------------------------------------------------------------


def test_denial_without_real_reasons_is_a_schema_error() -> None:
    """RS 93(6): a State that denies must give reasons; a few words are not reasons."""
    req = court_request()
    with pytest.raises(ValidationError, match="reasons"):
        denial(req, reasons="national security")
    with pytest.raises(ValidationError, match="reasons"):
        state_answer(Denial, req)


async def test_denial_then_close_when_nothing_is_restrained(worker) -> None:
    """RS 93(4): denial on national-security grounds of a request to identify and trace (the
    disclosure of records) makes the request denied; with nothing frozen the Registry may close
    it and the workflow completes."""
    req, handle = await acknowledged(worker, measures=["identify", "trace"])
    answer = denial(req)
    assert (await send(handle, answer)).status is S.DENIED
    assert "RS 93(4)" in (await view(handle)).timeline[-1].what
    await assert_rejected(
        handle,
        worker.published,
        denial(req),
        "denial is not allowed while the request is denied",
    )
    close = close_action()
    assert (await send(handle, close)).status is S.CLOSED
    final = await handle.result()
    assert final.status is S.CLOSED
    assert [t.event_id for t in final.timeline][-2:] == [answer.event_id, close.event_id]


async def test_denial_of_a_request_to_freeze_is_refused_and_the_assets_stay_frozen(
    worker,
) -> None:
    """RS 93(4) reaches only the production of documents or disclosure of evidence relating to
    national security (art. 72), not the freezing or seizure of assets: a denial of a request
    to freeze is refused with the reason, writes nothing, and the frozen assets stay frozen
    (old code accepted it and the request was denied)."""
    req, handle = await in_execution(worker)
    before = await view(handle)
    await assert_rejected(
        handle, worker.published, denial(req), "it does not allow denying the freeze of assets"
    )
    after = await view(handle)
    assert after.status is S.IN_EXECUTION
    assert after.ledger == before.ledger


async def test_denial_after_the_final_report_is_rejected(worker) -> None:
    """RS 93(4): a denial refuses execution; once the State reported the execution as
    complete (RS 99), it can no longer deny it."""
    req, handle = await acknowledged(worker)
    await send(handle, freeze_account(req, final=True))
    await assert_rejected(
        handle,
        worker.published,
        denial(req),
        "denial is not allowed while the request is partially_executed",
    )


# --- Execution report and no assets: RS 99 -------------------------------------------------


async def test_execution_report_partial_then_complete(worker) -> None:
    """RS 99: per-measure progress — identified and traced in a partial report, frozen in the
    final one; the request goes in_execution, then executed; one frozen event per asset."""
    req = court_request(known_assets=[example("court-request")["known_assets"][0]])
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    count = await published_count(handle, worker.published)

    partial = execution_report(
        req, [result(ACCOUNT, "identify", "trace", value=("401000.00", "EUR"))]
    )
    assert (await send(handle, partial)).status is S.IN_EXECUTION
    entry = (await view(handle)).ledger.entries[ACCOUNT]
    assert (entry.status, entry.measures_executed) == (AssetStatus.TRACED, ["identify", "trace"])

    final = execution_report(
        req, [result(ACCOUNT, "freeze", value=("398214.37", "EUR"))], final=True
    )
    assert (await send(handle, final)).status is S.EXECUTED
    v = await view(handle)
    entry = v.ledger.entries[ACCOUNT]
    assert entry.status is AssetStatus.FROZEN
    assert entry.measures_executed == ["identify", "trace", "freeze"]
    assert [(h.event_id, h.status) for h in entry.history] == [
        (partial.event_id, AssetStatus.TRACED),
        (final.event_id, AssetStatus.FROZEN),
    ]
    assert v.totals["EUR"].frozen == ACCOUNT_EUR

    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.caused_by) for e in events] == [
        (RequestEventType.ANSWER_ACCEPTED, partial.event_id),
        (RequestEventType.ANSWER_ACCEPTED, final.event_id),
        (RequestEventType.ASSET_FROZEN, final.event_id),
    ]

    await assert_rejected(
        handle,
        worker.published,
        execution_report(req, [result(ACCOUNT, "freeze")]),
        "the request is executed: a supplementary execution report records newly found "
        "assets only (RS 93(1)(k), 99), and a-account-1 is already in the ledger",
    )


async def test_an_execution_report_without_an_acknowledgement_has_acknowledged(worker) -> None:
    """Receipt is practice, and an RS 99 execution report implies it: a State that reports
    without first acknowledging is taken as having acknowledged — the report is accepted
    from *transmitted*, the request is in execution, the cooperation report counts receipt at
    the report, and a separate acknowledgement afterwards has nothing left to acknowledge."""
    req = court_request()
    handle = await worker.start(req)
    report = freeze_account(req)
    assert (await send(handle, report)).status is S.IN_EXECUTION
    v = await view(handle)
    assert v.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    assert v.timeline[-1].event_id == report.event_id
    await assert_rejected(
        handle,
        worker.published,
        acknowledgement(req),
        "acknowledgement is not allowed while the request is in_execution",
    )


async def test_no_assets_without_an_acknowledgement_has_acknowledged(worker) -> None:
    """RS 99 'no assets found' implies receipt as an execution report does."""
    req = court_request()
    handle = await worker.start(req)
    assert (await send(handle, no_assets(req))).status is S.NO_ASSETS


async def test_no_assets_ends_execution_and_is_refused_once_assets_are_frozen(worker) -> None:
    """RS 99: 'no assets found' ends execution for the State; after a report froze assets it
    contradicts the ledger and is rejected."""
    req, handle = await acknowledged(worker)
    answer = no_assets(req)
    assert (await send(handle, answer)).status is S.NO_ASSETS
    assert (await view(handle)).timeline[-1].what == "no assets found"

    req, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        no_assets(req),
        "no-assets report contradicts assets already frozen or seized",
    )


# --- Third-party claim: RS 93(1)(k), 77(2)(b), Rule 99 ---------------------------------------


async def test_third_party_claim_contests_the_asset_and_blocks_forfeiture(worker) -> None:
    """RS 93(1)(k) 'without prejudice to the rights of bona fide third parties': a claim
    contests the frozen apartment (asset contested event); the request's status is unchanged
    and forfeiture (RS 77(2)(b)) is refused while the claim is pending."""
    req, handle = await in_execution(worker)
    count = await published_count(handle, worker.published)
    claim = third_party_claim(req, APARTMENT, "claim-7")
    assert (await send(handle, claim)).status is S.IN_EXECUTION

    v = await view(handle)
    apartment = v.ledger.entries[APARTMENT]
    assert apartment.status is AssetStatus.FROZEN
    assert apartment.contested
    assert [(x.contest_id, x.kind, x.lodged_by_event, x.pending) for x in apartment.contests] == [
        ("claim-7", "third_party_claim", claim.event_id, True)
    ]
    assert not v.ledger.entries[ACCOUNT].contested
    assert v.timeline[-1].what == f"third-party claim claim-7 on {APARTMENT}"

    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.caused_by) for e in events] == [
        (RequestEventType.ANSWER_ACCEPTED, claim.event_id),
        (RequestEventType.ASSET_CONTESTED, claim.event_id),
    ]
    assert (events[1].asset.asset_id, events[1].asset.status) == (APARTMENT, AssetStatus.FROZEN)

    await assert_rejected(
        handle,
        worker.published,
        court_action(c.ForfeitureOrder, order_reference="ICC-01/22-F-1", asset_ids=[APARTMENT]),
        f"asset {APARTMENT!r} is contested",
    )


async def test_third_party_claim_rejections(worker) -> None:
    """RS 93(1)(k): a claim is against a measure — on an asset not frozen or seized it is
    rejected; the same claim id twice is rejected; an unknown asset is rejected."""
    req, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        third_party_claim(req, SHARES),
        f"asset {SHARES!r} is known, not frozen or seized",
    )
    await assert_rejected(
        handle,
        worker.published,
        third_party_claim(req, VESSEL),
        f"asset {VESSEL!r} is traced, not frozen or seized",
    )
    await assert_rejected(
        handle,
        worker.published,
        third_party_claim(req, "a-unknown-1"),
        "unknown asset 'a-unknown-1'",
    )
    await send(handle, third_party_claim(req, APARTMENT, "claim-1"))
    await assert_rejected(
        handle,
        worker.published,
        third_party_claim(req, APARTMENT, "claim-1"),
        f"'claim-1' was already lodged against {APARTMENT!r}",
    )


# --- Domestic challenge (cf. EU 2018/1805 art. 33) -----------------------------------------


async def test_domestic_challenge_lodged_then_dismissed_clears_the_contest(worker) -> None:
    """cf. EU 2018/1805 art. 33: a domestic remedy contests the asset while pending; its
    dismissal clears the contest, and forfeiture (RS 77(2)(b)) is possible again."""
    req, handle = await in_execution(worker)
    count = await published_count(handle, worker.published)
    lodged = domestic_challenge(req, ACCOUNT, "ch-1")
    await send(handle, lodged)
    assert (await view(handle)).ledger.entries[ACCOUNT].contested

    await assert_rejected(
        handle,
        worker.published,
        court_action(c.ForfeitureOrder, order_reference="ICC-01/22-F-2", asset_ids=[ACCOUNT]),
        "is contested",
    )
    dismissed = domestic_challenge(req, ACCOUNT, "ch-1", "dismissed")
    await send(handle, dismissed)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FROZEN
    assert not account.contested
    assert [(x.pending, x.outcome) for x in account.contests] == [(False, "dismissed")]

    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.caused_by) for e in events] == [
        (RequestEventType.ANSWER_ACCEPTED, lodged.event_id),
        (RequestEventType.ASSET_CONTESTED, lodged.event_id),
        (RequestEventType.ANSWER_ACCEPTED, dismissed.event_id),
    ]
    # Decided once: deciding it again, or a challenge never lodged, is rejected.
    for challenge_id in ("ch-1", "ch-9"):
        await assert_rejected(
            handle,
            worker.published,
            domestic_challenge(req, ACCOUNT, challenge_id, "upheld"),
            f"no pending domestic challenge {challenge_id!r} on {ACCOUNT!r}",
        )
    forfeit = court_action(c.ForfeitureOrder, order_reference="ICC-01/22-F-2", asset_ids=[ACCOUNT])
    await send(handle, forfeit)
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.FORFEITURE_ORDERED


async def test_domestic_challenge_upheld_is_recorded_and_awaits_the_court(worker) -> None:
    """A domestic remedy (national law; cf. EU 2018/1805 art. 33) upheld by the State's court
    is a fact in its legal order, not a decision of the Court: the apartment stays frozen,
    shows the remedy upheld and awaiting the Court, and nothing is released (old code
    released it on the State's report). The Court's release, by a Chamber, releases it."""
    req, handle = await in_execution(worker)
    await send(handle, domestic_challenge(req, APARTMENT, "ch-2"))
    count = await published_count(handle, worker.published)
    upheld = domestic_challenge(req, APARTMENT, "ch-2", "upheld")
    await send(handle, upheld)

    v = await view(handle)
    apartment = v.ledger.entries[APARTMENT]
    assert (apartment.status, apartment.release_ground) == (AssetStatus.FROZEN, None)
    [contest] = apartment.contests
    assert (contest.pending, contest.outcome, contest.awaits_court) == (False, "upheld", True)
    assert apartment.history[-1].event_id == upheld.event_id
    assert "awaits the Court" in apartment.history[-1].note
    assert v.totals["EUR"].released == 0
    assert v.totals["EUR"].frozen == ACCOUNT_EUR + APARTMENT_EUR

    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.asset.asset_id if e.asset else None) for e in events] == [
        (RequestEventType.ANSWER_ACCEPTED, None),
    ]
    # Decided once: the same challenge cannot be reported upheld again.
    await assert_rejected(
        handle,
        worker.published,
        domestic_challenge(req, APARTMENT, "ch-2", "upheld"),
        f"no pending domestic challenge 'ch-2' on {APARTMENT!r}",
    )
    release = court_action(c.Release, asset_ids=[APARTMENT], ground="domestic_remedy", **reasons())
    await send(handle, release)
    apartment = (await view(handle)).ledger.entries[APARTMENT]
    assert (apartment.status, apartment.release_ground) == (AssetStatus.RELEASED, "domestic_remedy")


async def test_a_domestic_challenge_never_decides_a_third_party_claim(worker) -> None:
    """RS 93(1)(k), Rule 99: a bona fide third party's claim is the Court's to decide. A State's
    domestic-challenge answer naming the claim's id may not mark it dismissed (old code did,
    clearing the contest and opening the asset to forfeiture) nor upheld (releasing the asset);
    and the Court's claim decision does not decide a domestic challenge."""
    req, handle = await in_execution(worker)
    await send(handle, third_party_claim(req, APARTMENT, "claim-1"))
    await send(handle, domestic_challenge(req, ACCOUNT, "ch-1"))
    for outcome in ("dismissed", "upheld"):
        await assert_rejected(
            handle,
            worker.published,
            domestic_challenge(req, APARTMENT, "claim-1", outcome),
            f"no pending domestic challenge 'claim-1' on {APARTMENT!r}",
        )
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.ThirdPartyClaimDecision, claim_id="ch-1", upheld=True, **reasons()),
        "no third-party claim 'ch-1' on this request",
    )
    v = await view(handle)
    claim = v.ledger.entries[APARTMENT].contests[0]
    assert (claim.kind, claim.pending, claim.outcome) == ("third_party_claim", True, None)
    assert v.ledger.entries[APARTMENT].contested
    # The Court still decides the claim, and the State still reports its own challenge.
    await send(
        handle,
        court_action(c.ThirdPartyClaimDecision, claim_id="claim-1", upheld=False, **reasons()),
    )
    await send(handle, domestic_challenge(req, ACCOUNT, "ch-1", "dismissed"))
    v = await view(handle)
    assert [(x.pending, x.outcome) for x in v.ledger.entries[APARTMENT].contests] == [
        (False, "dismissed")
    ]
    assert [(x.pending, x.outcome) for x in v.ledger.entries[ACCOUNT].contests] == [
        (False, "dismissed")
    ]


# --- Asset management (cf. EU 2018/1805 art. 28) -------------------------------------------


async def test_asset_management_builds_the_valuation_history(worker) -> None:
    """cf. EU 2018/1805 art. 28: valuation, depreciation and interlocutory sale of a frozen
    asset each update its value and add to its history; totals follow the latest value."""
    req, handle = await in_execution(worker)
    updates = [
        asset_management(req, ACCOUNT, "400000.00", kind="valuation"),
        asset_management(req, APARTMENT, "820000.00", kind="depreciation"),
        asset_management(req, APARTMENT, "805000.00", kind="interlocutory_sale"),
    ]
    for update in updates:
        assert (await send(handle, update)).status is S.IN_EXECUTION

    v = await view(handle)
    apartment = v.ledger.entries[APARTMENT]
    assert (apartment.value.amount, apartment.value.currency) == (Decimal("805000.00"), "EUR")
    assert apartment.asset_manager == updates[2].asset_manager
    assert apartment.status is AssetStatus.FROZEN
    assert [(h.event_id, h.value.amount) for h in apartment.history[1:]] == [
        (updates[1].event_id, Decimal("820000.00")),
        (updates[2].event_id, Decimal("805000.00")),
    ]
    assert apartment.history[1].note.startswith("depreciation by ")
    assert apartment.history[2].note.endswith("the proceeds replace the asset")
    assert [h.value.amount for h in v.ledger.entries[ACCOUNT].history] == [
        ACCOUNT_EUR,
        Decimal("400000.00"),
    ]
    frozen = Decimal("400000.00") + Decimal("805000.00")
    assert v.totals["EUR"] == CurrencyTotals(
        identified=frozen + Decimal("1150000.00"), frozen=frozen
    )
    assert v.timeline[-1].what == f"interlocutory_sale of {APARTMENT}: 805000.00 EUR"


async def test_asset_management_rejections(worker) -> None:
    """cf. EU 2018/1805 art. 28: totals are never converted, so a valuation in another
    currency than the asset's is rejected; an asset not under a measure is not managed."""
    req, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        asset_management(req, ACCOUNT, "360000.00", "USD"),
        f"asset {ACCOUNT!r} is valued in EUR, not USD",
    )
    await assert_rejected(
        handle,
        worker.published,
        asset_management(req, VESSEL, "1000000.00"),
        f"asset {VESSEL!r} is traced, not frozen or seized",
    )


# --- Freeze limit (cf. EU 2018/1805 art. 12) -----------------------------------------------


async def test_freeze_limit_proposal_sets_the_limit_on_the_named_assets(worker) -> None:
    """cf. EU 2018/1805 art. 12: the State proposes to end a freeze on a date; the ledger keeps
    the date on the named assets (a timer the Court must beat), only on those."""
    req, handle = await in_execution(worker)
    proposal = freeze_limit(req, ACCOUNT, proposed_until="2026-10-01T00:00:00+02:00")
    assert (await send(handle, proposal)).status is S.IN_EXECUTION
    v = await view(handle)
    assert v.ledger.entries[ACCOUNT].freeze_limit_until == proposal.proposed_until
    assert v.ledger.entries[APARTMENT].freeze_limit_until is None
    assert "2026-10-01" in v.timeline[-1].what


async def test_freeze_limit_proposal_rejections(worker) -> None:
    """cf. EU 2018/1805 art. 12: a limit applies to a freeze — on an asset not frozen or
    seized it is rejected (all or nothing), and so is a limit that ends before it is sent."""
    req, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        freeze_limit(req, ACCOUNT, SHARES),
        f"asset {SHARES!r} is known, not frozen or seized",
    )
    await assert_rejected(
        handle,
        worker.published,
        freeze_limit(req, ACCOUNT, proposed_until="2026-03-01T00:00:00+02:00"),
        "proposed_until must be after the proposal is sent",
    )
    assert (await view(handle)).ledger.entries[ACCOUNT].freeze_limit_until is None


async def test_asset_answers_before_acknowledgement_are_rejected(worker) -> None:
    """Asset-level answers (claim, challenge, management, freeze limit) follow receipt."""
    req = court_request()
    handle = await worker.start(req)
    for answer in (
        third_party_claim(req, ACCOUNT),
        domestic_challenge(req, ACCOUNT),
        asset_management(req, ACCOUNT, "1.00"),
        freeze_limit(req, ACCOUNT),
    ):
        await assert_rejected(
            handle,
            worker.published,
            answer,
            f"{answer.answer_type} is not allowed while the request is transmitted",
        )
    assert len(worker.published.events(req.reference)) == 1  # the transmission only


async def test_upheld_domestic_challenge_leaves_a_third_party_claim_to_the_court(
    worker,
) -> None:
    """RS 93(1)(k), Rule 99: a bona fide third party's claim is the Court's to decide. A
    State's report that its court upheld a domestic remedy on the same asset neither releases
    the asset nor touches the claim (old code released the asset and marked the claim no
    longer pending); the Court then decides the claim, which releases the asset."""
    req, handle = await in_execution(worker)
    await send(handle, third_party_claim(req, APARTMENT, "claim-1"))
    await send(handle, domestic_challenge(req, APARTMENT, "ch-1"))
    await send(handle, domestic_challenge(req, APARTMENT, "ch-1", "upheld"))
    apartment = (await view(handle)).ledger.entries[APARTMENT]
    assert apartment.status is AssetStatus.FROZEN
    assert apartment.contested
    claim = next(x for x in apartment.contests if x.contest_id == "claim-1")
    assert (claim.pending, claim.outcome) == (True, None)
    await send(
        handle,
        court_action(c.ThirdPartyClaimDecision, claim_id="claim-1", upheld=True, **reasons()),
    )
    apartment = (await view(handle)).ledger.entries[APARTMENT]
    assert (apartment.status, apartment.release_ground) == (AssetStatus.RELEASED, "third_party")
