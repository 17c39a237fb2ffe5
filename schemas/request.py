"""The Court's request to one State (content per RS 96)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from schemas.assets import Asset, Party
from schemas.common import (
    MAX_ASSETS,
    MAX_PARTIES,
    MAX_REQUEST_JSON_BYTES,
    MAX_TEXT,
    CaseNumber,
    Confidentiality,
    Frozen,
    Identifier,
    Instant,
    IssuingOrgan,
    LanguageCode,
    LegalBasis,
    Measure,
    Origin,
    Purpose,
    RequestReference,
    StateCode,
    Urgency,
)
from schemas.enforcement import EnforcementOrder, OrderEnforced


class WarrantKind(StrEnum):
    """What the Pre-Trial Chamber issued under RS 58."""

    ARREST = "warrant_of_arrest"  # RS 58(1)
    SUMMONS = "summons_to_appear"  # RS 58(7)


class Warrant(Frozen):
    """The warrant of arrest or summons to appear (RS 58) a request under RS 57(3)(e) or
    57(3)(b) presupposes, and, for RS 57(3)(b), when the person it names was arrested or
    appeared: the Pre-Trial Chamber acts "upon the request of a person who has been arrested
    or has appeared pursuant to a summons under article 58".

    ``arrested_or_appeared_at`` is an aware date-time within the plausible window (``Instant``);
    whether it falls between the warrant or summons and the request is the completeness
    check's finding (``tracefreeze/completeness_content.py``), with its article."""

    kind: WarrantKind
    reference: str = Field(min_length=1, max_length=200, description="The decision's number")
    issued_on: date
    arrested_or_appeared_at: Instant | None = Field(
        default=None,
        description="When the person was arrested under the warrant (RS 58(1), 59) or appeared "
        "pursuant to the summons (RS 58(7)); a request under RS 57(3)(b) gives it: the "
        "Chamber acts upon that person's request",
    )


class Conviction(Frozen):
    """The conviction (RS 74) after which a Trial Chamber may seek measures under RS 75(4)."""

    judgment_reference: str = Field(min_length=1, max_length=200)
    delivered_on: date


class Rule99Applicant(StrEnum):
    """Rule 99(1): on whose initiative the Chamber determined that measures be requested."""

    OWN_MOTION = "own_motion"
    PROSECUTOR = "prosecutor"
    VICTIMS = "victims"
    """Victims or their legal representatives who made a request for reparations or gave a
    written undertaking to do so."""


class VictimsStanding(StrEnum):
    """Rule 99(1): what gives victims standing to ask for protective measures."""

    REPARATIONS_REQUEST = "reparations_request"
    WRITTEN_UNDERTAKING = "written_undertaking"


class Rule99Application(Frozen):
    """Rule 99(1): the Pre-Trial Chamber (RS 57(3)(e)) or the Trial Chamber (RS 75(4))
    determines whether measures should be requested on its own motion, on the application of
    the Prosecutor, or at the request of victims or their legal representatives who have made
    a request for reparations or given a written undertaking to do so. Recorded on the
    Court's request; it is not part of what the State receives (RS 96(2))."""

    applicant: Rule99Applicant
    filing_reference: str | None = Field(
        default=None, min_length=1, max_length=200, description="The application's filing"
    )
    filed_on: date | None = None
    victims_standing: VictimsStanding | None = None

    @model_validator(mode="after")
    def _applicant(self) -> Rule99Application:
        own = self.applicant is Rule99Applicant.OWN_MOTION
        if not own and (self.filing_reference is None or self.filed_on is None):
            raise ValueError(
                "filing_reference, filed_on: an application (Rule 99(1)) names its filing and date"
            )
        victims = self.applicant is Rule99Applicant.VICTIMS
        if victims and self.victims_standing is None:
            raise ValueError(
                "victims_standing: victims apply having made a request for reparations or "
                "given a written undertaking to do so (Rule 99(1))"
            )
        if not victims and self.victims_standing is not None:
            raise ValueError("victims_standing: only a victims' application has it")
        return self


