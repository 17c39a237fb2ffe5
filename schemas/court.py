"""Court-side actions on a request, carried as audited workflow updates.

Each action names who decided and when, and carries an event id: the audit trail's key and
the dedupe key of the update that records it.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, model_validator

from schemas.common import (
    EARLIEST,
    MAX_PERIOD,
    MAX_TEXT,
    EventId,
    Frozen,
    Identifier,
    Ids,
    Instant,
    Money,
)
from schemas.request import CourtRequest


class CourtAction(Frozen):
    """Common to every Court-side action: an id for dedupe and audit, who decided, when. Each
    action on a request declares its kind in ``action_type`` (``CourtActionMessage``)."""

    event_id: EventId
    decided_by: str = Field(min_length=1, max_length=200)
    decided_at: Instant


class ConsultationResponse(CourtAction):
    """The Court answers a consultation (RS 97, 93(3), 96(3)): supplies information or
    modifies the request; a modification is a new version of the request, history kept."""

    action_type: Literal["consultation_response"] = "consultation_response"

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

    action_type: Literal["postponement_decision"] = "postponement_decision"

    agreed: bool
    until: Instant | None = None
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class ResumeExecution(CourtAction):
    """A postponement ends: the admissibility challenge is decided (RS 95) or the period ran."""

    action_type: Literal["resume_execution"] = "resume_execution"

    reasons: str = Field(min_length=1, max_length=2000)


class UrgentConfirmation(CourtAction):
    """An urgent request is confirmed through the formal channel (RS 96(1))."""

    action_type: Literal["urgent_confirmation"] = "urgent_confirmation"

    channel: str = Field(min_length=1, max_length=200)


class Rule99Notification(CourtAction):
    """After an ex parte measure is executed, the Registry notifies the person (Rule 99)."""

    action_type: Literal["rule99_notification"] = "rule99_notification"

    notified_party_ids: Ids = Field(min_length=1)


class Rule99Decision(CourtAction):
    """The Chamber rules on the observations (Rule 99(3)): maintain, modify or revoke.

    Only a revocation releases the assets it names. A modification is not a revocation: the
    measure stays in force on the modified terms (``terms``), recorded on each asset it
    concerns; any release is the Court's own ``release``."""

    action_type: Literal["rule99_decision"] = "rule99_decision"

    outcome: Literal["maintained", "modified", "revoked"]
    asset_ids: Ids = ()
    terms: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TEXT,
        description="modified: the terms of the modified measure, as the Chamber set them",
    )
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _assets(self) -> Rule99Decision:
        if self.outcome != "maintained" and not self.asset_ids:
            raise ValueError("asset_ids: a revocation or modification names the assets")
        if self.outcome == "modified" and not self.terms:
            raise ValueError("terms: a modification states the modified terms")
        if self.outcome != "modified" and self.terms is not None:
            raise ValueError("terms: only a modification carries terms")
        return self


class Withdrawal(CourtAction):
    """The Court withdraws the request; every restrained asset is released."""

    action_type: Literal["withdrawal"] = "withdrawal"

    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class ForfeitureOrder(CourtAction):
    """Forfeiture ordered (RS 77(2)(b), Rules 147, 217-218) for restrained assets."""

    action_type: Literal["forfeiture_order"] = "forfeiture_order"

    order_reference: str = Field(min_length=1, max_length=200)
    asset_ids: Ids = Field(min_length=1)


class ThirdPartyClaimDecision(CourtAction):
    """The Court decides a bona fide third party's claim (RS 93(1)(k)); upheld releases."""

    action_type: Literal["third_party_claim_decision"] = "third_party_claim_decision"

    claim_id: Identifier
    upheld: bool
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class TransferToCourt(CourtAction):
    """Property or its realised value is transferred to the Court (RS 109(2)-(3))."""

    action_type: Literal["transfer_to_court"] = "transfer_to_court"

    asset_id: Identifier
    amount: Money


