"""Answers that contest an asset (docs/legal-process.md, 'Life of one asset'): a third party's
claim to it (RS 93(1)(k), 77(2)(b), Rule 99) blocks forfeiture until the Court decides; a
domestic challenge against the measure (cf. EU 2018/1805 art. 33), lodged, dismissed or
upheld, is recorded and awaits the Court but never decides a third party's claim.
"""

from __future__ import annotations

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    ACCOUNT_EUR,
    APARTMENT,
    APARTMENT_EUR,
    SHARES,
    VESSEL,
    assert_rejected,
    convicted,
    court_action,
    domestic_challenge,
    in_execution,
    published_count,
    published_since,
    reasons,
    send,
    third_party_claim,
    view,
)

S = RequestStatus


# --- Third-party claim: RS 93(1)(k), 77(2)(b), Rule 99 ---------------------------------------


async def test_third_party_claim_contests_the_asset_and_blocks_forfeiture(worker) -> None:
    """RS 93(1)(k) 'without prejudice to the rights of bona fide third parties': a claim
    contests the frozen apartment (asset contested event); the request's status is unchanged
    and forfeiture (RS 77(2)(b)) is refused while the claim is pending."""
    req, handle = await convicted(worker)
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
    req, handle = await convicted(worker)
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
