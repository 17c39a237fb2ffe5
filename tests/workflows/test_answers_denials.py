"""A State's denial of a request (RS 93(4), 93(6), art. 72; docs/legal-process.md, 'What a State
may answer'): the art. 72(5) consultation first, with its outcome recorded; a denial only of
the production of documents or disclosure of evidence (identify, trace), in whole or in part
and per asset, never of a freeze or seizure; reasons, or their specific description withheld
under art. 72(6); the Court's art. 72(7) determination; RS 93(3) consultations that end with
conditions. Each driven through the real workflow on the time-skipping test server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from schemas.answers import Denial
from schemas.court import ConsultationResponse, NationalSecurityDetermination
from schemas.denials import DenialRecord, NationalSecurityConsultation
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import CourtRequest
from tests.workflows.support import (
    ACCOUNT,
    SHARES,
    VESSEL,
    acknowledged,
    assert_rejected,
    close_action,
    consultation,
    court_action,
    court_request,
    denial,
    execution_report,
    freeze_account,
    in_execution,
    reasons,
    result,
    send,
    state_answer,
    view,
)
from workflows import denial_rules
from workflows.carry import RequestCarry
from workflows.ledger import ledger_from_request
from workflows.outcome import Refusal

S = RequestStatus
TRIED = "Summaries and redactions were discussed and found insufficient."


def unresolved() -> ConsultationResponse:
    """The Court ends the art. 72(5) consultation: every reasonable step taken, unresolved."""
    return court_action(ConsultationResponse, resolution="not_resolved", information=TRIED)


def determination(denied: Denial, outcome: str, **fields: Any) -> NationalSecurityDetermination:
    return court_action(
        NationalSecurityDetermination,
        denial_event_id=denied.event_id,
        outcome=outcome,
        **reasons(**fields),
    )


async def consulted(handle: Any, req: CourtRequest) -> None:
    """The art. 72(5) consultation, ended unresolved: the State may now deny (art. 72(6))."""
    await send(handle, consultation(req, "RS 72(5)"))
    await send(handle, unresolved())


# --- Reasons: RS 93(6), art. 72(6) ----------------------------------------------------------


def test_rs93_6_denial_without_real_reasons_is_a_schema_error() -> None:
    """RS 93(6): a State that denies must give reasons; a few words are not reasons."""
    req = court_request()
    with pytest.raises(ValidationError, match="reasons"):
        denial(req, reasons="national security")
    with pytest.raises(ValidationError, match="RS 93\\(6\\)"):
        state_answer(Denial, req)


def test_art72_6_specific_reasons_may_be_withheld_and_only_then_left_out() -> None:
    """art. 72(6): the State notifies its decision with the specific reasons unless their
    specific description would itself necessarily prejudice its national security; then it
    says so and may leave them out. The same measure listed twice is refused."""
    req = court_request()
    withheld = state_answer(Denial, req, specific_reasons_withheld=True)
    assert withheld.reasons is None
    with pytest.raises(ValidationError, match="each measure may be listed once"):
        denial(req, measures=["trace", "trace"])


# --- The art. 72(5) consultation comes first ------------------------------------------------


async def test_rs93_4_art72_5_a_denial_before_the_consultation_ended_unresolved_is_refused(
    worker,
) -> None:
    """RS 93(4) is invoked in accordance with art. 72: the State and the Court first seek to
    resolve the matter by cooperative means (art. 72(5)); only once every reasonable step was
    taken may the State deny (art. 72(6)). Refused before the consultation and while it runs;
    taken once the Court recorded it unresolved; then the Registry may close (old code took a
    denial at once, with no consultation)."""
    req, handle = await acknowledged(worker, measures=["identify", "trace"])
    await assert_rejected(handle, worker.published, denial(req), "consult under RS 72(5) first")
    assert (await send(handle, consultation(req, "RS 72(5)"))).status is S.IN_CONSULTATION
    assert "art. 72(5)" in (await view(handle)).timeline[-1].what
    await assert_rejected(handle, worker.published, denial(req), "still under way")
    assert (await send(handle, unresolved())).status is S.ACKNOWLEDGED
    assert "ended unresolved" in (await view(handle)).timeline[-1].what
    answer = denial(req)
    assert (await send(handle, answer)).status is S.DENIED
    assert "denied in whole" in (await view(handle)).timeline[-1].what
    assert "with reasons (RS 93(6))" in (await view(handle)).timeline[-1].what
    await assert_rejected(
        handle, worker.published, denial(req), "denial is not allowed while the request is denied"
    )
    close = close_action()
    assert (await send(handle, close)).status is S.CLOSED
    final = await handle.result()
    assert [t.event_id for t in final.timeline][-2:] == [answer.event_id, close.event_id]


async def test_art72_5_d_conditions_agreed_resolve_the_matter_and_bar_the_denial(worker) -> None:
    """art. 72(5)(d): the consultation may end with the assistance given subject to
    conditions (summaries, limits on disclosure), which the Court abides by; the matter is
    resolved, so a denial is refused until a new consultation ends unresolved."""
    req, handle = await acknowledged(worker, measures=["identify", "trace"])
    await send(handle, consultation(req, "RS 72(5)"))
    terms = "Account records disclosed as summaries, for the Chamber's eyes only."
    agreed = court_action(ConsultationResponse, resolution="conditions_agreed", conditions=terms)
    assert (await send(handle, agreed)).status is S.ACKNOWLEDGED
    assert terms in (await view(handle)).timeline[-1].what
    await assert_rejected(
        handle, worker.published, denial(req), "resolved the matter (conditions_agreed"
    )
    await consulted(handle, req)
    assert (await send(handle, denial(req))).status is S.DENIED


async def test_only_an_art72_5_consultation_ends_unresolved(worker) -> None:
    """RS 97(a) ends with information supplied or a modification, never 'unresolved', and
    conditions are agreed only under RS 93(3) or art. 72(5)(d)."""
    req, handle = await acknowledged(worker)
    await send(handle, consultation(req, "RS 97(a)"))
    await assert_rejected(
        handle, worker.published, unresolved(), "only an art. 72(5) consultation ends unresolved"
    )
    agreed = court_action(ConsultationResponse, resolution="conditions_agreed", conditions="x")
    await assert_rejected(
        handle, worker.published, agreed, "conditions are agreed in a consultation under RS 93(3)"
    )


async def test_rs93_3_a_consultation_may_end_with_conditions_instead_of_a_modification(
    worker,
) -> None:
    """RS 93(3): where a measure is prohibited by a fundamental legal principle of general
    application, the consultation considers whether the assistance can be rendered in
    another manner or subject to conditions; resolved so, the request is not modified and
    execution resumes. Unresolved, it ends only in the Court's modification (old code
    allowed nothing but a modification)."""
    req, handle = await in_execution(worker)
    await send(handle, consultation(req, "RS 93(3)"))
    await assert_rejected(handle, worker.published, unresolved(), "ends with information")
    terms = "The apartment is frozen by an administrative order instead of a judicial one."
    agreed = court_action(ConsultationResponse, resolution="conditions_agreed", conditions=terms)
    assert (await send(handle, agreed)).status is S.IN_EXECUTION
    v = await view(handle)
    assert (v.version, terms in v.timeline[-1].what) == (1, True)


# --- Scope: documents and evidence only, in whole or in part, per asset ---------------------


async def test_rs93_4_a_denial_in_whole_of_a_request_to_freeze_is_refused(worker) -> None:
    """RS 93(4) reaches only the production of documents or disclosure of evidence relating
    to national security (art. 72), not the freezing or seizure of assets: a denial of a
    request to freeze is refused with the reason, writes nothing, and the frozen assets stay
    frozen (old code accepted it and the request was denied)."""
    req, handle = await in_execution(worker)
    before = await view(handle)
    await assert_rejected(
        handle, worker.published, denial(req), "it does not allow denying the freeze of assets"
    )
    after = await view(handle)
    assert (after.status, after.ledger) == (S.IN_EXECUTION, before.ledger)


async def test_rs93_4_a_denial_in_part_per_asset_leaves_the_rest_of_the_request_running(
    worker,
) -> None:
    """RS 93(4) 'in whole or in part': NLD denies tracing the vessel (the disclosure of its
    records), after an unresolved art. 72(5) consultation. The request stays in execution,
    the vessel's history records what was denied, the frozen assets stay frozen, and the
    State's final report on the rest makes the request executed. A denial in part of the
    freeze, of a measure the request does not ask, or of an unknown asset is refused."""
    req, handle = await in_execution(worker)
    await consulted(handle, req)
    for bad, fragment in (
        (denial(req, measures=["freeze"], asset_ids=[ACCOUNT]), "denying the freeze of assets"),
        (denial(req, measures=["seize"]), "denying the seize of assets"),
        (denial(req, measures=["trace"], asset_ids=["a-nowhere-1"]), "unknown asset"),
    ):
        await assert_rejected(handle, worker.published, bad, fragment)
    part = denial(req, measures=["trace"], asset_ids=[VESSEL])
    assert (await send(handle, part)).status is S.IN_EXECUTION
    again = denial(req, measures=["trace"], asset_ids=[VESSEL])
    await assert_rejected(handle, worker.published, again, "already denied")
    v = await view(handle)
    assert "denied in part" in v.timeline[-1].what and VESSEL in v.timeline[-1].what
    vessel = v.ledger.entries[VESSEL]
    assert vessel.history[-1].event_id == part.event_id
    assert "trace denied on national-security grounds (RS 93(4)" in vessel.history[-1].note
    assert v.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    [shown] = v.denials
    assert (shown.event_id, shown.whole, shown.measures, shown.asset_ids) == (
        part.event_id,
        False,
        ["trace"],
        [VESSEL],
    )
    assert [c.outcome for c in v.national_security_consultations] == ["not_resolved"]
    rest = [result(x, "identify", "freeze") for x in (SHARES, VESSEL)]
    assert (await send(handle, execution_report(req, rest, final=True))).status is S.EXECUTED


async def test_art72_6_a_denial_with_specific_reasons_withheld_says_so(worker) -> None:
    """art. 72(6): a denial whose specific reasons are withheld is taken, and the timeline
    says on what ground they are withheld."""
    req, handle = await acknowledged(worker, measures=["identify", "trace"])
    await consulted(handle, req)
    withheld = state_answer(Denial, req, specific_reasons_withheld=True)
    assert (await send(handle, withheld)).status is S.DENIED
    assert "specific reasons withheld" in (await view(handle)).timeline[-1].what


async def test_rs93_4_no_denial_after_the_final_report(worker) -> None:
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


def test_rs93_4_a_request_takes_a_bounded_number_of_denials() -> None:
    """A hostile party cannot grow what a request carries with denials: each must deny
    something not yet denied, and a request takes at most ``MAX_DENIALS`` (RS 93(4) denies
    in whole or in part, in a few steps)."""
    req = court_request(measures=["identify", "trace"])
    record = RequestCarry(status=S.ACKNOWLEDGED, ledger=ledger_from_request(req), timeline=[])
    at = datetime(2026, 3, 1, tzinfo=UTC)
    record.national_security_consultations = [
        NationalSecurityConsultation(opened_at=at, event_id=str(uuid4()), outcome="not_resolved")
    ]
    denial_rules.check_denial(record, req, denial(req, measures=["trace"]))
    record.denials = [
        DenialRecord(event_id=str(uuid4()), at=at, whole=False, measures=["trace"], asset_ids=[])
    ]
    with pytest.raises(Refusal, match="already denied"):
        denial_rules.check_denial(record, req, denial(req, measures=["trace"]))
    denial_rules.check_denial(record, req, denial(req))  # identify is not denied yet
    record.denials = record.denials * denial_rules.MAX_DENIALS
    with pytest.raises(Refusal, match=f"already took {denial_rules.MAX_DENIALS} denials"):
        denial_rules.check_denial(record, req, denial(req))


# --- The Court's determination (art. 72(7)) --------------------------------------------------


def test_art72_7_only_a_conclusion_under_a_ii_refers_under_rs87_7() -> None:
    """art. 72(7)(a)(ii): the referral under RS 87(7) follows only the conclusion that the
    State is not acting in accordance with its obligations."""
    with pytest.raises(ValidationError, match="referral_to"):
        determination(denial(court_request()), "not_pursued", referral_to="assembly")


async def test_art72_7_a_i_further_consultations_resolved_resume_a_denied_request(
    worker,
) -> None:
    """art. 72(7)(a)(i): the Court requests further consultations on a denial; the request
    is in consultation (its clock paused); resolved by cooperative means (art. 72(5)(a)),
    the denied request returns to execution. A determination of another request's denial,
    or of one already determined, is refused."""
    req, handle = await acknowledged(worker, measures=["identify", "trace"])
    await consulted(handle, req)
    denied = denial(req)
    await send(handle, denied)
    stranger = denial(court_request())
    await assert_rejected(
        handle, worker.published, determination(stranger, "not_pursued"), "no denial"
    )
    further = determination(denied, "further_consultations")
    assert (await send(handle, further)).status is S.IN_CONSULTATION
    assert "72(7)(a)(i)" in (await view(handle)).timeline[-1].what
    clarified = court_action(
        ConsultationResponse,
        resolution="information_supplied",
        information="The Court limits the request to accounts opened after 2015.",
    )
    assert (await send(handle, clarified)).status is S.ACKNOWLEDGED
    v = await view(handle)
    assert "resolved by cooperative means" in v.timeline[-1].what
    assert [d.determination for d in v.denials] == ["resolved_by_consultation"]
    assert [(c.event_id, c.outcome) for c in v.national_security_consultations][-1] == (
        further.event_id,
        "information_supplied",
    )
    await assert_rejected(
        handle,
        worker.published,
        determination(denied, "not_pursued"),
        "already determined this denial (resolved_by_consultation",
    )
