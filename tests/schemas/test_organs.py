"""The Court's organs as a decision names them (RS 34): a closed list, compared whole."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from schemas import court as c
from schemas.organs import CHAMBERS, FORFEITING, Organ, organ_of
from tests.builders import court_action, reasons
from workflows.catalog import POWERS
from workflows.outcome import Refusal
from workflows.powers import check_power


@pytest.mark.parametrize(
    ("name", "organ"),
    [
        ("Pre-Trial Chamber II", Organ.PRE_TRIAL_CHAMBER),
        ("pre_trial_chamber", Organ.PRE_TRIAL_CHAMBER),
        ("Trial Chamber IX", Organ.TRIAL_CHAMBER),
        ("trial_chamber", Organ.TRIAL_CHAMBER),
        ("Appeals Chamber", Organ.APPEALS_CHAMBER),
        ("appeals_chamber", Organ.APPEALS_CHAMBER),
        ("Presidency", Organ.PRESIDENCY),
        ("Registrar", Organ.REGISTRY),
        ("Office of the Prosecutor", Organ.PROSECUTOR),
    ],
)
def test_the_spellings_the_court_uses_name_their_organ(name: str, organ: Organ) -> None:
    assert organ_of(name) is organ


@pytest.mark.parametrize(
    "name",
    [
        "Trial Chamber's legal officer",  # old code: a Chamber (prefix match)
        "Appeals Chamber-appointed expert",
        "trial chamber (acting for the Registry)",
        " Trial Chamber IX",
        "Trial Chamber XCIX",
        "Appeals Chamber II",  # there is one Appeals Chamber (RS 39(2)(b)(i))
    ],
)
def test_a_name_that_only_starts_like_a_chambers_names_no_organ(name: str) -> None:
    """RS 34, 39: compared whole with the closed list, never by prefix."""
    assert organ_of(name) is None
    with pytest.raises(Refusal, match="may not take third_party_claim_decision"):
        check_power(POWERS, "third_party_claim_decision", SimpleNamespace(decided_by=name))


def test_forfeiture_is_the_trial_or_appeals_chambers() -> None:
    """RS 76, 77(2)(b), 83(2): the Trial Chamber orders forfeiture, the Appeals Chamber on
    appeal; not the Pre-Trial Chamber, not a look-alike."""
    for name in ("Trial Chamber IX", "appeals_chamber"):
        check_power(POWERS, "forfeiture_order", SimpleNamespace(decided_by=name))
    for name in ("Pre-Trial Chamber II", "Appeals Chamber-appointed expert"):
        with pytest.raises(Refusal, match="may not take forfeiture_order"):
            check_power(POWERS, "forfeiture_order", SimpleNamespace(decided_by=name))
    assert FORFEITING < CHAMBERS


def test_a_withdrawal_names_an_organ_of_the_court() -> None:
    """A withdrawal releases every restrained asset: who decided it is one of the Court's
    organs, by the closed list (old code: any text)."""
    assert court_action(c.Withdrawal, **reasons()).decided_by == "Pre-Trial Chamber II"
    for name in ("the defence", "Trial Chamber's legal officer"):
        with pytest.raises(ValidationError, match="names no organ of the Court"):
            court_action(c.Withdrawal, decided_by=name, **reasons())
