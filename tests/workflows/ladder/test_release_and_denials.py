"""Nothing is released without a Court decision (review findings): a lift of a freeze does not
release a seizure made since (RS 93(1)(k), 97); an upheld domestic remedy goes before the
Chamber and releases nothing; a denial under RS 93(4), 93(6) and art. 72 keeps the road to the
Chamber open, and a denial of a freeze is refused.
"""

from __future__ import annotations

from typing import Any

from schemas import court as c
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import CourtRequest
from tests.workflows.ladder.support import (
    DAY,
    K,
    Ladder,
    close_to,
    freeze_decision,
    freeze_limit,
    frozen_account,
    of_kind,
    released_events,
    started_at,
    view,
)
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    assert_rejected,
    consultation,
    court_action,
    court_request,
    denial,
    domestic_challenge,
    execution_report,
    freeze_account,
    reasons,
    result,
    send,
    settle,
)

# --- Review findings: nothing is released without a Court decision ------------------------


async def test_a_lift_of_a_freeze_does_not_release_a_seizure_made_since(ladder: Ladder) -> None:
    """RS 97 consultation; RS 93(1)(k). The Chamber limits the account's freeze from day 30;
    on day 10 NLD reports the account seized. On day 30 the decision, which concerned the
    freeze, is not applied to the seizure: nothing is released, the Chamber is told the lift
    was not applied (the old code released the seizure on a decision about the freeze)."""
    req = court_request(measures=["identify", "trace", "freeze", "seize"])
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req))
    at = await ladder.now()
    await send(handle, freeze_limit(req, at, at + 90 * DAY))
    decided = freeze_decision("freeze_limited", lift_at=(at + 30 * DAY).isoformat())
    await send(handle, decided)
    await ladder.advance_to(handle, at + 10 * DAY)
    await send(handle, execution_report(req, [result(ACCOUNT, "identify", "freeze", "seize")]))
    await ladder.advance_to(handle, at + 31 * DAY)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.SEIZED
    assert account.release_ground is None
    assert released_events(ladder, req) == []
    assert of_kind(ladder.events(req), K.FREEZE_LIFTED) == []
    [not_applied] = of_kind(ladder.events(req), K.FREEZE_LIFT_NOT_APPLIED)
    assert (not_applied.asset_id, not_applied.addressee, not_applied.caused_by) == (
        ACCOUNT,
        "Chamber",
        decided.event_id,
    )
    assert close_to(not_applied.time, at + 30 * DAY)


async def test_an_upheld_domestic_remedy_goes_before_the_chamber_and_releases_nothing(
    ladder: Ladder,
) -> None:
    """National law (a domestic remedy) against a measure under RS 93(1)(k): NLD reports its
    court upheld the remedy. That is a fact in NLD's legal order, not a decision of the Court:
    the account stays frozen, shows the remedy upheld and awaiting the Court, and the matter
    goes before the Chamber (old code released it on the State's report). Only the Court's
    release, by a Chamber, releases it."""
    req, handle, _ = await frozen_account(ladder)
    await send(handle, state_answer_challenge(req, "lodged"))
    upheld = state_answer_challenge(req, "upheld")
    await send(handle, upheld)
    await settle(handle)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FROZEN
    [contest] = account.contests
    assert (contest.outcome, contest.pending, contest.awaits_court) == ("upheld", False, True)
    assert released_events(ladder, req) == []
    [before_chamber] = of_kind(ladder.events(req), K.DOMESTIC_REMEDY_UPHELD)
    assert (before_chamber.asset_id, before_chamber.addressee, before_chamber.caused_by) == (
        ACCOUNT,
        "Chamber",
        upheld.event_id,
    )
    release = court_action(c.Release, asset_ids=[ACCOUNT], ground="domestic_remedy", **reasons())
    await send(handle, release)
    await settle(handle)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.release_ground) == (AssetStatus.RELEASED, "domestic_remedy")
    assert not account.contests[0].awaits_court
    assert [e.caused_by for e in released_events(ladder, req)] == [release.event_id]


def state_answer_challenge(req: CourtRequest, outcome: str) -> Any:
    return domestic_challenge(req, ACCOUNT, "ch-1", outcome)


async def test_a_denial_under_rs93_4_keeps_the_road_to_the_chamber_open(ladder: Ladder) -> None:
    """RS 93(4), 93(6), art. 72: a denial on national-security grounds concerns documents or
    evidence; it does not end the request's stages. After a denial of an identify-and-trace
    request the full-execution stage stays open, so the ladder still climbs to the report to
    the Chamber (the step towards RS 72(7) and 87(7)). The old code marked every stage met
    and the ladder never proposed anything."""
    req = court_request(measures=["identify", "trace"])
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, consultation(req, "RS 72(5)"))  # art. 72(5): cooperative means first
    unresolved = court_action(c.ConsultationResponse, resolution="not_resolved", information="x")
    await send(handle, unresolved)
    await send(handle, denial(req))
    await ladder.advance_to(handle, (await started_at(handle)) + 400 * DAY)
    v = await view(handle)
    assert v.status is RequestStatus.DENIED
    proposals = of_kind(ladder.events(req), K.STEP_PROPOSED)
    assert [(e.step, e.stage) for e in proposals] == [("chamber_report", "full_execution")]


async def test_a_denial_under_rs93_4_of_a_freeze_is_refused(ladder: Ladder) -> None:
    """RS 93(4) allows a denial only for the production of documents or the disclosure of
    evidence relating to national security (art. 72); it does not reach the freezing or
    seizure of assets. A denial of a request to freeze is refused with that reason and the
    request goes on (old code accepted it and ended every stage)."""
    req, handle, _ = await frozen_account(ladder)
    await assert_rejected(
        handle,
        ladder.published,
        denial(req),
        "RS 93(4) covers only the production of documents or disclosure of evidence",
    )
    assert (await view(handle)).status is RequestStatus.IN_EXECUTION
