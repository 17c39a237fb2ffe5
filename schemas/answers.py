"""What a requested State may answer (docs/legal-process.md, 'What a State may answer').

Every answer carries the State's event id (the dedupe key from the State's system to the
workflow's seen-set), the request it answers and the State that answers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, TypeAdapter, model_validator

from schemas.assets import Asset
from schemas.common import (
    MAX_ITEMS,
    MAX_TEXT,
    EventId,
    Frozen,
    Identifier,
    Ids,
    Instant,
    Measure,
    Money,
    RequestReference,
    StateCode,
)
from schemas.enforcement import EnforcementResult


class AnswerBase(Frozen):
    if TYPE_CHECKING:  # each kind declares its own Literal discriminator
        answer_type: str

    event_id: EventId
    request_reference: RequestReference
    state: StateCode = Field(description="The answering State; must be the requested State")
    sent_at: Instant


class Acknowledgement(AnswerBase):
    """Acknowledgement of receipt (practice): starts the execution clock."""

    answer_type: Literal["acknowledgement"] = "acknowledgement"
    authority: str = Field(min_length=1, max_length=200, description="Receiving authority")


class AssetResult(Frozen):
    """Progress on one asset under RS 99: what was executed, where, and what it is worth."""

    asset_id: Identifier
    asset: Asset | None = Field(
        default=None, description="Full description; required for an asset the State identified"
    )
    measures_executed: tuple[Measure, ...] = Field(min_length=1, max_length=len(Measure))
    value: Money | None = None
    location: str | None = Field(default=None, max_length=500)
    registry_reference: str | None = Field(default=None, max_length=200)
    executing_authority: str | None = Field(default=None, max_length=200)
    national_order_expires_at: Instant | None = Field(
        default=None, description="When the national freezing order lapses unless renewed"
    )

    @model_validator(mode="after")
    def _asset_matches(self) -> AssetResult:
        if len(set(self.measures_executed)) != len(self.measures_executed):
            raise ValueError("measures_executed: each measure may be listed once")
        if self.asset is not None and self.asset.asset_id != self.asset_id:
            raise ValueError(
                f"asset.asset_id {self.asset.asset_id!r} differs from asset_id {self.asset_id!r}"
            )
        return self


class ExecutionReport(AnswerBase):
    """Execution report (RS 99): per-asset progress; ``final`` marks the last report."""

    answer_type: Literal["execution_report"] = "execution_report"
    final: bool = False
    results: tuple[AssetResult, ...] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _unique_assets(self) -> ExecutionReport:
        ids = [r.asset_id for r in self.results]
        if len(set(ids)) != len(ids):
            raise ValueError("results: each asset may appear once per report")
        return self


class EnforcementReport(AnswerBase):
    """The State's report on the Presidency's enforcement request (RS 109, 75(5); Rules
    217-218): per item, forfeited, its value recovered (RS 109(2)), value recovery under way,
    or nothing recoverable with the reasons; ``final`` when the State has done all it can."""

    answer_type: Literal["enforcement_report"] = "enforcement_report"
    final: bool = False
    results: tuple[EnforcementResult, ...] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _unique_items(self) -> EnforcementReport:
        ids = [r.asset_id for r in self.results]
        if len(set(ids)) != len(ids):
            raise ValueError("results: each item may appear once per report")
        return self


class NoAssetsReport(AnswerBase):
    """No assets found (RS 99): the measure closes for this State."""

    answer_type: Literal["no_assets"] = "no_assets"
    registers_searched: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(
        default=(), max_length=50
    )


class ConsultationGround(StrEnum):
    """Why the State consults the Court instead of executing."""

    INSUFFICIENT_INFORMATION = "RS 97(a)"
    TREATY_CONFLICT = "RS 97(c)"
    FUNDAMENTAL_PRINCIPLE = "RS 93(3)"
    NATIONAL_LAW = "RS 96(3)"
    NATIONAL_SECURITY = "RS 72(5)"
    """Disclosure would, in the State's opinion, prejudice its national security: the State
    and the Court seek to resolve the matter by cooperative means (art. 72(5)) before any
    denial under RS 93(4) (art. 72(6))."""

    @property
    def ends_in_modification(self) -> bool:
        """Only RS 93(3) ends in the Court modifying the request, if the consultation does not
        resolve the matter. An RS 96(3) consultation on the requirements of national law ends
        when they are advised and the information they call for is supplied (RS 96(2)(e)), or
        with a modification; RS 97 consultations end either way too."""
        return self is ConsultationGround.FUNDAMENTAL_PRINCIPLE


class Consultation(AnswerBase):
    """The State consults the Court (RS 97, 93(3), 96(3), 72(5)); deadlines pause meanwhile.

    Under RS 96(3) the State advises the specific requirements of its national law; the consultation
    ends when the Court supplies what they call for, or modifies the request."""

    answer_type: Literal["consultation"] = "consultation"
    ground: ConsultationGround
    details: str = Field(min_length=1, max_length=MAX_TEXT)


class PostponementGround(StrEnum):
    ANOTHER_INVESTIGATION = "RS 94"
    ADMISSIBILITY_CHALLENGE = "RS 95"


class Postponement(AnswerBase):
    """Postponement: another investigation (RS 94, for a period to agree with the Court) or a
    pending admissibility challenge (RS 95, until it is decided)."""

    answer_type: Literal["postponement"] = "postponement"
    ground: PostponementGround
    proposed_until: Instant | None = Field(
        default=None, description="RS 94: end of the period the State proposes"
    )
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)
    challenge_reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="RS 95: the admissibility challenge (RS 18 or 19) under consideration by "
        "the Court that the postponement waits for; it ends when the Court decides it",
    )

    @model_validator(mode="after")
    def _period(self) -> Postponement:
        if self.ground is PostponementGround.ANOTHER_INVESTIGATION and self.proposed_until is None:
            raise ValueError("proposed_until: an RS 94 postponement proposes a period")
        rs95 = self.ground is PostponementGround.ADMISSIBILITY_CHALLENGE
        if rs95 and self.challenge_reference is None:
            raise ValueError(
                "challenge_reference: an RS 95 postponement names the admissibility challenge "
                "it waits for"
            )
        if not rs95 and self.challenge_reference is not None:
            raise ValueError(
                "challenge_reference: only an RS 95 postponement waits for a challenge"
            )
        return self


class Denial(AnswerBase):
    """Denial on national-security grounds (RS 93(4), in accordance with art. 72), in whole or
    in part, after the art. 72(5) consultation ended unresolved (art. 72(6)).

    ``measures`` and ``asset_ids`` say what is denied: empty means every measure, or every
    asset, of the request (a denial in whole when both are empty). RS 93(4) reaches only the
    production of documents or disclosure of evidence: identifying and tracing, never the
    freezing or seizure of assets. Reasons are given promptly (RS 93(6)), unless a specific
    description of them would itself prejudice national security (art. 72(6)): then
    ``specific_reasons_withheld`` says so and ``reasons`` may be left out."""

    answer_type: Literal["denial"] = "denial"
    ground: Literal["RS 93(4)"] = "RS 93(4)"
    measures: tuple[Measure, ...] = Field(
        default=(),
        max_length=len(Measure),
        description="The measures denied (RS 93(4): identify, trace); empty: all of the request",
    )
    asset_ids: Ids = Field(
        default=(), description="The assets the denial concerns; empty: every asset of it"
    )
    specific_reasons_withheld: bool = Field(
        default=False,
        description="art. 72(6): a specific description of the reasons would itself "
        "prejudice national security",
    )
    reasons: str | None = Field(default=None, min_length=20, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _reasons(self) -> Denial:
        if len(set(self.measures)) != len(self.measures):
            raise ValueError("measures: each measure may be listed once")
        if self.reasons is None and not self.specific_reasons_withheld:
            raise ValueError(
                "reasons: a State that denies gives its reasons (RS 93(6)), unless a specific "
                "description would itself prejudice its national security (art. 72(6): set "
                "specific_reasons_withheld)"
            )
        return self


class ThirdPartyClaim(AnswerBase):
    """A bona fide third party claims an asset (RS 93(1)(k), 77(2)(b), Rule 99)."""

    answer_type: Literal["third_party_claim"] = "third_party_claim"
    claim_id: Identifier
    asset_id: Identifier
    claimant: str = Field(min_length=1, max_length=300)
    basis: str = Field(min_length=1, max_length=MAX_TEXT)


class DomesticChallenge(AnswerBase):
    """A domestic challenge or remedy against a measure (cf. EU 2018/1805 art. 33)."""

    answer_type: Literal["domestic_challenge"] = "domestic_challenge"
    challenge_id: Identifier
    asset_id: Identifier
    forum: str = Field(min_length=1, max_length=300)
    outcome: Literal["lodged", "dismissed", "upheld"] = "lodged"


class AssetManagementKind(StrEnum):
    VALUATION = "valuation"
    DEPRECIATION = "depreciation"
    INTERLOCUTORY_SALE = "interlocutory_sale"
    MANAGEMENT_COSTS = "management_costs"
    """Costs of managing the asset only (storage, insurance, upkeep, fees), no new value."""


class AssetManagementUpdate(AnswerBase):
    """Asset-management update (cf. EU 2018/1805 art. 28): valuation history of one asset and
    the costs of keeping it (RS 93(1)(k) restrains it; the State manages it meanwhile).

    A valuation may be in another currency than the one before: the manager values in local
    currency, and the asset's value follows the latest valuation (totals stay per currency,
    never converted). Management costs are recorded per asset: they reduce what may reach
    victims (RS 75(2), 79(2)), so they are kept and shown, never netted silently."""

    answer_type: Literal["asset_management"] = "asset_management"
    asset_id: Identifier
    kind: AssetManagementKind
    value: Money | None = Field(
        default=None,
        description="The asset's value now, in the currency the manager values it in; "
        "required except for management_costs",
    )
    costs: Money | None = Field(
        default=None,
        description="Management costs incurred since the last report (storage, insurance, "
        "upkeep, fees); required for management_costs",
    )
    asset_manager: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _value_or_costs(self) -> AssetManagementUpdate:
        if self.kind is AssetManagementKind.MANAGEMENT_COSTS:
            if self.costs is None:
                raise ValueError("costs: a management_costs update states the costs")
        elif self.value is None:
            raise ValueError(f"value: a {self.kind.value} states the asset's value")
        if self.costs is not None and self.costs.amount == 0:
            raise ValueError("costs: state costs incurred, or leave them out")
        return self


class FreezeLimitProposal(AnswerBase):
    """The State proposes to limit a freeze's duration: an RS 97 consultation with the Court.
    The freeze stays in force until a Chamber decides; the Court's silence never accepts it."""

    answer_type: Literal["freeze_limit_proposal"] = "freeze_limit_proposal"
    asset_ids: Ids = Field(min_length=1)
    proposed_until: Instant
    reasons: str = Field(min_length=1, max_length=MAX_TEXT)


