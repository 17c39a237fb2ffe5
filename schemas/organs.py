"""The organs of the Court (RS 34) as a decision names them: a closed list, checked exactly.

A Court action says who decided it (``decided_by``). Where the law gives a decision to one
organ alone (a Chamber rules on Rule 99(3) observations and upholds a third party's claim; the
Trial Chamber orders forfeiture, RS 77(2)(b), or the Appeals Chamber on appeal, RS 83(2)), the
name must be one of the spellings below, compared whole: a prefix that merely starts like a
Chamber's name ("Trial Chamber's registry officer") names no Chamber.

The spellings accepted for each organ: its identifier (``trial_chamber``), the Court's own
style (``Trial Chamber``), and for the Pre-Trial and Trial Chambers the style with the
Chamber's number in Roman numerals (``Trial Chamber IX``; RS 39(2)(b) composes several). The
Registry is also named by its head, the Registrar (RS 43(2)).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema


class Organ(StrEnum):
    """The organs of the Court (RS 34) and the Chambers of its Divisions (RS 39(2)), and the
    Assembly of States Parties whose non-cooperation steps a request records."""

    PRE_TRIAL_CHAMBER = "pre_trial_chamber"
    TRIAL_CHAMBER = "trial_chamber"
    APPEALS_CHAMBER = "appeals_chamber"
    PRESIDENCY = "presidency"
    PROSECUTOR = "prosecutor"
    REGISTRY = "registry"
    ASSEMBLY = "assembly"
    """Not an organ of the Court (RS 34) but the Assembly of States Parties (RS 112): it
    considers non-cooperation (RS 112(2)(f); ICC-ASP/10/Res.5), and the steps it takes are
    recorded on a request as its own acts."""


CHAMBERS = frozenset({Organ.PRE_TRIAL_CHAMBER, Organ.TRIAL_CHAMBER, Organ.APPEALS_CHAMBER})
"""The Chambers (RS 34(b), 39(2)(b))."""
FORFEITING = frozenset({Organ.TRIAL_CHAMBER, Organ.APPEALS_CHAMBER})
"""Who orders forfeiture: the Trial Chamber with the sentence (RS 76, 77(2)(b); Rule 147), or
the Appeals Chamber amending it (RS 83(2))."""
MEASURING = frozenset({Organ.PRE_TRIAL_CHAMBER, Organ.TRIAL_CHAMBER})
"""Who orders and rules on protective measures: the Pre-Trial Chamber (RS 57(3)(e)), and the
Trial Chamber after the charges are confirmed (RS 61(11), 64(6))."""
REQUESTING = MEASURING | {Organ.PRESIDENCY}
"""Who makes the requests this system carries, and so decides on them (consults, agrees a
postponement, withdraws): the Chambers of ``MEASURING`` and the Presidency for its enforcement
requests (RS 109; Rule 217)."""

NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
"""The numbers a Pre-Trial or Trial Chamber bears (the Court has had Trial Chambers I to X)."""
STYLE = {
    Organ.PRE_TRIAL_CHAMBER: "Pre-Trial Chamber",
    Organ.TRIAL_CHAMBER: "Trial Chamber",
    Organ.APPEALS_CHAMBER: "Appeals Chamber",
    Organ.PRESIDENCY: "Presidency",
    Organ.PROSECUTOR: "Prosecutor",
    Organ.REGISTRY: "Registry",
    Organ.ASSEMBLY: "Assembly of States Parties",
}
NUMBERED = frozenset({Organ.PRE_TRIAL_CHAMBER, Organ.TRIAL_CHAMBER})
OTHER_STYLES = {"Office of the Prosecutor": Organ.PROSECUTOR, "Registrar": Organ.REGISTRY}


def _spellings() -> dict[str, Organ]:
    names: dict[str, Organ] = {organ.value: organ for organ in Organ}
    for organ, style in STYLE.items():
        names[style] = organ
        if organ in NUMBERED:
            names.update({f"{style} {n}": organ for n in NUMERALS})
    return {**names, **OTHER_STYLES}


SPELLINGS: dict[str, Organ] = _spellings()
"""Every accepted name of an organ, and the organ it names (the closed list)."""


def organ_of(decided_by: str) -> Organ | None:
    """The organ ``decided_by`` names, compared whole with the closed list; ``None`` if it
    names none."""
    return SPELLINGS.get(decided_by)


def _known(name: str) -> str:
    if name not in SPELLINGS:
        raise ValueError(
            f"decided_by {name[:60]!r} names no organ of the Court (RS 34): one of "
            f"{', '.join(sorted(set(STYLE.values())))}, by identifier or style"
        )
    return name


OrganName = Annotated[
    str,
    AfterValidator(_known),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(SPELLINGS),
            "description": "An organ of the Court (RS 34), by identifier or the Court's style",
        }
    ),
]
"""A ``decided_by`` in the closed vocabulary of the Court's organs."""
