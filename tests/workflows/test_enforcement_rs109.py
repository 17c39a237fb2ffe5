"""The Presidency's enforcement request (docs/legal-process.md, 'Enforcement after
conviction'): its own request kind under RS 109 with its own answer. After a final conviction the
Presidency seeks the measures for enforcement (Rule 217) of a forfeiture order naming its
assets (Rule 218(1)(b)), a fine (RS 77(2)(a)) or a reparations order (RS 75(2), 75(5)); the
State gives effect to it or, unable to forfeit the property, recovers its value (RS 109(2),
Rule 218(1)(c)), never more than the order and never changing it (Rules 219-220); what it holds
is transferred to the Court (RS 109(3)) and allocated by the Presidency (Rule 221)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError

from schemas import court as c
from schemas.answers import EnforcementReport
from schemas.case import AddState, CaseInput, CaseOrder, CaseView
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import CourtRequest
from tests.builders import enforcement_request, example, now
from tests.workflows.case_support import case_act, decided_now, until
from tests.workflows.support import (
    acknowledgement,
    allocation,
    assert_rejected,
    close_action,
    consultation,
    convicted,
    conviction,
    court_action,
    court_request,
    execution_report,
    forfeiture,
    money,
    no_assets,
    reasons,
    request_worker,
    send,
    state_answer,
    transfer,
    view,
)
from tracefreeze.court_signing import presidency_notice
from workflows.case import CaseWorkflow
from workflows.request import RequestWorkflow

S = RequestStatus
A = AssetStatus
ACCOUNT, APARTMENT = "a-account-1", "a-apartment-1"
ORDER = "ICC-01/22-388"


def fine_request(amount: str = "500000.00") -> CourtRequest:
    """An enforcement request of a fine (RS 77(2)(a)): an amount, no assets named."""
    return enforcement_request(
        known_assets=[],
        purposes=["reparations"],
        enforcement={"order": "fine", "amount": money(amount)},
    )


def report(
    request: CourtRequest, *results: dict[str, Any], final: bool = False
) -> EnforcementReport:
    return state_answer(EnforcementReport, request, final=final, results=list(results))


def item(
    asset_id: str, outcome: str, amount: str | None = None, currency: str = "EUR", **fields: Any
) -> dict[str, Any]:
    return {
        "asset_id": asset_id,
        "outcome": outcome,
        **({"amount": money(amount, currency)} if amount else {}),
        **fields,
    }


BANK = {
    "asset_id": "a-salary-1",
    "kind": "bank_account",
    "description": "Salary account of the convicted person",
    "location_country": "NLD",
}
SOLD = "Sold to a buyer in good faith before the order; the notary held the proceeds."


JUDGMENT = "ICC-01/22-377"
"""The final conviction the example order follows."""


def final_conviction(reference: str = JUDGMENT, **fields: Any) -> c.Judgment:
    return conviction(judgment_reference=reference, **fields)


async def enforcing(worker, req: CourtRequest | None = None) -> tuple[CourtRequest, Any]:
    """An enforcement request started, its final conviction recorded on it (outside a case
    the Court records it; in a case, the case tells it), and acknowledged."""
    req = req or enforcement_request()
    handle = await worker.start(req)
    await send(handle, final_conviction())
    await send(handle, acknowledgement(req))
    return req, handle


async def test_forfeiture_enforced_value_recovered_transferred_allocated(worker) -> None:
    """RS 109(1)-(3), Rule 218: the order's assets are held under it from the start; the State
    forfeits the account and, unable to forfeit the sold apartment, recovers its value (no
    more than the apartment's value); both are transferred to the Court at the values the
    State reported, without a second order, then allocated (Rule 221)."""
    req = enforcement_request()
    handle = await worker.start(req)
    ledger = (await view(handle)).ledger.entries
    assert {a: (e.status, e.forfeiture_order) for a, e in ledger.items()} == {
        ACCOUNT: (A.FORFEITURE_ORDERED, ORDER),
        APARTMENT: (A.FORFEITURE_ORDERED, ORDER),
    }
    await send(handle, final_conviction())
    await send(handle, acknowledgement(req))
    await send(handle, report(req, item(ACCOUNT, "forfeited", "398214.37")))
    assert (await view(handle)).status is S.IN_EXECUTION
    await send(
        handle,
        report(req, item(APARTMENT, "value_recovered", "640000.00", reasons=SOLD), final=True),
    )
    seen = await view(handle)
    assert seen.status is S.EXECUTED
    apartment = seen.ledger.entries[APARTMENT]
    assert apartment.enforcement == "value_recovered"
    assert apartment.recovered is not None and apartment.recovered.amount == Decimal("640000.00")
    assert apartment.status is A.FORFEITURE_ORDERED
    assert seen.totals["EUR"].forfeited == Decimal("1038214.37")  # what the State holds
    await assert_rejected(
        handle, worker.published, transfer(APARTMENT, "5.00", "USD"), "is not the 640000.00 EUR"
    )
    await send(handle, transfer(ACCOUNT, "398214.37"))
    await send(handle, transfer(APARTMENT, "640000.00"))
    await send(handle, allocation(APARTMENT, ("reparations", "640000.00"), reparations="satisfied"))
    entries = (await view(handle)).ledger.entries
    assert entries[ACCOUNT].status is A.TRANSFERRED
    assert entries[APARTMENT].status is A.ALLOCATED


async def test_enforcement_keeps_to_the_order(worker) -> None:
    """Rule 218(1)(b), RS 109(1)-(3): a State reports only on what the order names, on the
    order's own terms (no RS 99 report makes it executed), says why the property itself could
    not be forfeited and recovers no more than its value, never reports lost what it holds for
    the Court; what it could not recover is never transferred; a withdrawal keeps what the
    order holds; nothing refused is written."""
    req, handle = await enforcing(worker)
    extra = {**BANK, "asset_id": "a-other-1"}
    refusals = [
        (
            report(req, item("a-other-1", "forfeited", "10.00", asset=extra)),
            "is not among the proceeds, property and assets the forfeiture order specifies "
            "(Rule 218(1)(b))",
        ),
        (report(req, item(APARTMENT, "value_recovered", "640000.00")), "say why"),
        (
            report(req, item(APARTMENT, "value_recovered", "875000.01", reasons=SOLD)),
            "exceeds the property's value of 875000.00 EUR",
        ),
        (
            report(req, item(ACCOUNT, "value_recovered", "10.00", "USD", reasons=SOLD)),
            "no value of the property is known in USD",
        ),
        (execution_report(req), "this is the Presidency's enforcement request (RS 109)"),
        (no_assets(req), "this is the Presidency's enforcement request (RS 109)"),
    ]
    for answer, fragment in refusals:
        await assert_rejected(handle, worker.published, answer, fragment)
    await send(handle, report(req, item(ACCOUNT, "forfeited", "398214.37")))
    await assert_rejected(
        handle,
        worker.published,
        report(req, item(ACCOUNT, "unable", reasons="The bank no longer holds the funds.")),
        "not reported lost",
    )
    await send(handle, report(req, item(APARTMENT, "unable", reasons=SOLD), final=True))
    assert (await view(handle)).status is S.PARTIALLY_EXECUTED
    await assert_rejected(
        handle, worker.published, transfer(APARTMENT, "875000.00"), "the State reported unable"
    )
    await send(handle, court_action(c.Withdrawal, decided_by="Presidency", **reasons()))  # RS 109
    entries = (await view(handle)).ledger.entries
    assert entries[ACCOUNT].status is A.FORFEITURE_ORDERED, "RS 77(2)(b): withdrawal keeps it"
    assert entries[APARTMENT].status is A.FORFEITURE_ORDERED


async def test_enforcement_follows_the_final_conviction_it_names(worker) -> None:
    """RS 81(4), 83(2): nothing is transferred until the conviction the order follows is
    recorded as the judgment in force, final; a later judgment that is not that conviction
    (an acquittal on appeal, another judgment) stops reports and transfers."""
    req = enforcement_request()
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, report(req, item(ACCOUNT, "forfeited", "398214.37")))
    await assert_rejected(
        handle, worker.published, transfer(ACCOUNT, "398214.37"), "no judgment in force"
    )
    await send(handle, final_conviction("ICC-99/99-1"))
    await assert_rejected(
        handle,
        worker.published,
        transfer(ACCOUNT, "398214.37"),
        f"enforces the order of judgment {JUDGMENT}; the judgment in force is ICC-99/99-1",
    )
    handle2_req, handle2 = await enforcing(worker)
    acquitted = court_action(
        c.Judgment,
        decided_by="appeals_chamber",
        judgment_reference="ICC-01/22-A-500",
        outcome="acquittal",
        delivered_on="2026-04-30",
        finality="final",
    )
    await send(handle2, acquitted)
    await assert_rejected(
        handle2,
        worker.published,
        report(handle2_req, item(ACCOUNT, "forfeited", "398214.37")),
        "not the final conviction ICC-01/22-377 the order follows",
    )


async def test_the_order_is_not_modified_by_a_consultation(worker) -> None:
    """RS 109(1), Rules 218-220: a Court modification keeps the legal basis, the order and
    the assets it names (another order is another request)."""
    req, handle = await enforcing(worker)
    await send(handle, consultation(req))
    changed = req.model_copy(
        update={"enforcement": req.enforcement.model_copy(update={"order_reference": "X-1"})}
    )
    await assert_rejected(
        handle,
        worker.published,
        court_action(
            c.ConsultationResponse,
            decided_by="Presidency",  # the organ that made the enforcement request (RS 109)
            resolution="request_modified",
            modified_request=changed,
        ),
        "keeps its legal basis, and the order it enforces",
    )


async def test_fine_recovered_amount_by_amount(worker) -> None:
    """RS 77(2)(a), 109(1): a fine is given effect by recovering its amount, in its currency,
    from property the State describes; never more than the fine (Rule 220), never by
    "forfeiting"; what was recovered is held under the order (a withdrawal does not release
    it), then transferred (RS 109(3)); the request does not close while a value is still being
    recovered."""
    req, handle = await enforcing(worker, fine_request("500000.00"))
    refusals = [
        (
            report(req, item("a-salary-1", "forfeited", "100.00", asset=BANK)),
            "is given effect by recovering its amount",
        ),
        (
            report(req, item("a-salary-1", "value_recovered", "500000.01", asset=BANK)),
            "would exceed the fine order's 500000.00 EUR",
        ),
        (
            report(req, item("a-salary-1", "value_recovered", "10.00", "USD", asset=BANK)),
            "is recovered in its own currency, EUR, not USD",
        ),
    ]
    for answer, fragment in refusals:
        await assert_rejected(handle, worker.published, answer, fragment)
    await send(handle, report(req, item("a-salary-1", "value_recovered", "300000.00", asset=BANK)))
    salary = (await view(handle)).ledger.entries["a-salary-1"]
    assert salary.status is A.FORFEITURE_ORDERED and salary.forfeiture_order == ORDER
    assert salary.recovered is not None and salary.recovered.amount == Decimal("300000.00")
    house = {**BANK, "asset_id": "a-house-1", "kind": "real_estate", "description": "House"}
    await send(
        handle,
        report(req, item("a-house-1", "value_pending", reasons="Being sold.", asset=house)),
    )
    car = {**BANK, "asset_id": "a-car-1", "kind": "vehicle", "description": "Car"}
    await send(
        handle,
        report(req, item("a-car-1", "unable", reasons="Car destroyed.", asset=car), final=True),
    )
    assert (await view(handle)).status is S.PARTIALLY_EXECUTED
    await send(handle, court_action(c.Withdrawal, decided_by="Presidency", **reasons()))  # RS 109
    assert (await view(handle)).ledger.entries["a-salary-1"].status is A.FORFEITURE_ORDERED
    await send(handle, transfer("a-salary-1", "300000.00"))
    assert (await view(handle)).ledger.entries["a-salary-1"].status is A.TRANSFERRED
    await assert_rejected(
        handle, worker.published, transfer("a-car-1", "1.00"), "transfer follows a forfeiture"
    )
    await assert_rejected(
        handle, worker.published, close_action(), "still recovering the value of ['a-house-1']"
    )


async def test_fine_recovered_in_full_is_executed(worker) -> None:
    """The whole fine recovered, in its currency: the request is executed."""
    req, handle = await enforcing(worker, fine_request("1000.00"))
    await send(
        handle,
        report(req, item("a-salary-1", "value_recovered", "1000.00", asset=BANK), final=True),
    )
    assert (await view(handle)).status is S.EXECUTED


async def test_enforcement_report_only_on_an_enforcement_request(worker) -> None:
    """An enforcement report answers the Presidency's RS 109 request, not a request to
    identify, trace or freeze (RS 93(1)(k), 99)."""
    req = court_request()
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, execution_report(req))
    await assert_rejected(
        handle,
        worker.published,
        report(req, item(ACCOUNT, "forfeited", "1.00")),
        "answers the Presidency's enforcement request (RS 109, Rules 217-218)",
    )


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"enforcement": None}, "carries the order it enforces (Rules 217-218)"),
        ({"legal_basis": "RS 75(4)", "issuing_organ": "trial_chamber"}, "carries the order"),
        ({"issuing_organ": "trial_chamber"}, "the Presidency seeks the cooperation"),
        ({"enforcement": {"final_on": "2028-06-01"}}, "RS 81(4)"),
        ({"enforcement": {"person_party_id": "p-other"}}, "Rule 218(1)(a)"),
        ({"known_assets": []}, "Rule 218(1)(b)"),
        ({"enforcement": {"amount": money("1.00")}}, "not an amount"),
        ({"enforcement": {"order": "fine"}}, "states the amount to recover"),
        (
            {"enforcement": {"order": "reparations", "amount": money("5.00")}},
            "Rule 218(3)(b)",
        ),
        (
            {
                "enforcement": {
                    "order": "reparations",
                    "amount": money("5.00"),
                    "beneficiaries": "The Trust Fund for Victims, collective award.",
                }
            },
            "Rule 218(3)(c)",
        ),
    ],
)
def test_enforcement_request_carries_what_rule_218_requires(
    changes: dict[str, Any], fragment: str
) -> None:
    """RS 109, Rules 217-218: what an enforcement request must hold, refused at its door."""
    data = example("enforcement-request")
    order = changes.pop("enforcement", {})
    if order is None:
        data.pop("enforcement")
    else:
        data["enforcement"].update(order)
    data.update(changes)
    if changes.get("legal_basis"):
        data["conviction"] = {"judgment_reference": "ICC-01/22-377", "delivered_on": "2027-01-05"}
    with pytest.raises(ValidationError) as refused:
        CourtRequest.model_validate(data)
    assert fragment in str(refused.value)


async def test_case_adds_the_enforcement_request_after_its_final_conviction(env) -> None:
    """Rule 217, RS 81(4), 83(2), 109: the Presidency's request joins the case only on the
    conviction in force once it is final; the request then learns that judgment from the case.
    A case is never opened with one."""
    async with request_worker(env, "enforce-case", CaseWorkflow) as (queue, _published):
        nld = court_request(requested_state="NLD")
        order = CaseOrder(
            order_reference=f"ICC-01/22-ORD-{uuid.uuid4().hex[:8].upper()}",
            case_number=nld.case_number,
            requests=(nld,),
        )
        case = await env.client.start_workflow(
            CaseWorkflow.run, CaseInput(order=order), id=order.workflow_id, task_queue=queue
        )

        def enforcing(judgment: str) -> CourtRequest:
            return enforcement_request(
                case_number=nld.case_number,
                supplements=nld.reference,
                issued_at=now().isoformat(),
                enforcement={"judgment_reference": judgment, "final_on": "2026-11-02"},
            )

        async def add(request: CourtRequest) -> CaseView:
            action = decided_now(AddState, request=request, decided_by="Presidency")  # RS 109
            return await case_act(case, "add_state", action)

        async def refused(request: CourtRequest, fragment: str) -> None:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await add(request)
            assert fragment in str(err.value.cause)

        with pytest.raises(ValidationError, match="Rule 217"):
            CaseOrder(
                order_reference="ICC-01/22-ORD-X1",
                case_number=nld.case_number,
                requests=(enforcing(TRIAL),),
            )
        await refused(enforcing(TRIAL), "the case has no judgment in force (RS 109, Rule 217)")
        await case_act(case, "record_judgment", judgment(TRIAL, "appeal_pending"))
        await refused(enforcing(TRIAL), "(conviction, appeal_pending) is not a final conviction")
        await refused(enforcing(APPEAL), f"the case has judgment {TRIAL} in force")
        # Rule 150: no appeal brought in time: the same trial judgment recorded final.
        await case_act(case, "record_judgment", judgment(TRIAL, "final"))
        request = enforcing(TRIAL)
        view = await add(request)
        assert len(view.requests) == 2
        handle = env.client.get_workflow_handle(request.workflow_id)

        async def learned() -> bool:
            timeline = (await handle.query(RequestWorkflow.view)).timeline
            return any(
                f"judgment {TRIAL}: conviction" in t.what and "final" in t.what for t in timeline
            )

        await until(learned)


TRIAL, APPEAL = "ICC-01/22-T-J-1", "ICC-01/22-A-J-1"


def judgment(reference: str, finality: str) -> c.Judgment:
    """A conviction: by the Trial Chamber (``TRIAL``) or on appeal (RS 83(2))."""
    return decided_now(
        c.Judgment,
        decided_by="trial_chamber" if reference == TRIAL else "appeals_chamber",
        judgment_reference=reference,
        outcome="conviction",
        delivered_on="2026-06-01" if reference == TRIAL else "2026-11-02",
        finality=finality,
    )


async def test_the_protective_request_is_told_and_records_no_second_transfer(worker) -> None:
    """RS 109(3), Rule 221: the Presidency's request, when it starts, tells the protective
    request to the same party it supplements (relaying the Presidency's own act, signed for
    that request, which came with its start input); that request then records no transfer of the
    assets it names (their transfer is recorded once, on the enforcement request) and they no
    longer keep it open."""
    protective, first = await convicted(worker)
    await send(first, forfeiture(ACCOUNT))
    req = enforcement_request(supplements=protective.reference)
    handle = await worker.start(req, enforcement_notice=presidency_notice(req))

    async def told() -> bool:
        return any("told: it records no transfer" in t.what for t in (await view(handle)).timeline)

    await until(told)
    entries = (await view(first)).ledger.entries
    assert entries[ACCOUNT].enforced_by == req.reference
    # Frozen here, not under the forfeiture order: its freeze stays, and keeps the request open.
    assert entries[APARTMENT].enforced_by is None and entries[APARTMENT].status is A.FROZEN
    await assert_rejected(
        first,
        worker.published,
        transfer(ACCOUNT, "398214.37"),
        f"is enforced on the Presidency's request {req.reference}",
    )


async def test_a_value_already_transferred_is_not_enforced_again(worker) -> None:
    """An asset the protective request already transferred to the Court: the protective
    request refuses the notice, and the enforcement request says so on its timeline, loudly."""
    protective, first = await convicted(worker)
    await send(first, forfeiture(ACCOUNT))
    await send(first, transfer(ACCOUNT, "398214.37"))
    req = enforcement_request(supplements=protective.reference)
    handle = await worker.start(req, enforcement_notice=presidency_notice(req))

    async def refused() -> str | None:
        notes = [t.what for t in (await view(handle)).timeline if "NOT told" in t.what]
        return notes[0] if notes else None

    await until(lambda: _some(refused))
    note = await refused()
    assert note is not None and "was already transferred to the Court" in note
    assert "the Court decides before recording any transfer here" in note
    assert ACCOUNT in note
    assert (await view(first)).ledger.entries[APARTMENT].enforced_by is None


async def _some(probe: Any) -> bool:
    return await probe() is not None


async def test_what_a_reparations_order_recovers_goes_to_reparations(worker) -> None:
    """RS 75(2), 75(5), Rule 219: the value recovered on a reparations order is allocated to
    those reparations, directly or through the Trust Fund for Victims as an award (RS 75(2)),
    never to another purpose (Rule 221 decides the allocation, not the order's object)."""
    req = enforcement_request(
        known_assets=[],
        enforcement={
            "order": "reparations",
            "amount": money("1000.00"),
            "beneficiaries": "Collective award through the Trust Fund for Victims.",
            "scope_of_reparations": "Collective and symbolic reparations for the community.",
        },
    )
    req, handle = await enforcing(worker, req)
    await send(
        handle,
        report(req, item("a-salary-1", "value_recovered", "1000.00", asset=BANK), final=True),
    )
    await send(handle, transfer("a-salary-1", "1000.00"))
    for shares, fragment in (
        ((("legal_aid_refund", "10.00"),), "a share to legal_aid_refund"),
        ((("trust_fund_for_victims", "10.00", "RS 79(2)"),), "a share to trust_fund_for_victims"),
    ):
        await assert_rejected(
            handle,
            worker.published,
            allocation("a-salary-1", *shares, reparations="satisfied"),
            fragment,
        )
    await send(
        handle,
        allocation("a-salary-1", ("trust_fund_for_victims", "1000.00", "RS 75(2)")),
    )
    assert (await view(handle)).ledger.entries["a-salary-1"].status is A.ALLOCATED


async def test_a_notice_is_the_presidencys_for_the_same_case_and_one_per_asset(worker) -> None:
    """Rule 217: only the Presidency tells a protective request of its enforcement request,
    for the same case; an asset another enforcement request already enforces is refused (one
    transfer, not two)."""
    protective, first = await convicted(worker)
    await send(first, forfeiture(ACCOUNT))

    def notice(**fields: Any) -> c.EnforcementRequestMade:
        data = {
            "decided_by": "Presidency",
            "case_number": protective.case_number,
            "enforcement_reference": "ICC-01/22-ENF-0100",
            "asset_ids": [ACCOUNT],
            **fields,
        }
        return court_action(c.EnforcementRequestMade, **data)

    for wrong, fragment in (
        (notice(decided_by="Registry"), "the Registry may not take enforcement_request_made"),
        (notice(case_number="ICC-02/05"), "is of case ICC-02/05"),
    ):
        await assert_rejected(first, worker.published, wrong, fragment)
    await send(first, notice())
    await assert_rejected(
        first,
        worker.published,
        notice(enforcement_reference="ICC-01/22-ENF-0200"),
        "already enforced on the Presidency's request ICC-01/22-ENF-0100",
    )


async def test_a_final_judgment_is_never_taken_back_to_appeal_pending(worker) -> None:
    """Rule 150: a judgment in force as final is not replaced by its earlier record, an appeal
    pending (the case may deliver the two out of order)."""
    req = enforcement_request()
    handle = await worker.start(req)
    await send(handle, final_conviction())
    await assert_rejected(
        handle,
        worker.published,
        final_conviction(finality="appeal_pending"),
        "is in force here as final: its earlier record",
    )
