"""Asset-level answers on frozen assets (docs/legal-process.md, 'Life of one asset'): asset
management and the valuation history it builds (cf. EU 2018/1805 art. 28; RS 93(1)(k)), a
proposal to limit a freeze in time (cf. EU 2018/1805 art. 12; consulted under RS 97), and
every asset answer refused before the request is acknowledged.
"""

from __future__ import annotations

from decimal import Decimal

from schemas.ledger import AssetStatus, CurrencyTotals, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    ACCOUNT_EUR,
    APARTMENT,
    SHARES,
    VESSEL,
    assert_rejected,
    asset_management,
    court_request,
    domestic_challenge,
    freeze_limit,
    in_execution,
    send,
    third_party_claim,
    view,
)

S = RequestStatus


# --- Asset management (cf. EU 2018/1805 art. 28) -------------------------------------------


async def test_asset_management_builds_the_valuation_history(worker) -> None:
    """cf. EU 2018/1805 art. 28: valuation, depreciation and interlocutory sale of a frozen
    asset each update its value and add to its history; totals follow the latest value."""
    req, handle = await in_execution(worker)
    updates = [
        asset_management(req, ACCOUNT, "400000.00", kind="valuation"),
        asset_management(req, APARTMENT, "820000.00", kind="depreciation"),
        asset_management(req, APARTMENT, "805000.00", kind="interlocutory_sale"),
    ]
    for update in updates:
        assert (await send(handle, update)).status is S.IN_EXECUTION

    v = await view(handle)
    apartment = v.ledger.entries[APARTMENT]
    assert (apartment.value.amount, apartment.value.currency) == (Decimal("805000.00"), "EUR")
    assert apartment.asset_manager == updates[2].asset_manager
    assert apartment.status is AssetStatus.FROZEN
    assert [(h.event_id, h.value.amount) for h in apartment.history[1:]] == [
        (updates[1].event_id, Decimal("820000.00")),
        (updates[2].event_id, Decimal("805000.00")),
    ]
    assert apartment.history[1].note.startswith("depreciation by ")
    assert apartment.history[2].note.endswith("the proceeds replace the asset")
    assert [h.value.amount for h in v.ledger.entries[ACCOUNT].history] == [
        ACCOUNT_EUR,
        Decimal("400000.00"),
    ]
    frozen = Decimal("400000.00") + Decimal("805000.00")
    assert v.totals["EUR"] == CurrencyTotals(
        identified=frozen + Decimal("1150000.00"), frozen=frozen
    )
    assert v.timeline[-1].what == f"interlocutory_sale of {APARTMENT}: 805000.00 EUR"


async def test_asset_management_rejections(worker) -> None:
    """cf. EU 2018/1805 art. 28: an asset not under a measure is not managed (a valuation in
    another currency is taken: test_answers_valuation.py)."""
    req, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        asset_management(req, VESSEL, "1000000.00"),
        f"asset {VESSEL!r} is traced, not frozen or seized",
    )


# --- Freeze limit (cf. EU 2018/1805 art. 12) -----------------------------------------------


async def test_freeze_limit_proposal_sets_the_limit_on_the_named_assets(worker) -> None:
    """cf. EU 2018/1805 art. 12: the State proposes to end a freeze on a date; the ledger keeps
    the date on the named assets (a timer the Court must beat), only on those."""
    req, handle = await in_execution(worker)
    proposal = freeze_limit(req, ACCOUNT, proposed_until="2026-10-01T00:00:00+02:00")
    assert (await send(handle, proposal)).status is S.IN_EXECUTION
    v = await view(handle)
    assert v.ledger.entries[ACCOUNT].freeze_limit_until == proposal.proposed_until
    assert v.ledger.entries[APARTMENT].freeze_limit_until is None
    assert "2026-10-01" in v.timeline[-1].what


async def test_freeze_limit_proposal_rejections(worker) -> None:
    """cf. EU 2018/1805 art. 12: a limit applies to a freeze — on an asset not frozen or
    seized it is rejected (all or nothing), and so is a limit that ends before it is sent."""
    req, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        freeze_limit(req, ACCOUNT, SHARES),
        f"asset {SHARES!r} is known, not frozen or seized",
    )
    await assert_rejected(
        handle,
        worker.published,
        freeze_limit(req, ACCOUNT, proposed_until="2026-03-01T00:00:00+02:00"),
        "proposed_until must be after the proposal is sent",
    )
    assert (await view(handle)).ledger.entries[ACCOUNT].freeze_limit_until is None


async def test_asset_answers_before_acknowledgement_are_rejected(worker) -> None:
    """Asset-level answers (claim, challenge, management, freeze limit) follow receipt."""
    req = court_request()
    handle = await worker.start(req)
    for answer in (
        third_party_claim(req, ACCOUNT),
        domestic_challenge(req, ACCOUNT),
        asset_management(req, ACCOUNT, "1.00"),
        freeze_limit(req, ACCOUNT),
    ):
        await assert_rejected(
            handle,
            worker.published,
            answer,
            f"{answer.answer_type} is not allowed while the request is transmitted",
        )
    assert len(worker.published.events(req.reference)) == 1  # the transmission only
