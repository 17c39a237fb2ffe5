"""The road from a denial to the Chamber and RS 87(7) stays open (RS 93(4), art. 72(7)), on the
time-skipping server with the shipped policy: after a denial in part the rest of the request
runs and its ladder still reaches the Chamber; the Court's art. 72(7) determination either
ends the stage clocks (the matter not pursued) or concludes that the State is not acting in
accordance with its obligations and refers it under RS 87(7), after which the ladder goes on
to the Assembly's procedures.
"""

from __future__ import annotations

from typing import Any

from schemas.answers import Denial
from schemas.court import ConsultationResponse, NationalSecurityDetermination, Withdrawal
from schemas.ledger import AssetStatus, RequestStatus
from schemas.policy import PartyKind
from schemas.request import CourtRequest
from tests.workflows.ladder.support import DAY, Handle, K, Ladder, of_kind, started_at, view
from tests.workflows.support import (
    ACCOUNT,
    SHARES,
    VESSEL,
    acknowledgement,
    assert_rejected,
    consultation,
    court_action,
    court_request,
    denial,
    execution_report,
    reasons,
    result,
    send,
)
from tracefreeze.policy import load_directory, load_policy, resolve

S = RequestStatus


async def consulted(handle: Handle, req: CourtRequest) -> None:
    """The art. 72(5) consultation, ended unresolved: the State may deny (art. 72(6))."""
    await send(handle, consultation(req, "RS 72(5)"))
    unresolved = court_action(
        ConsultationResponse, resolution="not_resolved", information="Redactions were refused."
    )
    await send(handle, unresolved)


def determination(denied: Denial, outcome: str, **fields: Any) -> NationalSecurityDetermination:
    return court_action(
        NationalSecurityDetermination,
        denial_event_id=denied.event_id,
        outcome=outcome,
        **reasons(**fields),
    )


async def denied_in_whole(
    ladder: Ladder, kind: PartyKind = PartyKind.STATE_PARTY
) -> tuple[CourtRequest, Handle, Denial]:
    req = court_request(measures=["identify", "trace"])
    policy = resolve(load_policy(), load_directory(), req).model_copy(update={"party_kind": kind})
    handle = await ladder.start(req, policy)
    await send(handle, acknowledgement(req))
    await consulted(handle, req)
    denied = denial(req)
    assert (await send(handle, denied)).status is S.DENIED
    return req, handle, denied


def proposals(ladder: Ladder, req: CourtRequest) -> list[tuple[str | None, str | None]]:
    return [(e.step, e.stage) for e in of_kind(ladder.events(req), K.STEP_PROPOSED)]


async def test_rs93_4_after_a_denial_in_part_the_rest_runs_and_the_ladder_reaches_the_chamber(
    ladder: Ladder,
) -> None:
    """RS 93(4) 'in part', art. 72(7): NLD freezes the account, then denies tracing the vessel
    after an unresolved art. 72(5) consultation, then reports the rest executed (shares and
    vessel frozen: status executed). What was denied keeps the full-execution stage open, so
    a year on the ladder has proposed the report to the Chamber, the road to art. 72(7) and
    RS 87(7) (old code refused any denial of a freeze request, and an executed request ended
    every stage)."""
    req = court_request()
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, execution_report(req))
    await consulted(handle, req)
    part = denial(req, measures=["trace"], asset_ids=[VESSEL])
    assert (await send(handle, part)).status is S.IN_EXECUTION
    rest = [result(x, "identify", "freeze") for x in (SHARES, VESSEL)]
    assert (await send(handle, execution_report(req, rest, final=True))).status is S.EXECUTED
    await ladder.advance_to(handle, (await started_at(handle)) + 400 * DAY)
    v = await view(handle)
    assert v.status is S.EXECUTED
    assert {v.ledger.entries[x].status for x in (ACCOUNT, SHARES, VESSEL)} == {AssetStatus.FROZEN}
    assert proposals(ladder, req) == [("chamber_report", "full_execution")]


