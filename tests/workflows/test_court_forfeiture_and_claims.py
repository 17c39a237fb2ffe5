"""Forfeiture of frozen assets (RS 77(2)(b)) and the Court's decision on a third party's claim
(RS 93(1)(k), Rule 99), driven through the real workflow on a time-skipping test server
(docs/legal-process.md, 'Life of one asset'): only a frozen asset can be forfeited; an upheld
claim releases the asset, a dismissed one clears the contest and allows forfeiture.
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
    ORDER,
    VESSEL,
    assert_rejected,
    convicted,
    court_action,
    forfeiture,
    in_execution,
    published_count,
    published_since,
    reasons,
    send,
    third_party_claim,
    view,
)

S = RequestStatus
A = AssetStatus


# --- Forfeiture: RS 77(2)(b) ---------------------------------------------------------------


async def test_forfeiture_of_a_frozen_asset(worker) -> None:
    """RS 77(2)(b): forfeiture is ordered of frozen or seized, uncontested assets; the ledger
    keeps the order reference and the totals count the asset as forfeited."""
    _, handle = await convicted(worker)
    count = await published_count(handle, worker.published)
    order = forfeiture(ACCOUNT)
    assert (await send(handle, order)).status is S.IN_EXECUTION
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert (account.status, account.forfeiture_order) == (A.FORFEITURE_ORDERED, ORDER)
    assert (account.history[-1].event_id, account.history[-1].note) == (order.event_id, ORDER)
    assert v.totals["EUR"].forfeited == ACCOUNT_EUR
    assert v.totals["EUR"].frozen == APARTMENT_EUR
    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.action) for e in events] == [
        (RequestEventType.COURT_ACTION, "forfeiture_order"),
        (RequestEventType.ASSET_FORFEITURE_ORDERED, None),
    ]
    assert events[1].asset.asset_id == ACCOUNT


async def test_forfeiture_of_an_asset_not_frozen_is_rejected(worker) -> None:
    """RS 77(2)(b): only a frozen or seized asset can be forfeited — not one merely traced,
    not one already forfeited, not an unknown one; one bad asset rejects the whole order."""
    _, handle = await convicted(worker)
    await assert_rejected(
        handle,
        worker.published,
        forfeiture(ACCOUNT, VESSEL),
        f"asset {VESSEL!r} is traced: only a frozen or seized asset can be forfeited",
    )
    await assert_rejected(handle, worker.published, forfeiture("a-nowhere-1"), "unknown asset")
    await send(handle, forfeiture(ACCOUNT))
    await assert_rejected(
        handle,
        worker.published,
        forfeiture(ACCOUNT),
        f"asset {ACCOUNT!r} is forfeiture_ordered",
    )


# --- Third-party claim decision: RS 93(1)(k) -------------------------------------------------


async def test_third_party_claim_upheld_releases_the_asset(worker) -> None:
    """RS 93(1)(k): an upheld bona fide claim releases the asset to the claimant."""
    req, handle = await in_execution(worker)
    await send(handle, third_party_claim(req, APARTMENT, "claim-1"))
    count = await published_count(handle, worker.published)
    upheld = court_action(c.ThirdPartyClaimDecision, claim_id="claim-1", upheld=True, **reasons())
    await send(handle, upheld)
    v = await view(handle)
    apartment = v.ledger.entries[APARTMENT]
    assert (apartment.status, apartment.release_ground) == (A.RELEASED, "third_party")
    assert not apartment.contested
    assert [(x.pending, x.outcome) for x in apartment.contests] == [(False, "upheld")]
    assert v.totals["EUR"].released == APARTMENT_EUR
    events = await published_since(handle, worker.published, count)
    assert [e.type for e in events] == [
        RequestEventType.COURT_ACTION,
        RequestEventType.ASSET_RELEASED,
    ]
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.ThirdPartyClaimDecision, claim_id="claim-1", upheld=False, **reasons()),
        "claim 'claim-1' was already decided (upheld)",
    )


async def test_third_party_claim_dismissed_clears_the_contest_and_allows_forfeiture(
    worker,
) -> None:
    """RS 93(1)(k), 77(2)(b): a dismissed claim leaves the asset frozen and uncontested, so
    forfeiture — refused while the claim was pending — is now ordered."""
    req, handle = await convicted(worker)
    await send(handle, third_party_claim(req, APARTMENT, "claim-2"))
    await assert_rejected(handle, worker.published, forfeiture(APARTMENT), "is contested")
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.ThirdPartyClaimDecision, claim_id="claim-9", upheld=False, **reasons()),
        "no third-party claim 'claim-9' on this request",
    )
    dismissed = court_action(
        c.ThirdPartyClaimDecision, claim_id="claim-2", upheld=False, **reasons()
    )
    await send(handle, dismissed)
    apartment = (await view(handle)).ledger.entries[APARTMENT]
    assert (apartment.status, apartment.contested) == (A.FROZEN, False)
    assert apartment.contests[0].outcome == "dismissed"
    await send(handle, forfeiture(APARTMENT))
    assert (await view(handle)).ledger.entries[APARTMENT].status is A.FORFEITURE_ORDERED
