"""Proportionality across parties: the amount a case is to secure against what its requests
secure, in every State and organisation, and the proposal of releases to the Chamber when the
total exceeds it by more than the policy's margin.

The measures of RS 57(3)(e) and 93(1)(k) secure the eventual forfeiture for the benefit of
victims (RS 75, 77(2)(b)) or a fine (RS 77(2)(a)): restraint beyond what that requires falls
on the person's property without need. The Statute sets no figure, so the policy sets the
margin, and the conservative reading holds: the case only proposes; nothing is released
without the Chamber's decision (a ``release`` on the request concerned).

Pure functions of the case's state: the workflow keeps the amount and its summaries; these
compute the view and the proposal's events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from schemas.case import Proportionality, RequestSummary, SecureAmount, Secured
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.ledger import RequestStatus

PROPOSAL_BASIS = "proportionality of the measures, RS 57(3)(e), 93(1)(k), 75, 77(2)"


def secured_across(summaries: Iterable[RequestSummary]) -> dict[str, Secured]:
    """Per currency, what every open request of the case secures (unconverted)."""
    out: dict[str, Secured] = {}
    for summary in summaries:
        if summary.status is RequestStatus.CLOSED:
            continue
        for currency, secured in summary.secured.items():
            out[currency] = out.get(currency, Secured()).plus(secured)
    return dict(sorted(out.items()))


def assess(
    to_secure: SecureAmount | None,
    summaries: Iterable[RequestSummary],
    proposed_at: datetime | None = None,
    proposals: int = 0,
) -> Proportionality | None:
    """The amount to secure against what is secured; none before an amount is set."""
    if to_secure is None:
        return None
    summaries = list(summaries)
    secured = secured_across(summaries)
    currency = to_secure.amount.currency
    counted = secured.get(currency, Secured()).amount
    amount = to_secure.amount.amount
    threshold = amount * (1 + to_secure.margin)
    return Proportionality(
        to_secure=to_secure,
        secured=secured,
        counted=counted,
        threshold=threshold,
        excess=max(counted - amount, Decimal(0)),
        over_secured=counted > threshold,
        not_counted=[c for c in secured if c != currency],
        unvalued=sum(s.unvalued for s in summaries if s.status is not RequestStatus.CLOSED),
        proposed_at=proposed_at,
        proposals=proposals,
    )


def proposal_events(
    view: Proportionality,
    summaries: Iterable[RequestSummary],
    case_number: str,
    new_id: Callable[[], str],
    now: datetime,
    caused_by: str | None,
) -> list[EscalationEvent]:
    """One event per request that secures assets in the amount's currency, for the Chamber:
    the case's total, the amount and the margin in its basis; inside the Court (never the
    party's channel; published without the request, so with nothing an ex parte request
    would hide)."""
    currency = view.to_secure.amount.currency
    what = (
        f"{currency} {view.counted} secured across the case exceeds {currency} "
        f"{view.to_secure.amount.amount} ({view.to_secure.basis.replace('_', ' ')}) by more "
        f"than {view.to_secure.margin * 100:g} %: releases proposed to the Chamber"
    )
    kind = EscalationKind.RELEASES_PROPOSED
    return [
        EscalationEvent(
            id=new_id(),
            type=f"int.icc.tracefreeze.escalation.{kind.value}.v1",
            time=now,
            subject=s.reference,
            case_number=case_number,
            requested_state=s.requested_state,
            kind=kind,
            level=0,
            policy_version=view.to_secure.policy_version,
            caused_by=caused_by,
            basis=f"{what}; {PROPOSAL_BASIS}"[:300],
        )
        for s in summaries
        if s.status is not RequestStatus.CLOSED and currency in s.secured
    ]
