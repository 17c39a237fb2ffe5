"""The party directory over time: how each requested party is reached (RS 87(1)(a), 87(2),
Rule 178), how that changes (Rule 180), and what its national law requires (RS 96(3)).

One durable workflow per party (``workflows/party_directory.py``, id ``party/<code>``) holds,
seeded from the static directory (``tracefreeze/policies/states.toml``):

- the contact in force and the history of its changes. Rule 180: a change of channel or
  language takes effect at the time agreed between the Court and the State or, failing
  agreement, 45 days after the Court received the notice, *without prejudice to current
  requests or requests in progress* — a request keeps the contact it was transmitted with;
  only requests transmitted from the effective date take the new one;
- the Court's consultations under RS 96(3) (general, or about one request) and the register of
  national-law requirements they produce (RS 96(2)(e)), which the completeness check shows.

A 96(3) consultation ends with the information supplied (the requirements advised), with none
to report, or withdrawn: never in a modification of a request (that is RS 93(3), on the request).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from schemas.common import (
    MAX_TEXT,
    EventId,
    EventRef,
    Frozen,
    Instant,
    RequestReference,
    StateCode,
)
from schemas.court import CourtAction, OrganSignature
from schemas.ledger import State
from schemas.organ_keys import OrganKeys
from schemas.policy import StateContact

PARTY_WORKFLOW_PREFIX = "party/"
RULE_180_NOTICE = timedelta(days=45)
"""Rule 180(2): failing an agreed time, a change of channel or language takes effect 45 days
after notice (for future requests, never the request in hand)."""
NOTICE_SIGNAL = "take_notice"
"""The signal by which a request forwards a State's Rule 180 notice to its party's directory."""
FORWARD_NOTICE = "forward_notice"
"""The activity that relays it, signed with the workers' relay key (``activities/directory.py``)."""


def party_workflow_id(code: str) -> str:
    """The id of the party's directory workflow: one per party, never another's."""
    return f"{PARTY_WORKFLOW_PREFIX}{code}"


Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
"""ISO 639-1: an official language of the party or a working language of the Court (RS 87(2))."""


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError("each language may be listed once")
    return values


Languages = Annotated[
    tuple[Language, ...], Field(min_length=1, max_length=10), AfterValidator(_distinct)
]
Channel = Annotated[str, Field(min_length=1, max_length=100, description="RS 87(1)(a)")]
RequirementText = Annotated[str, Field(min_length=1, max_length=2000)]

MAX_CHANGES_KEPT = 100
"""Contact changes a party's directory keeps (the most recent; older ones are counted)."""
MAX_PENDING = 20
"""Changes agreed by the Court awaiting their effective date at once: more is refused. A
State's own notices never count here: it has at most one pending at a time (a newer one
supersedes it), so nothing it sends can fill the list or stop an agreed change (Rule 180(2))."""
MAX_CONSULTATIONS_KEPT = 100
MAX_OPEN_CONSULTATIONS = 20
MAX_REQUIREMENTS = 200
"""National-law requirements a party's register holds (the most recent)."""
MAX_SEEN = 2000
"""Event ids a party's directory remembers: of the Court's actions, every one for its life (past
the cap a new one is refused, ``workflows/party_rules.py``); apart, the State's latest notices."""


class PartyContact(Frozen):
    """How the party is reached (seed para 9; RS 87(1)(a), 87(2)): its central authority or
    focal point, the channel and the languages requests are to be in or accompanied by."""

    central_authority: str = Field(min_length=1, max_length=200)
    focal_point: str = Field(min_length=1, max_length=200)
    channel: Channel
    languages: Languages
    time_zone: str = Field(min_length=1, max_length=64)

    @classmethod
    def of(cls, contact: StateContact) -> PartyContact:
        """The contact as the static directory gives it (one language there)."""
        return cls(
            central_authority=contact.central_authority,
            focal_point=contact.focal_point,
            channel=contact.channel,
            languages=(contact.language,),
            time_zone=contact.time_zone,
        )

    def for_request(self, code: str) -> StateContact:
        """The contact a request records at transmission: the first language is the one the
        request is in (RS 87(2))."""
        return StateContact(
            state=code,
            central_authority=self.central_authority,
            focal_point=self.focal_point,
            channel=self.channel,
            language=self.languages[0],
            time_zone=self.time_zone,
        )