class ChannelChangeNotice(AnswerBase):
    """The State changes its channel or language (RS 87(1)(a), 87(2)). Rule 180: the change
    takes effect at the agreed time or, failing agreement, 45 days after notice, without
    prejudice to requests already made — it changes the party directory for future requests,
    never the request this notice arrives on."""

    answer_type: Literal["channel_change"] = "channel_change"
    channel: str = Field(min_length=1, max_length=100)
    language: str = Field(pattern=r"^[a-z]{2}$")


StateAnswer = Annotated[
    Acknowledgement
    | Consultation
    | Postponement
    | Denial
    | ExecutionReport
    | EnforcementReport
    | NoAssetsReport
    | ThirdPartyClaim
    | DomesticChallenge
    | AssetManagementUpdate
    | FreezeLimitProposal
    | ChannelChangeNotice,
    Field(discriminator="answer_type"),
]
STATE_ANSWER = TypeAdapter(StateAnswer)

MAX_BATCH_ANSWERS = 50
"""Answers per batch update: far below Temporal's payload limit even at the largest answers."""


class AnswerBatch(Frozen):
    """Answers to one request, queued in Kafka while nothing read them (the bridge was down, a
    backlog), handed over in one update and applied in their order as if they came one by one.
    """

    answers: list[StateAnswer] = Field(min_length=1, max_length=MAX_BATCH_ANSWERS)
