"""What becomes of a forfeited asset and the Court's release of restrained ones
(docs/legal-process.md, 'Life of one asset'): transfer to the Court only after forfeiture
(RS 109(3)); allocation under Rule 221, amount by amount until nothing remains, each share with
its basis (reparations RS 75(2), the Trust Fund for Victims RS 79(2), fines RS 77(2)(a) and
Rules 217-218), without an order beyond the priority of reparations (Rule 221(2)) and never in
mixed currencies; release on acquittal, naming the deciding organ and with no lapse (Part 9).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, CurrencyTotals, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    ACCOUNT_EUR,
    APARTMENT,
    APARTMENT_EUR,
    SHARES,
    allocation,
    assert_rejected,
    close_action,
    convicted,
    conviction,
    court_action,
    court_request,
    example,
    forfeiture,
    freeze_account,
    in_execution,
    in_execution_under_policy,
    money,
    published_count,
    published_since,
    reasons,
    release,
    send,
    transfer,
    view,
)
from tracefreeze.policy import load_directory, load_policy, resolve

S = RequestStatus
A = AssetStatus


# --- Transfer: RS 109(3); allocation: Rule 221 ---------------------------------------------


async def test_transfer_only_after_forfeiture(worker) -> None:
    """RS 109(3): forfeited property or its value is transferred to the Court — only after a
    forfeiture order."""
    _, handle = await convicted(worker)
    await assert_rejected(
        handle,
        worker.published,
        transfer(ACCOUNT, "398214.37"),
        f"asset {ACCOUNT!r} is frozen: transfer follows a forfeiture order",
    )
    await send(handle, forfeiture(ACCOUNT))
    moved = transfer(ACCOUNT, "398000.00")
    await send(handle, moved)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is A.TRANSFERRED
    assert account.transferred.amount == Decimal("398000.00")
    assert account.history[-1].note == "398000.00 EUR to the Court"
    await assert_rejected(
        handle,
        worker.published,
        transfer(ACCOUNT, "398000.00"),
        f"asset {ACCOUNT!r} is transferred",
    )


async def test_allocation_rule221(worker) -> None:
    """Rule 221(2): the transferred value is allocated by the Presidency, reparations having
    priority — only a transferred value, never more than was transferred, in its currency;
    each share is recorded with its basis (RS 79(2) for the Trust Fund for Victims, the
    policy's basis for legal-aid recovery); totals count the allocation."""
    _, handle = await in_execution_under_policy(worker)
    await send(handle, conviction())
    await assert_rejected(
        handle,
        worker.published,
        allocation(ACCOUNT, ("reparations", "100.00")),
        f"asset {ACCOUNT!r} is frozen: only a transferred value is allocated",
    )
    await send(handle, forfeiture(ACCOUNT))
    await send(handle, transfer(ACCOUNT, "398000.00"))
    await assert_rejected(
        handle,
        worker.published,
        allocation(
            ACCOUNT,
            ("reparations", "300000.00"),
            ("legal_aid_refund", "98000.01"),
            reparations="satisfied",
        ),
        "allocation of 398000.01 exceeds the 398000.00 EUR still unallocated",
    )
    await assert_rejected(
        handle,
        worker.published,
        allocation(ACCOUNT, ("reparations", "398000.00"), currency="USD"),
        "allocation in USD, transfer in EUR",
    )
    count = await published_count(handle, worker.published)
    shares = (
        ("reparations", "250000.00"),
        ("trust_fund_for_victims", "100000.00"),
        ("legal_aid_refund", "48000.00"),
    )
    allocated = allocation(
        ACCOUNT,
        *shares[:1],
        ("trust_fund_for_victims", "100000.00", "RS 79(2)"),
        *shares[2:],
        reparations="satisfied",
    )
    await send(handle, allocated)
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert account.status is A.ALLOCATED
    assert [(s.destination, s.amount.amount) for s in account.allocations] == [
        (d, Decimal(x)) for d, x in shares
    ]
    assert [s.basis for s in account.allocations] == [
        "RS 75(2); priority under Rule 221(2)",
        "RS 79(2)",
        "legal-aid recovery under the Regulations of the Court",
    ]
    assert "trust_fund_for_victims 100000.00 (RS 79(2))" in account.history[-1].note
    assert v.totals["EUR"].allocated == Decimal("398000.00")
    assert v.totals["EUR"].forfeited == ACCOUNT_EUR
    events = await published_since(handle, worker.published, count)
    assert [e.type for e in events] == [
        RequestEventType.COURT_ACTION,
        RequestEventType.ASSET_ALLOCATED,
    ]
    await assert_rejected(
        handle,
        worker.published,
        allocation(ACCOUNT, ("reparations", "1.00")),
        f"asset {ACCOUNT!r} is allocated",
    )


async def test_allocation_sets_no_order_beyond_the_priority_of_reparations(worker) -> None:
    """Rule 221(2) gives reparations priority and sets no other order: shares listed in any
    order (the Trust Fund and a fine before reparations), a purpose named twice
    with different bases, and a basis the Presidency states itself are all taken and recorded
    as decided."""
    _, handle = await in_execution_under_policy(worker)
    await send(handle, conviction())
    await send(handle, forfeiture(ACCOUNT))
    await send(handle, transfer(ACCOUNT, "398000.00"))
    decided = court_action(
        c.Allocation,
        asset_id=ACCOUNT,
        reparations="satisfied",
        shares=[
            {
                "destination": "trust_fund_for_victims",
                "amount": money("100000.00"),
                "basis": "RS 79(2)",
            },
            {"destination": "fine", "amount": money("8000.00")},
            {"destination": "reparations", "amount": money("200000.00")},
            {
                "destination": "reparations",
                "amount": money("50000.00"),
                "basis": "RS 75(2), collective award through the Trust Fund (RS 79(2))",
            },
        ],
    )
    await send(handle, decided)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    # 358,000 of 398,000 allocated: the rest awaits a further allocation (amount by amount).
    assert (account.status, account.unallocated.amount) == (A.TRANSFERRED, Decimal("40000.00"))
    assert [(s.destination.value, s.basis) for s in account.allocations] == [
        ("trust_fund_for_victims", "RS 79(2)"),
        ("fine", "RS 77(2)(a); Rules 217-218"),
        ("reparations", "RS 75(2); priority under Rule 221(2)"),
        ("reparations", "RS 75(2), collective award through the Trust Fund (RS 79(2))"),
    ]


def test_allocation_in_mixed_currencies_is_a_schema_error() -> None:
    """One allocation is in one currency; its order is free (Rule 221(2) sets none)."""
    allocation(  # no error
        ACCOUNT, ("legal_aid_refund", "1.00"), ("reparations", "1.00"), reparations="satisfied"
    )
    with pytest.raises(ValidationError, match="one currency per allocation"):
        court_action(
            c.Allocation,
            asset_id=ACCOUNT,
            shares=[
                {"destination": "reparations", "amount": money("1.00", "EUR")},
                {"destination": "fine", "amount": money("1.00", "USD")},
            ],
            reparations="satisfied",
        )


# --- Release --------------------------------------------------------------------------------


async def test_release_on_acquittal(worker) -> None:
    """Acquittal (Bemba, 2018): the restrained assets are released — the ledger says so,
    with the ground, and the totals count them as released; an asset never restrained cannot
    be released."""
    _, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        release(ACCOUNT, SHARES),
        f"asset {SHARES!r} is known, not frozen or seized",
    )
    count = await published_count(handle, worker.published)
    acquittal = release(ACCOUNT, APARTMENT)
    assert (await send(handle, acquittal)).status is S.IN_EXECUTION
    v = await view(handle)
    for asset_id in (ACCOUNT, APARTMENT):
        entry = v.ledger.entries[asset_id]
        assert (entry.status, entry.release_ground) == (A.RELEASED, "acquittal")
        assert (entry.history[-1].event_id, entry.history[-1].note) == (
            acquittal.event_id,
            "released: acquittal",
        )
    assert v.totals["EUR"] == CurrencyTotals(
        identified=ACCOUNT_EUR + APARTMENT_EUR + Decimal("1150000.00"),
        released=ACCOUNT_EUR + APARTMENT_EUR,
    )
    events = await published_since(handle, worker.published, count)
    assert [e.type for e in events] == [RequestEventType.COURT_ACTION] + [
        RequestEventType.ASSET_RELEASED
    ] * 2
    await assert_rejected(
        handle, worker.published, release(ACCOUNT), f"asset {ACCOUNT!r} is released"
    )


