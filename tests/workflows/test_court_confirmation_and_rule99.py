"""The Court's actions on the measure itself, driven through the real workflow on a
time-skipping test server (docs/legal-process.md, 'Life of one asset'): an urgent request's
confirmation through the formal channel, once (RS 96(1)); Rule 99 notification after an
ex parte measure, the decision maintaining the measure on named assets, and a Rule 99
modification, which is recorded and releases nothing; each rejected where the request cannot
take it.
"""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    ACCOUNT_EUR,
    APARTMENT,
    acknowledgement,
    assert_rejected,
    court_action,
    court_request,
    execution_report,
    in_execution,
    published_count,
    published_since,
    reasons,
    release,
    send,
    view,
)

S = RequestStatus
A = AssetStatus


# --- Urgent confirmation: RS 96(1) ----------------------------------------------------------


async def test_urgent_request_is_confirmed_once(worker) -> None:
    """RS 96(1): an urgent request sent by any written medium is confirmed through the formal
    channel — once; the status does not change."""
    req = court_request(urgency="urgent")
    handle = await worker.start(req)
    count = await published_count(handle, worker.published)
    assert (await view(handle)).urgent_confirmed_at is None

    confirm = court_action(c.UrgentConfirmation, channel="diplomatic channel (note verbale)")
    assert (await send(handle, confirm)).status is S.TRANSMITTED
    v = await view(handle)
    assert v.urgent_confirmed_at is not None
    assert v.status is S.TRANSMITTED
    assert "RS 96(1)" in v.timeline[-1].what
    events = await published_since(handle, worker.published, count)
    assert [(e.type, e.action, e.caused_by) for e in events] == [
        (RequestEventType.COURT_ACTION, "urgent_confirmation", confirm.event_id)
    ]

    await assert_rejected(
        handle,
        worker.published,
        court_action(c.UrgentConfirmation, channel="diplomatic channel"),
        "the urgent request was already confirmed",
    )


async def test_ordinary_request_is_not_confirmed(worker) -> None:
    """RS 96(1): only an urgent request needs confirmation through the formal channel."""
    req = court_request()
    handle = await worker.start(req)
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.UrgentConfirmation, channel="diplomatic channel"),
        "only an urgent request is confirmed",
    )


# --- Rule 99 ------------------------------------------------------------------------------


async def test_rule99_notification_after_an_ex_parte_measure(worker) -> None:
    """Rule 99: after an ex parte measure is executed the person is notified — not before
    anything is restrained, only parties to the request; then the Chamber may revoke the
    measure on named assets, which are released (ground: revocation)."""
    req = court_request(confidentiality="ex_parte")
    handle = await worker.start(req)
    await send(handle, acknowledgement(req))
    notify = court_action(c.Rule99Notification, notified_party_ids=["p-suspect"])
    await assert_rejected(handle, worker.published, notify, "nothing is restrained yet")

    await send(handle, execution_report(req))
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], **reasons()),
        "only after the Rule 99 notification",
    )
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.Rule99Notification, notified_party_ids=["p-suspect", "p-stranger"]),
        "notified_party_ids ['p-stranger'] are not parties to the request",
    )
    assert (await send(handle, notify)).status is S.IN_EXECUTION
    v = await view(handle)
    assert v.rule99_notified_at is not None
    assert v.timeline[-1].what == "Rule 99 notification of 1 person(s)"

    # The Chamber maintains the measure: nothing changes on the ledger.
    maintained = court_action(c.Rule99Decision, outcome="maintained", **reasons())
    await send(handle, maintained)
    after = await view(handle)
    assert after.ledger == v.ledger
    assert after.timeline[-1].what == "measure maintained after Rule 99 observations"

    # Then revokes it on the account: released; the apartment stays frozen.
    count = await published_count(handle, worker.published)
    revoked = court_action(c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], **reasons())
    await send(handle, revoked)
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert (account.status, account.release_ground) == (A.RELEASED, "revocation")
    assert account.history[-1].event_id == revoked.event_id
    assert v.ledger.entries[APARTMENT].status is A.FROZEN
    assert v.totals["EUR"].released == ACCOUNT_EUR
    events = await published_since(handle, worker.published, count)
    assert [e.type for e in events] == [
        RequestEventType.COURT_ACTION,
        RequestEventType.ASSET_RELEASED,
    ]
    assert all(e.asset is None for e in events)  # ex parte: no asset data in events
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], **reasons()),
        f"asset {ACCOUNT!r} is not restrained",
    )


