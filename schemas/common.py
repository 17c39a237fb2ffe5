"""Shared vocabulary: codes, money and the closed lists the Rome Statute and practice use."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from schemas.currencies import minor_units

StateCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(
        description="The party's code: ISO 3166-1 alpha-3 for a State, e.g. NLD; a user-assigned "
        "code XAA-XZZ for an international organisation, e.g. XIP (its directory entry)"
    ),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(description="ISO 4217 alphabetic currency code, e.g. EUR"),
]
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
"""A random (version 4) or time-ordered random (version 7) UUID, lower case: one canonical
spelling per id, so one answer cannot pass the seen-set twice under two spellings."""
EventId = Annotated[
    str,
    StringConstraints(pattern=UUID_PATTERN),
    Field(
        description="The answer's or action's id: a random UUID (version 4 or 7, lower case), "
        "the dedupe key. Predictable ids (nld-answer-000042) let another party pre-empt them."
    ),
]
EventRef = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$"),
    Field(
        description="What the workflow records as the cause of a change: an EventId, or an "
        "id the workflow made itself (e.g. a freeze limit's lapse)"
    ),
]
RequestReference = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9/._-]{3,63}$"),
    Field(description="The Court's reference of one request to one State, e.g. ICC-01/14-REQ-0042"),
]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
LanguageCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}$"),
    Field(description="ISO 639-1 code of a language, e.g. en (RS 87(2))"),
]

# --- Bounds: every value from outside has one, here, in one place -----------------------

AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,17})(\.[0-9]{1,3})?$"
"""A non-negative amount as a plain decimal string: up to 18 integer digits, up to three
decimal places (ISO 4217 minor units go to three), no sign, no exponent, no underscores, no
leading zeros, no spaces. One amount has one spelling, so one signature covers one value."""
_AMOUNT = re.compile(AMOUNT_PATTERN)


def _strict_amount(value: Any) -> Any:
    """Money travels as a decimal string; a JSON number would pass through a float (and two
    amounts could share one canonical form, hence one signature): it is refused."""
    if isinstance(value, Decimal) and value.is_finite():
        value = format(value, "f")
    if not isinstance(value, str):
        raise ValueError(
            f'an amount is a decimal string such as "1250.00", not {type(value).__name__}'
        )
    if len(value) > 22 or not _AMOUNT.fullmatch(value):
        raise ValueError(
            "an amount is a plain decimal string: digits, at most 18 before and 3 after the "
            'point, no sign, exponent, underscore, space or leading zero (e.g. "1250.00")'
        )
    return Decimal(value)


Amount = Annotated[
    Decimal,
    BeforeValidator(_strict_amount),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "maxLength": 22}),
]
"""A non-negative amount (see ``AMOUNT_PATTERN``): a Decimal in Python, a string in JSON."""

EARLIEST = datetime(2002, 7, 1, tzinfo=UTC)
"""Entry into force of the Rome Statute (RS 126): nothing the system records happens earlier."""
LATEST = datetime(2199, 12, 31, tzinfo=UTC)
"""A fixed outer limit for every date a party sends. The workflow also refuses a date more
than ``HORIZON`` after it takes the answer (``workflows/bounds.py``); a fixed limit here keeps
decoding deterministic (a workflow replays the same bytes years later)."""
HORIZON = timedelta(days=100 * 366)
"""How far ahead of the moment it is taken an answer or action may look: 100 years."""


def _plausible(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(
            f"{value.isoformat()} is outside the plausible window: not before "
            f"{EARLIEST:%Y-%m-%d} (entry into force of the Rome Statute, RS 126), "
            f"not after {LATEST:%Y-%m-%d}"
        )
    return value


Instant = Annotated[
    AwareDatetime,
    AfterValidator(_plausible),
    Field(description="An aware date-time between 2002-07-01 (RS 126) and 2199-12-31"),
]
"""Every date-time a party sends: aware, and within the plausible window."""

MAX_PERIOD = timedelta(days=10 * 366)
"""The longest policy or Court period (a stage, a ladder interval, an extension): ten years,
so deadline arithmetic stays in range."""

MAX_TEXT = 5000
MAX_ITEMS = 100
"""Most ids one answer or action may list (assets, parties, registers)."""
MAX_ASSETS = 1000
"""Most assets one request's ledger holds (known assets and assets the State identified)."""
MAX_PARTIES = 200
MAX_REQUEST_JSON_BYTES = 512 * 1024
"""Most bytes of one request's JSON (UTF-8). Every message that carries a request's text (its
transmission to the State's channel, a signed consultation response that modifies it) must fit
one Kafka record of 1 MiB with its envelope; the per-field limits alone admit about 2 MB (1,000
assets with the longest descriptions). This system's limit, not the Statute's: a request that
needs more is split, the rest in a supplementary request to the same State (linked by
``supplements``, which the State receives as relevant information, RS 96(2)(f))."""
MAX_STATES = 200
"""Most requests in one case: one per State."""


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError("each id may be listed once")
    return values