class AllocationDestination(StrEnum):
    """What a transferred value may go to. Rule 221(2) gives reparations to victims priority
    and sets no other order among these purposes."""

    REPARATIONS = "reparations"
    TRUST_FUND_FOR_VICTIMS = "trust_fund_for_victims"
    FINE = "fine"
    LEGAL_AID_REFUND = "legal_aid_refund"

    @property
    def basis(self) -> str:
        """The provision a share to this purpose rests on, recorded when none is given."""
        return _ALLOCATION_BASES[self]


_ALLOCATION_BASES = {
    AllocationDestination.REPARATIONS: "RS 75(2); priority under Rule 221(2)",
    AllocationDestination.TRUST_FUND_FOR_VICTIMS: "RS 79(2)",
    AllocationDestination.FINE: "RS 77(2)(a); Rules 217-218",
    AllocationDestination.LEGAL_AID_REFUND: "legal-aid recovery under the Regulations of the Court",
}


class AllocationShare(Frozen):
    """One share of an allocation, with the provision it rests on (recorded in the ledger)."""

    destination: AllocationDestination
    amount: Money
    basis: str = Field(
        default="",
        max_length=300,
        description="The provision the share rests on; the destination's usual basis if empty",
    )

    @model_validator(mode="before")
    @classmethod
    def _basis(cls, data: Any) -> Any:
        """Every share has its basis recorded: the destination's usual one unless given."""
        if isinstance(data, dict) and not str(data.get("basis") or "").strip():
            destination = data.get("destination")
            if destination in _ALLOCATION_BASES:
                data = {**data, "basis": AllocationDestination(destination).basis}
        return data


class Allocation(CourtAction):
    """The Presidency allocates a transferred value, amount by amount: enforcement after
    judgment is the Presidency's (RS 109, Rules 217-221), so ``decided_by`` is the Presidency.
    Rule 221(2): reparations to victims have priority; the Rules set no other order, so the
    shares may be listed in any order, each with its basis (transfers to the Trust Fund for
    Victims rest on RS 79(2)). A further allocation may take what is still unallocated."""

    action_type: Literal["allocation"] = "allocation"

    decided_by: Literal["presidency"] = Field(
        description="The organ whose decision this is: the Presidency (RS 109, Rules 217-221)"
    )
    asset_id: Identifier
    shares: tuple[AllocationShare, ...] = Field(min_length=1, max_length=len(AllocationDestination))

    @model_validator(mode="after")
    def _one_currency(self) -> Allocation:
        if len({s.amount.currency for s in self.shares}) != 1:
            raise ValueError("shares: one currency per allocation")
        return self


class ReleaseGround(StrEnum):
    """Why the Court releases an asset. Nothing lapses under Part 9 without a decision, so
    there is no ground of lapse: a release is always a decision of a Chamber or the
    Presidency."""

    ACQUITTAL = "acquittal"
    WITHDRAWAL = "withdrawal"
    REVOCATION = "revocation"
    THIRD_PARTY = "third_party"
    DOMESTIC_REMEDY = "domestic_remedy"
    """The Court releases after a State reported that its court upheld a domestic remedy."""
    TERMINATION = "termination"
    """The proceedings were terminated (the accused's death, the charges withdrawn): a
    Chamber's case-level release (``CaseRelease``)."""


DecidingOrgan = Literal["pre_trial_chamber", "trial_chamber", "appeals_chamber", "presidency"]
"""The organs whose decision may release an asset (a Chamber, or the Presidency after
judgment: RS 109, Rules 217-221)."""


