"""A State's proposal to limit a freeze in time, and the Chamber's answer (RS 97 consultation;
RS 93(1)(k), 57(3)(e)): the Court's silence never accepts it and the freeze stays; a Chamber
limits a freeze from the date it sets or maintains it; an asset named twice is refused before
the workflow; a forfeiture order (RS 77(2)(b)) holds what a limit would have lifted.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from schemas import court as c
from schemas.answers import FreezeLimitProposal
from schemas.ledger import AssetStatus
from tests.workflows.ladder.support import (
    DAY,
    K,
    Ladder,
    close_to,
    freeze_decision,
    frozen_account,
    of_kind,
    proposed,
    released_events,
    view,
)
from tests.workflows.support import (
    ACCOUNT,
    assert_rejected,
    conviction,
    court_action,
    send,
    settle,
    state_answer,
)


async def test_court_silence_never_accepts_a_freeze_limit_and_the_freeze_stays_rs97(
    ladder: Ladder,
) -> None:
    """RS 97: NLD proposes to end the account's freeze in 90 days; the Court says nothing for
    400 days. Part 9 has no silence rule (EU 2018/1805 art. 12's six weeks are not ICC law):
    the Registry is told of the proposal at once; the Court is reminded every P14D, the
    proposal goes before the Chamber at P28D and the reminders go to the Chamber from then;
    the Chamber is told when the proposed date passes; the freeze is reviewed by the Chamber
    every P180D. After all that silence the account is still frozen and nothing was released.
    A late answer is still taken: the Chamber limits the freeze on day 400, and its decision —
    only it — lifts the freeze, at once since the proposed date has passed."""
    req, handle, at, until = await proposed(ladder, 90)
    frozen_at = (await view(handle)).ledger.entries[ACCOUNT].history[-1].at
    [opened] = of_kind(ladder.events(req), K.FREEZE_LIMIT_PROPOSED)
    assert (opened.asset_id, opened.addressee, opened.deadline) == (
        ACCOUNT,
        "Registry",
        until,
    )

    await ladder.advance_to(handle, at + 400 * DAY)
    v = await view(handle)
    assert v.ledger.entries[ACCOUNT].status is AssetStatus.FROZEN
    assert v.ledger.entries[ACCOUNT].freeze_limit_until == until  # still a proposal
    assert released_events(ladder, req) == []
    events = ladder.events(req)
    reminders = of_kind(events, K.FREEZE_LIMIT_REMINDER)
    # every 14 days for 400 days; on day 28 going before the Chamber is the reminder
    assert [round((e.time - at) / DAY) for e in reminders] == [
        14 * k for k in range(1, 29) if k != 2
    ]
    assert [e.addressee for e in reminders] == ["Registry"] + ["Chamber"] * 26
    assert {e.asset_id for e in reminders} == {ACCOUNT}
    [before_chamber] = of_kind(events, K.FREEZE_LIMIT_BEFORE_CHAMBER)
    assert before_chamber.addressee == "Chamber"
    assert close_to(before_chamber.time, at + 28 * DAY)
    [date_passed] = of_kind(events, K.FREEZE_LIMIT_DATE_PASSED)
    assert date_passed.deadline == until and close_to(date_passed.time, until)
    reviews = of_kind(events, K.FREEZE_REVIEW_DUE)
    assert [e.deadline for e in reviews] == [frozen_at + 180 * DAY, frozen_at + 360 * DAY]
    assert {e.addressee for e in reviews} == {"Chamber"}

    late = freeze_decision("freeze_limited")
    await send(handle, late)
    await settle(handle)
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.RELEASED
    assert account.release_ground == "freeze_limited_by_chamber"
    assert account.history[-1].event_id == late.event_id
    [released] = released_events(ladder, req)
    assert released.caused_by == late.event_id
    [lifted] = of_kind(ladder.events(req), K.FREEZE_LIFTED)
    assert (lifted.asset_id, lifted.caused_by) == (ACCOUNT, late.event_id)
    await assert_rejected(
        handle,
        ladder.published,
        freeze_decision("freeze_maintained"),
        "no freeze-limit proposal awaits the Court's answer for ['a-account-1']",
    )


async def test_a_chamber_limits_a_freeze_from_the_date_it_sets(ladder: Ladder) -> None:
    """RS 97: on day 10 the Chamber decides the freeze ends in 60 days, not the 90 proposed.
    The reminders stop; the account stays frozen until that date and is lifted then, by the
    decision (the release names it)."""
    req, handle, at, _ = await proposed(ladder, 90)
    await ladder.advance_to(handle, at + 10 * DAY)
    lift_at = at + 70 * DAY
    decided = freeze_decision("freeze_limited", lift_at=lift_at.isoformat())
    await send(handle, decided)
    await ladder.advance_to(handle, lift_at - timedelta(minutes=1))
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.freeze_limit_until) == (AssetStatus.FROZEN, lift_at)
    assert of_kind(ladder.events(req), K.FREEZE_LIMIT_REMINDER) == []  # answered on day 10
    assert of_kind(ladder.events(req), K.FREEZE_LIMIT_BEFORE_CHAMBER) == []
    await ladder.advance_to(handle, lift_at + timedelta(minutes=1))
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.RELEASED
    [lifted] = of_kind(ladder.events(req), K.FREEZE_LIFTED)
    assert lifted.deadline == lift_at and close_to(lifted.time, lift_at)
    assert [e.caused_by for e in released_events(ladder, req)] == [decided.event_id]


async def test_a_chamber_that_maintains_the_freeze_closes_the_proposal(ladder: Ladder) -> None:
    """RS 97: the Chamber keeps the freeze. The proposal is closed (no more reminders, no
    'date passed'); the account stays frozen past the proposed date; only the periodic review
    comes back."""
    req, handle, at, _ = await proposed(ladder, 60)
    await ladder.advance_to(handle, at + 10 * DAY)
    await send(handle, freeze_decision("freeze_maintained"))
    await ladder.advance_to(handle, at + 200 * DAY)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.freeze_limit_until) == (AssetStatus.FROZEN, None)
    kinds = [e.kind for e in ladder.events(req) if e.time > at + 10 * DAY]
    assert K.FREEZE_LIMIT_REMINDER not in kinds and K.FREEZE_LIMIT_DATE_PASSED not in kinds
    assert K.FREEZE_REVIEW_DUE in kinds
    assert released_events(ladder, req) == []


async def test_an_asset_named_twice_in_a_proposal_is_refused_before_the_workflow(
    ladder: Ladder,
) -> None:
    """RS 97: a proposal opens one consultation per asset; one that names the account twice is
    refused by the contract (each id once), so it can never open two consultations or lift a
    freeze twice — and the account stays frozen."""
    req, handle, now = await frozen_account(ladder)
    with pytest.raises(ValidationError, match="each id may be listed once"):
        state_answer(
            FreezeLimitProposal,
            req,
            sent_at=now.isoformat(),
            asset_ids=[ACCOUNT, ACCOUNT],
            proposed_until=(now + 30 * DAY).isoformat(),
            reasons="National law limits a freeze without a conviction.",
        )
    await settle(handle)
    assert of_kind(ladder.events(req), K.FREEZE_LIMIT_PROPOSED) == []
    assert (await view(handle)).ledger.entries[ACCOUNT].status is AssetStatus.FROZEN


async def test_a_forfeiture_order_holds_what_a_freeze_limit_would_have_lifted(
    ladder: Ladder,
) -> None:
    """RS 77(2)(b): the Chamber limited the freeze from day 30, but on day 10 forfeiture is
    ordered. On day 30 nothing is lifted: the asset is held under the forfeiture order, and
    the periodic review of a protective freeze no longer applies to it."""
    req, handle, at, _ = await proposed(ladder, 90)
    await send(handle, freeze_decision("freeze_limited", lift_at=(at + 30 * DAY).isoformat()))
    await ladder.advance_to(handle, at + 10 * DAY)
    await send(handle, conviction())
    order = court_action(c.ForfeitureOrder, order_reference="ICC-01/22-FO-1", asset_ids=[ACCOUNT])
    await send(handle, order)
    await ladder.advance_to(handle, at + 400 * DAY)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is AssetStatus.FORFEITURE_ORDERED
    assert released_events(ladder, req) == []
    kinds = {e.kind for e in ladder.events(req)}
    assert K.FREEZE_LIFTED not in kinds and K.FREEZE_REVIEW_DUE not in kinds


def test_a_maintained_freeze_has_no_lift_date() -> None:
    with pytest.raises(ValidationError, match="a maintained freeze is not lifted"):
        freeze_decision("freeze_maintained", lift_at="2027-01-01T00:00:00+00:00")
