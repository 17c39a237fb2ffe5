"""What a forfeiture order holds, no release path lets go of (docs/legal-process.md,
"What a forfeiture order holds").

A forfeiture order (RS 77(2)(b)) is a Trial Chamber's order made after a conviction, on a
hearing at which bona fide third parties are heard (Rule 147); it is enforced through the
requested State (RS 109, Rules 217-218). Once an asset is held under one, what ended the
protective measure no longer reaches it: not the Court's withdrawal of the protective request,
not a Rule 99(3) revocation or modification of the protective order, not a third party's claim
on the protective measure, not a Chamber's freeze limit (``workflows/freeze_limits.py``), and
not a release that does not name the order. Only a decision that sets the order itself aside
(on appeal, RS 81, 83(2); on revision, RS 84(2)) and names it releases the asset. Pure
functions; deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.common import Money
from schemas.court import JudgmentOutcome
from schemas.enforcement import EnforcementOutcome
from schemas.ledger import AssetStatus, LedgerEntry
from schemas.request import CourtRequest
from workflows.carry import RequestCarry
from workflows.outcome import Refusal


def holding_order(entry: LedgerEntry) -> str | None:
    """The forfeiture order that holds the asset now, if one does."""
    if entry.status is AssetStatus.FORFEITURE_ORDERED:
        return entry.forfeiture_order or "a forfeiture order"
    return None


def check_releasable(
    asset_id: str, entry: LedgerEntry, by: str, set_aside: str | None = None
) -> None:
    """Refuse ``by`` (a release path) on an asset held under a forfeiture order, unless the
    decision names that order as set aside."""
    order = holding_order(entry)
    if order is None or (set_aside is not None and set_aside == entry.forfeiture_order):
        return
    raise Refusal(
        f"asset {asset_id!r} is held under forfeiture order {order} (RS 77(2)(b), 109): "
        f"{by} does not release it; only a decision setting that order aside (RS 83(2), "
        "84(2)) releases it, and the release names the order (forfeiture_order_set_aside)"
    )


def split(entries: Iterable[LedgerEntry]) -> tuple[list[LedgerEntry], list[LedgerEntry]]:
    """The restrained entries a protective act may release, and those a forfeiture order
    holds (which it leaves as they are)."""
    free: list[LedgerEntry] = []
    held: list[LedgerEntry] = []
    for entry in entries:
        (held if holding_order(entry) is not None else free).append(entry)
    return free, held


RECOVERED = frozenset({EnforcementOutcome.FORFEITED, EnforcementOutcome.VALUE_RECOVERED})
"""What the State reported holding for the Court on an enforcement request (RS 109(1)-(2))."""


def check_transferable(request: CourtRequest, entry: LedgerEntry, amount: Money) -> None:
    """RS 109(3): on the Presidency's enforcement request, what is transferred to the Court is
    what the State reported holding for it, at the value it reported: a forfeited asset or a
    value recovered (RS 109(1)-(2)), never an item reported lost or still being recovered."""
    if request.enforcement is None:
        return
    asset_id = entry.asset.asset_id
    if entry.enforcement not in RECOVERED or entry.recovered is None:
        reported = entry.enforcement.value if entry.enforcement else "nothing"
        raise Refusal(
            f"asset {asset_id!r}: the State reported {reported} on it: a transfer to the Court "
            "moves what the State holds, forfeited or its value recovered (RS 109(1)-(3))"
        )
    if amount != entry.recovered:
        raise Refusal(
            f"asset {asset_id!r}: {amount.amount} {amount.currency} is not the "
            f"{entry.recovered.amount} {entry.recovered.currency} the State reported holding "
            "(RS 109(3)): a different value needs the State's report first"
        )


def check_enforceable(record: RequestCarry, request: CourtRequest, what: str) -> None:
    """Enforcement (RS 109; Rules 217-221) follows a final conviction: execution of the
    decision or sentence is suspended while an appeal may be brought or is pending (RS 81(4)),
    and a forfeiture order falls with a conviction reversed (RS 83(2)). Refused, with the
    reason, unless the judgment in force for the request's case is a final conviction; on the
    Presidency's enforcement request, the very conviction its order follows (the case tells
    the request its judgment; outside a case the Court records it on the request)."""
    held = record.judgment
    if held is None or held.outcome is not JudgmentOutcome.CONVICTION:
        in_force = (
            "no judgment" if held is None else f"{held.outcome.value} {held.judgment_reference}"
        )
        raise Refusal(f"{what} enforces a conviction (RS 109): the case has {in_force} in force")
    order = request.enforcement
    if order is not None and held.judgment_reference != order.judgment_reference:
        raise Refusal(
            f"{what} enforces the order of judgment {order.judgment_reference}; the judgment in "
            f"force is {held.judgment_reference} (RS 83(2), 84(2))"
        )
    if held.finality != "final":
        raise Refusal(
            f"{what} waits for the conviction {held.judgment_reference} to be final: execution "
            "is suspended while an appeal may be brought or is pending (RS 81(4))"
        )
