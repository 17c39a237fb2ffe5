"""Court-side actions on a request, carried as audited workflow updates.

Each action names who decided and when, and carries an event id: the audit trail's key and
the dedupe key of the update that records it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)

from schemas.common import (
    EARLIEST,
    MAX_ITEMS,
    MAX_PERIOD,
    MAX_TEXT,
    CurrencyCode,
    EventId,
    Frozen,
    Identifier,
    Ids,
    Instant,
    Money,
    RequestReference,
    check_minor_units,
)
from schemas.organs import OrganName
from schemas.request import CourtRequest

MAX_ALLOCATION_SHARES = 20
"""Most shares one allocation decision lists (a purpose may be named more than once, on
several bases or orders)."""


class OrganSignature(Frozen):
    """The deciding organ's Ed25519 signature of a Court action: over the context
    ``tracefreeze/court-action/v1`` and the action's canonical JSON without this field
    (``tracefreeze/security/organ_keys.py``), by the key ``key_id`` of the organ key registry."""

    key_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    signature: str = Field(
        pattern=r"^[A-Za-z0-9_-]{86}$", description="base64url, unpadded, of the 64 bytes"
    )


Address = Annotated[
    str,
    StringConstraints(
        pattern=r"^(request/[A-Z0-9][A-Z0-9/._-]{3,63}/[A-Z]{3}|case/[A-Z0-9][A-Z0-9/._-]{3,63}"
        r"|party/[A-Z]{3})$"
    ),
]
"""What an organ signs an action for: one request to one party (``request/REFERENCE/PARTY``,
``request_address``), one case order (``case/ORDER``, ``case_address``) or one party's
directory (``party/CODE``, ``party_address``)."""


def request_address(reference: str, party: str) -> str:
    """The address of one request to one party (its plain workflow id, even when it runs under
    an opaque one, Rule 99(2): the address is signed, never a search attribute)."""
    return f"request/{reference}/{party}"


def case_address(order_reference: str) -> str:
    """The address of one case order (the case workflow's id)."""
    return f"case/{order_reference}"


def party_address(code: str) -> str:
    """The address of one party's directory (its workflow id): Rule 180, RS 96(3)."""
    return f"party/{code}"


class CourtAction(Frozen):
    """Common to every Court-side action: an id for dedupe and audit, who decided, when, and
    the deciding organ's signature. Each action on a request declares its kind in
    ``action_type`` (``CourtActionMessage``)."""

    event_id: EventId
    decided_by: OrganName = Field(
        description="The organ whose act this is, by the closed list of the Court's organs "
        "(RS 34); which organ may take which action is the catalog's table of powers"
    )
    decided_at: Instant
    principal: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$",
        description="Who, for the organ, sent the action: the Court user's identity as the "
        "client knows it (its configured principal, else the system user); covered by the "
        "signature, audited on the Court's topic, never in a search attribute",
    )
    addressed_to: Address | None = Field(
        default=None,
        description="The request (``request/REFERENCE/PARTY``) or case order (``case/ORDER``) "
        "the organ signed this action for, set by the client that signs it; covered by the "
        "signature, so an action signed for one request is refused by every other",
    )
    signature: OrganSignature | None = Field(
        default=None,
        description="The deciding organ's signature; a request takes no action without a "
        "valid one (docs/signed-decisions.md)",
    )


class ConsultationResponse(CourtAction):
    """The Court answers a consultation (RS 97, 93(3), 96(3), 72(5)): supplies information or
    modifies the request; a modification is a new version of the request, history kept.

    Under RS 93(3) and art. 72(5)(d) the consultation may instead end with the assistance
    given subject to ``conditions`` agreed with the State (``conditions_agreed``), which the
    Court abides by. An art. 72(5) consultation may end ``not_resolved``: all reasonable
    steps were taken without resolving the matter, after which the State may deny (art. 72(6),
    RS 93(4))."""

    action_type: Literal["consultation_response"] = "consultation_response"

    resolution: Literal[
        "information_supplied", "request_modified", "conditions_agreed", "not_resolved"
    ]
    information: str | None = Field(default=None, max_length=MAX_TEXT)
    modified_request: CourtRequest | None = None
    conditions: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="conditions_agreed: the conditions of the assistance (RS 93(3), 72(5)(d))",
    )

    @model_validator(mode="after")
    def _complete(self) -> ConsultationResponse:
        if self.resolution == "request_modified" and self.modified_request is None:
            raise ValueError("modified_request: a modification carries the new version")
        if self.resolution == "information_supplied" and not self.information:
            raise ValueError("information: say what information the Court supplies")
        if (self.resolution == "conditions_agreed") != (self.conditions is not None):
            raise ValueError("conditions: given with conditions_agreed, and only with it")
        if self.resolution == "not_resolved" and not self.information:
            raise ValueError("information: say which cooperative means were tried (art. 72(5))")
        return self


