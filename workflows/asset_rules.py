"""The life of one asset after it is restrained (docs/legal-process.md, 'Life of one asset'):
under management, possibly contested, forfeiture ordered, transferred to the Court,
allocated (Rule 221) — or released. Pure functions over the ledger; deterministic.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from schemas.answers import (
    AssetManagementKind,
    AssetManagementUpdate,
    DomesticChallenge,
    FreezeLimitProposal,
    ThirdPartyClaim,
)
from schemas.common import Money
from schemas.court import (
    ForfeitureOrder,
    Release,
    ThirdPartyClaimDecision,
    TransferToCourt,
)
from schemas.escalations import EscalationKind as K
from schemas.ledger import AssetStatus, Contest, LedgerChange, LedgerEntry
from schemas.request import CourtRequest
from workflows.carry import RequestCarry
from workflows.firing import Firing
from workflows.forfeiture_hold import check_enforceable, check_releasable, check_transferable
from workflows.ladder import level_of
from workflows.outcome import Outcome, Refusal, entry_of

A = AssetStatus


def move(entry: LedgerEntry, status: AssetStatus, event_id: str, at: datetime, note: str) -> None:
    """Change an asset's status and keep the change in its history."""
    entry.status = status
    entry.history.append(
        LedgerChange(at=at, event_id=event_id, status=status, value=entry.value, note=note)
    )


def annotate(entry: LedgerEntry, event_id: str, at: datetime, note: str) -> None:
    """Keep a fact about an asset in its history; its status and value stay as they are."""
    entry.history.append(
        LedgerChange(at=at, event_id=event_id, status=entry.status, value=entry.value, note=note)
    )


def _restrained(record: RequestCarry, asset_id: str) -> LedgerEntry:
    entry = entry_of(record, asset_id)
    if not entry.status.restrained:
        raise Refusal(f"asset {asset_id!r} is {entry.status.value}, not frozen or seized")
    return entry


CHAMBER = "Chamber"
THIRD_PARTY_CLAIM = "third_party_claim"
DOMESTIC_CHALLENGE = "domestic_challenge"


def _claim(record: RequestCarry, contest_id: str) -> tuple[LedgerEntry, Contest]:
    """A bona fide third party's claim: the Court decides it (RS 93(1)(k)), and only it — a
    domestic challenge is decided by the national forum that heard it."""
    for entry in record.ledger.entries.values():
        for contest in entry.contests:
            if contest.contest_id == contest_id and contest.kind == THIRD_PARTY_CLAIM:
                return entry, contest
    raise Refusal(f"no third-party claim {contest_id!r} on this request")


# --- State answers on one asset --------------------------------------------------------


def check_contest(
    record: RequestCarry, _: CourtRequest, m: ThirdPartyClaim | DomesticChallenge
) -> None:
    entry = _restrained(record, m.asset_id)
    contest_id = m.claim_id if isinstance(m, ThirdPartyClaim) else m.challenge_id
    known = {c.contest_id: c for c in entry.contests}
    if isinstance(m, DomesticChallenge) and m.outcome != "lodged":
        # The State reports a national forum's decision on a domestic remedy; it may never
        # decide a third party's claim, which is the Court's (RS 93(1)(k), Rule 99).
        contest = known.get(contest_id)
        if contest is None or contest.kind != DOMESTIC_CHALLENGE or not contest.pending:
            raise Refusal(f"no pending domestic challenge {contest_id!r} on {m.asset_id!r}")
    elif contest_id in known:
        raise Refusal(f"{contest_id!r} was already lodged against {m.asset_id!r}")


