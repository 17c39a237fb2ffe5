"""Forfeiture follows a conviction, on the Trial Chamber's order (RS 77(2)(b), 76; Rule 147;
RS 83(2) on appeal). A request reads the judgment in force of its case from its own state:
the case tells it (``record_judgment``), or the Court records it on a request started alone.
Where no conviction is recorded, the conservative reading: nothing is forfeited."""

from __future__ import annotations

from schemas import court as c
from schemas.ledger import AssetStatus as A
from tests.builders import court_action
from tests.decisions import conviction
from tests.workflows.support import (
    ACCOUNT,
    assert_rejected,
    forfeiture,
    in_execution,
    send,
    view,
)


async def test_rs77_2_b_forfeiture_refused_without_a_recorded_conviction(worker) -> None:
    """RS 77(2)(b): no judgment recorded, or an acquittal in force: the forfeiture order is
    refused and nothing is written (old code forfeited on any order)."""
    _, handle = await in_execution(worker)
    await assert_rejected(
        handle, worker.published, forfeiture(ACCOUNT), "forfeiture follows a conviction"
    )
    acquittal = conviction(judgment_reference="ICC-01/22-T-J-2", outcome="acquittal")
    await send(handle, acquittal)
    await assert_rejected(handle, worker.published, forfeiture(ACCOUNT), "(acquittal) in force")
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.FROZEN


async def test_rs77_2_b_forfeiture_is_the_trial_chambers_order_after_a_conviction(
    worker,
) -> None:
    """RS 76, 77(2)(b): after a conviction, an order by the Registry or the Pre-Trial Chamber
    is refused, naming the organ, the action and the rule (the catalog's table of powers); the
    Trial Chamber's is taken. An older judgment never replaces the one in force (RS 83(2))."""
    _, handle = await in_execution(worker)
    await send(handle, conviction())
    for organ in ("Registry", "Pre-Trial Chamber II"):
        wrong = court_action(
            c.ForfeitureOrder,
            decided_by=organ,
            order_reference="ICC-01/22-F-9",
            asset_ids=[ACCOUNT],
        )
        reason = (
            f"the {organ.removesuffix(' II')} may not take forfeiture_order: RS 76, 77(2)(b), "
            "83(2); Rules 147, 218: with the sentence, after a conviction gives it to the "
            "Trial Chamber or the Appeals Chamber"
        )
        await assert_rejected(handle, worker.published, wrong, reason)
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.FROZEN
    older = conviction(judgment_reference="ICC-01/22-T-J-0", delivered_on="2025-01-01")
    await assert_rejected(handle, worker.published, older, "older than the judgment in force")
    await send(handle, forfeiture(ACCOUNT))
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.FORFEITURE_ORDERED