async def test_art72_7_a_matter_the_court_does_not_pursue_ends_the_stage_clocks(
    ladder: Ladder,
) -> None:
    """art. 72(7): the Court determines it does not pursue what was denied (the evidence is
    not relevant and necessary, or was had elsewhere). The denial no longer holds the stages
    open: a year on, nothing was proposed to the Chamber."""
    req, handle, denied = await denied_in_whole(ladder)
    await send(handle, determination(denied, "not_pursued"))
    await ladder.advance_to(handle, (await started_at(handle)) + 400 * DAY)
    assert (await view(handle)).status is S.DENIED
    assert proposals(ladder, req) == []


async def test_art72_7_a_ii_a_conclusion_refers_the_state_under_rs87_7_and_the_ladder_goes_on(
    ladder: Ladder,
) -> None:
    """art. 72(7)(a)(ii): the Court concludes that, by invoking RS 93(4), NLD is not acting in
    accordance with its obligations, and refers the matter under RS 87(7) to the Assembly (not
    to the Security Council, which did not refer the situation). The finding step is reached,
    caused by the determination, and the ladder goes on to the Assembly's procedures."""
    req, handle, denied = await denied_in_whole(ladder)
    council = determination(denied, "not_in_accordance", referral_to="security_council")
    await assert_rejected(handle, ladder.published, council, "goes to the assembly only")
    concluded = determination(denied, "not_in_accordance", referral_to="assembly")
    await send(handle, concluded)
    [finding] = of_kind(ladder.events(req), K.STEP_REACHED)
    assert (finding.step, finding.addressee, finding.caused_by) == (
        "non_compliance_finding",
        "Chamber",
        concluded.event_id,
    )
    assert "RS 87(7)" in (await view(handle)).timeline[-1].what
    await ladder.advance_to(handle, (await started_at(handle)) + 400 * DAY)
    assert proposals(ladder, req)[0] == ("assembly_informal_response", "full_execution")


async def test_rs93_4_only_a_state_party_denies_and_the_provision_is_in_the_refusal(
    ladder: Ladder,
) -> None:
    """RS 93(4): "a State Party may deny" (Part 9, RS 86). A State not party to the Statute
    (invited, or under an arrangement, RS 87(5)), an international organisation (RS 87(6))
    and a State bound by the Security Council's resolution (RS 13(b)) cannot deny on that
    ground, even after an unresolved art. 72(5) consultation: each denial is refused naming
    RS 93(4), nothing is written and the request is not denied (old code: each was taken,
    marking the request denied). A State Party's denial is taken."""
    for kind in PartyKind:
        req = court_request(measures=["identify", "trace"])
        policy = resolve(load_policy(), load_directory(), req).model_copy(
            update={"party_kind": kind}
        )
        handle = await ladder.start(req, policy)
        await send(handle, acknowledgement(req))
        await consulted(handle, req)
        if kind is PartyKind.STATE_PARTY:
            assert (await send(handle, denial(req))).status is S.DENIED
            continue
        await assert_rejected(handle, ladder.published, denial(req), "RS 93(4) is a State Party")
        assert (await view(handle)).status is not S.DENIED, kind


async def test_a_withdrawal_ends_the_clocks_whatever_denial_stands(ladder: Ladder) -> None:
    """A denial in part keeps full execution open (art. 72(7)), but once the Court withdraws
    the request nothing is left to execute: every stage ends and the ladder proposes nothing."""
    req = court_request(measures=["identify", "trace"])
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await consulted(handle, req)
    await send(handle, denial(req, measures=["trace"]))
    await send(handle, court_action(Withdrawal, **reasons()))
    await ladder.advance_to(handle, (await started_at(handle)) + 400 * DAY)
    assert (await view(handle)).status is S.WITHDRAWN
    assert proposals(ladder, req) == []