def apply_contest(
    record: RequestCarry, _: CourtRequest, m: ThirdPartyClaim | DomesticChallenge, at: datetime
) -> Outcome:
    """Third-party claim (RS 93(1)(k), 77(2)(b), Rule 99) or domestic remedy (cf. EU art. 33)."""
    entry = record.ledger.entries[m.asset_id]
    if isinstance(m, ThirdPartyClaim):
        entry.contests.append(
            Contest(contest_id=m.claim_id, kind=m.answer_type, lodged_by_event=m.event_id)
        )
        return Outcome(f"third-party claim {m.claim_id} on {m.asset_id}", contested=[entry])
    if m.outcome == "lodged":
        entry.contests.append(
            Contest(contest_id=m.challenge_id, kind=m.answer_type, lodged_by_event=m.event_id)
        )
        return Outcome(f"domestic challenge {m.challenge_id} on {m.asset_id}", contested=[entry])
    contest = next(
        c
        for c in entry.contests
        if c.contest_id == m.challenge_id and c.kind == DOMESTIC_CHALLENGE and c.pending
    )
    contest.pending, contest.outcome = False, m.outcome
    if m.outcome == "dismissed":
        return Outcome(f"domestic challenge {m.challenge_id} dismissed")
    # The State reports a fact in its own legal order; it is not a decision of the Court.
    # Nothing is released and no other contest (a third party's claim is the Court's to
    # decide, RS 93(1)(k), Rule 99) is touched: the matter goes before the Chamber, and only
    # a decision of a Chamber or the Presidency (``release``) releases the asset.
    contest.awaits_court = True
    note = f"domestic remedy {m.challenge_id} upheld by {m.forum}: awaits the Court"
    annotate(entry, m.event_id, at, note)
    level = (
        level_of(record.clocks.policy, record.clocks.ladder.rung)
        if record.clocks is not None
        else 0
    )
    firing = Firing(K.DOMESTIC_REMEDY_UPHELD, level, addressee=CHAMBER, asset_id=m.asset_id)
    return Outcome(
        f"domestic challenge {m.challenge_id} upheld by {m.forum}: "
        f"{m.asset_id} stays {entry.status.value} until the Court decides",
        firings=[firing],
    )


def check_management(record: RequestCarry, _: CourtRequest, m: AssetManagementUpdate) -> None:
    """Only a restrained asset is managed (RS 93(1)(k)); its valuation may be in any currency
    (the manager values in local currency), and its costs in any currency too."""
    entry = _restrained(record, m.asset_id)
    if (
        m.costs is not None
        and m.costs.currency not in entry.management_costs
        and (len(entry.management_costs) >= MAX_COST_CURRENCIES)
    ):
        raise Refusal(
            f"asset {m.asset_id!r} has costs in {len(entry.management_costs)} currencies "
            f"already: report further costs in one of {sorted(entry.management_costs)}"
        )
    if m.costs is not None:
        total = entry.management_costs.get(m.costs.currency, Decimal(0)) + m.costs.amount
        if total >= MAX_ASSET_COSTS:
            raise Refusal(
                f"asset {m.asset_id!r}: costs of {total} {m.costs.currency} in all exceed what "
                "one asset's costs can be; report a correction to the Registry"
            )


MAX_COST_CURRENCIES = 10
MAX_ASSET_COSTS = 10**18
"""An asset's costs in one currency stay below the largest amount a State may report, so no
request's totals (at most 1,000 assets) pass what its summary to the case may carry."""
"""Most currencies one asset's management costs are kept in."""


def apply_management(
    record: RequestCarry, _: CourtRequest, m: AssetManagementUpdate, at: datetime
) -> Outcome:
    """Asset-management update (cf. EU 2018/1805 art. 28): the valuation history grows. A
    valuation in another currency than the one before becomes the asset's value (the history
    keeps both; totals count the asset in its latest currency, never converted). Costs are
    added to the asset's management costs in their currency: they reduce what may reach
    victims (RS 75(2), 79(2)) and are shown beside the value, never netted from it."""
    entry = record.ledger.entries[m.asset_id]
    entry.asset_manager = m.asset_manager
    before = entry.value
    if m.value is not None:
        entry.value, entry.valued_at = m.value, m.sent_at
    note = f"{m.kind.value} by {m.asset_manager}"
    if m.kind is AssetManagementKind.INTERLOCUTORY_SALE:
        note += ": the proceeds replace the asset"
    if m.value is not None and before is not None and before.currency != m.value.currency:
        note += f" (valued in {m.value.currency}, before in {before.currency})"
    if m.costs is not None:
        costs = dict(entry.management_costs)
        costs[m.costs.currency] = costs.get(m.costs.currency, Decimal(0)) + m.costs.amount
        entry.management_costs = costs
        note += f"; costs {m.costs.amount} {m.costs.currency}"
    entry.history.append(
        LedgerChange(
            at=at,
            event_id=m.event_id,
            status=entry.status,
            value=entry.value,
            costs=m.costs,
            note=note,
        )
    )
    what = f"{m.kind.value} of {m.asset_id}"
    if m.value is not None:
        what += f": {m.value.amount} {m.value.currency}"
    if m.costs is not None:
        what += f"{';' if m.value is not None else ':'} costs {m.costs.amount} {m.costs.currency}"
    return Outcome(what)


