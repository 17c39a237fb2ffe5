"""The Court's actions on a party's directory, declared once (``workflows/party_directory.py``
declares one named update per entry on its class; the client and CLI send by type).

Each entry: the ``action_type``, its contract (``schemas/directory.py``), the update that takes
it, and its rule (``workflows/party_rules.py``): a ``check`` that only reads and refuses with a
reason, and an ``apply`` that writes and says what happened.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.directory import (
    AgreedContactChange,
    CloseNationalLawConsultation,
    OpenNationalLawConsultation,
    PartyAction,
    PartyCarry,
)
from workflows import party_rules as pr


@dataclass(frozen=True)
class PartyKind:
    """One kind of Court action on a party's directory."""

    name: str
    """Its ``action_type``."""
    contract: type[Any]
    update: str
    check: Callable[[PartyCarry, Any, datetime], None]
    apply: Callable[[PartyCarry, Any, datetime], str]


# fmt: off
PARTY_ACTIONS: tuple[PartyKind, ...] = (
    PartyKind("agreed_contact_change", AgreedContactChange, "record_agreed_change",  # Rule 180(2)
              pr.check_agreed_change, pr.apply_agreed_change),
    PartyKind("national_law_consultation", OpenNationalLawConsultation,  # RS 96(3)
              "open_national_law_consultation",
              pr.check_open_consultation, pr.apply_open_consultation),
    PartyKind("national_law_consultation_closed", CloseNationalLawConsultation,  # RS 96(3)
              "close_national_law_consultation",
              pr.check_close_consultation, pr.apply_close_consultation),
)
# fmt: on
PARTY_UPDATES: dict[type[Any], str] = {k.contract: k.update for k in PARTY_ACTIONS}
PARTY_RULES: dict[str, PartyKind] = {k.name: k for k in PARTY_ACTIONS}
"""Each kind by name, looked up when an action is taken (a test may put a faulty rule in)."""
NOT_APPLIED = "ActionNotApplied"
"""The refusal of an action whose rule failed while applying it: nothing of it is kept."""


def _check_declared() -> None:
    """Each kind declared once, and every kind of ``PartyAction`` declared."""
    names = [k.name for k in PARTY_ACTIONS]
    if len(set(names)) != len(names) or len(PARTY_UPDATES) != len(PARTY_ACTIONS):
        raise ValueError("party actions: a kind is declared twice")
    for k in PARTY_ACTIONS:
        if k.contract.model_fields["action_type"].default != k.name:
            raise ValueError(f"party actions: {k.contract.__name__} is not of kind {k.name}")
    if set(typing.get_args(typing.get_args(PartyAction)[0])) != set(PARTY_UPDATES):
        raise ValueError("party actions: PartyAction and PARTY_ACTIONS differ")


_check_declared()
