"""End to end on the real stack: one act releases a whole case after an acquittal (RS 74,
81(3)(c)), in two States and an international organisation (RS 87(6)); before it, the case
proposes releases to the Chamber when what it secures exceeds the amount to secure.

The Court opens one case against the Netherlands, Belgium and INTERPOL (XIP). Each party
acknowledges and freezes an account, its answers signed and sent over Kafka through the
bridge. The Trial Chamber's acquittal is recorded on the case (``tracefreeze case judgment``)
and one Chamber act releases the case (``tracefreeze case release``): each request takes the
release through its own rules, its party reads the release decision on its own channel, the
case closes each request once its account is released, and its report holds nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from temporalio.client import WorkflowExecutionStatus

from schemas import court as c
from schemas.case import CaseOrder, ReleaseCase, SecureAmount
from schemas.common import Money
from schemas.escalations import EscalationKind
from schemas.ledger import AssetStatus, RequestStatus
from schemas.party import PartyMessageType
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.builders import acknowledgement, court_action, execution_report, frozen_at, now
from tests.tracefreeze.case_e2e import answer, fresh_order, until
from tests.tracefreeze.e2e import Escalations, Running, isolated, on_channel, worker_and_bridge
from tracefreeze.case_client import CaseClient
from tracefreeze.case_status import render_judgment_and_release
from tracefreeze.cli.main import main
from tracefreeze.config import Settings
from tracefreeze.demo.keys import ensure_demo_keys
from tracefreeze.policy import load_policy

pytestmark = pytest.mark.stack

PARTIES = ("NLD", "BEL", "XIP")
ASSET = {"NLD": "a-account-1", "BEL": "a-account-be-1", "XIP": "a-account-1"}
AMOUNT = {"NLD": "398214.37", "BEL": "50000.00", "XIP": "12500.00"}


def three_party_order() -> CaseOrder:
    """The example order (NLD, BEL) with a third request, to INTERPOL (RS 87(6))."""
    order = fresh_order()
    nld = next(q for q in order.requests if q.requested_state == "NLD")
    xip = CourtRequest.model_validate(
        {
            **nld.model_dump(mode="json"),
            "reference": nld.reference.replace("REQ", "REQX"),
            "requested_state": "XIP",
        }
    )
    return CaseOrder.model_validate(
        {
            **order.model_dump(mode="json"),
            "requests": [*order.model_dump(mode="json")["requests"], xip.model_dump(mode="json")],
        }
    )


@pytest.fixture
async def running(stack: Settings) -> AsyncIterator[Running]:
    """Worker and bridge of this test alone; the organisation's demo key is in the registry
    before the bridge loads it (XIP signs its answers too)."""
    settings = isolated(stack)
    ensure_demo_keys(settings.state_dir, ["XIP"])
    async with worker_and_bridge(settings) as r:
        yield r


async def test_rs74_acquittal_releases_a_case_in_two_states_and_an_organisation_over_kafka(
    running: Running,
) -> None:
    r, s = running, running.settings
    cases = CaseClient(r.client.client, s)
    order = three_party_order()
    by_party = {q.requested_state: q for q in order.requests}
    await cases.open_case(  # RS 87(6): the freeze is a form of cooperation agreed with XIP
        order,
        override_by="Registrar",
        override_reason="The cooperation agreed with INTERPOL covers the freezing of assets",
    )

    def view_of(request: CourtRequest) -> Callable[[], Awaitable[RequestView]]:
        return lambda: r.client.view_id(request.workflow_id)

    for party in PARTIES:  # each party answers over Kafka, signed, through the bridge
        request = by_party[party]
        await until(view_of(request), lambda v: v.status is RequestStatus.TRANSMITTED, "start")
        await answer(r, acknowledgement(request, sent_at=now()))
        frozen = frozen_at({ASSET[party]: AMOUNT[party]}, "identify", "freeze")
        await answer(r, execution_report(request, frozen, final=True, sent_at=now()))
    await until(
        lambda: cases.case_view(order.order_reference),
        lambda v: all(v.party(p).held.get(ASSET[p]) is AssetStatus.FROZEN for p in PARTIES),
        "the case learns each party froze its account",
    )

    # Proportionality across parties: EUR 460,714.37 secured against EUR 100,000 to secure is
    # over the policy's margin: releases are proposed to the Chamber, inside the Court.
    watch = Escalations(s, by_party["NLD"].reference)
    await watch.consumer.start()
    try:
        to_secure = court_action(
            SecureAmount,
            decided_by="trial_chamber",
            decided_at=now(),
            basis="estimated_reparations_liability",
            amount=Money(amount=Decimal("100000.00"), currency="EUR"),
            margin=Decimal(0),  # the client sets the policy's
        )
        secured = await cases.secure_amount(order.order_reference, to_secure)
        [proposal] = await watch.until(1)
    finally:
        await watch.consumer.stop()
    p = secured.proportionality
    assert p is not None and p.over_secured and p.counted == Decimal("460714.37")
    assert p.to_secure.margin == load_policy(s.policy_file).proportionality_margin
    assert proposal.kind is EscalationKind.RELEASES_PROPOSED and proposal.basis is not None
    assert "EUR 460714.37 secured across the case" in proposal.basis

    acquittal = court_action(
        c.Judgment,
        decided_at=now(),
        judgment_reference=f"{order.case_number}-T-J-1",
        outcome="acquittal",
        delivered_on=date.today(),
        finality="final",
    )
    await cases.record_judgment(order.order_reference, acquittal)
    act = court_action(
        ReleaseCase,
        decided_by="trial_chamber",
        decided_at=now(),
        judgment_reference=acquittal.judgment_reference,
        reasons="The accused is acquitted (RS 74); the protective measures have no object.",
    )
    view = await cases.release_case(order.order_reference, act)
    assert view.release is not None and not view.release.complete
    final = await until(
        lambda: cases.case_view(order.order_reference),
        lambda v: v.release is not None and v.release.complete,
        "every request released and closed",
    )
    assert final.release is not None
    assert final.release.held == [] and final.release.not_closed == []
    assert {r.outcome for r in final.release.requests.values()} == {"taken"}
    assert final.party_statuses() == dict.fromkeys(PARTIES, RequestStatus.CLOSED)
    assert "case release (acquittal" in render_judgment_and_release(final)

    for party in PARTIES:
        request = by_party[party]
        handle = r.client.client.get_workflow_handle(request.workflow_id)
        # The request ended: no deadline, no reminder, no ladder runs on. Its close reaches
        # the case before its last publishing round is done; the run ends after that round.
        ended = await until(
            handle.describe,
            lambda d: d.status is not WorkflowExecutionStatus.RUNNING,
            f"{party}'s request to end",
        )
        assert ended.status is WorkflowExecutionStatus.COMPLETED
        ledger = (await r.client.view_id(request.workflow_id)).ledger
        assert ledger.entries[ASSET[party]].status is AssetStatus.RELEASED
        # On its own channel: the request, the judgment, the release of its account, the close.
        channel = await on_channel(s, party, request.reference, 4)
        decisions = [m.decision for m in channel if m.type is PartyMessageType.DECISION]
        assert [d.action for d in decisions if d is not None] == [
            "judgment",
            "case_release",
            "close",
        ]
        release = decisions[1]
        assert release is not None
        assert [(a.asset_id, a.status) for a in release.assets] == [
            (ASSET[party], AssetStatus.RELEASED)
        ]


async def _cli(*args: str) -> str:
    """``tracefreeze ARGS`` as a Registry officer types it (its own event loop, a thread)."""
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


async def test_cli_records_the_judgment_releases_the_case_and_shows_what_is_held(
    running: Running,
) -> None:
    """RS 61, 74, 77(2)(a): ``tracefreeze case secure``, ``case judgment``, ``case release``
    and ``case status`` against a running case: the amount over the margin, the termination
    recorded, the case released, and the status showing the judgment and the release."""
    r = running
    cases = CaseClient(r.client.client, r.settings)
    order = fresh_order()
    await cases.open_case(order)
    nld = next(q for q in order.requests if q.requested_state == "NLD")
    await until(
        lambda: r.client.view_id(nld.workflow_id),
        lambda v: v.status is RequestStatus.TRANSMITTED,
        "start",
    )
    await answer(r, acknowledgement(nld, sent_at=now()))
    frozen = frozen_at({"a-account-1": "398214.37"}, "identify", "freeze")
    await answer(r, execution_report(nld, frozen, final=True, sent_at=now()))
    await until(
        lambda: cases.case_view(order.order_reference),
        lambda v: v.party("NLD").secured.get("EUR") is not None,
        "the case learns NLD froze its account",
    )
    ref = order.order_reference
    out = await _cli(
        "case", "secure", ref, "--basis", "fine", "--amount", "100000.00",
        "--currency", "EUR", "--by", "trial_chamber",
    )  # fmt: skip
    assert "over the margin: releases proposed" in out
    judgment = f"{order.case_number}-J-CLI"
    out = await _cli(
        "case", "judgment", ref, "--reference", judgment, "--outcome", "termination",
        "--cause", "death", "--chamber", "trial_chamber",
        "--delivered-on", date.today().isoformat(), "--finality", "final",
    )  # fmt: skip
    assert f"judgment {judgment} (termination) recorded" in out
    out = await _cli(
        "case", "release", ref, "--judgment", judgment, "--chamber", "trial_chamber",
        "--reasons", "The accused died: the proceedings are terminated.",
    )  # fmt: skip
    assert f"released on {judgment}" in out
    await until(
        lambda: cases.case_view(ref),
        lambda v: v.release is not None and v.release.complete,
        "the case released and every request closed",
    )
    out = await _cli("case", "status", ref)
    assert f"judgment in force: {judgment}, termination (death)" in out
    assert "case release (termination" in out and "complete" in out
