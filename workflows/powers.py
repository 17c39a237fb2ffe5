"""The power to act: which organ may take which Court action, checked before anything is
written.

The table itself is the catalog's (``workflows/catalog.py``, ``POWERS``): one row per action,
or per variant of an action where the law gives its variants to different organs (an
escalation decision by its ladder step: steps 3-4 are a Chamber's, RS 87(7), Regulation 109;
the Assembly's steps its own, RS 112(2)(f); a judgment by its outcome, RS 61, 74, 83(2)). This
module says what a row is, how the row for an action is found and how a decision by another
organ is refused: with the organ, the action and the rule that gives the act to someone else.
A variant no row names is refused too: no organ may take it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.organs import STYLE, Organ, organ_of
from workflows.outcome import PublicRefusal

VARIANT_FIELD: dict[str, str] = {"escalation_decision": "step", "judgment": "outcome"}
"""The actions whose rows are per variant, and the field of the action that names it."""


@dataclass(frozen=True)
class Power:
    """One row: the organs that may take ``action`` (of ``variant``, where the action has
    variants), and the provisions that give it to them."""

    action: str
    organs: frozenset[Organ]
    basis: str
    variant: str | None = None

    @property
    def label(self) -> str:
        if self.variant is None:
            return self.action
        return f"{self.action} ({VARIANT_FIELD[self.action]} {self.variant})"


PowerTable = Mapping[tuple[str, str | None], Power]


def table(rows: Iterable[Power]) -> dict[tuple[str, str | None], Power]:
    """The rows by (action, variant); a row given twice, or a variant of an action that has
    none (or none of one that has), is a fault of the table."""
    out: dict[tuple[str, str | None], Power] = {}
    for row in rows:
        if (row.variant is None) == (row.action in VARIANT_FIELD):
            raise ValueError(f"powers: {row.label}: variants are for {sorted(VARIANT_FIELD)}")
        if not row.organs:
            raise ValueError(f"powers: {row.label}: no organ may take it")
        if (row.action, row.variant) in out:
            raise ValueError(f"powers: {row.label} is declared twice")
        out[(row.action, row.variant)] = row
    return out


def variant_of(action: str, m: Any) -> str | None:
    """The variant of ``m`` its row is found by (``None``: the action has one row)."""
    field = VARIANT_FIELD.get(action)
    if field is None:
        return None
    value = getattr(m, field)
    return str(getattr(value, "value", value))[:64]


def names(organs: Iterable[Organ]) -> str:
    """``the Trial Chamber or the Appeals Chamber``: the organs in the table's order."""
    ordered = [o for o in Organ if o in set(organs)]
    return " or ".join(f"the {STYLE[o]}" for o in ordered)


def check_power(powers: PowerTable, action: str, m: Any) -> None:
    """Refused unless the organ ``m.decided_by`` names may take ``action`` (the table's row
    for it): the reason names the organ, the action and the rule."""
    variant = variant_of(action, m)
    power = powers.get((action, variant))
    label = action if variant is None else f"{action} ({VARIANT_FIELD[action]} {variant})"
    if power is None:
        raise PublicRefusal(
            f"no organ of the Court may take {label}: the table of powers has no row"
        )
    organ = organ_of(m.decided_by)
    if organ in power.organs:
        return
    who = f"the {STYLE[organ]}" if organ is not None else repr(str(m.decided_by)[:200])
    raise PublicRefusal(
        f"{who} may not take {label}: {power.basis} gives it to {names(power.organs)}"
    )