class DirectoryNotice(Frozen):
    """A State's Rule 180 notice, forwarded by the request it arrived on to that request's
    party directory (never another's), with the date it takes effect as the request computed
    it (Rule 180(2), policy ``channel_change_notice``). The request took the State's signed
    answer through the bridge's gate; the worker relays the notice signed with the workers'
    relay key (``signature``, ``workflows/notice_signatures.py``), and the directory takes
    only a notice whose signature verifies, counting the 45 days itself from ``noticed_at``."""

    event_id: EventId
    state: StateCode
    channel: Channel
    language: Language
    noticed_at: Instant
    effective_at: Instant
    request_reference: RequestReference | None = Field(
        default=None, description="The request it came on (none for an ex parte request)"
    )
    signature: OrganSignature | None = Field(
        default=None,
        description="The workers' relay key's signature over the notice without it "
        "(``workflows/notice_signatures.py``): the request relayed it",
    )


class ContactChange(Frozen):
    """One change of channel or languages in a party's directory (Rule 180)."""

    event_id: EventRef
    channel: Channel
    languages: Languages
    effective_at: AwareDatetime
    recorded_at: AwareDatetime
    source: Literal["state_notice", "court_agreement"]
    noticed_at: AwareDatetime | None = None
    request_reference: RequestReference | None = None
    agreed_by: str | None = Field(default=None, description="Who recorded the agreement")
    supersedes: EventRef | None = Field(
        default=None, description="The notice whose 45-day date an agreed time replaces"
    )
    superseded_by: EventRef | None = Field(
        default=None,
        description="For a State notice that never took effect: the later notice of the "
        "State, or the Court's agreement, that replaced it",
    )


# --- The Court's actions on a party's directory (declared once: workflows/party_directory.py)


class AgreedContactChange(CourtAction):
    """The Registry records a change of channel or languages agreed with the party, with the
    time agreed (Rule 180(2)); it may replace a pending notice's 45-day date."""

    action_type: Literal["agreed_contact_change"] = "agreed_contact_change"
    channel: Channel
    languages: Languages
    effective_at: Instant | None = Field(
        default=None, description="The agreed time (none: from when it is recorded)"
    )
    notice_event_id: EventId | None = Field(
        default=None, description="The State's pending notice this agreement settles"
    )


class OpenNationalLawConsultation(CourtAction):
    """The Court consults the party on its national-law requirements, generally or about one
    request (RS 96(3), with 96(2)(e))."""

    action_type: Literal["national_law_consultation"] = "national_law_consultation"
    request_reference: RequestReference | None = Field(
        default=None, description="The request consulted about (none: a general consultation)"
    )
    questions: str = Field(min_length=1, max_length=MAX_TEXT)