class PostponementDecision(CourtAction):
    """The Court agrees or refuses a postponement (RS 94: a period agreed with the Court)."""

    action_type: Literal["postponement_decision"] = "postponement_decision"

    agreed: bool
    until: Instant | None = None
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class AdmissibilityRuling(CourtAction):
    """The Court decides an admissibility challenge (RS 18, 19), or orders that the
    collection of evidence may go on while it is pending (RS 95, 18(6), 19(8)). Recorded on a
    postponed request, it ends an RS 95 postponement that waits for that challenge; a later
    RS 95 postponement naming it is refused. It releases and withdraws nothing: what follows for
    the request is the Court's own act."""

    action_type: Literal["admissibility_ruling"] = "admissibility_ruling"

    challenge_reference: str = Field(
        min_length=1, max_length=200, description="The challenge, as the Court registered it"
    )
    outcome: Literal["admissible", "inadmissible", "collection_ordered"] = Field(
        description="admissible or inadmissible: the challenge is decided; collection_ordered: "
        "still pending, but the Court specifically ordered that the collection may go on (RS 95)"
    )
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
    """The Registry's notice under Rule 99.

    ``after_order`` (Rule 99(3)): an order made without prior notice (ex parte), once executed,
    is notified to the person against whom it is made and, to the extent possible, to any
    interested persons, bona fide third parties included — the claimants of third-party claims
    on this request (``notified_claim_ids``) — who may then make observations. ``prior``
    (Rule 99(2)): notice before the measure is executed, where the Chamber determined that
    notification could not jeopardise the effectiveness of the measures
    (``prior_notice_finding``)."""

    action_type: Literal["rule99_notification"] = "rule99_notification"

    notified_party_ids: Ids = Field(min_length=1)
    notice: Literal["after_order", "prior"] = "after_order"
    prior_notice_finding: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TEXT,
        description="prior: the Chamber's determination that notice could not jeopardise the "
        "effectiveness of the measures (Rule 99(2))",
    )
    notified_claim_ids: Ids = Field(
        default=(),
        description="Third-party claims on this request whose claimants are notified as "
        "interested persons (Rule 99(3))",
    )

    @model_validator(mode="after")
    def _notice(self) -> Rule99Notification:
        if self.notice == "prior" and self.prior_notice_finding is None:
            raise ValueError(
                "prior_notice_finding: prior notice rests on the Chamber's determination that "
                "it could not jeopardise the measures (Rule 99(2))"
            )
        if self.notice != "prior" and self.prior_notice_finding is not None:
            raise ValueError("prior_notice_finding: only a prior notice (Rule 99(2)) has it")
        return self


class HeldLimit(Frozen):
    """Rule 99(3) modification: the measure holds the asset only up to this value."""

    asset_id: Identifier
    held_up_to: Money