Ids = Annotated[tuple[Identifier, ...], Field(max_length=MAX_ITEMS), AfterValidator(_unique)]
"""A list of distinct ids (assets, parties), at most ``MAX_ITEMS``."""
CaseNumber = Annotated[
    str,
    StringConstraints(pattern=r"^ICC-[0-9]{2}/[0-9]{2}(-[0-9]{2}/[0-9]{2})?$"),
    Field(description="The Court's case number, e.g. ICC-01/22"),
]
TopicName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,249}$")]
"""A Kafka topic name (Kafka's own limit: 249 characters of this set)."""


class Frozen(BaseModel):
    """Base for every contract: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Money(Frozen):
    """An amount in one currency; Decimal, never float. The currency is one ISO 4217 counts
    amounts in, and the amount has no more decimal places than its minor units (JPY 0, EUR 2,
    KWD or LYD 3: ``schemas/currencies.py``): a manager's valuation in local currency is taken
    as that currency writes it, and no amount is rounded on the way in."""

    amount: Amount
    currency: CurrencyCode = Field(
        description="ISO 4217 alphabetic code of a currency with minor units, e.g. EUR; the "
        "amount has at most its minor units' decimal places (JPY 0, EUR 2, KWD 3)"
    )

    @model_validator(mode="after")
    def _minor_units(self) -> Money:
        check_minor_units(self.amount, self.currency)
        return self


def check_minor_units(amount: Decimal, currency: str) -> None:
    """Refuse a currency ISO 4217 counts no amounts in, or an amount written with more
    decimal places than the currency's minor units."""
    try:
        units = minor_units(currency)
    except KeyError:
        raise ValueError(
            f"currency: {currency} is not an ISO 4217 currency with minor units "
            "(a metal, fund or test code is valued in a currency)"
        ) from None
    exponent = amount.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > units:
        raise ValueError(
            f"amount: {currency} has {units} decimal place{'s' if units != 1 else ''} "
            f"(ISO 4217 minor units); {format(amount, 'f')} has {places}"
        )


class Measure(StrEnum):
    """The measures of RS 93(1)(k): identify, trace, freeze or seize."""

    IDENTIFY = "identify"
    TRACE = "trace"
    FREEZE = "freeze"
    SEIZE = "seize"


class LegalBasis(StrEnum):
    """The provision under which the Court asks (see docs/legal-process.md, 'The request')."""

    RS_57_3_B = "RS 57(3)(b)"
    RS_57_3_E = "RS 57(3)(e)"
    RS_75_4 = "RS 75(4)"
    RS_93_1_K = "RS 93(1)(k)"
    RS_109 = "RS 109"
    """The Presidency's request to give effect to a fine, a forfeiture or a reparations order
    after a final conviction (RS 109, 75(5); Rules 217-218): an enforcement request."""


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
