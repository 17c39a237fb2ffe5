"""The Presidency's enforcement request and the State's reports on it (docs/legal-process.md,
'Enforcement after conviction').

An enforcement request (RS 109, 75(5); Rules 217-218) opens its ledger with the assets its
forfeiture order names, already held under that order (``ledger_from_request``), so no release
path lets go of them (``workflows/forfeiture_hold.py``) and their transfer to the Court
(RS 109(3)) needs no second order. The State reports per item: forfeited (RS 109(1)), the
value recovered instead (RS 109(2), Rule 218(1)(c)), value recovery under way, or nothing
recoverable with its reasons. For a fine or a reparations order it reports the amounts it
recovered and the property they came from. What it reports never exceeds or changes the order:
national authorities do not modify a fine or a reparations order (Rules 219-220), and a
forfeiture order is given effect as made (RS 109(1)). Pure functions; deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from schemas.answers import EnforcementReport
from schemas.common import MAX_ASSETS
from schemas.court import EnforcementRequestMade, JudgmentOutcome
from schemas.enforcement import EnforcementOutcome as E
from schemas.enforcement import EnforcementResult, OrderEnforced
from schemas.ledger import AssetStatus as A
from schemas.ledger import LedgerEntry
from schemas.ledger import RequestStatus as S
from schemas.request import CourtRequest
from workflows.asset_rules import annotate, move
from workflows.carry import RequestCarry
from workflows.forfeiture_hold import RECOVERED
from workflows.outcome import Outcome, Refusal

ENDED = frozenset({A.TRANSFERRED, A.ALLOCATED, A.RELEASED})
"""An item whose enforcement is over: transferred to the Court, allocated, or released."""


def _order(request: CourtRequest) -> OrderEnforced:
    if request.enforcement is None:
        raise Refusal(
            "an enforcement report answers the Presidency's enforcement request (RS 109, "
            f"Rules 217-218); this request is under {request.legal_basis.value}: report its "
            "execution instead (RS 99)"
        )
    return request.enforcement.order


def check_report(record: RequestCarry, request: CourtRequest, m: EnforcementReport) -> None:
    """Each item is one the order covers and whose enforcement is not over, under the
    judgment the order follows; nothing reported exceeds or changes the order (RS 109(1)-(2);
    for a fine or a reparations order, Rules 219-220)."""
    order = _order(request)
    _check_judgment(record, request)
    new = [r for r in m.results if r.asset_id not in record.ledger.entries]
    if len(record.ledger.entries) + len(new) > MAX_ASSETS:
        raise Refusal(f"the ledger holds at most {MAX_ASSETS} assets")
    for result in m.results:
        _check_item(record, request, order, result)
    if request.enforcement is not None and request.enforcement.amount is not None:
        ordered = request.enforcement.amount
        total = recovered_in(record.ledger.entries.values(), ordered.currency, m.results)
        if total > ordered.amount:
            raise Refusal(
                f"{total} {ordered.currency} recovered would exceed the {order.value} order's "
                f"{ordered.amount} {ordered.currency}: the State gives effect to the order and "
                "does not modify it (RS 109(1), 75(5); Rules 219-220)"
            )


def _check_judgment(record: RequestCarry, request: CourtRequest) -> None:
    """A judgment recorded on the request after the order (an appeal, a revision) that is not
    the final conviction the order follows ends enforcement (RS 83(2), 84(2))."""
    held, order = record.judgment, request.enforcement
    if held is None or order is None:
        return
    if (held.outcome, held.finality, held.judgment_reference) != (
        JudgmentOutcome.CONVICTION,
        "final",
        order.judgment_reference,
    ):
        raise Refusal(
            f"the judgment in force is {held.judgment_reference} ({held.outcome.value}, "
            f"{held.finality}), not the final conviction {order.judgment_reference} the order "
            "follows: nothing is enforced on it (RS 81(4), 83(2))"
        )


def _check_item(
    record: RequestCarry, request: CourtRequest, order: OrderEnforced, result: EnforcementResult
) -> None:
    entry = record.ledger.entries.get(result.asset_id)
    forfeiture = order is OrderEnforced.FORFEITURE
    if entry is None:
        if forfeiture:
            raise Refusal(
                f"{result.asset_id!r} is not among the proceeds, property and assets the "
                "forfeiture order specifies (Rule 218(1)(b)): the State gives effect to the "
                "order as made (RS 109(1))"
            )
        if result.asset is None:
            raise Refusal(
                f"unknown item {result.asset_id!r}: describe the property the amount was "
                "recovered from (`asset`)"
            )
    elif result.asset is not None and result.asset.kind != entry.asset.kind:
        raise Refusal(
            f"asset {result.asset_id!r} is a {entry.asset.kind.value} in the ledger, "
            f"not a {result.asset.kind.value}"
        )
    if entry is not None and entry.status in ENDED:
        raise Refusal(f"asset {result.asset_id!r} is {entry.status.value}: its enforcement is over")
    if result.outcome is E.FORFEITED and not forfeiture:
        raise Refusal(
            f"a {order.value} order ({order.article}) is given effect by recovering its "
            "amount (value_recovered), not by forfeiting property"
        )
    held = None if entry is None else entry.enforcement
    if held in RECOVERED and result.outcome not in RECOVERED:
        raise Refusal(
            f"asset {result.asset_id!r} was reported {held.value if held else ''}: what the "
            "State holds for the Court is transferred to it (RS 109(3)), not reported lost"
        )
    if result.amount is None:
        return
    ordered = request.enforcement.amount if request.enforcement else None
    if ordered is not None and result.amount.currency != ordered.currency:
        raise Refusal(
            f"{result.asset_id!r}: a {order.value} order is recovered in its own currency, "
            f"{ordered.currency}, not {result.amount.currency} (Rules 219-220)"
        )
    if forfeiture and result.outcome is E.VALUE_RECOVERED:
        _check_value(result, entry)


def _check_value(result: EnforcementResult, entry: LedgerEntry | None) -> None:
    """RS 109(2), Rule 218(1)(c): the value recovered is the value of the property ordered
    forfeited; it is said why the property itself could not be, and it is never more than the
    property's value as known in the same currency (none known: the State states it first)."""
    if result.reasons is None:
        raise Refusal(
            "reasons: the value is recovered where the State is unable to give effect to the "
            "forfeiture of the property itself (RS 109(2), Rule 218(1)(c)): say why"
        )
    assert result.amount is not None and entry is not None  # checked by the caller
    known = entry.value or entry.asset.estimated_value
    if known is None or known.currency != result.amount.currency:
        raise Refusal(
            f"{result.asset_id!r}: no value of the property is known in "
            f"{result.amount.currency}: report its value first (update_asset_management), so "
            "the value recovered can be held to it (RS 109(2))"
        )
    if result.amount.amount > known.amount:
        raise Refusal(
            f"{result.asset_id!r}: {result.amount.amount} {result.amount.currency} recovered "
            f"exceeds the property's value of {known.amount} {known.currency}: RS 109(2) "
            "recovers the value of what was ordered forfeited, no more"
        )