class CloseNationalLawConsultation(CourtAction):
    """A 96(3) consultation ends: the party's reply (or the Court's own record) with the
    requirements it advised — information supplied — or none to report, or withdrawn. Never
    a modification of a request (only an RS 93(3) consultation ends in one)."""

    action_type: Literal["national_law_consultation_closed"] = "national_law_consultation_closed"
    consultation_id: EventId
    outcome: Literal["information_supplied", "no_requirements", "withdrawn"]
    replied_by: Literal["state", "court"]
    requirements: tuple[RequirementText, ...] = Field(default=(), max_length=50)
    learnt_at: Instant | None = Field(
        default=None, description="When the Court learnt them (none: when recorded)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> CloseNationalLawConsultation:
        if self.outcome == "information_supplied" and not self.requirements:
            raise ValueError("requirements: information supplied lists what was advised")
        if self.outcome != "information_supplied" and self.requirements:
            raise ValueError(f"requirements: a consultation {self.outcome} lists none")
        return self


PartyAction = Annotated[
    AgreedContactChange | OpenNationalLawConsultation | CloseNationalLawConsultation,
    Field(discriminator="action_type"),
]
PARTY_ACTION = TypeAdapter(PartyAction)


# --- What the party workflow holds and shows -------------------------------------------------


class NationalRequirement(Frozen):
    """One requirement of the party's national law (RS 96(2)(e)), as advised under RS 96(3)."""

    text: RequirementText
    learnt_at: AwareDatetime
    consultation_id: EventRef
    request_reference: RequestReference | None = None


_REQUIREMENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def requirement_id(consultation_id: str, n: int) -> str:
    """The id the completeness check and a request's ``national_law`` answer give the ``n``-th
    requirement (from 1) a consultation advised: ``<consultation_id>-<n>`` (a consultation's
    id is its opening's event id, a UUID), or, for an id that is not an ``Identifier``, the
    same built from a digest of it. The same requirement always has the same id."""
    plain = f"{consultation_id}-{n}"
    if _REQUIREMENT_ID.fullmatch(plain):
        return plain
    return f"c{hashlib.sha256(consultation_id.encode()).hexdigest()[:40]}-{n}"


class NationalLawConsultation(Frozen):
    """One RS 96(3) consultation of the party, open or closed."""

    consultation_id: EventRef
    opened_at: AwareDatetime
    opened_by: str
    request_reference: RequestReference | None = None
    questions: str
    closed_at: AwareDatetime | None = None
    outcome: Literal["information_supplied", "no_requirements", "withdrawn"] | None = None
    replied_by: Literal["state", "court"] | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


class IgnoredNotice(Frozen):
    """A notice signalled to the directory that it did not take (Rule 180), and why: not
    relayed by a request of the Court (``workflows/notice_signatures.py``), another party's,
    or taken before."""

    event_id: str = Field(max_length=200)
    at: AwareDatetime
    reason: str = Field(max_length=500)


class PartyCarry(State):
    """What the party's directory carries from one run to the next (continue-as-new)."""

    contact: PartyContact
    history: list[ContactChange] = []
    history_dropped: int = Field(default=0, ge=0)
    pending: list[ContactChange] = []
    superseded: list[EventRef] = []
    superseded_notices: list[ContactChange] = []
    superseded_dropped: int = Field(default=0, ge=0)
    consultations: list[NationalLawConsultation] = []
    requirements: list[NationalRequirement] = []
    seen: list[EventRef] = []
    notices_seen: list[EventRef] = []
    """The State's notices taken, apart from the Court's actions (``seen``): however many
    notices a State sends, they never push the Court's event ids out of memory."""
    organ_keys: OrganKeys | None = None
    """The organ key registry the directory verifies the Court's actions against, read at
    its first run's start (``workflows/party_keys.py``)."""
    ignored_notices: list[IgnoredNotice] = []
    """The most recent notices not taken, with the reason (``MAX_CHANGES_KEPT``)."""
    ignored_dropped: int = Field(default=0, ge=0)


class PartyRun(Frozen):
    """The input of every run: the party, its contact as the static directory gives it, and
    from the second run on what the previous run carried."""

    code: StateCode
    seed: PartyContact
    carried: PartyCarry | None = None
    actions_per_run: int | None = Field(
        default=None,
        ge=1,
        description="Continue as new after this many (tests); else on suggestion",
    )


class PartyView(Frozen):
    """The party's directory as it stands: the contact in force, changes in force and pending,
    consultations and the register of national-law requirements."""

    code: StateCode
    contact: PartyContact
    history: list[ContactChange]
    history_dropped: int
    pending: list[ContactChange]
    consultations: list[NationalLawConsultation]
    national_requirements: list[NationalRequirement]
    superseded_notices: list[ContactChange] = Field(
        default=[], description="State notices replaced before they took effect (Rule 180)"
    )
    superseded_dropped: int = 0
    ignored_notices: list[IgnoredNotice] = Field(
        default=[],
        description="Notices not taken, and why: not relayed by a request of the Court, "
        "another party's, or taken before (Rule 180)",
    )
    ignored_dropped: int = 0
