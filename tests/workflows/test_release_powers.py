"""Whose act a release is, by what holds the assets it lets go of (the catalog's table of
powers, ``powers.release_holding``), on a time-skipping server.

The table used to give every release to any Chamber or the Presidency: the Presidency could
lift a Pre-Trial Chamber's RS 57(3)(e) freeze before any judgment, and a Pre-Trial Chamber
set aside a forfeiture order. Now a request's measures are released by the Chamber that
ordered them (RS 57(3)(e), 61(11), 64(6); Rule 99(3)), the Presidency releases only what its
own enforcement request holds after a final conviction (RS 109; Rules 217-221), and a
forfeiture order is set aside on appeal only by the Appeals Chamber (RS 81(2)(a), 83(2)-(3)).
"""

from __future__ import annotations

from schemas import court as c
from schemas.ledger import AssetStatus
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    ORDER,
    assert_rejected,
    convicted,
    court_action,
    forfeiture,
    in_execution,
    reasons,
    send,
    view,
)

A = AssetStatus


def release(decided_by: str, *asset_ids: str, set_aside: str | None = None) -> c.Release:
    return court_action(
        c.Release,
        decided_by=decided_by,
        asset_ids=list(asset_ids),
        ground="revocation" if set_aside is None else "acquittal",
        forfeiture_order_set_aside=set_aside,
        **reasons(),
    )


async def test_the_presidency_may_not_lift_a_57_3_e_freeze_before_judgment(worker) -> None:
    """RS 57(3)(e); Rule 99(3): the account is frozen on the Pre-Trial Chamber's request and
    no judgment is recorded. The Presidency's release is refused with the rule (the old table
    accepted it: 'after judgment the Presidency' was not checked); the Pre-Trial Chamber that
    ordered the measures releases it."""
    _, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        release("presidency", ACCOUNT),
        "the Presidency may not take release (holding pre_trial_chamber_request): "
        "RS 57(3)(e); Rule 99(3)",
    )
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.FROZEN

    await send(handle, release("pre_trial_chamber", ACCOUNT))
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.release_ground) == (A.RELEASED, "revocation")


async def test_only_the_appeals_chamber_sets_aside_a_forfeiture_order_rs83_2(worker) -> None:
    """RS 83(2), 77(2)(b): the account is under the Trial Chamber's forfeiture order. A release
    naming the order as set aside by the Pre-Trial Chamber, or by the Trial Chamber, is
    refused with the rule (the old table accepted the Pre-Trial Chamber's); the Appeals
    Chamber's releases it. The apartment, frozen only, stays frozen throughout."""
    _, handle = await convicted(worker)
    await send(handle, forfeiture(ACCOUNT))
    for organ, style in (("pre_trial_chamber", "Pre-Trial"), ("trial_chamber", "Trial")):
        await assert_rejected(
            handle,
            worker.published,
            release(organ, ACCOUNT, set_aside=ORDER),
            f"the {style} Chamber may not take release (holding forfeiture_order): RS 81(2)(a), "
            "83(2)-(3)",
        )
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.FORFEITURE_ORDERED

    await send(handle, release("appeals_chamber", ACCOUNT, set_aside=ORDER))
    entries = (await view(handle)).ledger.entries
    assert [entries[a].status for a in (ACCOUNT, APARTMENT)] == [A.RELEASED, A.FROZEN]


async def test_on_appeal_the_appeals_chamber_lifts_a_freeze_no_other_organ_ordered(worker) -> None:
    """RS 57(3)(e), 61(11), 64(6): a request's own measures are the ordering Chamber's to
    release, or the Appeals Chamber's, which on appeal reverses or amends the decision that
    ordered them (RS 82(1)(d), 83(2)); the Presidency releases nothing before judgment (the
    Registry, which transmits the request, RS 43(1), cannot even be named: the contract)."""
    _, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        release("presidency", APARTMENT),
        "may not take release (holding pre_trial_chamber_request)",
    )
    await send(handle, release("appeals_chamber", APARTMENT))
    assert (await view(handle)).ledger.entries[APARTMENT].status is A.RELEASED
