"""The Presidency's enforcement request: what it asks the State to give effect to, and what
the State reports back (docs/legal-process.md, 'Enforcement after conviction').

After a conviction is final, the Presidency seeks the cooperation and the measures for
enforcement of a fine, a forfeiture order or a reparations order (Rule 217). States Parties
give effect to fines and forfeitures as their national law allows, without prejudice to bona
fide third parties (RS 109(1)), and to reparations orders as if RS 109 applied (RS 75(5)).
If a State cannot give effect to a forfeiture order, it takes measures to recover the value of
the proceeds, property or assets ordered forfeited (RS 109(2); Rule 218(1)(c)). Property, or
the proceeds of its sale, obtained by enforcing a judgment is transferred to the Court
(RS 109(3)); the Presidency then decides its allocation (Rule 221). National authorities do
not modify the order (Rules 219-220).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from schemas.assets import Asset
from schemas.common import MAX_TEXT, Frozen, Identifier, Money


class OrderEnforced(StrEnum):
    """Which order of the Court the State is asked to give effect to."""

    FINE = "fine"
    """RS 77(2)(a): a fine imposed with the sentence."""
    FORFEITURE = "forfeiture"
    """RS 77(2)(b): the forfeiture of proceeds, property and assets derived from the crime."""
    REPARATIONS = "reparations"
    """RS 75(2): a reparations order against the convicted person, enforced under RS 75(5)."""

    @property
    def article(self) -> str:
        return {
            OrderEnforced.FINE: "RS 77(2)(a)",
            OrderEnforced.FORFEITURE: "RS 77(2)(b)",
            OrderEnforced.REPARATIONS: "RS 75(2), 75(5)",
        }[self]


class EnforcementOrder(Frozen):
    """What an enforcement request (RS 109) carries beyond any request: the order, the final
    conviction it follows, the person it is against, and what it orders (Rule 218)."""

    order: OrderEnforced
    order_reference: str = Field(
        min_length=1, max_length=200, description="The Trial Chamber's order or sentence"
    )
    judgment_reference: str = Field(
        min_length=1,
        max_length=200,
        description="The judgment by which the conviction became final: the trial judgment "
        "(RS 74) where no appeal was brought, or the appeal judgment confirming it (RS 83)",
    )
    final_on: date = Field(
        description="When the conviction became final: execution is suspended while an appeal "
        "may be brought or is pending (RS 81(4))"
    )
    person_party_id: Identifier = Field(
        description="Rule 218(1)(a), 218(3)(a): the person against whom the order was issued, "
        "one of the request's parties"
    )
    amount: Money | None = Field(
        default=None,
        description="The fine (RS 77(2)(a)) or the reparations award (RS 75(2)) to recover; "
        "a forfeiture order names its assets instead (Rule 218(1)(b))",
    )
    beneficiaries: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="Rule 218(3)(b): for individual awards, the victims (their identity is "
        "confidential: the request's confidentiality applies); for a collective award made "
        "through the Trust Fund for Victims, its particulars",
    )
    scope_of_reparations: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="Rule 218(3)(c): the scope and nature of the reparations ordered",
    )
    third_party_claims: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="Rule 217: any third-party claims, or that no claim was presented by a "
        "person notified of the proceedings under RS 75",
    )

    @model_validator(mode="after")
    def _what_is_ordered(self) -> EnforcementOrder:
        if self.order is OrderEnforced.FORFEITURE and self.amount is not None:
            raise ValueError(
                "amount: a forfeiture order names the proceeds, property and assets "
                "forfeited (Rule 218(1)(b)), not an amount"
            )
        if self.order is not OrderEnforced.FORFEITURE and (
            self.amount is None or self.amount.amount <= 0
        ):
            raise ValueError(
                f"amount: a {self.order.value} order ({self.order.article}) "
                "states the amount to recover"
            )
        if (self.order is OrderEnforced.REPARATIONS) != (self.beneficiaries is not None):
            raise ValueError(
                "beneficiaries: a reparations order, and only one, names the victims of an "
                "individual award or the Trust Fund's particulars (Rule 218(3)(b))"
            )
        if (self.order is OrderEnforced.REPARATIONS) != (self.scope_of_reparations is not None):
            raise ValueError(
                "scope_of_reparations: a reparations order, and only one, states the scope and "
                "nature of the reparations (Rule 218(3)(c))"
            )
        return self


class EnforcementOutcome(StrEnum):
    """What the State did with one item of the order."""

    FORFEITED = "forfeited"
    """RS 109(1): given effect under national law; the State holds the property."""
    VALUE_RECOVERED = "value_recovered"
    """RS 109(2), Rule 218(1)(c): the property could not be forfeited; its value was recovered
    instead (or, for a fine or reparations order, an amount was recovered)."""
    VALUE_PENDING = "value_pending"
    """RS 109(2): the property could not be forfeited; measures to recover its value are under
    way."""
    UNABLE = "unable"
    """Neither the property nor its value could be recovered; the State says why. The order
    stands (Rules 219-220); the Court decides what follows."""


NO_VALUE = frozenset({EnforcementOutcome.VALUE_PENDING, EnforcementOutcome.UNABLE})
"""Outcomes with nothing recovered (yet): the State says why."""


class EnforcementResult(Frozen):
    """The State's report on one item: an asset the order names, or, for a fine or a
    reparations order, property from which an amount was recovered (described in ``asset``)."""

    asset_id: Identifier
    asset: Asset | None = Field(
        default=None,
        description="Property not yet in the ledger from which a fine or reparations award "
        "was recovered",
    )
    outcome: EnforcementOutcome
    amount: Money | None = Field(
        default=None,
        description="What the State holds for the Court: the value recovered (RS 109(2)), or "
        "the forfeited property's value or sale proceeds; for a fine or a reparations order, "
        "in the order's currency",
    )
    reasons: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _complete(self) -> EnforcementResult:
        if self.asset is not None and self.asset.asset_id != self.asset_id:
            raise ValueError(
                f"asset.asset_id {self.asset.asset_id!r} differs from asset_id {self.asset_id!r}"
            )
        if self.outcome not in NO_VALUE and (self.amount is None or self.amount.amount <= 0):
            raise ValueError(
                "amount: what the State holds for the Court states its value, the value "
                "recovered (RS 109(2)) or the property's value or sale proceeds (RS 109(3))"
            )
        if self.outcome in NO_VALUE and self.amount is not None:
            raise ValueError(f"amount: nothing was recovered ({self.outcome.value})")
        if self.outcome in NO_VALUE and self.reasons is None:
            raise ValueError(
                "reasons: why the property itself could not be forfeited (RS 109(2)) or "
                "nothing could be recovered"
            )
        return self
