"""Allocation of a transferred value as the Rules have it (docs/legal-process.md,
'Allocation of a transferred value'): arithmetic, amount by amount (RS 109(3), Rule 221(1));
reparations first (Rule 221(2)); the Trust Fund for Victims on its road (RS 75(2) or RS 79(2));
other purposes only as the policy allows, each with its basis; nothing allocated without the
Presidency's decision recorded (Rule 221(1)).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from schemas import court as c
from schemas.ledger import AssetStatus, RequestStatus
from schemas.policy import AllocationPolicy
from tests.builders import PRESIDENCY_DECISION
from tests.decisions import conviction
from tests.workflows.support import (
    ACCOUNT,
    allocation,
    assert_rejected,
    close_action,
    court_action,
    court_request,
    example,
    forfeiture,
    freeze_account,
    in_execution,
    in_execution_under_policy,
    money,
    send,
    transfer,
    view,
)
from tracefreeze.policy import load_directory, load_policy, resolve

A = AssetStatus


async def test_rs_109_rule_221_allocating_eur_1_of_eur_400000_leaves_eur_399999(worker) -> None:
    """Rule 221(1), RS 109(3): allocation is arithmetic. EUR 1 of EUR 400,000 transferred
    leaves EUR 399,999 unallocated and the asset transferred, not allocated (old code marked
    the whole asset allocated); the request does not close while a remainder waits; the
    decision is recorded with its reference, what it allocated and what remained."""
    req = court_request(known_assets=[example("court-request")["known_assets"][0]])
    handle = await worker.start(req)
    await send(handle, freeze_account(req, final=True))
    await send(handle, conviction())  # RS 77(2)(b): after a conviction
    await send(handle, forfeiture(ACCOUNT))
    await send(handle, transfer(ACCOUNT, "400000.00"))
    one = allocation(ACCOUNT, ("reparations", "1.00"))
    await send(handle, one)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert account.status is A.TRANSFERRED
    assert not account.status.settled
    assert (account.allocated.amount, account.unallocated.amount) == (
        Decimal("1.00"),
        Decimal("399999.00"),
    )
    [decision] = account.allocation_decisions
    assert (decision.event_id, decision.decision_reference) == (one.event_id, PRESIDENCY_DECISION)
    assert (decision.allocated.amount, decision.unallocated_after.amount) == (
        Decimal("1.00"),
        Decimal("399999.00"),
    )
    assert account.history[-1].note == (
        f"reparations 1.00 (RS 75(2); priority under Rule 221(2)) by {PRESIDENCY_DECISION}; "
        "399999.00 EUR still unallocated"
    )
    await assert_rejected(handle, worker.published, close_action(), "await transfer or allocation")
    second = allocation(
        ACCOUNT, ("reparations", "399999.00"), decision_reference="ICC-01/22-PRES-0002"
    )
    await send(handle, second)
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert (account.status, account.unallocated.amount) == (A.ALLOCATED, Decimal(0))
    assert [d.decision_reference for d in account.allocation_decisions] == [
        PRESIDENCY_DECISION,
        "ICC-01/22-PRES-0002",
    ]
    assert (await send(handle, close_action())).status is RequestStatus.CLOSED


def test_rule_221_1_no_allocation_without_the_presidency_decision_recorded() -> None:
    """Rule 221(1): the Presidency decides every allocation; an allocation without the
    decision's reference, or decided by anyone else, is refused at the edge."""
    shares = [{"destination": "reparations", "amount": money("1.00")}]
    with pytest.raises(ValidationError, match="decision_reference"):
        court_action(c.Allocation, asset_id=ACCOUNT, shares=shares, decision_reference="")
    with pytest.raises(ValidationError, match="decision_reference"):
        c.Allocation.model_validate(
            court_action(c.Allocation, asset_id=ACCOUNT, shares=shares).model_dump(
                exclude={"decision_reference"}
            )
        )
    with pytest.raises(ValidationError, match="decided_by"):
        court_action(c.Allocation, asset_id=ACCOUNT, shares=shares, decided_by="registry")


@pytest.mark.parametrize(
    ("share", "reparations"),
    [
        (("fine", "1.00"), None),
        (("fine", "1.00"), "outstanding"),
        (("legal_aid_refund", "1.00"), None),
        (("trust_fund_for_victims", "1.00", "RS 79(2)"), None),
        (("trust_fund_for_victims", "1.00", "RS 79(2)"), "outstanding"),
    ],
)
def test_rule_221_2_reparations_priority_refuses_other_purposes_until_found_met(
    share: tuple[str, ...], reparations: str | None
) -> None:
    """Rule 221(2): "in all cases" reparations to victims have priority. Conservative reading:
    a share to anything else (a fine, legal-aid recovery, the Trust Fund under RS 79(2)) needs
    the decision to record that reparations are satisfied or that none were ordered."""
    fields = {} if reparations is None else {"reparations": reparations}
    with pytest.raises(ValidationError, match=r"Rule 221\(2\) gives reparations to victims"):
        allocation(ACCOUNT, ("reparations", "5.00"), share, **fields)
    allocation(ACCOUNT, ("reparations", "5.00"), share, reparations="satisfied")
    allocation(ACCOUNT, share, reparations="none_ordered")