def check_freeze_limit(record: RequestCarry, _: CourtRequest, m: FreezeLimitProposal) -> None:
    for asset_id in m.asset_ids:
        _restrained(record, asset_id)
    if m.proposed_until <= m.sent_at:
        raise Refusal("proposed_until must be after the proposal is sent")


def apply_freeze_limit(
    record: RequestCarry, _: CourtRequest, m: FreezeLimitProposal, at: datetime
) -> Outcome:
    """Proposal to limit a freeze's duration (an RS 97 consultation): recorded on the asset,
    which stays frozen until a Chamber decides."""
    for asset_id in m.asset_ids:
        record.ledger.entries[asset_id].freeze_limit_until = m.proposed_until
    return Outcome(
        f"freeze limit proposed until {m.proposed_until:%Y-%m-%d} on {', '.join(m.asset_ids)}"
    )


# --- Court actions on assets -----------------------------------------------------------


def check_forfeiture(record: RequestCarry, _: CourtRequest, m: ForfeitureOrder) -> None:
    for asset_id in m.asset_ids:
        entry = entry_of(record, asset_id)
        if entry.status not in (A.FROZEN, A.SEIZED):
            raise Refusal(
                f"asset {asset_id!r} is {entry.status.value}: "
                "only a frozen or seized asset can be forfeited"
            )
        if entry.contested:
            raise Refusal(f"asset {asset_id!r} is contested: decide the claim or challenge first")


def apply_forfeiture(
    record: RequestCarry, _: CourtRequest, m: ForfeitureOrder, at: datetime
) -> Outcome:
    """Forfeiture ordered (RS 77(2)(b)); enforced by the State under RS 109."""
    out = Outcome(f"forfeiture ordered ({m.order_reference}) of {', '.join(m.asset_ids)}")
    for asset_id in m.asset_ids:
        entry = record.ledger.entries[asset_id]
        entry.forfeiture_order = m.order_reference
        move(entry, A.FORFEITURE_ORDERED, m.event_id, at, m.order_reference)
        out.assets.append(entry)
    return out


def check_claim_decision(record: RequestCarry, _: CourtRequest, m: ThirdPartyClaimDecision) -> None:
    entry, contest = _claim(record, m.claim_id)
    if not contest.pending:
        raise Refusal(f"claim {m.claim_id!r} was already decided ({contest.outcome})")
    if m.upheld:
        # Bona fide third parties are heard before forfeiture is ordered (Rule 147); a claim
        # upheld on the protective measure does not undo the order.
        check_releasable(
            entry.asset.asset_id, entry, "a decision upholding a claim on the protective measure"
        )


def apply_claim_decision(
    record: RequestCarry, _: CourtRequest, m: ThirdPartyClaimDecision, at: datetime
) -> Outcome:
    """The Court decides a bona fide third party's claim; an upheld claim releases the asset."""
    entry, contest = _claim(record, m.claim_id)
    contest.pending, contest.outcome = False, "upheld" if m.upheld else "dismissed"
    out = Outcome(f"third-party claim {m.claim_id} {contest.outcome}")
    if m.upheld:
        out.assets.append(release(entry, "third_party", m.event_id, at))
    return out


