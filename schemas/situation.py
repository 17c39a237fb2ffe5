"""The situation register: how each situation reached the Court (RS 13), and so where a
non-cooperation finding or the Court's information may go.

A situation reaches the Court by a State Party's referral (RS 13(a), 14), by the Prosecutor
acting proprio motu with the Pre-Trial Chamber's authorisation (RS 13(c), 15), or by the
Security Council acting under Chapter VII (RS 13(b)), in a resolution that may also oblige
States that are not party to the Statute to cooperate. Only in the last case may the Court
refer a State's non-compliance to the Council (RS 87(7)) or inform it of a failure to
cooperate (RS 87(5)(b)). A situation number is public; the register holds no name.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from schemas.common import MAX_STATES, Frozen, StateCode

SituationNumber = Annotated[
    str,
    StringConstraints(pattern=r"^ICC-[0-9]{2}/[0-9]{2}$"),
    Field(description="The Court's situation number, e.g. ICC-01/22 (public)"),
]
MAX_SITUATIONS = 200

_SITUATION = re.compile(r"^(ICC-[0-9]{2}/[0-9]{2})")


class Trigger(StrEnum):
    """How the situation reached the Court (RS 13)."""

    STATE_REFERRAL = "state_referral"
    """RS 13(a), 14: a State Party referred the situation to the Prosecutor."""
    PROPRIO_MOTU = "proprio_motu"
    """RS 13(c), 15: the Prosecutor acted proprio motu, authorised by a Pre-Trial Chamber."""
    SECURITY_COUNCIL = "security_council"
    """RS 13(b): the Security Council referred it, acting under Chapter VII of the Charter."""


class Situation(Frozen):
    """One situation of the register."""

    trigger: Trigger
    resolution: str | None = Field(
        default=None,
        pattern=r"^S/RES/[0-9]{1,5} \([0-9]{4}\)$",
        description="The Security Council's resolution (RS 13(b)), e.g. S/RES/1593 (2005)",
    )
    bound_states: tuple[StateCode, ...] = Field(
        default=(),
        max_length=MAX_STATES,
        description="States the resolution obliges to cooperate with the Court (RS 13(b))",
    )

    @model_validator(mode="after")
    def _resolution_iff_council(self) -> Situation:
        council = self.trigger is Trigger.SECURITY_COUNCIL
        if council != (self.resolution is not None):
            raise ValueError(
                "a Security Council referral (RS 13(b)), and only it, names its resolution"
            )
        if self.bound_states and not council:
            raise ValueError("bound_states: only a Council resolution (RS 13(b)) binds a State")
        return self

    @property
    def council_referred(self) -> bool:
        return self.trigger is Trigger.SECURITY_COUNCIL


class SituationRegister(Frozen):
    situations: dict[SituationNumber, Situation] = Field(max_length=MAX_SITUATIONS)

    def of_case(self, case_number: str) -> SituationRecord | None:
        """The situation a case or request belongs to (ICC-01/22-01/24 → ICC-01/22)."""
        number = situation_of(case_number)
        found = self.situations.get(number) if number else None
        return SituationRecord(number=number, **found.model_dump()) if found and number else None


class SituationRecord(Situation):
    """The situation as recorded in a request at start (with its number)."""

    number: SituationNumber


def situation_of(case_number: str) -> str | None:
    """The situation number at the head of a case number or request reference."""
    match = _SITUATION.match(case_number)
    return match.group(1) if match else None