def test_rule_221_2_a_share_to_reparations_contradicts_a_finding_that_none_were_ordered() -> None:
    """A decision that allocates to reparations (or to the Trust Fund for an award, RS 75(2))
    cannot also find that no reparations were ordered: the record would let other purposes
    pass reparations on a finding the same decision contradicts."""
    for share in (("reparations", "5.00"), ("trust_fund_for_victims", "5.00", "RS 75(2)")):
        with pytest.raises(ValidationError, match="cannot find that none was ordered"):
            allocation(ACCOUNT, share, ("fine", "1.00"), reparations="none_ordered")


def test_rs_75_2_an_award_through_the_trust_fund_is_reparations_and_needs_no_finding() -> None:
    """RS 75(2): an award made through the Trust Fund for Victims is reparations, with their
    priority: it may be allocated while reparations are outstanding. RS 79(2) is not."""
    award = allocation(
        ACCOUNT,
        ("trust_fund_for_victims", "5.00", "RS 75(2)"),
        reparations="outstanding",
    )
    assert [s.for_reparations for s in award.shares] == [True]
    fund = allocation(
        ACCOUNT, ("trust_fund_for_victims", "5.00", "RS 79(2)"), reparations="satisfied"
    )
    assert [s.for_reparations for s in fund.shares] == [False]


@pytest.mark.parametrize("basis", [None, "", "RS 79", "RS 75(2); Rule 98(2)"])
def test_rs_79_2_rs_75_2_a_trust_fund_share_names_its_road(basis: str | None) -> None:
    """RS 75(2) and 79(2) are two roads to the Trust Fund with different priority (Rule
    221(2)): a share to the Fund names exactly one of them; there is no default."""
    share = ("trust_fund_for_victims", "5.00") + (() if basis is None else (basis,))
    with pytest.raises(ValidationError, match="names its road"):
        allocation(ACCOUNT, share, reparations="none_ordered")


async def test_rule_221_1_other_purposes_only_as_the_policy_allows(worker) -> None:
    """Rule 221(1): beyond reparations and the Trust Fund (which rest on the Statute), only
    the purposes the policy lists are allocated, each with the policy's basis recorded. A
    request without a policy allows none; under the default policy a fine takes its basis
    (RS 77(2)(a)) from the policy, and a basis the Presidency states itself is kept."""
    _, bare = await in_execution(worker)
    await send(bare, conviction())  # RS 77(2)(b): after a conviction
    await send(bare, forfeiture(ACCOUNT))
    await send(bare, transfer(ACCOUNT, "398000.00"))
    await assert_rejected(
        bare,
        worker.published,
        allocation(ACCOUNT, ("reparations", "1.00"), ("fine", "1.00"), reparations="satisfied"),
        "the policy allows no allocation to fine",
    )
    assert (await view(bare)).ledger.entries[ACCOUNT].allocations == []

    _, handle = await in_execution_under_policy(worker)
    await send(handle, conviction())  # RS 77(2)(b): after a conviction
    await send(handle, forfeiture(ACCOUNT))
    await send(handle, transfer(ACCOUNT, "398000.00"))
    await send(
        handle,
        allocation(
            ACCOUNT,
            ("fine", "1000.00"),
            ("legal_aid_refund", "500.00", "Regulation 85(4), order of the Chamber"),
            reparations="none_ordered",
        ),
    )
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert [(s.destination.value, s.basis) for s in account.allocations] == [
        ("fine", "RS 77(2)(a); Rules 217-218"),
        ("legal_aid_refund", "Regulation 85(4), order of the Chamber"),
    ]
    assert account.allocation_decisions[-1].reparations is c.ReparationsPosition.NONE_ORDERED


def test_rule_221_1_the_policy_lists_only_other_purposes_each_with_a_basis() -> None:
    """Reparations and the Trust Fund rest on the Statute, not on policy; every purpose the
    policy allows carries a basis. The default policy file allows fines and legal-aid
    recovery, each with its basis."""
    with pytest.raises(ValidationError, match="rest on the Statute"):
        AllocationPolicy(other_purposes={"reparations": "RS 75(2)"})
    with pytest.raises(ValidationError, match="needs a basis"):
        AllocationPolicy(other_purposes={"fine": "  "})
    resolved = resolve(load_policy(), load_directory(), court_request())
    assert resolved.allocation.other_purposes == {
        c.AllocationDestination.FINE: "RS 77(2)(a); Rules 217-218",
        c.AllocationDestination.LEGAL_AID_REFUND: (
            "legal-aid recovery under the Regulations of the Court"
        ),
    }


async def test_rule_221_2_a_finding_of_reparations_outstanding_is_not_undone_by_none_ordered(
    worker,
) -> None:
    """Rule 221(2): once a decision on the asset found reparations outstanding, a later one
    may find them satisfied, but not that none were ordered (the record would contradict
    itself and let other purposes pass reparations)."""
    _, handle = await in_execution_under_policy(worker)
    await send(handle, conviction())  # RS 77(2)(b): after a conviction
    await send(handle, forfeiture(ACCOUNT))
    await send(handle, transfer(ACCOUNT, "398000.00"))
    await send(handle, allocation(ACCOUNT, ("reparations", "100.00"), reparations="outstanding"))
    await assert_rejected(
        handle,
        worker.published,
        allocation(ACCOUNT, ("fine", "100.00"), reparations="none_ordered"),
        "found reparations outstanding",
    )
    await send(handle, allocation(ACCOUNT, ("fine", "100.00"), reparations="satisfied"))
    account = (await view(handle)).ledger.entries[ACCOUNT]
    assert [d.reparations.value for d in account.allocation_decisions] == [
        "outstanding",
        "satisfied",
    ]
    assert account.unallocated.amount == Decimal("397800.00")