def check_transfer(record: RequestCarry, request: CourtRequest, m: TransferToCourt) -> None:
    entry = entry_of(record, m.asset_id)
    if entry.status is not A.FORFEITURE_ORDERED:
        raise Refusal(
            f"asset {m.asset_id!r} is {entry.status.value}: transfer follows a forfeiture order"
        )
    if entry.enforced_by is not None:
        raise Refusal(
            f"asset {m.asset_id!r} is enforced on the Presidency's request {entry.enforced_by}: "
            "its transfer to the Court is recorded there (RS 109(3))"
        )
    if entry.contested:
        raise Refusal(
            f"asset {m.asset_id!r} has a pending third-party claim or domestic challenge: it is "
            "transferred once decided, without prejudice to bona fide third parties (RS 109(1))"
        )
    check_enforceable(record, request, "a transfer to the Court")
    check_transferable(request, entry, m.amount)
    if m.amount.amount == 0:
        raise Refusal(
            "a transfer to the Court moves a value (RS 109(3)); nothing to transfer leaves the "
            "asset under the forfeiture order for the Court to decide"
        )


def apply_transfer(
    record: RequestCarry, _: CourtRequest, m: TransferToCourt, at: datetime
) -> Outcome:
    """Property or its realised value transferred to the Court (RS 109(2)-(3))."""
    entry = record.ledger.entries[m.asset_id]
    entry.transferred = m.amount
    entry.allocated = Money(amount=Decimal(0), currency=m.amount.currency)
    entry.unallocated = m.amount
    move(
        entry, A.TRANSFERRED, m.event_id, at, f"{m.amount.amount} {m.amount.currency} to the Court"
    )
    return Outcome(f"{m.asset_id} transferred to the Court", assets=[entry])


def check_release(record: RequestCarry, _: CourtRequest, m: Release) -> None:
    for asset_id in m.asset_ids:
        entry = _restrained(record, asset_id)
        check_releasable(asset_id, entry, "this release", m.forfeiture_order_set_aside)
    order = m.forfeiture_order_set_aside
    outside = [
        a
        for a in m.asset_ids
        if record.ledger.entries[a].forfeiture_order != order
        or record.ledger.entries[a].status is not A.FORFEITURE_ORDERED
    ]
    if order is not None and outside:  # each other measure is its own organ's to release
        raise Refusal(
            f"forfeiture_order_set_aside: {outside[0]} is not held under forfeiture order "
            f"{order!r}: setting an order aside releases only what it holds (RS 83(2))"
        )


def apply_release(record: RequestCarry, _: CourtRequest, m: Release, at: datetime) -> Outcome:
    """Release by a decision of a Chamber or the Presidency: the State lifts the measure."""
    out = Outcome(f"released ({m.ground.value}) by {m.decided_by}: {', '.join(m.asset_ids)}")
    if m.forfeiture_order_set_aside is not None:
        out.what += f" (forfeiture order {m.forfeiture_order_set_aside} set aside)"
    for asset_id in m.asset_ids:
        entry = record.ledger.entries[asset_id]
        out.assets.append(
            release(entry, m.ground.value, m.event_id, at, m.forfeiture_order_set_aside)
        )
    return out


def release(
    entry: LedgerEntry, ground: str, event_id: str, at: datetime, set_aside: str | None = None
) -> LedgerEntry:
    """Lift the measure on a Court decision (never on a State's report or a clock alone):
    every contest on the asset is moot once it is released. An asset held under a forfeiture
    order is released only by a decision naming that order as set aside
    (``workflows/forfeiture_hold.py``): every release path passes here, so none can let go of
    it otherwise (the refusal rolls the whole act back)."""
    check_releasable(entry.asset.asset_id, entry, f"a release ({ground})", set_aside)
    entry.release_ground = ground
    for contest in entry.contests:
        contest.pending = False
        contest.awaits_court = False
    move(entry, A.RELEASED, event_id, at, f"released: {ground}")
    return entry