def recovered_in(
    entries: Iterable[LedgerEntry], currency: str, reported: Iterable[EnforcementResult] = ()
) -> Decimal:
    """What the State has recovered in ``currency``, with ``reported`` replacing what its
    items said before."""
    by_item = {
        e.asset.asset_id: e.recovered.amount
        for e in entries
        if e.recovered is not None and e.recovered.currency == currency
    }
    for result in reported:
        by_item.pop(result.asset_id, None)
        if result.amount is not None and result.amount.currency == currency:
            by_item[result.asset_id] = result.amount.amount
    return sum(by_item.values(), Decimal(0))


def apply_report(
    record: RequestCarry, request: CourtRequest, m: EnforcementReport, at: datetime
) -> Outcome:
    """The State's report on the enforcement request (RS 109; Rules 217-218). What it holds
    for the Court is held under the order, shown forfeiture_ordered whatever the order: only a
    transfer to the Court or a decision setting the order aside ends it
    (``workflows/forfeiture_hold.py``)."""
    assert request.enforcement is not None  # checked
    changed: list[LedgerEntry] = []
    for result in m.results:
        entry = record.ledger.entries.get(result.asset_id)
        if entry is None and result.asset is not None:
            entry = record.ledger.entries[result.asset_id] = LedgerEntry(asset=result.asset)
        assert entry is not None  # checked: a new item comes with its description
        entry.enforcement = result.outcome
        note = f"enforcement: {result.outcome.value}"
        if result.amount is not None:
            entry.recovered = entry.value = result.amount
            entry.valued_at = at
            note += f" ({result.amount.amount} {result.amount.currency})"
        if result.outcome in RECOVERED and entry.status is not A.FORFEITURE_ORDERED:
            entry.forfeiture_order = request.enforcement.order_reference
            move(entry, A.FORFEITURE_ORDERED, m.event_id, at, note)
            changed.append(entry)
        else:
            annotate(entry, m.event_id, at, note)
    items = ", ".join(r.asset_id for r in m.results)
    status: S
    if record.status in {S.EXECUTED, S.PARTIALLY_EXECUTED} and not m.final:
        status = record.status
    elif not m.final:
        status = S.IN_EXECUTION
    else:
        status = S.EXECUTED if fully_enforced(record, request) else S.PARTIALLY_EXECUTED
    return Outcome(
        f"{'final' if m.final else 'partial'} enforcement report on {items}",
        status=status,
        assets=changed,
    )


