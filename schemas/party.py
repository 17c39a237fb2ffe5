"""What a requested State receives on its own channel, ``tracefreeze.party.<iso3>.outbound``.

The State-facing contract: only what the State needs to execute the request addressed to it
(RS 93(1)(k), 96(2)), the Court's decisions on that request, and the reminders and follow-ups
addressed to its focal point or central authority. Nothing about any other State's request,
nothing of the Court's internal deliberation (a step proposed to or declined by a Chamber,
the Assembly's procedure, policy versions, workflow ids) and no event ids of the Court's own
topics. Confidentiality travels with the request: the State keeps it as the Court asks
(RS 87(3)); for an ex parte request (Rule 99) the State must not notify the person concerned.

Each message is a CloudEvent (binary mode on Kafka: the JSON body below, ``ce_*`` headers,
key = the request reference). Its id is derived from the Court-side event that caused it, so a
redelivered message carries the same id and the State deduplicates on it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from schemas.assets import Asset, Party
from schemas.common import (
    Confidentiality,
    EventRef,
    Frozen,
    Identifier,
    IssuingOrgan,
    LanguageCode,
    LegalBasis,
    Measure,
    Money,
    Purpose,
    RequestReference,
    StateCode,
    Urgency,
)
from schemas.enforcement import EnforcementOrder
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import Conviction, NationalLawStatement, Warrant

PARTY_SOURCE = "urn:int.icc.tracefreeze:registry"
"""``ce_source`` of every message on a party channel: the Registry transmits (Rule 176(2))."""
PARTY_ID_NAMESPACE = uuid.UUID("6f1d3c64-2d0e-4f55-9a43-5b0a3c8e7d21")
"""Namespace of the UUIDv5 ids of party messages (name: the causing event's id)."""


class PartyMessageType(StrEnum):
    REQUEST = "int.icc.tracefreeze.party.request.v1"
    DECISION = "int.icc.tracefreeze.party.decision.v1"
    REMINDER = "int.icc.tracefreeze.party.reminder.v1"


class StateRequest(Frozen):
    """The request as the requested State executes it (the content of RS 96(2))."""

    reference: RequestReference
    case_number: str
    requested_state: StateCode
    issuing_organ: IssuingOrgan
    legal_basis: LegalBasis
    measures: tuple[Measure, ...]
    purposes: tuple[Purpose, ...]
    urgency: Urgency
    confidentiality: Confidentiality = Field(
        description="How the State must keep the request (RS 87(3)); ex parte: without notice "
        "to the person concerned (Rule 99)"
    )
    issued_at: AwareDatetime
    grounds: str
    procedure: str | None = None
    parties: tuple[Party, ...] = ()
    known_assets: tuple[Asset, ...] = ()
    languages: tuple[LanguageCode, ...] = Field(default=(), description="RS 87(2)")
    warrant: Warrant | None = Field(default=None, description="RS 58, for RS 57(3)(e), (b)")
    enforcement: EnforcementOrder | None = Field(
        default=None, description="RS 109, Rule 218: the order an enforcement request carries"
    )
    conviction: Conviction | None = Field(default=None, description="RS 74, for RS 75(4)")
    national_law: tuple[NationalLawStatement, ...] = Field(
        default=(), description="How the request meets the party's requirements (RS 96(2)(e))"
    )
    supplements: RequestReference | None = Field(
        default=None, description="The earlier request of the same case this one supplements"
    )


class AssetDecision(Frozen):
    """The asset a decision concerns and the status the Court's ledger now gives it."""

    asset_id: Identifier
    status: AssetStatus
    held_up_to: Money | None = Field(
        default=None, description="A Rule 99(3) modification holds the asset only up to this"
    )


class StateDecision(Frozen):
    """A Court decision on the request (a postponement agreed, a claim decided, a release,
    a withdrawal, a closure, ...): the action's name and where it leaves the request."""

    action: str = Field(description="The Court action, e.g. postponement_decision, release")
    status: RequestStatus
    assets: tuple[AssetDecision, ...] = ()
    request: StateRequest | None = Field(
        default=None,
        description="The request in force after a consultation response (RS 97): a "
        "modification is a new version the State executes instead",
    )


class StateReminder(Frozen):
    """A reminder or follow-up addressed to the State (its focal point or central authority)."""

    kind: str = Field(description="deadline_approaching, step_reached, deadline_extended, ...")
    step: str | None = Field(default=None, description="reminder or registry_follow_up")
    stage: str | None = None
    deadline: AwareDatetime | None = None
    next_deadline: AwareDatetime | None = None
    addressee: str | None = None
    channel: str | None = None
    asset_id: Identifier | None = None


class PartyMessage(Frozen):
    """One message on a requested State's outbound channel."""

    specversion: str = "1.0"
    id: EventRef = Field(
        description="A name-based UUID (version 5) of the Court event that caused the message: "
        "the same on every redelivery, so the State deduplicates by it"
    )
    source: str = PARTY_SOURCE
    type: PartyMessageType
    time: AwareDatetime
    subject: RequestReference = Field(description="The request reference (also the Kafka key)")
    requested_state: StateCode
    request: StateRequest | None = None
    decision: StateDecision | None = None
    reminder: StateReminder | None = None

    @model_validator(mode="after")
    def _one_body(self) -> PartyMessage:
        bodies = {
            PartyMessageType.REQUEST: self.request,
            PartyMessageType.DECISION: self.decision,
            PartyMessageType.REMINDER: self.reminder,
        }
        given = [t for t, body in bodies.items() if body is not None]
        if given != [self.type]:
            raise ValueError(f"a {self.type.value} message carries exactly its own body")
        return self


def party_message_id(caused_by: str) -> str:
    """The message's id: the same for every redelivery of the same Court-side event."""
    return str(uuid.uuid5(PARTY_ID_NAMESPACE, caused_by))
