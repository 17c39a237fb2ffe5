"""Whether a request is complete before it leaves the Court (RS 96(2), 87(2); seed para 11).

The contracts of the completeness check (``tracefreeze/completeness.py``): the requested
party's profile it reads (the languages the party accepts, the national-law requirements it
has made known), each finding with its article, the report (also a published JSON document,
``schemas/json/completeness-report.schema.json``), and the record of a named person's decision
to transmit an incomplete request all the same.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, computed_field, field_validator

from schemas.common import (
    MAX_TEXT,
    CaseNumber,
    Frozen,
    Identifier,
    Instant,
    LanguageCode,
    RequestReference,
    StateCode,
)
from schemas.policy import PartyKind

MAX_FINDINGS = 200
"""Most findings one report lists (one per rule, per known asset and per requirement); a
request with more ends its list with one summary finding ("and N more ...")."""
FINDING_FIELD_MAX = 200
FINDING_ARTICLE_MAX = 100
FINDING_WHAT_MAX = 1000
"""A finding's text is clipped to these bounds (a national-law requirement's text may be
longer): the check returns a report for any request, never a validation error."""
MAX_PARTY_REQUIREMENTS = 50
"""Most national-law requirements a party's profile holds (its most recent), as many as a
request answers (``CourtRequest.national_law``)."""
OVERRIDE_BY_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
"""Who overrides: one line of printable text, not blank (no newline or control character)."""
OVERRIDE_REASON_MAX = 2000
OVERRIDE_REASON_PATTERN = (
    r"^[^\x00-\x09\x0b-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x09\x0b-\x1f\x7f-\x9f]*$"
)
"""Why: printable text, not blank, lines separated by newlines only (no other control
character)."""


class NationalRequirement(Frozen):
    """A requirement of the requested party's law that applies to requests (RS 96(2)(e)),
    as the party made it known, generally or in a consultation (RS 96(3))."""

    requirement_id: Identifier
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class PartyProfile(Frozen):
    """What the check needs to know of the requested party: the languages it accepts under its
    choice (RS 87(2)) and the national-law requirements it has made known (RS 96(2)(e),
    96(3)). Built from the static directory (kind, language) and the register of the party's
    directory workflow (its requirements in force)."""

    party: StateCode
    kind: PartyKind | None = Field(
        default=None,
        description="What the party is to the Court in the directory on the day of the check "
        "(None: no kind in force); an international organisation cooperates under RS 87(6)",
    )
    languages: tuple[LanguageCode, ...] = Field(min_length=1, max_length=6)
    national_law_requirements: tuple[NationalRequirement, ...] = Field(
        default=(), max_length=MAX_PARTY_REQUIREMENTS
    )


class SupplementedRequest(Frozen):
    """The earlier request a supplementary request names (``supplements``), as the Court's
    records show it for the same party only: whether that party has it, and its case. Another
    party's request is never looked up (one party's request never reveals another's)."""

    reference: RequestReference
    found: bool
    case_number: CaseNumber | None = None
    party: StateCode | None = None


class FindingKind(StrEnum):
    """What a finding says of the request: something is missing, or inconsistent; or a rule
    could not be checked at all (``unverified``: what it needs from the Court's records, the
    party's RS 96(3) register or the request a supplementary request names, was not read)."""

    MISSING = "missing"
    INCONSISTENT = "inconsistent"
    UNVERIFIED = "unverified"


class Finding(Frozen):
    """One thing the request lacks or gets wrong, or one rule that could not be checked
    (``unverified``), with the provision that asks for it."""

    kind: FindingKind
    field: str = Field(
        min_length=1, max_length=FINDING_FIELD_MAX, description="The request's field(s)"
    )
    article: str = Field(
        min_length=1, max_length=FINDING_ARTICLE_MAX, description="e.g. RS 96(2)(a)"
    )
    what: str = Field(min_length=1, max_length=FINDING_WHAT_MAX)
    blocking: bool = Field(
        default=False,
        description="No override transmits the request while this finding stands (e.g. a "
        "supplementary request naming a request that is not the same party's in the same case: "
        "one party's request never reveals another's)",
    )


class CompletenessReport(Frozen):
    """The completeness check of one request to one party: complete when nothing is missing
    or inconsistent and every rule was checked (seed para 11: "specific, complete and timely"
    requests)."""

    reference: RequestReference
    party: StateCode
    profile_known: bool = Field(description="The party's profile was available to the check")
    findings: tuple[Finding, ...] = Field(default=(), max_length=MAX_FINDINGS)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def complete(self) -> bool:
        """Nothing missing, nothing inconsistent, nothing left unverified."""
        return not self.findings

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overridable(self) -> bool:
        """Incomplete, but no finding blocks transmission: a named person may override it."""
        return not any(f.blocking for f in self.findings)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fully_checked(self) -> bool:
        """Every rule was checked, the Court's records included (the party's RS 96(3)
        register, RS 96(2)(e); a supplemented request, RS 96(2)(f)): no ``unverified``
        finding. A report that is not fully checked is never complete."""
        return not any(f.kind is FindingKind.UNVERIFIED for f in self.findings)


class CompletenessOverride(Frozen):
    """A named person's decision to transmit a request the check found incomplete: who, why,
    when, and the findings overridden. The Registry transmits a Chamber's requests (Rule
    176(2)); the override is recorded with the request, in its timeline and memo and in its
    ``request.transmitted`` event, never sent to the requested party."""

    by: str = Field(min_length=1, max_length=200, pattern=OVERRIDE_BY_PATTERN)
    reason: str = Field(
        min_length=1, max_length=OVERRIDE_REASON_MAX, pattern=OVERRIDE_REASON_PATTERN
    )
    at: Instant
    findings: tuple[Finding, ...] = Field(min_length=1, max_length=MAX_FINDINGS)

    @field_validator("findings")
    @classmethod
    def _checked(cls, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        """An override decides on what the check found, never on what it could not check:
        a rule left ``unverified`` (the party's RS 96(3) register not read) is checked first."""
        if any(f.kind is FindingKind.UNVERIFIED for f in findings):
            raise ValueError("an override never passes an unverified finding: check it first")
        return findings

    def withheld(self) -> CompletenessOverride:
        """What the Court's shared events may carry of it for an ex parte request (Rule
        99(1)): who and when, and each finding's kind and article; the fields, the details
        (an asset's id) and the reason stay in the request's own record."""
        hidden = "withheld: ex parte request (Rule 99(2))"
        findings = tuple(f.model_copy(update={"field": "-", "what": hidden}) for f in self.findings)
        return self.model_copy(update={"reason": hidden, "findings": findings})