def fully_enforced(record: RequestCarry, request: CourtRequest) -> bool:
    """Every asset the forfeiture order names forfeited or its value recovered; for a fine or
    a reparations order, the whole amount recovered (in the order's currency). An item
    released (its order set aside) is not enforced."""
    order = request.enforcement
    if order is None:
        return False
    entries = list(record.ledger.entries.values())
    if order.amount is not None:
        return recovered_in(entries, order.amount.currency) >= order.amount.amount
    return bool(entries) and all(e.enforcement in RECOVERED for e in entries)


def still_recovering(record: RequestCarry) -> list[str]:
    """Items whose value the State is still recovering (RS 109(2)): the request stays open."""
    return sorted(a for a, e in record.ledger.entries.items() if e.enforcement is E.VALUE_PENDING)


def check_notice(record: RequestCarry, request: CourtRequest, m: EnforcementRequestMade) -> None:
    """The Presidency's enforcement request (Rule 217) is told to the protective request of
    the same case holding its assets under the same forfeiture order; refused, with the
    reason, where the notice is not the Presidency's, is for another case, names an asset
    this request does not hold under a forfeiture order, one another enforcement request
    already enforces, or one already transferred to the Court here (RS 109(3), Rule 221): the
    same value is never transferred and allocated twice, and nothing a freeze holds is let
    go of by a notice."""
    if request.enforcement is not None:
        raise Refusal("an enforcement request is not itself enforced by another")
    if m.case_number != request.case_number:
        raise Refusal(
            f"the enforcement request is of case {m.case_number}; this request is of case "
            f"{request.case_number}"
        )
    for asset_id in m.asset_ids:
        entry = record.ledger.entries.get(asset_id)
        if entry is None:
            continue  # found elsewhere: nothing of it here
        if entry.status in ENDED - {A.RELEASED}:
            raise Refusal(
                f"asset {asset_id!r} was already transferred to the Court on this request "
                f"(RS 109(3)): the Presidency's request {m.enforcement_reference} must not "
                "enforce it again"
            )
        if entry.enforced_by not in (None, m.enforcement_reference):
            raise Refusal(
                f"asset {asset_id!r} is already enforced on the Presidency's request "
                f"{entry.enforced_by}: one enforcement request per asset"
            )


def apply_notice(
    record: RequestCarry, _: CourtRequest, m: EnforcementRequestMade, at: datetime
) -> Outcome:
    """The assets named that this request holds under a forfeiture order are enforced on the
    Presidency's request: no transfer is recorded here for them, and they no longer keep this
    request open. Any other asset named keeps its measure here until a Chamber decides on it
    (nothing a freeze holds is let go of by a notice)."""
    held = [
        a
        for a in m.asset_ids
        if a in record.ledger.entries and record.ledger.entries[a].status is A.FORFEITURE_ORDERED
    ]
    for asset_id in held:
        entry = record.ledger.entries[asset_id]
        entry.enforced_by = m.enforcement_reference
        annotate(entry, m.event_id, at, f"enforced on request {m.enforcement_reference} (RS 109)")
    kept = sorted(set(m.asset_ids) & set(record.ledger.entries) - set(held))
    return Outcome(
        f"enforcement request {m.enforcement_reference} made: enforces "
        f"{', '.join(held) or 'nothing held here under a forfeiture order'}"
        + (f"; {', '.join(kept)} keep their measure here" if kept else "")
    )
