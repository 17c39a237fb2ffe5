"""The power to act: which organ may take which Court action, checked before anything is
written.

The table itself is the catalog's (``workflows/catalog.py``, ``POWERS``): one row per action,
or per variant of an action where the law gives its variants to different organs (an
escalation decision by its ladder step: steps 3-4 are a Chamber's, RS 87(7), Regulation 109;
the Assembly's steps its own, RS 112(2)(f); a judgment by its outcome, RS 61, 74, 83(2); a
release by what holds the asset, ``release_holding``: a forfeiture order only the Appeals
Chamber sets aside, RS 83(2), a request's measure the organ that made it). This
module says what a row is, how the row for an action is found and how a decision by another
organ is refused: with the organ, the action and the rule that gives the act to someone else.
A variant no row names is refused too: no organ may take it. A row of the organ that made the
request (``requester``: consulting on it, agreeing a postponement, resuming, withdrawing it,
RS 94(1), 96, 97) is checked against the request's own ``issuing_organ``: no other organ may
act on a request it did not make, whatever its kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.common import IssuingOrgan
from schemas.court import JudgmentOutcome
from schemas.organs import STYLE, Organ, organ_of
from workflows.ladder import LADDERS
from workflows.outcome import PublicRefusal, Refusal

VARIANT_FIELD: dict[str, str] = {
    "escalation_decision": "step",
    "judgment": "outcome",
    "release": "holding",
}
"""The actions whose rows are per variant, and the field of the action that names it (or the
name of the value ``DERIVED`` derives for it)."""


def release_holding(m: Any, request: Any) -> str | None:
    """What holds the assets a release lets go of, which decides whose act it is: a forfeiture
    order it sets aside (``forfeiture_order``: RS 77(2)(b), 83(2), 84(2)), else the measures of
    the request, by the organ that made it (``pre_trial_chamber_request``, ...,
    ``presidency_request``: RS 57(3)(e), 61(11), 64(6); RS 109, Rules 217-221). Without the
    request there is no variant (refused: no row)."""
    if getattr(m, "forfeiture_order_set_aside", None) is not None:
        return "forfeiture_order"
    if request is None:
        return None
    organ = request.issuing_organ
    return f"{getattr(organ, 'value', organ)}_request"


DERIVED: dict[str, Callable[[Any, Any], str | None]] = {"release": release_holding}
"""The variants no field of the action names but the action and its request decide."""
VARIANTS: dict[str, frozenset[str]] = {
    "escalation_decision": frozenset(
        s.name for ladder in LADDERS.values() for s in ladder if s.needs_decision
    ),
    "judgment": frozenset(o.value for o in JudgmentOutcome),
    "release": frozenset({"forfeiture_order"} | {f"{o.value}_request" for o in IssuingOrgan}),
}
"""Every variant each such action has, each of which the table must give a row: the ladder's
steps that need a decision, a judgment's outcomes, what may hold a released asset."""


@dataclass(frozen=True)
class Power:
    """One row: the organs that may take ``action`` (of ``variant``, where the action has
    variants), and the provisions that give it to them."""

    action: str
    organs: frozenset[Organ]
    basis: str
    variant: str | None = None
    requester: bool = False
    """Only the organ that made the request may take it (``requesters``), among ``organs``."""

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


def check_table(powers: PowerTable, actions: Iterable[str]) -> None:
    """Every action of ``actions`` has its rows, every row is one of theirs, and every variant
    of an action that has variants its own row; else the table is at fault."""
    rows = {action for action, _ in powers}
    if rows != set(actions):
        raise ValueError(
            f"powers: the table's and the Court's actions differ: {rows ^ set(actions)}"
        )
    for action, variants in VARIANTS.items():
        given = {v for a, v in powers if a == action}
        if given != variants:
            odd = sorted(map(str, given ^ variants))
            raise ValueError(
                f"powers: {action}: a variant without its row, or a row of none: {odd}"
            )


def variant_of(action: str, m: Any, request: Any = None) -> str | None:
    """The variant of ``m`` its row is found by (``None``: the action has one row, or a
    derived variant cannot be told)."""
    field = VARIANT_FIELD.get(action)
    if field is None:
        return None
    derive = DERIVED.get(action)
    value = derive(m, request) if derive is not None else getattr(m, field)
    if value is None:
        return None
    return str(getattr(value, "value", value))[:64]


def names(organs: Iterable[Organ]) -> str:
    """``the Trial Chamber or the Appeals Chamber``: the organs in the table's order."""
    ordered = [o for o in Organ if o in set(organs)]
    return " or ".join(f"the {STYLE[o]}" for o in ordered)


def requesters(issuing_organ: str) -> frozenset[Organ]:
    """The organs whose act a decision on a request made by ``issuing_organ`` is: that organ;
    for a request of the Pre-Trial Chamber, the Trial Chamber too, which exercises its
    functions once the charges are confirmed (RS 61(11), 64(6))."""
    organ = Organ(str(getattr(issuing_organ, "value", issuing_organ)))
    if organ is Organ.PRE_TRIAL_CHAMBER:
        return frozenset({organ, Organ.TRIAL_CHAMBER})
    return frozenset({organ})


def check_power(powers: PowerTable, action: str, m: Any, request: Any = None) -> None:
    """Refused unless the organ ``m.decided_by`` names may take ``action`` (the table's row
    for it): the reason names the organ, the action and the rule. A row of the requesting
    organ is checked against ``request`` (its ``issuing_organ``) too; that refusal names the
    organ that made the request, so it is not said in clear (``Refusal``)."""
    variant = variant_of(action, m, request)
    power = powers.get((action, variant))
    label = action if variant is None else f"{action} ({VARIANT_FIELD[action]} {variant})"
    if power is None:
        raise PublicRefusal(
            f"no organ of the Court may take {label}: the table of powers has no row"
        )
    organ = organ_of(m.decided_by)
    if organ in power.organs:
        if power.requester and request is not None:
            allowed = requesters(request.issuing_organ)
            if organ not in allowed:
                raise Refusal(
                    f"the {STYLE[organ]} may not take {label} on this request: {power.basis}; "
                    f"it was made by {names(allowed)}"
                )
        return
    who = f"the {STYLE[organ]}" if organ is not None else repr(str(m.decided_by)[:200])
    raise PublicRefusal(
        f"{who} may not take {label}: {power.basis} gives it to {names(power.organs)}"
    )


def check_organ_power(powers: PowerTable, action: str, m: Any) -> None:
    """``check_power`` where the request is not at hand (the record store's check of a signed
    original): an action whose row the request decides (a release, by what holds its assets)
    is refused unless one of its rows names the organ; the request checked the rest when it
    took the action."""
    if action not in DERIVED or variant_of(action, m) is not None:
        check_power(powers, action, m)
        return
    rows = [power for (name, _), power in powers.items() if name == action]
    organ = organ_of(m.decided_by)
    if not any(organ in power.organs for power in rows):
        who = f"the {STYLE[organ]}" if organ is not None else repr(str(m.decided_by)[:200])
        allowed = names(frozenset().union(*(power.organs for power in rows)))
        raise PublicRefusal(f"{who} may not take {action} on any request: only {allowed}")
