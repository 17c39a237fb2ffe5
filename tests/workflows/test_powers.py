"""The power to act (the catalog's table of powers): each Court action only by the organ the
law gives it to, checked from the table and against a list written here by hand from the
provisions, so a wrong row of the table fails."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from schemas.organs import STYLE, Organ
from workflows.catalog import COURT_ACTIONS, POWERS, RULES
from workflows.outcome import PublicRefusal, Refusal
from workflows.powers import check_organ_power, check_power

PTC, TC, AC = "pre_trial_chamber", "trial_chamber", "appeals_chamber"
PRES, REG, ASP, OTP = "presidency", "registry", "assembly", "prosecutor"
CHAMBERS = {PTC, TC, AC}
ASSEMBLY_STEPS = (
    "assembly_informal_response",
    "emergency_bureau_meeting",
    "president_letter",
    "bureau_meeting_with_state",
    "report_to_plenary",
)

EXPECTED: dict[tuple[str, str | None], set[str]] = {
    # The organ that made the request (checked against its issuing_organ: REQUESTER below):
    # RS 57(3)(e), 61(11), 64(6); RS 109, Rule 217; RS 54(3)(c) the Prosecutor's own.
    ("consultation_response", None): {PTC, TC, PRES, OTP},  # RS 97
    ("postponement_decision", None): {PTC, TC, PRES, OTP},  # RS 94(1), 95
    ("resume_execution", None): {PTC, TC, PRES, OTP},  # RS 94(1), 95
    ("withdrawal", None): {PTC, TC, PRES, OTP},
    # The Registry: transmission, notice, receipt and administration (RS 43(1); Rule 176(2)).
    ("urgent_confirmation", None): {REG},  # RS 96(1)
    ("rule99_notification", None): {REG},  # Rule 99(2)-(3)
    ("transfer_to_court", None): {REG},  # RS 109(2)-(3)
    ("exchange_rate", None): {REG},
    ("close", None): {REG} | CHAMBERS,  # and the Chamber's release of the case
    ("deadline_extension", None): {REG, PTC, TC},  # Regulation 35
    # The Chambers: Rule 99(3) only the Chambers that order measures (RS 57(3)(e), 61(11)).
    ("rule99_decision", None): {PTC, TC},
    ("third_party_claim_decision", None): CHAMBERS,  # RS 93(1)(k); Rule 147
    ("freeze_limit_response", None): CHAMBERS,  # RS 97
    ("admissibility_ruling", None): CHAMBERS,  # RS 19(6), 82(1)(a)
    ("national_security_determination", None): CHAMBERS,  # RS 72(7)
    # A release by what holds the assets: the measures of a request by the organ that made it
    # (RS 57(3)(e), 61(11), 64(6); Rule 99(3)), the Presidency's only on its enforcement
    # request after a final conviction (RS 109; Rules 217-221), a forfeiture order only set
    # aside by the Appeals Chamber (RS 83(2), 84(2)).
    ("release", "pre_trial_chamber_request"): {PTC, TC, AC},  # AC on appeal, RS 82(1)(d)
    ("release", "trial_chamber_request"): {TC, AC},
    ("release", "prosecutor_request"): {PTC, TC, AC},
    ("release", "presidency_request"): {PRES},
    ("release", "forfeiture_order"): {AC},
    ("case_release", None): CHAMBERS,  # RS 61, 74, 81(3)(c), 83(2)
    ("judgment", "conviction"): {TC, AC},  # RS 74, 83(2)
    ("judgment", "acquittal"): {TC, AC},
    ("judgment", "termination"): CHAMBERS,  # RS 61 before trial
    ("forfeiture_order", None): {TC, AC},  # RS 76, 77(2)(b), 83(2); Rule 147
    # The Presidency: enforcement (RS 109; Rules 217-221).
    ("enforcement_request_made", None): {PRES},
    ("allocation", None): {PRES},  # Rule 221(1)
    # Escalation steps 3-4 a Chamber's (RS 87(5)(b), 87(7); Regulation 109), 5 the Assembly's.
    ("escalation_decision", "chamber_report"): CHAMBERS,
    ("escalation_decision", "non_compliance_finding"): CHAMBERS,
    ("escalation_decision", "inform_assembly_or_council"): CHAMBERS,
    ("escalation_decision", "inform_security_council"): CHAMBERS,
    **{("escalation_decision", step): {ASP} for step in ASSEMBLY_STEPS},
}
VARIANT = {"escalation_decision": "step", "judgment": "outcome"}


def _action(
    action: str, variant: str | None, organ: Organ
) -> tuple[SimpleNamespace, SimpleNamespace | None]:
    """The action of ``variant`` by ``organ``, and the request it is taken on (a release's
    variant is what holds its assets: the order it sets aside, or the request's maker)."""
    if action == "release":
        assert variant is not None
        set_aside = "ICC-01/22-T-FO-1" if variant == "forfeiture_order" else None
        maker = variant.removesuffix("_request") if set_aside is None else "pre_trial_chamber"
        m = SimpleNamespace(decided_by=STYLE[organ], forfeiture_order_set_aside=set_aside)
        return m, SimpleNamespace(issuing_organ=maker)
    fields = {VARIANT[action]: variant} if variant is not None else {}
    return SimpleNamespace(decided_by=STYLE[organ], **fields), None


def test_the_table_has_the_rows_written_here_and_a_row_for_every_court_action() -> None:
    assert set(POWERS) == set(EXPECTED)
    assert {action for action, _ in POWERS} == COURT_ACTIONS


CASES = [
    (action, variant, organ)
    for action, variant in sorted(set(POWERS) | set(EXPECTED), key=str)
    for organ in Organ
]


@pytest.mark.parametrize(("action", "variant", "organ"), CASES)
def test_each_organ_may_take_only_what_its_row_gives_it(
    action: str, variant: str | None, organ: Organ
) -> None:
    """Every (row, organ): accepted by the table exactly when the hand-written list says so,
    and refused with the organ, the action and the rule."""
    may = organ.value in EXPECTED.get((action, variant), set())
    assert (organ in POWERS[(action, variant)].organs) is may
    m, request = _action(action, variant, organ)
    if may:
        check_power(POWERS, action, m, request)
        return
    with pytest.raises(Refusal) as refused:
        check_power(POWERS, action, m, request)
    reason = str(refused.value)
    assert f"the {STYLE[organ]} may not take {action}" in reason
    assert POWERS[(action, variant)].basis in reason


def test_a_registry_forfeiture_order_is_refused_with_the_reason() -> None:
    """RS 76, 77(2)(b), 83(2); Rule 147: the Registry orders no forfeiture (the rule refuses
    it before it looks at the judgment or the ledger)."""
    m = SimpleNamespace(decided_by="Registry", asset_ids=("A1",))
    with pytest.raises(
        Refusal, match=r"the Registry may not take forfeiture_order: RS 76, 77\(2\)"
    ):
        RULES["forfeiture_order"].check(None, None, m)  # type: ignore[arg-type]


def test_an_unknown_step_is_no_organs_to_decide() -> None:
    m = SimpleNamespace(decided_by="Pre-Trial Chamber II", step="reminder")
    with pytest.raises(Refusal, match="no organ of the Court may take escalation_decision"):
        check_power(POWERS, "escalation_decision", m)


def test_a_name_that_only_looks_like_a_chambers_is_refused() -> None:
    m = SimpleNamespace(decided_by="Trial Chamber IX legal officer")
    with pytest.raises(Refusal, match="'Trial Chamber IX legal officer' may not take"):
        check_power(POWERS, "forfeiture_order", m)


REQUESTER = ("consultation_response", "postponement_decision", "resume_execution", "withdrawal")
MADE_BY: dict[str, set[str]] = {PTC: {PTC, TC}, TC: {TC}, PRES: {PRES}, OTP: {OTP}}
"""Who may act on a request each issuing organ made: that organ, and the Trial Chamber on a
Pre-Trial Chamber's once the charges are confirmed (RS 61(11), 64(6))."""


@pytest.mark.parametrize("action", REQUESTER)
@pytest.mark.parametrize("issuing", sorted(MADE_BY))
def test_only_the_organ_that_made_the_request_acts_on_it(action: str, issuing: str) -> None:
    """RS 94(1), 96, 97: consultation, postponement, resumption and withdrawal are the acts of
    the organ that made the request: the Presidency does not withdraw a Chamber's request nor
    a Chamber the Presidency's enforcement request (RS 109; Rule 217); the organ that issued
    it may. The refusal names the organ that made it, so it is not said in clear."""
    request = SimpleNamespace(issuing_organ=issuing)
    assert POWERS[(action, None)].requester
    for organ in (PTC, TC, PRES, OTP):
        m = SimpleNamespace(decided_by=organ)
        if organ in MADE_BY[issuing]:
            check_power(POWERS, action, m, request)
            continue
        with pytest.raises(Refusal, match=f"may not take {action} on this request") as refused:
            check_power(POWERS, action, m, request)
        assert not isinstance(refused.value, PublicRefusal)


def test_a_release_without_its_request_finds_no_row() -> None:
    """What holds a release's assets is told by its request: without one, no organ may take it
    (the conservative reading: nothing is released on a guess)."""
    m = SimpleNamespace(decided_by="Pre-Trial Chamber II", forfeiture_order_set_aside=None)
    with pytest.raises(Refusal, match="no organ of the Court may take release"):
        check_power(POWERS, "release", m)


def test_without_its_request_the_record_checks_a_releases_organ_only() -> None:
    """The record store holds a signed original, not its request: a release's organ must be
    one some row gives a release to (the request checked which, when it took it); a set-aside
    is checked whole (RS 83(2): the Appeals Chamber's alone)."""
    chamber = SimpleNamespace(decided_by="Pre-Trial Chamber II", forfeiture_order_set_aside=None)
    check_organ_power(POWERS, "release", chamber)
    registry = SimpleNamespace(decided_by="Registrar", forfeiture_order_set_aside=None)
    with pytest.raises(PublicRefusal, match="the Registry may not take release on any request"):
        check_organ_power(POWERS, "release", registry)
    set_aside = SimpleNamespace(decided_by="Pre-Trial Chamber II", forfeiture_order_set_aside="O")
    with pytest.raises(PublicRefusal, match=r"RS 81\(2\)\(a\), 83\(2\)"):
        check_organ_power(POWERS, "release", set_aside)
    check_organ_power(POWERS, "forfeiture_order", SimpleNamespace(decided_by="Trial Chamber IX"))
