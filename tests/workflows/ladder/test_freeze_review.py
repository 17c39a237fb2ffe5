"""The Chamber's periodic review of a long freeze (RS 57(3)(e), 93(1)(k); RS 97 for a State's
proposal to limit it): a reminder to the Chamber every period the policy sets, counted from
when the asset was first restrained, never a release; it stops once the Court releases the
asset. Time-skipping server.
"""

from __future__ import annotations

from schemas.ledger import AssetStatus
from tests.workflows.ladder.support import (
    DAY,
    K,
    Ladder,
    custom,
    of_kind,
    released_events,
    view,
)
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    court_request,
    freeze_account,
    release,
    send,
    settle,
)
from tracefreeze.policy import load_directory, resolve


async def test_chamber_review_of_a_long_freeze_is_a_reminder_on_the_policy_period_rs57_3_e(
    ladder: Ladder,
) -> None:
    """RS 57(3)(e): the account is frozen and nobody acts for 400 days. Under a policy whose
    review period is P90D (not the shipped P180D), the Chamber is reminded on days 90, 180,
    270 and 360 after the freeze, each naming the account and the date it fell due; the
    account is still frozen and nothing was released. Once the Court releases it, no review
    comes back."""
    req = court_request()
    policy = resolve(custom(clocks={"freeze_review_every": "P90D"}), load_directory(), req)
    handle = await ladder.start(req, policy=policy)
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req))
    await settle(handle)
    frozen_at = (await view(handle)).ledger.entries[ACCOUNT].history[-1].at

    await ladder.advance_to(handle, frozen_at + 400 * DAY)
    reviews = of_kind(ladder.events(req), K.FREEZE_REVIEW_DUE)
    assert [e.deadline for e in reviews] == [frozen_at + k * 90 * DAY for k in (1, 2, 3, 4)]
    assert {(e.addressee, e.asset_id) for e in reviews} == {("Chamber", ACCOUNT)}
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    assert released_events(ladder, req) == []

    await send(handle, release(ACCOUNT))
    await ladder.advance_to(handle, frozen_at + 800 * DAY)
    assert len(of_kind(ladder.events(req), K.FREEZE_REVIEW_DUE)) == 4
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.RELEASED