def test_release_has_no_lapse_and_names_the_deciding_organ() -> None:
    """Part 9: nothing lapses without a decision, so a release has no ground 'lapse'; it is a
    decision of a Chamber or the Presidency, named as such (not free text). An allocation is
    the Presidency's (RS 109, Rules 217-221)."""
    assert "lapse" not in {g.value for g in c.ReleaseGround}
    with pytest.raises(ValidationError, match="ground"):
        court_action(c.Release, asset_ids=[ACCOUNT], ground="lapse", **reasons())
    with pytest.raises(ValidationError, match="decided_by"):
        court_action(
            c.Release,
            asset_ids=[ACCOUNT],
            ground="acquittal",
            decided_by="Registry, Cooperation Section",
            **reasons(),
        )
    for organ in ("pre_trial_chamber", "trial_chamber", "appeals_chamber", "presidency"):
        court_action(
            c.Release, asset_ids=[ACCOUNT], ground="acquittal", decided_by=organ, **reasons()
        )
    with pytest.raises(ValidationError, match="decided_by"):
        court_action(
            c.Allocation,
            asset_id=ACCOUNT,
            decided_by="trial_chamber",
            shares=[{"destination": "reparations", "amount": money("1.00")}],
        )


async def test_allocation_amount_by_amount_until_nothing_remains(worker) -> None:
    """RS 109(3), Rule 221: the Presidency allocates the transferred value amount by amount.
    An allocation of less than was transferred leaves the asset transferred, with what was
    allocated so far and the remainder; closing is refused while a value is unallocated (old
    code marked the asset allocated and let the request close, stranding the remainder); a
    further allocation of the remainder is accepted, more than the remainder is refused, and
    the asset is allocated when nothing remains. Reparations' priority (Rule 221(2)) stays
    the only ordering rule."""
    req = court_request(known_assets=[example("court-request")["known_assets"][0]])
    handle = await worker.start(req, policy=resolve(load_policy(), load_directory(), req))
    await send(handle, freeze_account(req, final=True))
    await send(handle, conviction())
    await send(handle, forfeiture(ACCOUNT))
    await assert_rejected(
        handle, worker.published, transfer(ACCOUNT, "0.00"), "a transfer to the Court moves a value"
    )
    await send(handle, transfer(ACCOUNT, "398000.00"))
    await assert_rejected(
        handle,
        worker.published,
        allocation(ACCOUNT, ("reparations", "0.00")),
        "an allocation allocates an amount",
    )
    await send(handle, allocation(ACCOUNT, ("reparations", "300000.00")))
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is A.TRANSFERRED
    assert (account.allocated.amount, account.unallocated.amount) == (
        Decimal("300000.00"),
        Decimal("98000.00"),
    )
    await assert_rejected(handle, worker.published, close_action(), "await transfer or allocation")
    await assert_rejected(
        handle,
        worker.published,
        allocation(ACCOUNT, ("trust_fund_for_victims", "98000.01", "RS 75(2)")),
        "allocation of 98000.01 exceeds the 98000.00 EUR still unallocated",
    )
    await send(
        handle, allocation(ACCOUNT, ("legal_aid_refund", "98000.00"), reparations="satisfied")
    )
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert account.status is A.ALLOCATED
    assert (account.allocated.amount, account.unallocated.amount) == (Decimal("398000.00"), 0)
    assert [(s.destination.value, s.amount.amount) for s in account.allocations] == [
        ("reparations", Decimal("300000.00")),
        ("legal_aid_refund", Decimal("98000.00")),
    ]
    assert v.totals["EUR"].allocated == Decimal("398000.00")
    assert (await send(handle, close_action())).status is S.CLOSED
