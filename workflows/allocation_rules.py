"""Allocation of a value transferred to the Court (Rule 221; docs/legal-process.md,
'Allocation of a transferred value'): amount by amount, each with the Presidency's decision
recorded, reparations first (Rule 221(2)), the Trust Fund for Victims on its basis
(RS 75(2), 79(2)), other purposes only as the policy allows. Pure functions over the ledger.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from schemas.common import Money
from schemas.court import Allocation, AllocationDestination, ReparationsPosition
from schemas.enforcement import OrderEnforced
from schemas.ledger import AllocationRecord, LedgerEntry
from schemas.request import CourtRequest
from workflows.asset_rules import A, move
from workflows.carry import RequestCarry
from workflows.forfeiture_hold import check_enforceable
from workflows.outcome import Outcome, Refusal, entry_of


def _policy_bases(record: RequestCarry) -> dict[AllocationDestination, str]:
    """The purposes beyond reparations and the Trust Fund the request's policy allows, with
    their bases; none without a policy (Rule 221(1): nothing beyond what is allowed)."""
    return dict(record.clocks.policy.allocation.other_purposes) if record.clocks else {}


def check_allocation(record: RequestCarry, request: CourtRequest, m: Allocation) -> None:
    entry = entry_of(record, m.asset_id)
    if entry.status is not A.TRANSFERRED or entry.transferred is None:
        raise Refusal(
            f"asset {m.asset_id!r} is {entry.status.value}: only a transferred value is "
            "allocated, while some of it remains unallocated"
        )
    check_enforceable(record, request, "an allocation (Rule 221)")
    if m.shares[0].amount.currency != entry.transferred.currency:
        raise Refusal(
            f"allocation in {m.shares[0].amount.currency}, transfer in {entry.transferred.currency}"
        )
    _check_reparations_order(request, m)
    allowed = _policy_bases(record)
    for share in m.shares:
        if not share.destination.statutory and share.destination not in allowed:
            raise Refusal(
                f"the policy allows no allocation to {share.destination.value}: beyond "
                "reparations (RS 75(2)) and the Trust Fund for Victims (RS 75(2), 79(2)) only "
                "the purposes the policy lists, each with its basis (Rule 221(1))"
            )
    found = [d.reparations for d in entry.allocation_decisions if d.reparations is not None]
    if (
        found
        and m.reparations is ReparationsPosition.NONE_ORDERED
        and (ReparationsPosition.NONE_ORDERED not in found)
    ):
        raise Refusal(
            f"an earlier allocation on {m.asset_id!r} found reparations {found[-1].value}: "
            'say whether they are now "satisfied" (Rule 221(2)), not that none were ordered'
        )
    total = sum((s.amount.amount for s in m.shares), Decimal(0))
    if total == 0:
        raise Refusal("an allocation allocates an amount: every share is zero")
    remainder = _unallocated(entry)
    if total > remainder:
        raise Refusal(
            f"allocation of {total} exceeds the {remainder} {entry.transferred.currency} "
            f"still unallocated of the {entry.transferred.amount} transferred"
        )


def _check_reparations_order(request: CourtRequest, m: Allocation) -> None:
    """What a State recovered on a reparations order (RS 75(2), 75(5)) goes to the
    reparations it was ordered for, directly or through the Trust Fund for Victims as an
    award (RS 75(2)); it is not a fine or a forfeiture the Presidency may put elsewhere
    (Rule 219: the order is not modified)."""
    order = request.enforcement
    if order is None or order.order is not OrderEnforced.REPARATIONS:
        return
    for share in m.shares:
        reparations = share.destination is AllocationDestination.REPARATIONS
        award = share.destination is AllocationDestination.TRUST_FUND_FOR_VICTIMS and (
            share.basis.replace(" ", "") == "RS75(2)"
        )
        if not (reparations or award):
            raise Refusal(
                f"a share to {share.destination.value} ({share.basis or 'no basis'}): what was "
                f"recovered on the reparations order {order.order_reference} goes to those "
                "reparations, directly or through the Trust Fund for Victims under RS 75(2) "
                "(RS 75(5); Rule 219)"
            )


def _unallocated(entry: LedgerEntry) -> Decimal:
    assert entry.transferred is not None
    if entry.unallocated is not None:
        return entry.unallocated.amount
    # Carried from before the remainder was recorded: what the shares have not taken.
    return entry.transferred.amount - sum((s.amount.amount for s in entry.allocations), Decimal(0))


def apply_allocation(record: RequestCarry, _: CourtRequest, m: Allocation, at: datetime) -> Outcome:
    """Allocation by the Presidency's decision (RS 109, Rules 217-221), amount by amount:
    allocating EUR 1 of EUR 400,000 transferred leaves EUR 399,999 unallocated and the asset
    transferred, not allocated. Reparations have priority (Rule 221(2): enforced in the
    contract, ``Allocation``); the Trust Fund for Victims on its road (RS 75(2) or 79(2));
    other purposes only as the policy allows, each share recorded with its basis (the policy's
    when the decision states none) and the decision with its reference. The asset is allocated
    only once nothing of the transferred value remains."""
    entry = record.ledger.entries[m.asset_id]
    assert entry.transferred is not None
    currency = entry.transferred.currency
    bases = _policy_bases(record)
    shares = [
        s if s.basis.strip() else s.model_copy(update={"basis": bases[s.destination]})
        for s in m.shares
    ]
    entry.allocations = [*entry.allocations, *shares]
    total = sum((s.amount.amount for s in shares), Decimal(0))
    remainder = _unallocated(entry) - total
    allocated = entry.transferred.amount - remainder
    entry.allocated = Money(amount=allocated, currency=currency)
    entry.unallocated = Money(amount=remainder, currency=currency)
    entry.allocation_decisions = [
        *entry.allocation_decisions,
        AllocationRecord(
            event_id=m.event_id,
            decision_reference=m.decision_reference,
            decided_at=m.decided_at,
            reparations=m.reparations,
            allocated=Money(amount=total, currency=currency),
            unallocated_after=entry.unallocated,
        ),
    ]
    parts = ", ".join(f"{s.destination.value} {s.amount.amount} ({s.basis})" for s in shares)
    parts = f"{parts} by {m.decision_reference}"
    if remainder == 0:
        move(entry, A.ALLOCATED, m.event_id, at, parts)
        return Outcome(f"{m.asset_id} allocated: {parts}", assets=[entry])
    note = f"{parts}; {remainder} {currency} still unallocated"
    move(entry, A.TRANSFERRED, m.event_id, at, note)
    return Outcome(f"{m.asset_id} partly allocated: {note}", assets=[entry])
