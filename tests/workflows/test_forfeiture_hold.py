"""What a forfeiture order holds, no release path lets go of (RS 77(2)(b), 109; Rules 147,
217-218; docs/legal-process.md, "What a forfeiture order holds"), on a time-skipping server.

Withdrawing the protective request used to release an account already under a forfeiture
order. Now the withdrawal, a Rule 99(3) revocation or modification, an upheld claim on the
protective measure and a release that does not name the order all leave it held; only a
release naming the order as set aside (RS 83(2), 84(2)) lets it go.
"""

from __future__ import annotations

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.builders import third_party_claim
from tests.decisions import conviction
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    ORDER,
    allocation,
    assert_rejected,
    close_action,
    court_action,
    forfeiture,
    in_execution,
    published_count,
    published_since,
    reasons,
    release,
    send,
    transfer,
    view,
)

S = RequestStatus
A = AssetStatus
HELD = f"is held under forfeiture order {ORDER} (RS 77(2)(b), 109)"


async def test_withdrawal_leaves_an_asset_held_under_a_forfeiture_order_rs77_2_b(worker) -> None:
    """RS 77(2)(b), 109: the account is under a forfeiture order when the Court withdraws the
    protective request. The apartment, frozen only, is released; the account stays under the
    order (old code released it with ground 'withdrawal'), the request cannot close while it
    is, and it goes on to transfer and allocation (Rules 217-221), after which it closes."""
    _, handle = await in_execution(worker)
    await send(handle, conviction())  # RS 77(2)(b): after a conviction
    await send(handle, forfeiture(ACCOUNT))
    count = await published_count(handle, worker.published)
    withdrawal = court_action(c.Withdrawal, **reasons())
    assert (await send(handle, withdrawal)).status is S.WITHDRAWN

    v = await view(handle)
    account, apartment = v.ledger.entries[ACCOUNT], v.ledger.entries[APARTMENT]
    assert (account.status, account.release_ground) == (A.FORFEITURE_ORDERED, None)
    assert account.forfeiture_order == ORDER
    assert (apartment.status, apartment.release_ground) == (A.RELEASED, "withdrawal")
    assert f"not released: {ACCOUNT} ({ORDER})" in v.timeline[-1].what
    events = await published_since(handle, worker.published, count)
    released = [e for e in events if e.type is RequestEventType.ASSET_RELEASED]
    assert [e.asset.asset_id for e in released if e.asset] == [APARTMENT]

    await assert_rejected(handle, worker.published, close_action(), f"assets ['{ACCOUNT}']")
    await send(handle, transfer(ACCOUNT, "398214.37"))
    await send(handle, allocation(ACCOUNT, ("reparations", "398214.37")))
    assert (await send(handle, close_action())).status is S.CLOSED


async def test_no_other_release_path_lets_go_of_a_forfeited_asset_rs77_2_b(worker) -> None:
    """RS 77(2)(b), Rule 147, Rule 99(3): on an ex parte request notified under Rule 99, the
    account is forfeited. A release that does not name the order, a Rule 99(3) revocation or
    modification of the protective order, and a decision upholding a third party's claim on
    the protective measure are each refused with the reason; the account stays held."""
    req, handle = await in_execution(worker, confidentiality="ex_parte")
    await send(handle, court_action(c.Rule99Notification, notified_party_ids=["p-suspect"]))
    await send(handle, conviction())  # RS 77(2)(b): after a conviction
    await send(handle, forfeiture(ACCOUNT))
    await send(handle, third_party_claim(req, ACCOUNT, claim_id="claim-7"))

    await assert_rejected(handle, worker.published, release(ACCOUNT), HELD)
    revoked = court_action(c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], **reasons())
    await assert_rejected(handle, worker.published, revoked, HELD)
    modified = court_action(
        c.Rule99Decision, outcome="modified", asset_ids=[ACCOUNT], terms="Half.", **reasons()
    )
    await assert_rejected(handle, worker.published, modified, HELD)
    upheld = court_action(c.ThirdPartyClaimDecision, claim_id="claim-7", upheld=True, **reasons())
    await assert_rejected(handle, worker.published, upheld, HELD)
    other_order = release(ACCOUNT).model_copy(
        update={"forfeiture_order_set_aside": "ICC-X-1", "decided_by": "appeals_chamber"}
    )
    await assert_rejected(handle, worker.published, other_order, HELD)

    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.release_ground) == (A.FORFEITURE_ORDERED, None)


async def test_a_release_naming_the_forfeiture_order_set_aside_releases_it_rs83_2(
    worker,
) -> None:
    """RS 83(2): the Appeals Chamber reverses the conviction and sets the forfeiture order
    aside. A release naming that order releases the account; one naming it for an asset the
    order does not hold, alone or beside one it holds, is refused (that asset's measure is the
    ordering Chamber's to release, RS 57(3)(e))."""
    _, handle = await in_execution(worker)
    await send(handle, conviction())  # RS 77(2)(b): after a conviction
    await send(handle, forfeiture(ACCOUNT))
    for named in ([APARTMENT], [ACCOUNT, APARTMENT]):  # a frozen asset beside it: refused
        stray = court_action(
            c.Release,
            asset_ids=named,
            ground="acquittal",
            decided_by="appeals_chamber",  # RS 83(2): only it sets a forfeiture order aside
            forfeiture_order_set_aside=ORDER,
            **reasons(),
        )
        held = f"{APARTMENT} is not held under forfeiture order '{ORDER}'"
        await assert_rejected(handle, worker.published, stray, held)
    set_aside = court_action(
        c.Release,
        asset_ids=[ACCOUNT],
        ground="acquittal",
        decided_by="appeals_chamber",
        forfeiture_order_set_aside=ORDER,
        **reasons(),
    )
    await send(handle, set_aside)
    v = await view(handle)
    assert (v.ledger.entries[ACCOUNT].status, v.ledger.entries[ACCOUNT].release_ground) == (
        A.RELEASED,
        "acquittal",
    )
    assert f"forfeiture order {ORDER} set aside" in v.timeline[-1].what
    assert v.ledger.entries[APARTMENT].status is A.FROZEN


async def test_transfer_and_allocation_wait_for_a_final_conviction_rs81_4(worker) -> None:
    """RS 81(4), 109: the forfeiture order may follow a conviction under appeal, but nothing is
    transferred to the Court while the appeal is pending; and once the Appeals Chamber acquits
    (RS 83(2)), the order is no ground for a transfer either."""
    _, handle = await in_execution(worker)
    await send(handle, conviction(finality="appeal_pending"))
    await send(handle, forfeiture(ACCOUNT))
    await assert_rejected(handle, worker.published, transfer(ACCOUNT, "400000.00"), "RS 81(4)")
    acquittal = conviction(
        judgment_reference="ICC-01/22-A-J-1",
        outcome="acquittal",
        decided_by="appeals_chamber",
        delivered_on="2026-05-01",
    )
    await send(handle, acquittal)
    refused = "enforces a conviction (RS 109)"
    await assert_rejected(handle, worker.published, transfer(ACCOUNT, "400000.00"), refused)
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.FORFEITURE_ORDERED