class Release(CourtAction):
    """Release of restrained assets by a decision of a Chamber or the Presidency
    (acquittal, withdrawal, revocation, an upheld claim, or after an upheld domestic remedy)."""

    action_type: Literal["release"] = "release"

    decided_by: DecidingOrgan = Field(
        description="The Chamber or the Presidency whose decision this is"
    )
    asset_ids: Ids = Field(min_length=1)
    ground: ReleaseGround
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class CloseRequest(CourtAction):
    """The Registry closes a request whose execution has ended and whose every asset is
    settled (never restrained, released, or forfeited and allocated)."""

    action_type: Literal["close"] = "close"

    reason: str = Field(min_length=1, max_length=2000)


class Stage(StrEnum):
    """The stages a State's execution passes, each with a policy deadline."""

    ACKNOWLEDGEMENT = "acknowledgement"
    FIRST_REPORT = "first_report"
    FULL_EXECUTION = "full_execution"


class DeadlineExtension(CourtAction):
    """A Chamber extends a stage's deadline (audited); an overdue stage may stop being one."""

    action_type: Literal["deadline_extension"] = "deadline_extension"

    stage: Stage
    by: timedelta = Field(gt=timedelta(0), le=MAX_PERIOD)
    reasons: str = Field(min_length=1, max_length=2000)


class EscalationDecision(CourtAction):
    """Steps 3-5 of the ladder need a person's decision: the system proposes, a person decides."""

    action_type: Literal["escalation_decision"] = "escalation_decision"

    step: str = Field(max_length=64, description="The proposed step, e.g. chamber_report")
    proceed: bool
    referral_to: Literal["assembly", "security_council"] | None = Field(
        default=None, description="RS 87(7): with a finding, refer to the Assembly or the UNSC"
    )
    reasons: str = Field(min_length=1, max_length=5000)


class FreezeLimitResponse(CourtAction):
    """A Chamber answers a State's proposal to limit a freeze (RS 97 consultation), at any
    time: there is no deadline after which its answer comes too late. ``freeze_maintained``
    keeps the freeze as it is; ``freeze_limited`` is the Chamber's decision to lift it on
    ``lift_at`` (the proposed date unless the Chamber sets another; at once if that date has
    passed). Only a Chamber lifts a freeze: nothing is released without this decision."""

    action_type: Literal["freeze_limit_response"] = "freeze_limit_response"

    asset_ids: Ids = Field(min_length=1)
    outcome: Literal["freeze_maintained", "freeze_limited"]
    chamber: Literal["pre_trial_chamber", "trial_chamber", "appeals_chamber"] = Field(
        description="The Chamber whose decision this is"
    )
    lift_at: Instant | None = Field(
        default=None, description="freeze_limited: when the freeze is lifted"
    )
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _lift_only_when_limited(self) -> FreezeLimitResponse:
        if self.outcome == "freeze_maintained" and self.lift_at is not None:
            raise ValueError("lift_at: a maintained freeze is not lifted")
        return self


class JudgmentOutcome(StrEnum):
    """How the proceedings against the accused ended, or stand, in a case."""

    CONVICTION = "conviction"
    """RS 74 (Trial Chamber), RS 83(2) (Appeals Chamber): penalties may follow (RS 77)."""
    ACQUITTAL = "acquittal"
    """RS 74, 81(3)(c), 83(2)."""
    TERMINATION = "termination"
    """The proceedings end without a judgment on the merits: the accused's death, or the
    charges withdrawn (RS 61(4), 61(9)) or not confirmed (RS 61(7)(b))."""


JUDGMENT_CHAMBERS: dict[JudgmentOutcome, frozenset[str]] = {
    JudgmentOutcome.CONVICTION: frozenset({"trial_chamber", "appeals_chamber"}),
    JudgmentOutcome.ACQUITTAL: frozenset({"trial_chamber", "appeals_chamber"}),
    JudgmentOutcome.TERMINATION: frozenset(
        {"pre_trial_chamber", "trial_chamber", "appeals_chamber"}
    ),
}
"""Which Chamber may give each outcome: a judgment on the merits is the Trial Chamber's (RS 74)
or, on appeal, the Appeals Chamber's (RS 83(2)); proceedings may end before trial (RS 61)."""


