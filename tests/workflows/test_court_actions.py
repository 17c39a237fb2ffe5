"""Every Court action on a request, driven through the real workflow on a time-skipping test
server: its effect on the request and the per-asset ledger (docs/legal-process.md, 'Life of
one asset'), and its rejection where the request or the asset cannot take it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, CurrencyTotals, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    SHARES,
    VESSEL,
    acknowledgement,
    assert_rejected,
    close_action,
    court_action,
    court_request,
    domestic_challenge,
    example,
    execution_report,
    freeze_account,
    money,
    published_count,
    published_since,
    reasons,
    result,
    send,
    third_party_claim,
)
from workflows.request import RequestWorkflow

S = RequestStatus
A = AssetStatus
ACCOUNT_EUR = Decimal("398214.37")
APARTMENT_EUR = Decimal("860000.00")
ORDER = "ICC-01/22-T-FO-1"


async def in_execution(worker, **request_fields: Any):
    """Acknowledged, then the example RS 99 report: account and apartment frozen, vessel
    identified and traced."""
    req = court_request(**request_fields)
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, execution_report(req))
    return req, handle


async def view(handle):
    return await handle.query(RequestWorkflow.view)


def forfeiture(*asset_ids: str) -> c.ForfeitureOrder:
    return court_action(c.ForfeitureOrder, order_reference=ORDER, asset_ids=list(asset_ids))


def transfer(asset_id: str, amount: str, currency: str = "EUR") -> c.TransferToCourt:
    return court_action(c.TransferToCourt, asset_id=asset_id, amount=money(amount, currency))


def allocation(asset_id: str, *shares: tuple[str, str], currency: str = "EUR") -> c.Allocation:
    return court_action(
        c.Allocation,
        asset_id=asset_id,
        shares=[{"destination": d, "amount": money(x, currency)} for d, x in shares],
    )


def release(*asset_ids: str, ground: str = "acquittal") -> c.Release:
    return court_action(c.Release, asset_ids=list(asset_ids), ground=ground, **reasons())


# --- Urgent confirmation: RS 96(1) ----------------------------------------------------------


async def test_urgent_request_is_confirmed_once(worker) -> None:
    """RS 96(1): an urgent request sent by any written medium is confirmed through the formal
    channel — once; the status does not change."""
    req = court_request(urgency="urgent")
    handle = await worker.start(req)
    count = await published_count(handle, worker.published)
    assert (await view(handle)).urgent_confirmed_at is None

    confirm = court_action(c.UrgentConfirmation, channel="diplomatic channel (note verbale)")
    assert (await send(handle, confirm)).status is S.TRANSMITTED
    v = await view(handle)
    assert v.urgent_confirmed_at is not None
    assert v.status is S.TRANSMITTED
    assert "RS 96(1)" in v.timeline[-1].what
    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.action, e.caused_by) for e in events] == [
        (RequestEventType.COURT_ACTION, "urgent_confirmation", confirm.event_id)
    ]

    await assert_rejected(
        handle,
        worker.published,
        court_action(c.UrgentConfirmation, channel="diplomatic channel"),
        "the urgent request was already confirmed",
    )


async def test_ordinary_request_is_not_confirmed(worker) -> None:
    """RS 96(1): only an urgent request needs confirmation through the formal channel."""
    req = court_request()
    handle = await worker.start(req)
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.UrgentConfirmation, channel="diplomatic channel"),
        "only an urgent request is confirmed",
    )


# --- Rule 99 ------------------------------------------------------------------------------


async def test_rule99_notification_after_an_ex_parte_measure(worker) -> None:
    """Rule 99: after an ex parte measure is executed the person is notified — not before
    anything is restrained, only parties to the request; then the Chamber may revoke the
    measure on named assets, which are released (ground: revocation)."""
    req = court_request(confidentiality="ex_parte")
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    notify = court_action(c.Rule99Notification, notified_party_ids=["p-suspect"])
    await assert_rejected(handle, worker.published, notify, "nothing is restrained yet")

    await send(handle, execution_report(req))
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], **reasons()),
        "only after the Rule 99 notification",
    )
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.Rule99Notification, notified_party_ids=["p-suspect", "p-stranger"]),
        "notified_party_ids ['p-stranger'] are not parties to the request",
    )
    assert (await send(handle, notify)).status is S.IN_EXECUTION
    v = await view(handle)
    assert v.rule99_notified_at is not None
    assert v.timeline[-1].what == "Rule 99 notification of 1 person(s)"

    # The Chamber maintains the measure: nothing changes on the ledger.
    maintained = court_action(c.Rule99Decision, outcome="maintained", **reasons())
    await send(handle, maintained)
    after = await view(handle)
    assert after.ledger == v.ledger
    assert after.timeline[-1].what == "measure maintained after Rule 99 observations"

    # Then revokes it on the account: released; the apartment stays frozen.
    count = await published_count(handle, worker.published)
    revoked = court_action(c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], **reasons())
    await send(handle, revoked)
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert (account.status, account.release_ground) == (A.RELEASED, "revocation")
    assert account.history[-1].event_id == revoked.event_id
    assert v.ledger.entries[APARTMENT].status is A.FROZEN
    assert v.totals["EUR"].released == ACCOUNT_EUR
    events = await published_since(handle, worker.published, count)
    assert [e.type for e in events] == [
        RequestEventType.COURT_ACTION,
        RequestEventType.ASSET_RELEASED,
    ]
    assert all(e.asset is None for e in events)  # ex parte: no asset data in events
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], **reasons()),
        f"asset {ACCOUNT!r} is not restrained",
    )


async def test_rule99_notification_of_a_request_that_is_not_ex_parte_is_rejected(worker) -> None:
    """Rule 99: the notification follows an order made ex parte; a confidential request
    (RS 87(3)) made with notice is not notified under Rule 99."""
    _, handle = await in_execution(worker)
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.Rule99Notification, notified_party_ids=["p-suspect"]),
        "this request is not ex parte",
    )


async def test_rule99_decision_maintaining_the_measure_on_named_assets_keeps_them_frozen(
    worker,
) -> None:
    """Rule 99: a Chamber that *maintains* the measure on named assets keeps them frozen (the
    schema allows naming them); only a revocation or modification lifts the measure."""
    _, handle = await in_execution(worker, confidentiality="ex_parte")
    await send(handle, court_action(c.Rule99Notification, notified_party_ids=["p-suspect"]))
    maintained = court_action(
        c.Rule99Decision, outcome="maintained", asset_ids=[ACCOUNT], **reasons()
    )
    try:
        await send(handle, maintained)
    except Exception:
        pass
    v = await view(handle)
    assert v.ledger.entries[ACCOUNT].status is A.FROZEN
    assert v.ledger.entries[ACCOUNT].release_ground is None


# --- Withdrawal ---------------------------------------------------------------------------


async def test_withdrawal_releases_every_frozen_asset_then_close(worker) -> None:
    """The Court withdraws the request: every frozen asset is released (ground: withdrawal),
    the request is withdrawn, and the Registry may then close it."""
    _, handle = await in_execution(worker)
    count = await published_count(handle, worker.published)
    withdrawal = court_action(c.Withdrawal, **reasons())
    assert (await send(handle, withdrawal)).status is S.WITHDRAWN

    v = await view(handle)
    assert {a: (e.status, e.release_ground) for a, e in v.ledger.entries.items()} == {
        ACCOUNT: (A.RELEASED, "withdrawal"),
        APARTMENT: (A.RELEASED, "withdrawal"),
        SHARES: (A.KNOWN, None),
        VESSEL: (A.TRACED, None),  # never restrained: nothing to release
    }
    assert v.totals["EUR"].frozen == 0
    assert v.totals["EUR"].released == ACCOUNT_EUR + APARTMENT_EUR
    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.asset.asset_id if e.asset else None, e.status) for e in events] == [
        (RequestEventType.COURT_ACTION, None, S.WITHDRAWN),
        (RequestEventType.ASSET_RELEASED, ACCOUNT, S.WITHDRAWN),
        (RequestEventType.ASSET_RELEASED, APARTMENT, S.WITHDRAWN),
    ]

    await assert_rejected(
        handle,
        worker.published,
        court_action(c.Withdrawal, **reasons()),
        "withdrawal is not allowed while the request is withdrawn",
    )
    assert (await send(handle, close_action())).status is S.CLOSED
    assert (await handle.result()).status is S.CLOSED


# --- Forfeiture: RS 77(2)(b) ---------------------------------------------------------------


async def test_forfeiture_of_a_frozen_asset(worker) -> None:
    """RS 77(2)(b): forfeiture is ordered of frozen or seized, uncontested assets; the ledger
    keeps the order reference and the totals count the asset as forfeited."""
    _, handle = await in_execution(worker)
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
    _, handle = await in_execution(worker)
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
    req, handle = await in_execution(worker)
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


# --- Transfer: RS 109(3); allocation: Rule 221 ---------------------------------------------


async def test_transfer_only_after_forfeiture(worker) -> None:
    """RS 109(3): forfeited property or its value is transferred to the Court — only after a
    forfeiture order."""
    _, handle = await in_execution(worker)
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
    each share is recorded with its basis (RS 79(2) for the Trust Fund for Victims); totals
    count the allocation."""
    _, handle = await in_execution(worker)
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
        allocation(ACCOUNT, ("reparations", "300000.00"), ("legal_aid_refund", "98000.01")),
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
    allocated = allocation(ACCOUNT, *shares)
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
    _, handle = await in_execution(worker)
    await send(handle, forfeiture(ACCOUNT))
    await send(handle, transfer(ACCOUNT, "398000.00"))
    decided = court_action(
        c.Allocation,
        asset_id=ACCOUNT,
        shares=[
            {"destination": "trust_fund_for_victims", "amount": money("100000.00")},
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
    allocation(ACCOUNT, ("legal_aid_refund", "1.00"), ("reparations", "1.00"))  # no error
    with pytest.raises(ValidationError, match="one currency per allocation"):
        court_action(
            c.Allocation,
            asset_id=ACCOUNT,
            shares=[
                {"destination": "reparations", "amount": money("1.00", "EUR")},
                {"destination": "fine", "amount": money("1.00", "USD")},
            ],
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


# --- Close: every asset settled -------------------------------------------------------------


async def test_full_asset_life_then_close(worker) -> None:
    """docs/legal-process.md, 'Life of one asset': identified → frozen (RS 93(1)(k), 99) →
    forfeiture ordered (RS 77(2)(b)) → transferred (RS 109(3)) → allocated (Rule 221). Closing
    is refused while execution runs and at every step until the asset is settled; then the
    request closes, the workflow completes and the asset's history lists each step in order."""
    req = court_request(known_assets=[example("court-request")["known_assets"][0]])
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    identified = execution_report(req, [result(ACCOUNT, "identify", value=("401000.00", "EUR"))])
    await send(handle, identified)
    await assert_rejected(
        handle,
        worker.published,
        close_action(),
        "close is not allowed while the request is in_execution",
    )
    frozen = freeze_account(req, final=True)
    assert (await send(handle, frozen)).status is S.EXECUTED

    steps: list[Any] = [
        forfeiture(ACCOUNT),
        transfer(ACCOUNT, "398214.37"),
        allocation(ACCOUNT, ("reparations", "300000.00"), ("trust_fund_for_victims", "98214.37")),
    ]
    for step in steps:
        await assert_rejected(handle, worker.published, close_action(), f"assets ['{ACCOUNT}']")
        await send(handle, step)

    close = close_action()
    assert (await send(handle, close)).status is S.CLOSED
    final = await handle.result()
    assert final.status is S.CLOSED
    account = final.ledger.entries[ACCOUNT]
    assert [(h.event_id, h.status) for h in account.history] == [
        (identified.event_id, A.IDENTIFIED),
        (frozen.event_id, A.FROZEN),
        (steps[0].event_id, A.FORFEITURE_ORDERED),
        (steps[1].event_id, A.TRANSFERRED),
        (steps[2].event_id, A.ALLOCATED),
    ]
    assert final.totals["EUR"].allocated == ACCOUNT_EUR
    assert [t.event_id for t in final.timeline][-4:] == [
        *(s.event_id for s in steps),
        close.event_id,
    ]

    events = worker.published.events(req.reference)
    asset_events = [(e.type, e.caused_by) for e in events if e.asset is not None]
    assert asset_events == [
        (RequestEventType.ASSET_FROZEN, frozen.event_id),
        (RequestEventType.ASSET_FORFEITURE_ORDERED, steps[0].event_id),
        (RequestEventType.ASSET_TRANSFERRED, steps[1].event_id),
        (RequestEventType.ASSET_ALLOCATED, steps[2].event_id),
    ]
    assert (events[-1].type, events[-1].caused_by) == (RequestEventType.CLOSED, close.event_id)


async def test_close_refused_while_a_domestic_challenge_keeps_an_asset_frozen(worker) -> None:
    """An asset frozen and contested is not settled: closing waits for it to be released or
    forfeited and allocated. An upheld domestic remedy does not settle it: the State's report
    is not a decision of the Court; the Court's release does."""
    req = court_request(known_assets=[example("court-request")["known_assets"][0]])
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req, final=True))
    await send(handle, domestic_challenge(req, ACCOUNT, "ch-1"))
    await assert_rejected(handle, worker.published, close_action(), "still frozen or seized")
    await send(handle, domestic_challenge(req, ACCOUNT, "ch-1", "upheld"))
    await assert_rejected(handle, worker.published, close_action(), "still frozen or seized")
    await send(handle, release(ACCOUNT, ground="domestic_remedy"))
    assert (await send(handle, close_action())).status is S.CLOSED
    assert (await handle.result()).ledger.entries[ACCOUNT].status is A.RELEASED


# --- Review findings: nothing released or allocated without the deciding organ -----------


async def test_rule99_modification_is_recorded_and_releases_nothing(worker) -> None:
    """Rule 99(3): observations may lead to the measure being revoked *or modified*. A
    modification is not a revocation: the account stays frozen, the modified terms are
    recorded on it, and no asset is released (old code released it with ground
    'revocation'). A release is then the Court's own, explicit action."""
    _, handle = await in_execution(worker, confidentiality="ex_parte")
    await send(handle, court_action(c.Rule99Notification, notified_party_ids=["p-suspect"]))
    count = await published_count(handle, worker.published)
    terms = (
        "The freeze of the account is limited to EUR 200,000; the rest is at the holder's disposal."
    )
    modified = court_action(
        c.Rule99Decision, outcome="modified", asset_ids=[ACCOUNT], terms=terms, **reasons()
    )
    await send(handle, modified)
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert (account.status, account.release_ground) == (A.FROZEN, None)
    assert account.rule99_modifications == [terms]
    assert account.history[-1].event_id == modified.event_id
    assert terms in account.history[-1].note
    assert v.totals["EUR"].released == 0
    events = await published_since(handle, worker.published, count)
    assert [e.type for e in events] == [RequestEventType.COURT_ACTION]
    await send(handle, release(ACCOUNT, ground="revocation"))
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.RELEASED


def test_rule99_modification_states_its_terms() -> None:
    """Rule 99(3): a modified measure is recorded with its terms; only a modification has
    terms."""
    with pytest.raises(ValidationError, match="a modification states the modified terms"):
        court_action(c.Rule99Decision, outcome="modified", asset_ids=[ACCOUNT], **reasons())
    with pytest.raises(ValidationError, match="only a modification carries terms"):
        court_action(
            c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], terms="x", **reasons()
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
    handle = await worker.start(req)
    await send(handle, freeze_account(req, final=True))
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
        allocation(ACCOUNT, ("trust_fund_for_victims", "98000.01")),
        "allocation of 98000.01 exceeds the 98000.00 EUR still unallocated",
    )
    await send(handle, allocation(ACCOUNT, ("legal_aid_refund", "98000.00")))
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
