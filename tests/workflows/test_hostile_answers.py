"""Hostile values in every kind of answer and Court action (issue 11, §1): refused with a
reason (by decoding against the contract, by the validator's bounds, or by the handler's
guard), never a failed workflow task; the request keeps running and takes the next valid
answer. Driven through the real workflow on a time-skipping test server, the hostile documents
sent as raw JSON, unchecked by the client, as a State's system could send them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from schemas import court as c
from schemas.answers import AnswerBatch, ChannelChangeNotice
from schemas.court import DeadlineExtension
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from schemas.request import CourtRequest
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    consultation,
    court_action,
    court_request,
    denial,
    domestic_challenge,
    execution_report,
    freeze_account,
    freeze_limit,
    no_assets,
    postponement,
    reasons,
    result,
    send,
    settle,
    state_answer,
    third_party_claim,
    visibility,
)
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows import catalog
from workflows.outcome import Rule
from workflows.request import RequestWorkflow
from workflows.request_guard import NOT_APPLIED

S = RequestStatus
OUTCOME_SECONDS = 30.0
"""An update with no outcome in this time never gets one: its workflow task fails in a loop
(what the old code did). A refused update has its outcome at once."""


async def send_raw(handle: Any, update: str, document: dict[str, Any]) -> Any:
    """The update with ``document`` as its argument, as raw JSON the client does not check."""
    return await asyncio.wait_for(
        handle.execute_update(update, document, id=str(document.get("event_id"))),
        OUTCOME_SECONDS,
    )


def dump(model: Any) -> dict[str, Any]:
    return json.loads(model.model_dump_json())


def changed(model: Any, path: str, value: Any) -> dict[str, Any]:
    """The model's JSON with the field at ``path`` (``results.0.value.amount``) set."""
    doc = dump(model)
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    parent = doc
    for key in keys[:-1]:
        parent = parent[key]
    parent[keys[-1]] = value
    return doc


def many_results(req: CourtRequest, n: int) -> dict[str, Any]:
    report = freeze_account(req)
    doc = dump(report)
    vessel = doc["results"][0] | {"asset_id": "a-new-0"}
    doc["results"] = [
        vessel
        | {
            "asset_id": f"a-new-{i}",
            "asset": {"asset_id": f"a-new-{i}", "kind": "vehicle", "description": "A car"},
        }
        for i in range(n)
    ]
    return doc


@dataclass(frozen=True)
class Hostile:
    update: str
    document: Callable[[CourtRequest], dict[str, Any]]
    reason: str | None = None
    """A fragment of the refusal's reason where the workflow's own bounds refuse it."""


YEAR_1 = "0001-01-01T00:00:00Z"
YEAR_9999 = "9999-12-31T23:59:59Z"
IN_150_YEARS = "2176-11-30T00:00:00Z"  # within the contract's window, 150 years after transmission
BEFORE_TRANSMISSION = "2003-01-01T00:00:00Z"
LONG = "x" * 100_000
EXPIRES = "results.0.national_order_expires_at"
AMOUNT = "results.0.value.amount"

