"""What a request records of national-security denials (RS 93(4)) and the art. 72(5)
consultations before them (docs/legal-process.md, 'Denials: RS 93(4) and art. 72'): carried by
the request workflow and shown in its view. The rules are in ``workflows/denial_rules.py``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import EventRef
from schemas.ledger import State


class NationalSecurityConsultation(State):
    """An art. 72(5) consultation: the State and the Court seek to resolve by cooperative
    means a disclosure the State thinks would prejudice its national security. It must end
    unresolved before the State denies under RS 93(4) (art. 72(6))."""

    opened_at: AwareDatetime
    event_id: EventRef
    outcome: (
        Literal["information_supplied", "request_modified", "conditions_agreed", "not_resolved"]
        | None
    ) = Field(default=None, description="The Court's resolution; none: pending")
    outcome_event_id: EventRef | None = None
    conditions: str | None = Field(
        default=None, description="art. 72(5)(d): conditions agreed; the Court abides by them"
    )


class DenialRecord(State):
    """A denial under RS 93(4), in whole or in part, and the Court's art. 72(7) determination
    on it. Until the Court determines that it does not pursue the matter, a denial keeps the
    full-execution stage open: the road to the Chamber and RS 87(7) stays open."""

    event_id: EventRef
    at: AwareDatetime
    whole: bool
    measures: list[str]
    asset_ids: list[str] = Field(description="The assets it concerns; empty: all of them")
    reasons_withheld: bool = False
    determination: (
        Literal[
            "not_pursued", "further_consultations", "not_in_accordance", "resolved_by_consultation"
        ]
        | None
    ) = Field(default=None, description="art. 72(7), or resolved in consultation; none: not yet")
    determination_event_id: EventRef | None = None

    @property
    def holds_stages_open(self) -> bool:
        return self.determination not in {"not_pursued", "resolved_by_consultation"}
