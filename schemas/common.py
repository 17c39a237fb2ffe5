"""Shared vocabulary: codes, money and the closed lists the Rome Statute and practice use."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

StateCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(description="ISO 3166-1 alpha-3 code of a State, e.g. NLD"),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(description="ISO 4217 alphabetic currency code, e.g. EUR"),
]
EventId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$"),
    Field(description="Globally unique event id (a UUID is recommended); the dedupe key"),
]
RequestReference = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9/._-]{3,63}$"),
    Field(description="The Court's reference of one request to one State, e.g. ICC-01/14-REQ-0042"),
]
AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,17})(\.[0-9]{1,2})?$"
"""A non-negative amount written as a decimal string with at most two decimal places."""
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class Frozen(BaseModel):
    """Base for every contract: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Money(Frozen):
    """An amount in one currency; Decimal, never float."""

    amount: Annotated[
        Decimal,
        Field(
            ge=0,
            max_digits=20,
            decimal_places=2,
            # The JSON Schema's string branch would otherwise accept any text ("-5", "abc").
            json_schema_extra={"pattern": AMOUNT_PATTERN},
        ),
    ]
    currency: CurrencyCode


class Measure(StrEnum):
    """The measures of RS 93(1)(k): identify, trace, freeze or seize."""

    IDENTIFY = "identify"
    TRACE = "trace"
    FREEZE = "freeze"
    SEIZE = "seize"


class LegalBasis(StrEnum):
    """The provision under which the Court asks (see docs/legal-process.md, 'The request')."""

    RS_57_3_E = "RS 57(3)(e)"
    RS_75_4 = "RS 75(4)"
    RS_93_1_K = "RS 93(1)(k)"


class IssuingOrgan(StrEnum):
    """Who issues the request; Rule 176 decides who transmits it."""

    PRE_TRIAL_CHAMBER = "pre_trial_chamber"
    TRIAL_CHAMBER = "trial_chamber"
    PRESIDENCY = "presidency"
    PROSECUTOR = "prosecutor"


class Purpose(StrEnum):
    """What the frozen value will serve (seed paras 12-13)."""

    REPARATIONS = "reparations"
    LEGAL_AID = "legal_aid"
    FORFEITURE = "forfeiture"


class Urgency(StrEnum):
    """Urgent requests may travel by any written medium and need confirmation (RS 96(1))."""

    ORDINARY = "ordinary"
    URGENT = "urgent"


class Confidentiality(StrEnum):
    """RS 87(3) confidentiality; ex parte orders under Rule 99."""

    PUBLIC = "public"
    CONFIDENTIAL = "confidential"
    EX_PARTE = "ex_parte"


class Origin(StrEnum):
    """Whose interest the request serves (seed para 14: Defence requests too)."""

    CHAMBER = "chamber"
    PROSECUTION = "prosecution"
    DEFENCE = "defence"
