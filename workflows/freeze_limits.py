"""A State's proposals to limit a freeze, and the Chamber's periodic review of freezes in
force (docs/legal-process.md, "A freeze stays until a Chamber lifts it").

A proposal is an RS 97 consultation with the Court. Part 9 has no silence rule, so the
Court's silence never accepts it and the freeze never lapses: the Court is reminded on the
policy's schedule, the proposal goes before the Chamber, a late answer is still taken, and
only the Chamber's decision lifts the freeze. A freeze or seizure in force also comes
before the Chamber for review every period the policy sets — a reminder, never a release.
Pure functions over the clocks and the ledger; deterministic.
"""

from __future__ import annotations

from datetime import datetime

from schemas.answers import FreezeLimitProposal
from schemas.court import FreezeLimitResponse
from schemas.escalations import EscalationKind as K
from schemas.ledger import AssetStatus, Ledger, LedgerEntry
from workflows.carry import Clocks, FreezeLimitConsultation
from workflows.firing import Firing
from workflows.instants import shift

REGISTRY, CHAMBER = "Registry", "Chamber"
HELD = (AssetStatus.FROZEN, AssetStatus.SEIZED)
"""Protective measures a Chamber reviews and a freeze-limit proposal concerns."""


def open_consultation(c: Clocks, m: FreezeLimitProposal, at: datetime, level: int) -> list[Firing]:
    """A new proposal replaces a pending one on the same asset; a decided one stays."""
    c.freeze_limits = [f for f in c.freeze_limits if not (f.pending and f.asset_id in m.asset_ids)]
    firings = []
    for asset_id in dict.fromkeys(m.asset_ids):  # an asset named twice is consulted once
        c.freeze_limits.append(
            FreezeLimitConsultation(
                asset_id=asset_id, proposed_at=at, proposed_until=m.proposed_until
            )
        )
        firings.append(
            Firing(
                K.FREEZE_LIMIT_PROPOSED,
                level,
                deadline=m.proposed_until,
                addressee=REGISTRY,
                asset_id=asset_id,
            )
        )
    return firings


def pending_for(c: Clocks, asset_ids: tuple[str, ...]) -> list[str]:
    """The asset ids among ``asset_ids`` with no pending proposal."""
    pending = {f.asset_id for f in c.freeze_limits if f.pending}
    return sorted(set(asset_ids) - pending)


def decide(
    c: Clocks, ledger: Ledger, m: FreezeLimitResponse, at: datetime
) -> list[FreezeLimitConsultation]:
    """Record the Chamber's answer on each named proposal, with the measure (frozen or
    seized) it concerns; returns them."""
    decided = []
    for f in c.freeze_limits:
        if f.pending and f.asset_id in m.asset_ids:
            f.decision, f.decision_event_id = m.outcome, m.event_id
            if m.outcome == "freeze_limited":
                f.lift_at = max(m.lift_at or f.proposed_until, at)
                entry = ledger.entries.get(f.asset_id)
                f.held_as = entry.status.value if entry is not None else None
            decided.append(f)
    return decided


def _held(ledger: Ledger, asset_id: str) -> bool:
    entry = ledger.entries.get(asset_id)
    return entry is not None and entry.status in HELD


def _restrained_since(entry: LedgerEntry) -> datetime | None:
    return next((h.at for h in entry.history if h.status in HELD), None)


def _next_reminder(c: Clocks, f: FreezeLimitConsultation) -> datetime:
    return shift(f.proposed_at, (f.reminders + 1) * c.policy.clocks.freeze_limit_reminder_every)


def due_times(c: Clocks, ledger: Ledger) -> list[datetime]:
    """Every instant at which a freeze-limit consultation or a review falls due."""
    out: list[datetime] = []
    clocks = c.policy.clocks
    for f in c.freeze_limits:
        if not _held(ledger, f.asset_id):
            continue
        if f.pending:
            out.append(_next_reminder(c, f))
            if not f.before_chamber:
                out.append(shift(f.proposed_at, clocks.freeze_limit_to_chamber_after))
            if not f.date_passed:
                out.append(f.proposed_until)
        elif f.lift_at is not None and not f.lifted:
            out.append(f.lift_at)
    for asset_id, entry in ledger.entries.items():
        since = _restrained_since(entry) if entry.status in HELD else None
        if since is not None:
            out.append(
                shift(since, (c.freeze_reviews.get(asset_id, 0) + 1) * clocks.freeze_review_every)
            )
    return out


def fire(c: Clocks, ledger: Ledger, now: datetime, level: int) -> list[Firing]:
    """Take every reminder, escalation, lift and review whose time has come (each once after
    a long outage). Nothing here releases an asset except a Chamber's decision."""
    out: list[Firing] = []
    clocks = c.policy.clocks
    for f in c.freeze_limits:
        if not _held(ledger, f.asset_id):
            continue
        if f.pending:
            out += _remind(c, f, now, level)
        elif f.lift_at is not None and not f.lifted and now >= f.lift_at:
            f.lifted = True
            status = ledger.entries[f.asset_id].status
            kind, addressee = K.FREEZE_LIFTED, REGISTRY
            if f.held_as is not None and status.value != f.held_as:
                # The decision concerned the freeze in force then; the State has since taken
                # another measure (a seizure). A decision on the freeze does not lift it: the
                # lift is not applied, nothing is released, and the Chamber is told.
                f.lift_not_applied = True
                kind, addressee = K.FREEZE_LIFT_NOT_APPLIED, CHAMBER
            out.append(
                Firing(
                    kind,
                    level,
                    deadline=f.lift_at,
                    addressee=addressee,
                    asset_id=f.asset_id,
                    decision_event_id=f.decision_event_id,
                )
            )
    period = clocks.freeze_review_every
    for asset_id, entry in ledger.entries.items():
        since = _restrained_since(entry) if entry.status in HELD else None
        if since is None:
            continue
        due = shift(since, (c.freeze_reviews.get(asset_id, 0) + 1) * period)
        if now >= due:
            c.freeze_reviews[asset_id] = (now - since) // period
            review = Firing(K.FREEZE_REVIEW_DUE, level, deadline=due, addressee=CHAMBER)
            review.asset_id = asset_id
            out.append(review)
    return out


def _on_limit(f: FreezeLimitConsultation, kind: K, level: int, addressee: str) -> Firing:
    """A firing on a proposed freeze limit, due on the date the State proposed."""
    return Firing(kind, level, deadline=f.proposed_until, addressee=addressee, asset_id=f.asset_id)


def _remind(c: Clocks, f: FreezeLimitConsultation, now: datetime, level: int) -> list[Firing]:
    out: list[Firing] = []
    clocks = c.policy.clocks
    escalated = False
    if not f.before_chamber and now >= shift(f.proposed_at, clocks.freeze_limit_to_chamber_after):
        f.before_chamber = escalated = True
        out.append(_on_limit(f, K.FREEZE_LIMIT_BEFORE_CHAMBER, level, CHAMBER))
    if now >= _next_reminder(c, f):
        f.reminders = (now - f.proposed_at) // clocks.freeze_limit_reminder_every
        if not escalated:  # going before the Chamber is itself the reminder
            addressee = CHAMBER if f.before_chamber else REGISTRY
            out.append(_on_limit(f, K.FREEZE_LIMIT_REMINDER, level, addressee))
    if not f.date_passed and now >= f.proposed_until:
        f.date_passed = True
        out.append(_on_limit(f, K.FREEZE_LIMIT_DATE_PASSED, level, CHAMBER))
    return out