HOSTILE: dict[str, Hostile] = {
    # §1: the answer that stalled every other State's answers.
    "national order lapses in year 1": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), EXPIRES, YEAR_1)
    ),
    "national order lapses in 9999": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), EXPIRES, YEAR_9999)
    ),
    "national order lapses in 150 years": Hostile(
        "report_execution",
        lambda r: changed(freeze_account(r), EXPIRES, IN_150_YEARS),
        "more than 100 years after the request was transmitted",
    ),
    "national order lapsed before the request": Hostile(
        "report_execution",
        lambda r: changed(freeze_account(r), EXPIRES, BEFORE_TRANSMISSION),
        "cannot have lapsed before",
    ),
    "sent in year 1": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), "sent_at", YEAR_1)
    ),
    "amount of 31 digits": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), AMOUNT, "1" + "0" * 30)
    ),
    "amount -0.00": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), AMOUNT, "-0.00")
    ),
    "amount 1E+2": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), AMOUNT, "1E+2")
    ),
    "amount 1_000": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), AMOUNT, "1_000")
    ),
    "amount as a JSON number": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), AMOUNT, 398214.37)
    ),
    "no results": Hostile("report_execution", lambda r: changed(freeze_account(r), "results", [])),
    "101 results": Hostile("report_execution", lambda r: many_results(r, 101)),
    "location of 100,000 characters": Hostile(
        "report_execution", lambda r: changed(freeze_account(r), "results.0.location", LONG)
    ),
    "predictable event id": Hostile(
        "update_asset_management",
        lambda r: changed(asset_management(r, ACCOUNT, "1.00"), "event_id", "nld-answer-000042"),
    ),
    "valuation of 1e400": Hostile(
        "update_asset_management",
        lambda r: changed(asset_management(r, ACCOUNT, "1.00"), "value.amount", "1e400"),
    ),
    "negative valuation": Hostile(
        "update_asset_management",
        lambda r: changed(asset_management(r, ACCOUNT, "1.00"), "value.amount", "-1"),
    ),
    "postponed until 9999": Hostile(
        "postpone", lambda r: changed(postponement(r), "proposed_until", YEAR_9999)
    ),
    "postponed until 150 years on": Hostile(
        "postpone",
        lambda r: changed(postponement(r), "proposed_until", IN_150_YEARS),
        "more than 100 years after the request was transmitted",
    ),
    "postponed until before it is proposed": Hostile(
        "postpone",
        lambda r: changed(postponement(r), "proposed_until", "2026-03-01T00:00:00Z"),
        "a postponement period ends after it is proposed",
    ),
    "freeze limit on no asset": Hostile(
        "propose_freeze_limit", lambda r: changed(freeze_limit(r, ACCOUNT), "asset_ids", [])
    ),
    "freeze limit on 101 assets": Hostile(
        "propose_freeze_limit",
        lambda r: changed(freeze_limit(r, ACCOUNT), "asset_ids", [f"a-{i}" for i in range(101)]),
    ),
    "freeze limit on one asset twice": Hostile(
        "propose_freeze_limit",
        lambda r: changed(freeze_limit(r, ACCOUNT), "asset_ids", [ACCOUNT, ACCOUNT]),
    ),
    "freeze limit until 150 years on": Hostile(
        "propose_freeze_limit",
        lambda r: changed(freeze_limit(r, ACCOUNT), "proposed_until", IN_150_YEARS),
        "more than 100 years after the request was transmitted",
    ),
    "consultation of 100,000 characters": Hostile(
        "consult", lambda r: changed(consultation(r), "details", LONG)
    ),
    "denial of 100,000 characters": Hostile("deny", lambda r: changed(denial(r), "reasons", LONG)),
    "claimant of 301 characters": Hostile(
        "claim_as_third_party",
        lambda r: changed(third_party_claim(r, ACCOUNT), "claimant", "x" * 301),
    ),
    "forum of 301 characters": Hostile(
        "challenge_domestically",
        lambda r: changed(domestic_challenge(r, ACCOUNT), "forum", "x" * 301),
    ),
    "51 registers searched": Hostile(
        "report_no_assets",
        lambda r: changed(no_assets(r), "registers_searched", [f"r{i}" for i in range(51)]),
    ),
    "register of 100,000 characters": Hostile(
        "report_no_assets", lambda r: changed(no_assets(r), "registers_searched", [LONG])
    ),
    "channel of 101 characters": Hostile(
        "notify_channel_change",
        lambda r: changed(
            state_answer(
                ChannelChangeNotice,
                r,
                channel="diplomatic",
                language="fr",
            ),
            "channel",
            "x" * 101,
        ),
    ),
    "acknowledged in 9999": Hostile(
        "acknowledge", lambda r: changed(acknowledgement(r), "sent_at", YEAR_9999)
    ),
    # The Court's actions reach the same bounds.
    "decided in year 1": Hostile(
        "withdraw", lambda r: changed(court_action(c.Withdrawal, **reasons()), "decided_at", YEAR_1)
    ),
    "postponement agreed until 9999": Hostile(
        "decide_postponement",
        lambda r: (
            dump(court_action(c.PostponementDecision, agreed=False, **reasons()))
            | {"until": YEAR_9999}
        ),
    ),
    "transfer of -5": Hostile(
        "transfer_to_court",
        lambda r: changed(
            court_action(
                c.TransferToCourt, asset_id=ACCOUNT, amount={"amount": "5", "currency": "EUR"}
            ),
            "amount.amount",
            "-5",
        ),
    ),
    "deadline extended by 11 years": Hostile(
        "extend_deadline",
        lambda r: changed(
            court_action(DeadlineExtension, stage="first_report", by="P7D", **reasons()),
            "by",
            "P4020D",
        ),
    ),
}


async def in_execution(worker: Any) -> tuple[CourtRequest, Any]:
    """Acknowledged, the account frozen: a request that can take any answer after receipt,
    under the shipped deadline policy (its clocks are what a hostile date broke)."""
    req = court_request()
    handle = await worker.start(req, policy=resolve(load_policy(), load_directory(), req))
    await send(handle, acknowledgement(req))
    await send(handle, freeze_account(req))
    return req, handle