class Rule99Decision(CourtAction):
    """The Chamber rules on the observations (Rule 99(3)): maintain, modify or revoke.

    A revocation releases the assets it names. A modification is not a revocation: the
    measure stays in force on the modified terms (``terms``), recorded on each asset it
    concerns, and its effects are applied: the assets it no longer covers are released
    (``lifted_asset_ids``), a seizure becomes a freeze (``seizure_to_freeze``), an asset is held
    only up to a value (``limits``)."""

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
    lifted_asset_ids: Ids = Field(
        default=(),
        description="modified: assets named that the modified measure no longer covers; "
        "released by this decision",
    )
    seizure_to_freeze: bool = Field(
        default=False,
        description="modified: the seizure of the named assets becomes a freeze",
    )
    limits: tuple[HeldLimit, ...] = Field(
        default=(),
        max_length=MAX_ITEMS,
        description="modified: named assets the measure holds only up to a value",
    )

    @model_validator(mode="after")
    def _assets(self) -> Rule99Decision:
        if self.outcome != "maintained" and not self.asset_ids:
            raise ValueError("asset_ids: a revocation or modification names the assets")
        if self.outcome == "modified" and not self.terms:
            raise ValueError("terms: a modification states the modified terms")
        modifies = self.lifted_asset_ids or self.seizure_to_freeze or self.limits
        if self.outcome != "modified" and (self.terms is not None or modifies):
            raise ValueError("terms: only a modification carries terms and their effects")
        named, limited = set(self.asset_ids), [x.asset_id for x in self.limits]
        if not set(self.lifted_asset_ids) <= named or not set(limited) <= named:
            raise ValueError("lifted_asset_ids, limits: name assets among asset_ids")
        if len(set(limited)) != len(limited) or set(limited) & set(self.lifted_asset_ids):
            raise ValueError("limits: each asset once, and not one the modification lifts")
        if self.lifted_asset_ids and set(self.lifted_asset_ids) == named:
            raise ValueError(
                "lifted_asset_ids: lifting the measure on every asset named is a revocation"
            )
        return self


class Withdrawal(CourtAction):
    """The Court withdraws the request; every restrained asset is released."""

    action_type: Literal["withdrawal"] = "withdrawal"

    decided_by: OrganName = Field(
        description="The organ that withdraws the request, by the closed list of RS 34's organs"
    )
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
    """What a transferred value may go to (Rule 221(1): the Presidency decides the disposition
    or allocation of property or assets realised through enforcement of an order of the Court).

    Reparations to victims (RS 75(2)) and transfers to the Trust Fund for Victims (RS 75(2) or
    79(2)) rest on the Statute; any other purpose is taken only if the policy allows it, with
    the basis the policy records for it (``AllocationPolicy``). Rule 221(2) gives reparations
    priority and sets no other order among these purposes."""

    REPARATIONS = "reparations"
    TRUST_FUND_FOR_VICTIMS = "trust_fund_for_victims"
    FINE = "fine"
    LEGAL_AID_REFUND = "legal_aid_refund"

    @property
    def statutory(self) -> bool:
        """Rests on the Statute itself; other purposes only where the policy allows them."""
        return self in (
            AllocationDestination.REPARATIONS,
            AllocationDestination.TRUST_FUND_FOR_VICTIMS,
        )


REPARATIONS_BASIS = "RS 75(2); priority under Rule 221(2)"
"""The basis recorded for a share to reparations when the Presidency states none."""


class TrustFundBasis(StrEnum):
    """The two roads to the Trust Fund for Victims, which Rule 221(2) treats differently."""

    AWARD_THROUGH_THE_FUND = "RS 75(2)"
    """A reparations award made through the Trust Fund (RS 75(2), Rule 98(2)-(4)): it is the
    enforcement of reparations, with their priority (Rule 221(2))."""
    FINES_AND_FORFEITURE = "RS 79(2)"
    """Money and other property collected through fines or forfeiture, transferred to the
    Trust Fund by order of the Court (RS 79(2)): not reparations, so it waits on their
    priority (Rule 221(2))."""