async def test_rule99_3_notice_after_an_order_made_without_prior_notice(worker) -> None:
    """Rule 99(2)-(3): notice is the exception (on the Chamber's finding), so any order executed
    without prior notice is notified after it, ex parte or not; once notice was given, no
    second Rule 99(3) notice is taken."""
    _, handle = await in_execution(worker)
    notice = court_action(c.Rule99Notification, notified_party_ids=["p-suspect"])
    await send(handle, notice)
    assert (await view(handle)).rule99_notified_at is not None
    again = court_action(c.Rule99Notification, notified_party_ids=["p-suspect"])
    await assert_rejected(handle, worker.published, again, "already given (Rule 99(2))")


async def test_rule99_decision_maintaining_the_measure_on_named_assets_keeps_them_frozen(
    worker,
) -> None:
    """Rule 99: a Chamber that *maintains* the measure on named assets keeps them frozen (the
    schema allows naming them); only a revocation or modification lifts the measure."""
    _, handle = await in_execution(worker, confidentiality="ex_parte")
    await send(handle, court_action(c.Rule99Notification, notified_party_ids=["p-suspect"]))
    maintained = court_action(
        c.Rule99Decision, outcome="maintained", asset_ids=[ACCOUNT], **reasons()
    )
    try:
        await send(handle, maintained)
    except Exception:
        pass
    v = await view(handle)
    assert v.ledger.entries[ACCOUNT].status is A.FROZEN
    assert v.ledger.entries[ACCOUNT].release_ground is None


async def test_only_a_chamber_rules_on_the_observations_rule99_3(worker) -> None:
    """Rule 99(3): the Chamber that ordered the measure maintains, modifies or revokes it. A
    revocation "decided" by the Registry releases nothing: refused with the reason and the rule
    (the catalog's table of powers), the asset stays frozen; a name that only starts like a
    Chamber's is no organ at all (the closed list of the Court's organs, RS 34, compared whole:
    old code matched a prefix); the Chamber's own revocation releases it."""
    _, handle = await in_execution(worker, confidentiality="ex_parte")
    await send(handle, court_action(c.Rule99Notification, notified_party_ids=["p-suspect"]))
    by_registry = court_action(
        c.Rule99Decision,
        decided_by="Registry",
        outcome="revoked",
        asset_ids=[ACCOUNT],
        **reasons(),
    )
    await assert_rejected(
        handle,
        worker.published,
        by_registry,
        "the Registry may not take rule99_decision: Rule 99(3)",
    )
    for lookalike in ("Trial Chamber's legal officer", "pre-trial chamber clerk"):
        with pytest.raises(ValidationError, match="names no organ of the Court"):
            c.Rule99Decision.model_validate(
                {**by_registry.model_dump(mode="json"), "decided_by": lookalike}
            )
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.FROZEN
    by_chamber = by_registry.model_copy(
        update={"decided_by": "Pre-Trial Chamber II", "event_id": str(uuid.uuid4())}
    )
    await send(handle, by_chamber)
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.RELEASED


# --- Review findings: nothing released or allocated without the deciding organ -----------


async def test_rule99_modification_is_recorded_and_releases_nothing(worker) -> None:
    """Rule 99(3): observations may lead to the measure being revoked *or modified*. A
    modification is not a revocation: the account stays frozen, the modified terms are
    recorded on it, and no asset is released (old code released it with ground
    'revocation'). A release is then the Court's own, explicit action."""
    _, handle = await in_execution(worker, confidentiality="ex_parte")
    await send(handle, court_action(c.Rule99Notification, notified_party_ids=["p-suspect"]))
    count = await published_count(handle, worker.published)
    terms = (
        "The freeze of the account is limited to EUR 200,000; the rest is at the holder's disposal."
    )
    modified = court_action(
        c.Rule99Decision, outcome="modified", asset_ids=[ACCOUNT], terms=terms, **reasons()
    )
    await send(handle, modified)
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert (account.status, account.release_ground) == (A.FROZEN, None)
    assert account.rule99_modifications == [terms]
    assert account.history[-1].event_id == modified.event_id
    assert terms in account.history[-1].note
    assert v.totals["EUR"].released == 0
    events = await published_since(handle, worker.published, count)
    assert [e.type for e in events] == [RequestEventType.COURT_ACTION]
    await send(handle, release(ACCOUNT, ground="revocation"))
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.RELEASED


def test_rule99_modification_states_its_terms() -> None:
    """Rule 99(3): a modified measure is recorded with its terms; only a modification has
    terms."""
    with pytest.raises(ValidationError, match="a modification states the modified terms"):
        court_action(c.Rule99Decision, outcome="modified", asset_ids=[ACCOUNT], **reasons())
    with pytest.raises(ValidationError, match="only a modification carries terms"):
        court_action(
            c.Rule99Decision, outcome="revoked", asset_ids=[ACCOUNT], terms="x", **reasons()
        )
