"""Ending a request (docs/legal-process.md, 'Life of one asset'): the Court's withdrawal
releases every frozen asset and then closes; a request closes only when every asset is
settled — the full asset life from freeze to forfeiture (RS 77(2)(b)), transfer (RS 109(3))
and allocation (Rule 221) — and not while a domestic challenge keeps an asset frozen.
"""

from __future__ import annotations

from typing import Any

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
    acknowledgement,
    allocation,
    assert_rejected,
    close_action,
    conviction,
    court_action,
    court_request,
    domestic_challenge,
    example,
    execution_report,
    forfeiture,
    freeze_account,
    in_execution,
    published_count,
    published_since,
    reasons,
    release,
    result,
    send,
    transfer,
    view,
)

S = RequestStatus
A = AssetStatus


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

    await send(handle, conviction())  # RS 74: forfeiture follows a conviction
    steps: list[Any] = [
        forfeiture(ACCOUNT),
        transfer(ACCOUNT, "398214.37"),
        allocation(
            ACCOUNT,
            ("reparations", "300000.00"),
            ("trust_fund_for_victims", "98214.37", "RS 75(2)"),
        ),
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