class AllocationShare(Frozen):
    """One share of an allocation, with the provision it rests on (recorded in the ledger).

    Reparations: RS 75(2) unless the Presidency states its own basis. The Trust Fund for
    Victims: the share names its road, RS 75(2) (an award through the Fund) or RS 79(2)
    (fines or forfeiture transferred by order) - no default, since Rule 221(2) gives only the
    first the priority of reparations. Any other purpose: the basis the policy records for it
    unless the Presidency states one."""

    destination: AllocationDestination
    amount: Money
    basis: str = Field(
        default="",
        max_length=300,
        description="The provision the share rests on. reparations: RS 75(2) if empty; "
        "trust_fund_for_victims: RS 75(2) or RS 79(2), required; other purposes: the "
        "policy's basis if empty",
    )

    @model_validator(mode="before")
    @classmethod
    def _basis(cls, data: Any) -> Any:
        """A share to reparations has its basis recorded: RS 75(2) unless given."""
        if (
            isinstance(data, dict)
            and data.get("destination") == AllocationDestination.REPARATIONS.value
            and not str(data.get("basis") or "").strip()
        ):
            data = {**data, "basis": REPARATIONS_BASIS}
        return data

    @model_validator(mode="after")
    def _trust_fund_road(self) -> AllocationShare:
        if self.destination is AllocationDestination.TRUST_FUND_FOR_VICTIMS and self.basis not in {
            b.value for b in TrustFundBasis
        }:
            raise ValueError(
                "basis: a share to the Trust Fund for Victims names its road, "
                '"RS 75(2)" (a reparations award through the Fund) or "RS 79(2)" (fines or '
                "forfeiture transferred by order of the Court)"
            )
        return self

    @property
    def for_reparations(self) -> bool:
        """Enforces reparations to victims, with their priority (Rule 221(2)): a share to
        reparations, or to the Trust Fund for an award made through it (RS 75(2))."""
        return self.destination is AllocationDestination.REPARATIONS or (
            self.destination is AllocationDestination.TRUST_FUND_FOR_VICTIMS
            and self.basis == TrustFundBasis.AWARD_THROUGH_THE_FUND.value
        )


class ReparationsPosition(StrEnum):
    """The Presidency's finding, in the allocation decision, on reparations ordered against
    the sentenced person, counting the reparations shares of that very decision (Rule 221(2))."""

    OUTSTANDING = "outstanding"
    """Reparations ordered and not yet met: every share goes to reparations."""
    SATISFIED = "satisfied"
    """Reparations ordered and met (with this decision's shares): other purposes may follow."""
    NONE_ORDERED = "none_ordered"
    """No reparations order against the sentenced person: other purposes may be served."""


class Allocation(CourtAction):
    """The Presidency allocates a transferred value, amount by amount: enforcement after
    judgment is the Presidency's (RS 109, Rules 217-221), so ``decided_by`` is the Presidency
    and its decision is recorded (``decision_reference``); nothing is allocated without it.

    Rule 221(2): "in all cases" the Presidency gives priority to reparations to victims. The
    conservative reading kept here: a share to any other purpose (a fine, legal-aid recovery,
    the Trust Fund under RS 79(2)) is taken only when the decision records that reparations
    are satisfied or that none were ordered (``reparations``); while they are outstanding, or
    the decision says nothing, every share goes to reparations. Beyond that priority the Rules
    set no order, so shares may be listed in any order. A further allocation may take what is
    still unallocated."""

    action_type: Literal["allocation"] = "allocation"

    decided_by: Literal["presidency"] = Field(
        description="The organ whose decision this is: the Presidency (RS 109, Rules 217-221)"
    )
    decision_reference: str = Field(
        min_length=1,
        max_length=200,
        description="The Presidency's decision on the allocation (Rule 221(1)), e.g. its "
        "filing number: no allocation without it",
    )
    asset_id: Identifier
    shares: tuple[AllocationShare, ...] = Field(min_length=1, max_length=MAX_ALLOCATION_SHARES)
    reparations: ReparationsPosition | None = Field(
        default=None,
        description="Rule 221(2): the decision's finding on reparations; required (satisfied "
        "or none_ordered) before any share goes to another purpose",
    )

    @model_validator(mode="after")
    def _one_currency(self) -> Allocation:
        if len({s.amount.currency for s in self.shares}) != 1:
            raise ValueError("shares: one currency per allocation")
        return self

    @model_validator(mode="after")
    def _reparations_first(self) -> Allocation:
        others = [s.destination.value for s in self.shares if not s.for_reparations]
        if others and self.reparations not in (
            ReparationsPosition.SATISFIED,
            ReparationsPosition.NONE_ORDERED,
        ):
            raise ValueError(
                f"reparations: Rule 221(2) gives reparations to victims priority; a share to "
                f"{', '.join(others)} needs the decision to record that reparations are "
                '"satisfied" or "none_ordered"'
            )
        if self.reparations is ReparationsPosition.NONE_ORDERED and len(others) < len(self.shares):
            raise ValueError(
                "reparations: a share to reparations executes a reparations order, so the "
                'decision cannot find that none was ordered (say "satisfied" or "outstanding")'
            )
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
"""The organs whose decision may release an asset; which of them, the table of powers says by
what holds it (``workflows/powers.py``, ``release_holding``): a request's measures the Chamber
that ordered them, the Presidency only what its enforcement request holds (RS 109, Rules
217-221), a forfeiture order only the Appeals Chamber setting it aside (RS 83(2))."""


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
    forfeiture_order_set_aside: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description=(
            "The forfeiture order (RS 77(2)(b)) this decision sets aside (on appeal, RS 83(2); "
            "on revision, RS 84(2)). An asset held under a forfeiture order is released only "
            "by a release that names it; no other release path reaches it."
        ),
    )


