"""Court-side actions on a request, carried as audited workflow updates.

Each action names who decided and when, and carries an event id: the audit trail's key and
the dedupe key of the update that records it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from schemas.common import MAX_TEXT, EventId, Frozen, Identifier, Ids, Instant, Money
from schemas.request import CourtRequest


class CourtAction(Frozen):
    """Common to every Court-side action: an id for dedupe and audit, who decided, when."""

    event_id: EventId
    decided_by: str = Field(min_length=1, max_length=200)
    decided_at: Instant


class ConsultationResponse(CourtAction):
    """The Court answers a consultation (RS 97, 93(3), 96(3)): supplies information or
    modifies the request; a modification is a new version of the request, history kept."""

    resolution: Literal["information_supplied", "request_modified"]
    information: str | None = Field(default=None, max_length=MAX_TEXT)
    modified_request: CourtRequest | None = None

    @model_validator(mode="after")
    def _complete(self) -> ConsultationResponse:
        if self.resolution == "request_modified" and self.modified_request is None:
            raise ValueError("modified_request: a modification carries the new version")
        if self.resolution == "information_supplied" and not self.information:
            raise ValueError("information: say what information the Court supplies")
        return self


class PostponementDecision(CourtAction):
    """The Court agrees or refuses a postponement (RS 94: a period agreed with the Court)."""

    agreed: bool
    until: Instant | None = None
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class ResumeExecution(CourtAction):
    """A postponement ends: the admissibility challenge is decided (RS 95) or the period ran."""

    reasons: str = Field(min_length=1, max_length=2000)


class UrgentConfirmation(CourtAction):
    """An urgent request is confirmed through the formal channel (RS 96(1))."""

    channel: str = Field(min_length=1, max_length=200)


class Rule99Notification(CourtAction):
    """After an ex parte measure is executed, the Registry notifies the person (Rule 99)."""

    notified_party_ids: Ids = Field(min_length=1)


class Rule99Decision(CourtAction):
    """The Chamber rules on the observations (Rule 99): maintain, modify or revoke."""

    outcome: Literal["maintained", "modified", "revoked"]
    asset_ids: Ids = ()
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _assets(self) -> Rule99Decision:
        if self.outcome != "maintained" and not self.asset_ids:
            raise ValueError("asset_ids: a revocation or modification names the assets")
        return self


class Withdrawal(CourtAction):
    """The Court withdraws the request; every restrained asset is released."""

    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class ForfeitureOrder(CourtAction):
    """Forfeiture ordered (RS 77(2)(b), Rules 147, 217-218) for restrained assets."""

    order_reference: str = Field(min_length=1, max_length=200)
    asset_ids: Ids = Field(min_length=1)


class ThirdPartyClaimDecision(CourtAction):
    """The Court decides a bona fide third party's claim (RS 93(1)(k)); upheld releases."""

    claim_id: Identifier
    upheld: bool
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class TransferToCourt(CourtAction):
    """Property or its realised value is transferred to the Court (RS 109(2)-(3))."""

    asset_id: Identifier
    amount: Money


class AllocationDestination(StrEnum):
    """Rule 221 priorities, in order: reparations first."""

    REPARATIONS = "reparations"
    TRUST_FUND_FOR_VICTIMS = "trust_fund_for_victims"
    FINE = "fine"
    LEGAL_AID_REFUND = "legal_aid_refund"


class AllocationShare(Frozen):
    destination: AllocationDestination
    amount: Money


class Allocation(CourtAction):
    """The Presidency allocates a transferred value (Rule 221: reparations first)."""

    asset_id: Identifier
    shares: tuple[AllocationShare, ...] = Field(min_length=1, max_length=len(AllocationDestination))

    @model_validator(mode="after")
    def _priority(self) -> Allocation:
        order = list(AllocationDestination)
        ranks = [order.index(s.destination) for s in self.shares]
        if ranks != sorted(ranks) or len(set(ranks)) != len(ranks):
            raise ValueError("shares: list each destination once, in Rule 221 order")
        if len({s.amount.currency for s in self.shares}) != 1:
            raise ValueError("shares: one currency per allocation")
        return self


class ReleaseGround(StrEnum):
    ACQUITTAL = "acquittal"
    WITHDRAWAL = "withdrawal"
    REVOCATION = "revocation"
    THIRD_PARTY = "third_party"
    LAPSE = "lapse"


class Release(CourtAction):
    """Release of restrained assets (acquittal, withdrawal, revocation)."""

    asset_ids: Ids = Field(min_length=1)
    ground: ReleaseGround
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class CloseRequest(CourtAction):
    """The Registry closes a request whose execution has ended and whose every asset is
    settled (never restrained, released, or forfeited and allocated)."""

    reason: str = Field(min_length=1, max_length=2000)