class Judgment(CourtAction):
    """A judgment recorded at case level: conviction, acquittal or termination, with its date,
    the Chamber and whether it is final or an appeal is pending (RS 74, 81, 83). The case tells
    each of its requests (``judgment``), so a request's own rules read the judgment in force
    (a forfeiture order follows a conviction, RS 77(2)(b)); a later judgment (on appeal)
    replaces the one in force."""

    action_type: Literal["judgment"] = "judgment"

    decided_by: Literal["pre_trial_chamber", "trial_chamber", "appeals_chamber"] = Field(
        description="The Chamber whose judgment or decision this is"
    )
    judgment_reference: str = Field(min_length=1, max_length=200)
    outcome: JudgmentOutcome
    termination_cause: Literal["death", "withdrawal_of_charges"] | None = Field(
        default=None, description="termination: why the proceedings ended"
    )
    delivered_on: date
    finality: Literal["appeal_pending", "final"]

    @model_validator(mode="after")
    def _consistent(self) -> Judgment:
        if (self.outcome is JudgmentOutcome.TERMINATION) != (self.termination_cause is not None):
            raise ValueError("termination_cause: a termination, and only a termination, has one")
        if self.decided_by not in JUDGMENT_CHAMBERS[self.outcome]:
            raise ValueError(
                f"decided_by: a {self.outcome.value} is not the {self.decided_by}'s "
                "(RS 74, 83(2); RS 61 before trial)"
            )
        if self.delivered_on > self.decided_at.date():
            raise ValueError("delivered_on: after the date the judgment is recorded as decided")
        if self.delivered_on < EARLIEST.date():
            raise ValueError("delivered_on: before the Rome Statute entered into force (RS 126)")
        return self

    @property
    def ends_without_conviction(self) -> bool:
        return self.outcome is not JudgmentOutcome.CONVICTION


class CaseRelease(CourtAction):
    """One Chamber's act releasing every frozen or seized asset of a case after an acquittal
    or a termination (RS 74, 81(3)(c), 83(2); RS 61 before trial), taken by each request of the
    case through its own rules. It names the judgment it rests on, which it carries so each
    request records it. It releases what a protective measure holds (RS 57(3)(e),
    93(1)(k)); an asset under a forfeiture order, transferred or awaiting allocation is not
    released by it (nothing is released without a decision on that asset: the Chamber or the
    Presidency decides it on its own). The request leaves execution (withdrawn) and is closed
    by the case once every asset in it is settled."""

    action_type: Literal["case_release"] = "case_release"

    decided_by: Literal["pre_trial_chamber", "trial_chamber", "appeals_chamber"] = Field(
        description="The Chamber whose decision this is"
    )
    judgment: Judgment
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _after_acquittal_or_termination(self) -> CaseRelease:
        if not self.judgment.ends_without_conviction:
            raise ValueError(
                "judgment: a case is released on an acquittal or a termination, not a conviction"
            )
        return self

    @property
    def ground(self) -> ReleaseGround:
        if self.judgment.outcome is JudgmentOutcome.ACQUITTAL:
            return ReleaseGround.ACQUITTAL
        return ReleaseGround.TERMINATION


CourtActionMessage = Annotated[
    ConsultationResponse
    | PostponementDecision
    | ResumeExecution
    | UrgentConfirmation
    | Rule99Notification
    | Rule99Decision
    | Withdrawal
    | ForfeitureOrder
    | ThirdPartyClaimDecision
    | TransferToCourt
    | Allocation
    | Release
    | CloseRequest
    | EscalationDecision
    | DeadlineExtension
    | FreezeLimitResponse
    | Judgment
    | CaseRelease,
    Field(discriminator="action_type"),
]
"""Any Court action, told apart by its ``action_type`` (as a State's answer by ``answer_type``)."""
COURT_ACTION = TypeAdapter(CourtActionMessage)