class ReleaseCase(CourtAction):
    """One Chamber's act at case level after an acquittal or a termination (RS 74, 81(3)(c),
    83(2); RS 61): every frozen or seized asset of every request of the case, in every State and
    organisation, is released; each request leaves execution and is closed once every asset in
    it is settled. It names the recorded judgment it rests on (``Judgment``). Taken by the case
    (``schemas/case.py``), which relays it to its requests with the act itself inside."""

    decided_by: Literal["pre_trial_chamber", "trial_chamber", "appeals_chamber"] = Field(
        description="The Chamber whose decision this is"
    )
    judgment_reference: str = Field(min_length=1, max_length=200)
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class CloseRequest(CourtAction):
    """The Registry closes a request whose execution has ended and whose every asset is
    settled (never restrained, released, or forfeited and allocated)."""

    action_type: Literal["close"] = "close"

    reason: str = Field(min_length=1, max_length=2000)
    original: ReleaseCase | None = Field(
        default=None,
        description="When the case closes a request its release settled: the Chamber's "
        "release of the case as signed, which the request verifies (docs/signed-decisions.md)",
    )


class Stage(StrEnum):
    """The stages a State's execution passes, each with a policy deadline."""

    ACKNOWLEDGEMENT = "acknowledgement"
    FIRST_REPORT = "first_report"
    FULL_EXECUTION = "full_execution"


class DeadlineExtension(CourtAction):
    """A stage's deadline of the policy in force extended (audited): by the Registry, which
    administers these follow-up deadlines (RS 43(1); Rule 176(2)), or by the Chamber that
    ordered the measures (RS 57(3)(e), 61(11)); none is a time limit set by a Chamber, which
    only a Chamber varies (Regulation 35). An overdue stage may stop being one."""

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


class NationalSecurityDetermination(CourtAction):
    """The Court's determination after a State denied under RS 93(4) (art. 72(7)).

    ``not_pursued``: the Court does not pursue what was denied (art. 72(7) applies only where
    the evidence is relevant and necessary, and it may have been obtained elsewhere, 72(5)(b));
    ``further_consultations``: the Court requests further consultations to consider the State's
    representations (art. 72(7)(a)(i)), an art. 72(5) consultation the Court's answer ends;
    ``not_in_accordance``: the Court concludes that, by invoking RS 93(4), the State is not
    acting in accordance with its obligations (art. 72(7)(a)(ii)), and may refer the matter
    under RS 87(7) to ``referral_to``, specifying its reasons."""

    action_type: Literal["national_security_determination"] = "national_security_determination"

    denial_event_id: EventId = Field(description="The denial the determination concerns")
    outcome: Literal["not_pursued", "further_consultations", "not_in_accordance"]
    referral_to: Literal["assembly", "security_council"] | None = Field(
        default=None, description="not_in_accordance: where the RS 87(7) referral goes, if any"
    )
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _referral(self) -> NationalSecurityDetermination:
        if self.outcome != "not_in_accordance" and self.referral_to is not None:
            raise ValueError(
                "referral_to: only a conclusion under art. 72(7)(a)(ii) refers the matter "
                "under RS 87(7)"
            )
        return self