class NationalLawStatement(Frozen):
    """How the request meets one requirement of the requested party's law that it has made
    known (RS 96(2)(e), 96(3)): the requirement's id in the party's profile, and how."""

    requirement_id: Identifier
    how: str = Field(min_length=1, max_length=MAX_TEXT)


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
    languages: tuple[LanguageCode, ...] = Field(
        default=(),
        max_length=6,
        description="The language(s) the request is in or translated into (RS 87(2))",
    )
    warrant: Warrant | None = Field(
        default=None, description="The warrant or summons (RS 58) behind RS 57(3)(e) or 57(3)(b)"
    )
    conviction: Conviction | None = Field(
        default=None, description="The conviction (RS 74) behind a request under RS 75(4)"
    )
    national_law: tuple[NationalLawStatement, ...] = Field(
        default=(),
        max_length=50,
        description="How the request meets the requested party's national-law requirements "
        "(RS 96(2)(e), 96(3))",
    )
    supplements: RequestReference | None = Field(
        default=None,
        description="The earlier request of the same case to the same party that this one "
        "supplements (a further request: a new reference, linked to the first)",
    )
    enforcement: EnforcementOrder | None = Field(
        default=None,
        description="RS 109, 75(5), Rules 217-218: the order an enforcement request of the "
        "Presidency asks the State to give effect to; enforcement requests only",
    )
    rule99_application: Rule99Application | None = Field(
        default=None,
        description="Rule 99(1): on whose initiative the Chamber determined that measures be "
        "requested (own motion, the Prosecutor's application, victims' request); requests "
        "under RS 57(3)(e) and 75(4) only",
    )

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
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("languages: each language may be named once")
        if self.supplements == self.reference:
            raise ValueError("supplements: a request cannot supplement itself")
        ids = [s.requirement_id for s in self.national_law]
        if len(set(ids)) != len(ids):
            raise ValueError("national_law: each requirement may be answered once")
        if self.rule99_application is not None and self.legal_basis not in (
            LegalBasis.RS_57_3_E,
            LegalBasis.RS_75_4,
        ):
            raise ValueError(
                "rule99_application: Rule 99(1) governs requests under RS 57(3)(e) and 75(4)"
            )
        self._enforcement_consistent()
        if self.issuing_organ is IssuingOrgan.PROSECUTOR and self.legal_basis is not (
            LegalBasis.RS_93_1_K
        ):
            raise ValueError("legal_basis: the Prosecutor's own requests rest on RS 93(1)(k)")
        self._fits_one_message()
        return self

    def _fits_one_message(self) -> None:
        """The whole request within ``MAX_REQUEST_JSON_BYTES``: checked before it reaches a
        workflow, so its transmission (RS 87(1)(a), 96(2)) can always be sent. The limit is
        this system's (one Kafka message), not the Statute's."""
        size = len(self.model_dump_json().encode())
        if size > MAX_REQUEST_JSON_BYTES:
            raise ValueError(
                f"the request is {size:,} bytes as JSON, {size - MAX_REQUEST_JSON_BYTES:,} "
                f"over the limit of {MAX_REQUEST_JSON_BYTES:,} that one message to the State "
                "can carry (this system's limit, not the Statute's): move some assets, with "
                "their owners among its parties, to a supplementary request to the same State "
                "(`supplements`, received as relevant information, RS 96(2)(f)); each part "
                "keeps the content RS 96(2) requires, and both go together with the same "
                "urgency and confidentiality (in a case: `case add` once the first is recorded)"
            )

    def _enforcement_consistent(self) -> None:
        """RS 109 and Rules 217-218: the Presidency's request, carrying its order; an order
        of forfeiture names the assets forfeited, and the person it is against is a party."""
        enforcing = self.legal_basis is LegalBasis.RS_109
        if enforcing != (self.enforcement is not None):
            raise ValueError(
                "enforcement: a request under RS 109, and only one, carries the order it "
                "enforces (Rules 217-218)"
            )
        if self.enforcement is None:
            return
        if self.issuing_organ is not IssuingOrgan.PRESIDENCY:
            raise ValueError(
                "issuing_organ: the Presidency seeks the cooperation and measures for "
                "enforcement (Rule 217)"
            )
        if self.enforcement.final_on > self.issued_at.date():
            raise ValueError(
                "enforcement.final_on: enforcement follows a final conviction; execution is "
                "suspended while an appeal may be brought or is pending (RS 81(4))"
            )
        if self.enforcement.person_party_id not in {p.party_id for p in self.parties}:
            raise ValueError(
                "enforcement.person_party_id: the person against whom the order was issued is "
                "one of the request's parties (Rule 218(1)(a))"
            )
        if self.enforcement.order is OrderEnforced.FORFEITURE and not self.known_assets:
            raise ValueError(
                "known_assets: an order for forfeiture specifies the proceeds, property and "
                "assets ordered forfeited (Rule 218(1)(b))"
            )

    @property
    def enforcing(self) -> OrderEnforced | None:
        """The order an enforcement request (RS 109) enforces; None for any other request."""
        return None if self.enforcement is None else self.enforcement.order

    @property
    def ex_parte(self) -> bool:
        """Rule 99(2): made without notice to the person; nothing about it may show."""
        return self.confidentiality == Confidentiality.EX_PARTE

    @property
    def workflow_id(self) -> str:
        """The plain id; an ex parte request runs under ``opaque_request_workflow_id``."""
        return request_workflow_id(self.reference, self.requested_state)

    def ui_summary(self) -> str:
        """One line for the Temporal UI: no names of persons, no asset details; for an ex
        parte request (Rule 99(2)) not even its reference, case or State."""
        if self.ex_parte:
            return "Ex parte request (Rule 99(2))"
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
    """The workflow id of an ex parte request (Rule 99(2)): an HMAC-SHA256 of its reference and
    State under the Court's request-id key. Every Temporal user sees workflow ids; this one
    reveals neither the reference nor the State (nor, across requests, that two share either),
    yet the Court's tools holding the key derive it from the reference and State alone."""
    message = f"tracefreeze ex parte request\n{reference}\n{state}".encode()
    return OPAQUE_ID_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