@pytest.mark.parametrize("case", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_a_hostile_value_is_refused_and_the_request_goes_on(worker, case: Hostile) -> None:
    req, handle = await in_execution(worker)
    before = await handle.query(RequestWorkflow.view)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await send_raw(handle, case.update, case.document(req))
    assert isinstance(refused.value.cause, ApplicationError), refused.value.cause
    if case.reason is not None:
        assert refused.value.cause.type == "AnswerRejected"
        assert case.reason in refused.value.cause.message
    assert await handle.query(RequestWorkflow.view) == before

    # The next valid answer is taken as if nothing had happened.
    valuation = asset_management(req, ACCOUNT, "401000.00")
    receipt = await asyncio.wait_for(send(handle, valuation), OUTCOME_SECONDS)
    assert not receipt.duplicate and receipt.status is S.IN_EXECUTION
    view = await handle.query(RequestWorkflow.view)
    assert str(view.ledger.entries[ACCOUNT].value.amount) == "401000.00"
    assert view.answers_seen == before.answers_seen + 1


# --- The guard: a fault while applying is rolled back and refused ------------------------


class Fault(Exception):
    """What a rule with a bug raises half-way through writing."""


def faulty(rule: Rule) -> Rule:
    """The rule, raising after it has written (as a bug deep in a rule would)."""

    def apply(record: Any, request: Any, m: Any, at: Any) -> Any:
        rule.apply(record, request, m, at)
        record.timeline.clear()  # and worse: scribbles on what it does not own
        raise Fault("half-way")

    return Rule(rule.check, apply)


async def test_a_fault_after_validation_is_refused_not_a_failed_task(worker, monkeypatch) -> None:
    """Old code: the handler's exception failed the workflow task, retried for ever; the
    update never returned, and no other answer to the request was taken."""
    req, handle = await in_execution(worker)
    before = await handle.query(RequestWorkflow.view)
    monkeypatch.setitem(
        catalog.RULES, "asset_management", faulty(catalog.RULES["asset_management"])
    )

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await asyncio.wait_for(
            send(handle, asset_management(req, ACCOUNT, "1.00")), OUTCOME_SECONDS
        )
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == NOT_APPLIED
    assert cause.non_retryable and "Fault: half-way" in cause.message
    assert "nothing was recorded" in cause.message
    after = await handle.query(RequestWorkflow.view)
    assert after == before  # ledger, timeline, status and count as they were

    # The same request takes the next answer of another kind at once.
    report = execution_report(req, [result("a-apartment-1", "identify", "freeze")])
    receipt = await asyncio.wait_for(send(handle, report), OUTCOME_SECONDS)
    assert not receipt.duplicate
    view = await handle.query(RequestWorkflow.view)
    assert view.ledger.entries["a-apartment-1"].status is AssetStatus.FROZEN
    assert len(view.timeline) == len(before.timeline) + 1


async def test_in_a_batch_a_fault_refuses_that_answer_only(worker, monkeypatch) -> None:
    req, handle = await in_execution(worker)
    monkeypatch.setitem(
        catalog.RULES, "asset_management", faulty(catalog.RULES["asset_management"])
    )
    broken = asset_management(req, ACCOUNT, "1.00")
    report = execution_report(req, [result("a-apartment-1", "identify", "freeze")])
    batch = AnswerBatch(answers=[broken, report])
    receipts = await asyncio.wait_for(
        handle.execute_update(RequestWorkflow.take_answers, batch, id=str(broken.event_id)),
        OUTCOME_SECONDS,
    )
    first, second = receipts.receipts
    assert first.rejected is not None and "could not be applied" in first.rejected
    assert second.rejected is None and not second.duplicate
    view = await handle.query(RequestWorkflow.view)
    assert view.ledger.entries["a-apartment-1"].status is AssetStatus.FROZEN
    assert str(view.ledger.entries[ACCOUNT].value.amount) == "398214.37"


async def test_a_fault_after_a_freeze_report_leaves_no_frozen_value_shown(
    worker, monkeypatch
) -> None:
    """RS 99 report of a freeze whose announcement faults (after the rule applied it): the
    guard rolls the request back and refuses the report, and the Temporal UI must not show
    what the request does not hold. Old code wrote the search attributes before announcing,
    so FrozenValueEUR showed the account's EUR 398,214.37 while the request held nothing
    frozen — and the restored record of what was shown kept anything from correcting it."""
    req = court_request()
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    await settle(handle)

    def broken(status: AssetStatus) -> Any:
        raise Fault("announcing the asset")

    monkeypatch.setattr(RequestEventType, "for_asset", broken)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await asyncio.wait_for(send(handle, freeze_account(req)), OUTCOME_SECONDS)
    assert refused.value.cause.type == NOT_APPLIED
    await settle(handle)
    view = await handle.query(RequestWorkflow.view)
    assert view.ledger.entries[ACCOUNT].status is not AssetStatus.FROZEN
    assert view.totals.get("EUR") is None or view.totals["EUR"].frozen == 0
    assert await visibility(handle) == (RequestStatus.ACKNOWLEDGED.value, 0.0)

    monkeypatch.undo()
    await send(handle, freeze_account(req))
    await settle(handle)
    view = await handle.query(RequestWorkflow.view)
    frozen = float(view.totals["EUR"].frozen)
    assert frozen == 398214.37
    assert await visibility(handle) == (RequestStatus.IN_EXECUTION.value, frozen)
