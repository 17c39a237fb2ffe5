"""End to end on the real stack: a request nobody answers climbs the escalation ladder under
the demo policy (the default ladder in seconds), and the whole way is visible outside the
workflow — on ``tracefreeze.escalations`` to a separate consumer, and in the search attributes
the Temporal UI filters on (docs/legal-process.md, 'Deadlines and escalation').

The worker runs here as an asyncio task against the real Temporal dev server and Kafka broker,
on a task queue and topics of this test alone. Also measured: how late each clock fires and
is delivered after the instant it fell due.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.common import TypedSearchAttributes

from schemas.court import EscalationDecision
from schemas.escalations import EscalationKind
from tests.builders import case_number, court_request
from tests.tracefreeze.e2e import DemoPolicyRun as Running
from tests.tracefreeze.e2e import Escalations, worker_on_demo_policy
from tracefreeze.config import Settings
from tracefreeze.policy import DEMO_POLICY, load_directory, load_policy
from workflows import search_attributes as sa

pytestmark = pytest.mark.stack

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
WAIT_S = 30.0
LATENESS_LIMIT_S = 5.0
K = EscalationKind


@pytest.fixture
async def running(stack: Settings) -> AsyncIterator[Running]:
    """A worker and a client of this test alone, on the demo policy in seconds."""
    async with worker_on_demo_policy(stack, "esc") as run:
        yield run


async def matching(r: Running, query: str) -> list[str]:
    """Workflow ids matching a visibility query, polled until there is one (visibility is
    eventually consistent)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            ids = [wf.id async for wf in r.client.client.list_workflows(query)]
            if ids:
                return ids
            await asyncio.sleep(0.2)


async def search_attributes(
    r: Running, workflow_id: str, ok: Callable[[TypedSearchAttributes], bool]
) -> TypedSearchAttributes:
    """The workflow's search attributes as the dev server describes them, once ``ok``."""
    handle = r.client.client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(WAIT_S):
        while True:
            attrs = (await handle.describe()).typed_search_attributes
            if ok(attrs):
                return attrs
            await asyncio.sleep(0.2)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def test_an_unanswered_request_escalates_visibly_and_on_time(running: Running) -> None:
    """Demo policy (NLD, no State overrides): acknowledgement PT4S, reminder lead PT1S,
    follow-up PT2S after the reminder, Chamber report proposed PT2S after that. Nobody
    answers: the consumer sees the reminder to the focal point (level 1), the Registry
    follow-up to the central authority (level 2) and the proposed report to the Chamber; the
    UI's search attributes say level 2 and overdue; a person decides, and it is level 3."""
    r, s = running, running.settings
    started = time.monotonic()
    request = court_request(tag="ESC", case_number=case_number())
    nld = load_directory().states["NLD"]
    demo = load_policy(DEMO_POLICY)
    watch = Escalations(s, request.reference)
    await watch.consumer.start()
    try:
        workflow_id = await r.client.submit(request)  # the configured (demo) policy
        view = await r.client.view_id(workflow_id)
        assert view.policy_version == demo.version == "demo-seconds"

        events = await watch.until(4)
        assert [(e.kind, e.step, e.level) for e in events] == [
            (K.DEADLINE_APPROACHING, None, 0),
            (K.STEP_REACHED, "reminder", 1),
            (K.STEP_REACHED, "registry_follow_up", 2),
            (K.STEP_PROPOSED, "chamber_report", 2),
        ]
        reminder, follow_up = events[1:3]
        assert reminder.addressee == nld.focal_point
        assert follow_up.addressee == nld.central_authority
        assert {e.policy_version for e in events} == {"demo-seconds"}
        assert {e.channel for e in events} == {nld.channel}
        print(f"\nsubmitted → chamber_report proposed: {time.monotonic() - started:.2f}s")

        base = f'WorkflowId = "{workflow_id}" AND CaseNumber = "{request.case_number}"'
        found = await matching(r, f"{base} AND EscalationLevel = 2 AND Overdue = true")
        assert found == [workflow_id]
        view = await r.client.view_id(workflow_id)
        assert (view.escalation_level, view.proposed_step, view.overdue) == (
            2,
            "chamber_report",
            True,
        )
        attrs = await search_attributes(r, workflow_id, lambda a: True)
        assert attrs.get(sa.ESCALATION_LEVEL) == 2 and attrs.get(sa.OVERDUE) is True
        assert attrs.get(sa.NEXT_DEADLINE) is None  # a proposal waits for a person

        decision = EscalationDecision(
            event_id=str(uuid.uuid4()),
            decided_by="Pre-Trial Chamber II",
            decided_at=datetime.now(UTC),
            step="chamber_report",
            proceed=True,
            reasons="The State has not answered; the Chamber is seized of the matter.",
        )
        receipt = await r.client.act(workflow_id, decision)
        assert not receipt.duplicate
        reached = (await watch.until(5))[4]
        assert (reached.kind, reached.step, reached.level) == (K.STEP_REACHED, "chamber_report", 3)
        assert reached.caused_by == decision.event_id and reached.addressee == "Chamber"
        found = await matching(r, f"{base} AND EscalationLevel = 3 AND Overdue = true")
        assert found == [workflow_id]
        attrs = await search_attributes(r, workflow_id, lambda a: a.get(sa.ESCALATION_LEVEL) == 3)
        # Next: the finding is proposed when the Chamber's order period (PT3S) has run.
        order_period = demo.ladder[request.urgency].chamber_order_period
        next_deadline = attrs.get(sa.NEXT_DEADLINE)
        assert next_deadline is not None
        assert abs(next_deadline - (reached.time + order_period)) < timedelta(milliseconds=10)

        finding = (await watch.until(6))[5]
        assert (finding.kind, finding.step) == (K.STEP_PROPOSED, "non_compliance_finding")
        delivered = watch.seen[:4] + watch.seen[5:6]
    finally:
        await watch.consumer.stop()

    # Lateness: when each clock fired (event time) and reached Kafka (record timestamp),
    # after the instant it fell due (its deadline; for the approach, deadline - lead).
    lead = demo.ladder[request.urgency].reminder_lead
    rows = []
    for d in delivered:
        assert d.event.deadline is not None, d.event
        due = d.event.deadline - (lead if d.event.kind is K.DEADLINE_APPROACHING else timedelta(0))
        fired = (d.event.time - due).total_seconds()
        arrived = (d.at - due).total_seconds()
        rows.append((d.event.step or d.event.kind.value, fired, arrived))
    print("escalation lateness after the due instant (fired = event time, kafka = record time):")
    for step, fired, arrived in rows:
        print(f"  {step:<24} fired {fired * 1000:8.1f} ms   kafka {arrived * 1000:8.1f} ms")
    fired_all = [f for _, f, _ in rows]
    kafka_all = [a for _, _, a in rows]
    for name, values in (("fired", fired_all), ("kafka", kafka_all)):
        print(
            f"  {name}: p50 {percentile(values, 50) * 1000:.1f} ms, "
            f"p99 {percentile(values, 99) * 1000:.1f} ms (n={len(values)})"
        )
    assert min(fired_all) >= -0.05, "a clock fired before it was due"
    assert percentile(fired_all, 99) < LATENESS_LIMIT_S
    assert percentile(kafka_all, 99) < LATENESS_LIMIT_S
    print(f"test took {time.monotonic() - started:.2f}s")
