"""Rule 99 in full (docs/legal-process.md, "Rule 99"), driven through the real workflow on a
time-skipping server: 99(1) the application behind the measures recorded on the request;
99(2) prior notice where the Chamber found it could not jeopardise the measures (refused
before unless the request was ex parte); 99(3) notice to interested persons, third-party
claimants included; a Rule 99(3) modification applied — the assets it no longer covers
released, a seizure turned into a freeze, an asset held only up to a value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from activities.party import party_messages, state_request
from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import Rule99Applicant, VictimsStanding
from tests.builders import example_results, money, third_party_claim
from tests.workflows.support import (
    ACCOUNT,
    APARTMENT,
    acknowledged,
    assert_rejected,
    court_action,
    court_request,
    execution_report,
    in_execution,
    published_count,
    published_since,
    reasons,
    send,
    settle,
    view,
)

S = RequestStatus
A = AssetStatus
VESSEL = "a-vessel-1"
VICTIMS = {
    "applicant": "victims",
    "filing_reference": "ICC-01/22-45",
    "filed_on": "2026-02-02",
    "victims_standing": "reparations_request",
}
FINDING = "Notice cannot jeopardise the freeze: the account is already blocked by a bank."


def notice(**fields: Any) -> c.Rule99Notification:
    return court_action(c.Rule99Notification, notified_party_ids=["p-suspect"], **fields)


async def test_rule99_1_the_victims_application_is_recorded_on_the_request(worker) -> None:
    """Rule 99(1): the Pre-Trial Chamber requested the freeze at the request of victims who
    made a request for reparations. The Court's record of the request shows the application
    (applicant, filing, standing); what the State receives (RS 96(2)) does not."""
    req = court_request(rule99_application=VICTIMS)
    handle = await worker.start(req)
    application = (await view(handle)).rule99_application
    assert application is not None
    assert (application.applicant, application.victims_standing) == (
        Rule99Applicant.VICTIMS,
        VictimsStanding.REPARATIONS_REQUEST,
    )
    assert application.filing_reference == "ICC-01/22-45"
    assert "rule99_application" not in state_request(req).model_dump()


def test_rule99_1_applications_are_checked_by_the_contract() -> None:
    """Rule 99(1): victims apply with standing (a reparations request or written
    undertaking); the Prosecutor's application names its filing; Rule 99 concerns requests
    under RS 57(3)(e) and 75(4) only."""
    with pytest.raises(ValidationError, match="victims apply having made a request"):
        court_request(rule99_application={**VICTIMS, "victims_standing": None})
    with pytest.raises(ValidationError, match="an application \\(Rule 99\\(1\\)\\) names"):
        court_request(rule99_application={"applicant": "prosecutor"})
    with pytest.raises(ValidationError, match="governs requests under RS 57\\(3\\)\\(e\\)"):
        court_request(
            legal_basis="RS 93(1)(k)",
            issuing_organ="prosecutor",
            warrant=None,
            rule99_application={"applicant": "own_motion"},
        )
    prosecutor = {"applicant": "prosecutor", "filing_reference": "ICC-01/22-9"}
    assert court_request(rule99_application={**prosecutor, "filed_on": "2026-01-25"})


async def test_rule99_2_prior_notice_on_the_chambers_finding(worker) -> None:
    """Rule 99(2): on a confidential request (not ex parte) the Chamber found that notice
    could not jeopardise the freeze; the Registry gives it before execution (refused on the
    old code: 'this request is not ex parte'). Observations follow and the Chamber rules.
    Prior notice needs the finding, is refused on an ex parte request and once the measure
    is executed."""
    req, handle = await acknowledged(worker)
    with pytest.raises(ValidationError, match="prior notice rests on the Chamber's determin"):
        notice(notice="prior")
    await send(handle, notice(notice="prior", prior_notice_finding=FINDING))
    v = await view(handle)
    assert v.rule99_notified_at is not None
    assert v.timeline[-1].what.startswith("Rule 99(2) prior notice to 1 person(s)")
    await send(handle, court_action(c.Rule99Decision, outcome="maintained", **reasons()))

    await send(handle, execution_report(req))
    await assert_rejected(
        handle,
        worker.published,
        notice(notice="prior", prior_notice_finding=FINDING),
        "prior notice comes before the measure is executed",
    )
    _, ex_parte = await acknowledged(worker, confidentiality="ex_parte")
    await assert_rejected(
        ex_parte,
        worker.published,
        notice(notice="prior", prior_notice_finding=FINDING),
        "this request is ex parte",
    )


async def test_rule99_3_notice_reaches_third_party_claimants(worker) -> None:
    """Rule 99(3): the ex parte freeze is executed and a bona fide third party claims the
    account. A notice to the person only says the claimant was not notified; a notice naming
    the claim reaches the claimant too; a claim the request does not have is refused."""
    req, handle = await in_execution(worker, confidentiality="ex_parte")
    await send(handle, third_party_claim(req, ACCOUNT, claim_id="claim-1"))
    await send(handle, notice())
    assert (await view(handle)).timeline[-1].what == (
        "Rule 99 notification of 1 person(s); claimants of claim-1 not notified"
    )
    await assert_rejected(
        handle,
        worker.published,
        notice(notified_claim_ids=["claim-9"]),
        "notified_claim_ids ['claim-9'] are not third-party claims on this request",
    )
    await send(handle, notice(notified_claim_ids=["claim-1"]))
    assert (await view(handle)).timeline[-1].what == (
        "Rule 99 notification of 1 person(s) and 1 third-party claimant(s) (Rule 99(3))"
    )


async def test_rule99_3_modification_applies_its_effects(worker) -> None:
    """Rule 99(3): after observations the Chamber modifies the ex parte measure on the
    account, the apartment and the vessel: the vessel is no longer covered (released, ground
    rule99_modification), the apartment's seizure becomes a freeze, the account is held only
    up to EUR 200,000. Each asset keeps the terms; the changed assets are announced (the old
    code released everything; the code before this recorded the terms and applied nothing)."""
    measures = ["identify", "trace", "freeze", "seize"]
    req = court_request(confidentiality="ex_parte", measures=measures)
    handle = await worker.start(req)
    results = example_results()
    results[1]["measures_executed"] = ["identify", "seize"]
    results[2]["measures_executed"] = ["identify", "trace", "freeze"]
    await send(handle, execution_report(req, results))
    await send(handle, notice())
    before = (await view(handle)).ledger.entries
    assert (before[APARTMENT].status, before[VESSEL].status) == (A.SEIZED, A.FROZEN)

    count = await published_count(handle, worker.published)
    terms = "Held up to EUR 200,000 on the account; the apartment frozen, not seized."
    modified = court_action(
        c.Rule99Decision,
        outcome="modified",
        asset_ids=[ACCOUNT, APARTMENT, VESSEL],
        terms=terms,
        lifted_asset_ids=[VESSEL],
        seizure_to_freeze=True,
        limits=[{"asset_id": ACCOUNT, "held_up_to": money("200000.00")}],
        **reasons(),
    )
    assert (await send(handle, modified)).status is S.IN_EXECUTION
    v = await view(handle)
    account, apartment, vessel = (v.ledger.entries[a] for a in (ACCOUNT, APARTMENT, VESSEL))
    assert (vessel.status, vessel.release_ground) == (A.RELEASED, "rule99_modification")
    assert (apartment.status, apartment.release_ground) == (A.FROZEN, None)
    assert account.status is A.FROZEN and account.held_up_to is not None
    assert account.held_up_to.amount == Decimal("200000.00")
    # The totals count what the measure holds: the account up to EUR 200,000, not its value.
    assert account.value is not None and account.value.amount > Decimal("200000.00")
    assert apartment.value is not None
    assert v.totals["EUR"].frozen == Decimal("200000.00") + apartment.value.amount
    assert v.totals["EUR"].identified >= account.value.amount + apartment.value.amount
    assert all(e.rule99_modifications == [terms] for e in (account, apartment, vessel))
    assert "a-vessel-1 released" in v.timeline[-1].what
    events = await published_since(handle, worker.published, count)
    assert sorted(e.type for e in events) == sorted(
        [
            RequestEventType.COURT_ACTION,
            RequestEventType.ASSET_RELEASED,
            RequestEventType.ASSET_FROZEN,
            RequestEventType.ASSET_FROZEN,
        ]
    )


async def test_rule99_3_modification_refusals(worker) -> None:
    """Rule 99(3): a modification turning a seizure into a freeze where nothing kept is
    seized, or holding an asset up to a value in another currency or up to nothing, is
    refused; a modification lifting every asset it names is a revocation (the contract)."""
    _, handle = await in_execution(worker, confidentiality="ex_parte")
    await send(handle, notice())

    def modify(**fields: Any) -> c.Rule99Decision:
        named = {"asset_ids": [ACCOUNT], "terms": "T", **fields}
        return court_action(c.Rule99Decision, outcome="modified", **reasons(**named))

    await assert_rejected(
        handle, worker.published, modify(seizure_to_freeze=True), "no asset the modified"
    )
    usd = [{"asset_id": ACCOUNT, "held_up_to": money("10.00", "USD")}]
    await assert_rejected(handle, worker.published, modify(limits=usd), "valued in EUR, not USD")
    zero = [{"asset_id": ACCOUNT, "held_up_to": money("0.00")}]
    await assert_rejected(handle, worker.published, modify(limits=zero), "held up to nothing")
    with pytest.raises(ValidationError, match="is a revocation"):
        modify(lifted_asset_ids=[ACCOUNT])
    assert (await view(handle)).ledger.entries[ACCOUNT].held_up_to is None


async def test_rule99_3_a_limit_reaches_the_state_with_the_decision(worker) -> None:
    """Rule 99(2), 99(3): on a confidential request notified in advance, the account is
    frozen; the Chamber then holds it only up to EUR 150,000. The State's decision message
    (its own channel) names the account, still frozen, and the value it is held up to."""
    req, handle = await acknowledged(worker)
    await send(handle, notice(notice="prior", prior_notice_finding=FINDING))
    await send(handle, execution_report(req))
    limit = [{"asset_id": ACCOUNT, "held_up_to": money("150000.00")}]
    modified = court_action(
        c.Rule99Decision,
        outcome="modified",
        asset_ids=[ACCOUNT],
        terms="The account is held up to EUR 150,000.",
        limits=limit,
        **reasons(),
    )
    await send(handle, modified)
    await settle(handle)  # its events are published
    events = [e for e in worker.published.events(req.reference) if e.caused_by == modified.event_id]
    [message] = party_messages(req, events, [])
    assert message.decision is not None and message.decision.action == "rule99_decision"
    [asset] = message.decision.assets
    assert (asset.asset_id, asset.status) == (ACCOUNT, A.FROZEN)
    assert asset.held_up_to is not None and asset.held_up_to.amount == Decimal("150000.00")
