"""What a requested State may answer (DOMAIN.md, 'What a State may answer').

Every answer carries the State's event id (the dedupe key from the State's system to the
workflow's seen-set), the request it answers and the State that answers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter, model_validator

from schemas.assets import Asset
from schemas.common import EventId, Frozen, Identifier, Measure, Money, RequestReference, StateCode


class AnswerBase(Frozen):
    event_id: EventId
    request_reference: RequestReference
    state: StateCode = Field(description="The answering State; must be the requested State")
    sent_at: AwareDatetime


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
    measures_executed: tuple[Measure, ...] = Field(min_length=1)
    value: Money | None = None
    location: str | None = Field(default=None, max_length=500)
    registry_reference: str | None = Field(default=None, max_length=200)
    executing_authority: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _asset_matches(self) -> AssetResult:
        if self.asset is not None and self.asset.asset_id != self.asset_id:
            raise ValueError(
                f"asset.asset_id {self.asset.asset_id!r} differs from asset_id {self.asset_id!r}"
            )
        return self


class ExecutionReport(AnswerBase):
    """Execution report (RS 99): per-asset progress; ``final`` marks the last report."""

    answer_type: Literal["execution_report"] = "execution_report"
    final: bool = False
    results: tuple[AssetResult, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_assets(self) -> ExecutionReport:
        ids = [r.asset_id for r in self.results]
        if len(set(ids)) != len(ids):
            raise ValueError("results: each asset may appear once per report")
        return self


class NoAssetsReport(AnswerBase):
    """No assets found (RS 99): the measure closes for this State."""

    answer_type: Literal["no_assets"] = "no_assets"
    registers_searched: tuple[str, ...] = Field(default=(), max_length=50)


StateAnswer = Annotated[
    Acknowledgement | ExecutionReport | NoAssetsReport, Field(discriminator="answer_type")
]
STATE_ANSWER = TypeAdapter(StateAnswer)