RATE_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?$"
"""A positive exchange rate as a plain decimal string: up to 12 digits either side."""
_RATE = re.compile(RATE_PATTERN)


def _strict_rate(value: Any) -> Any:
    """A rate travels as a decimal string (never a float), positive, one spelling."""
    if isinstance(value, Decimal) and value.is_finite():
        value = format(value, "f")
    if not isinstance(value, str) or len(value) > 25 or not _RATE.fullmatch(value):
        raise ValueError(
            'a rate is a plain decimal string such as "3.4871", at most 12 digits '
            "either side of the point"
        )
    rate = Decimal(value)
    if rate == 0:
        raise ValueError("a rate is positive")
    return rate


Rate = Annotated[
    Decimal,
    BeforeValidator(_strict_rate),
    WithJsonSchema({"type": "string", "pattern": RATE_PATTERN, "maxLength": 25}),
]


class ExchangeRate(CourtAction):
    """The Registry records a dated exchange rate on the request: 1 ``from_currency`` was
    ``rate`` ``to_currency`` on ``rate_date``, per ``source``. Totals stay per currency,
    unconverted; only with a recorded rate does the request also show a currency's totals
    converted, with this rate, its date and source beside them (never silently, never added
    to the unconverted figures). A later rate for the same pair replaces it in the view; each
    stays in the timeline."""

    action_type: Literal["exchange_rate"] = "exchange_rate"

    from_currency: CurrencyCode
    to_currency: CurrencyCode
    rate: Rate
    rate_date: date = Field(description="The date the rate is of (not after the decision)")
    source: str = Field(
        min_length=1, max_length=200, description="Where the rate is from, e.g. a central bank"
    )

    @model_validator(mode="after")
    def _rate(self) -> ExchangeRate:
        for name in ("from_currency", "to_currency"):
            check_minor_units(Decimal(0), getattr(self, name))
        if self.from_currency == self.to_currency:
            raise ValueError("to_currency: a rate converts between two currencies")
        if not EARLIEST.date() <= self.rate_date <= self.decided_at.date():
            raise ValueError(
                f"rate_date: between {EARLIEST:%Y-%m-%d} (RS 126) and the day it is recorded"
            )
        return self


class JudgmentOutcome(StrEnum):
    """How the proceedings against the accused ended, or stand, in a case."""

    CONVICTION = "conviction"
    """RS 74 (Trial Chamber), RS 83(2) (Appeals Chamber): penalties may follow (RS 77)."""
    ACQUITTAL = "acquittal"
    """RS 74, 81(3)(c), 83(2)."""
    TERMINATION = "termination"
    """The proceedings end without a judgment on the merits: the accused's death, or the
    charges withdrawn (RS 61(4), 61(9)). Charges not confirmed (RS 61(7)(b)) are no
    termination here: the Prosecutor may ask again (RS 61(8)), so nothing is released on it."""


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
    original: Judgment | None = Field(
        default=None,
        description="When the case relays the judgment to a request: the Chamber's judgment "
        "as signed for the case, which the request verifies (docs/signed-decisions.md)",
    )

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
    original: ReleaseCase | None = Field(
        default=None,
        description="When the case relays its release to a request: the Chamber's release of "
        "the case as signed, which the request verifies (docs/signed-decisions.md)",
    )

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


class EnforcementRequestMade(CourtAction):
    """The Presidency made its enforcement request (RS 109, Rule 217) for assets this request
    holds: their transfer to the Court (RS 109(3)) is recorded there, never here too, and they
    no longer keep this request open. Sent by the enforcement request when it starts, or by
    the Court."""

    action_type: Literal["enforcement_request_made"] = "enforcement_request_made"

    case_number: str = Field(min_length=1, max_length=64, description="The case of both requests")
    enforcement_reference: RequestReference
    asset_ids: Ids = Field(min_length=1)


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
    | AdmissibilityRuling
    | NationalSecurityDetermination
    | ExchangeRate
    | Judgment
    | CaseRelease
    | EnforcementRequestMade,
    Field(discriminator="action_type"),
]
"""Any Court action, told apart by its ``action_type`` (as a State's answer by ``answer_type``)."""
COURT_ACTION = TypeAdapter(CourtActionMessage)
