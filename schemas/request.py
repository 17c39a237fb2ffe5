"""The Court's request to one State (content per RS 96)."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import Field, model_validator

from schemas.assets import Asset, Party
from schemas.common import (
    MAX_ASSETS,
    MAX_PARTIES,
    MAX_TEXT,
    CaseNumber,
    Confidentiality,
    Frozen,
    Instant,
    IssuingOrgan,
    LegalBasis,
    Measure,
    Origin,
    Purpose,
    RequestReference,
    StateCode,
    Urgency,
)


class CourtRequest(Frozen):
    """A request to identify, trace, freeze or seize assets (RS 93(1)(k), 57(3)(e), 75(4)).

    One request is addressed to one State; a case with assets in several States sends one
    request per State. ``reference`` is unique per (request, State).
    """

    reference: RequestReference
    case_number: CaseNumber
    issuing_organ: IssuingOrgan
    legal_basis: LegalBasis
    origin: Origin = Origin.CHAMBER
    requested_state: StateCode
    measures: tuple[Measure, ...] = Field(min_length=1, max_length=len(Measure))
    purposes: tuple[Purpose, ...] = Field(min_length=1, max_length=len(Purpose))
    urgency: Urgency = Urgency.ORDINARY
    confidentiality: Confidentiality = Confidentiality.CONFIDENTIAL
    issued_at: Instant
    grounds: str = Field(
        min_length=1, max_length=MAX_TEXT, description="Essential facts (RS 96(2))"
    )
    procedure: str | None = Field(default=None, max_length=MAX_TEXT)
    parties: tuple[Party, ...] = Field(default=(), max_length=MAX_PARTIES)
    known_assets: tuple[Asset, ...] = Field(default=(), max_length=MAX_ASSETS)

    @model_validator(mode="after")
    def _consistent(self) -> CourtRequest:
        if len(set(self.measures)) != len(self.measures):
            raise ValueError("measures: each measure may be requested once")
        if len(set(self.purposes)) != len(self.purposes):
            raise ValueError("purposes: each purpose may be named once")
        party_ids = [p.party_id for p in self.parties]
        if len(set(party_ids)) != len(party_ids):
            raise ValueError("parties: party_id values must be unique")
        asset_ids = [a.asset_id for a in self.known_assets]
        if len(set(asset_ids)) != len(asset_ids):
            raise ValueError("known_assets: asset_id values must be unique")
        for asset in self.known_assets:
            unknown = set(asset.owner_party_ids) - set(party_ids)
            if unknown:
                raise ValueError(
                    f"known_assets[{asset.asset_id}]: owner_party_ids {sorted(unknown)} "
                    "are not among the parties"
                )
        if self.issuing_organ is IssuingOrgan.PROSECUTOR and self.legal_basis is not (
            LegalBasis.RS_93_1_K
        ):
            raise ValueError("legal_basis: the Prosecutor's own requests rest on RS 93(1)(k)")
        return self

    @property
    def ex_parte(self) -> bool:
        """Rule 99(1): made without notice to the person; nothing about it may show."""
        return self.confidentiality == Confidentiality.EX_PARTE

    @property
    def workflow_id(self) -> str:
        """The plain id; an ex parte request runs under ``opaque_request_workflow_id``."""
        return request_workflow_id(self.reference, self.requested_state)

    def ui_summary(self) -> str:
        """One line for the Temporal UI: no names of persons, no asset details; for an ex
        parte request (Rule 99(1)) not even its reference, case or State."""
        if self.ex_parte:
            return "Ex parte request (Rule 99(1))"
        measures = ", ".join(m.value for m in self.measures)
        return (
            f"{self.reference}: {measures} — case {self.case_number}, "
            f"State {self.requested_state} ({self.urgency.value}, {self.confidentiality.value})"
        )


def request_workflow_id(reference: str, state: str) -> str:
    """The workflow id of one request to one State, derived from its reference."""
    return f"request/{reference}/{state}"


OPAQUE_ID_PREFIX = "request/x"
"""Opaque ids start so (``request/x`` + 32 hex digits); plain ids go on with a reference,
which is upper case, so the two never meet."""


def opaque_request_workflow_id(reference: str, state: str, key: bytes) -> str:
    """The workflow id of an ex parte request (Rule 99(1)): an HMAC-SHA256 of its reference and
    State under the Court's request-id key. Every Temporal user sees workflow ids; this one
    reveals neither the reference nor the State (nor, across requests, that two share either),
    yet the Court's tools holding the key derive it from the reference and State alone."""
    message = f"tracefreeze ex parte request\n{reference}\n{state}".encode()
    return OPAQUE_ID_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
