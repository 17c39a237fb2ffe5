"""End to end on the real stack (Temporal dev server, Kafka broker): a request to an
international organisation (RS 87(6)) and one to a non-State Party with an ad hoc
arrangement (RS 87(5)(a)) are left unanswered under the demo policy (the ladder in seconds),
and each climbs its own ladder to its own end, seen on ``tracefreeze.escalations`` by a
separate consumer and in the search attributes (docs/legal-process.md, 'Who is asked').

- XIP (INTERPOL): reminder, Registry follow-up, a consultation on the cooperation agreed
  (RS 87(6)), a report to the Chamber — and nothing after it: no finding, no referral.
- QMA (arrangement): reminder, follow-up, report to the Chamber, then the Court may inform
  the Assembly (RS 87(5)(b)); never an RS 87(7) finding; the Security Council is refused, as
  it did not refer the situation (ICC-01/22).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from schemas.court import EscalationDecision
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.views import RequestView
from tests.builders import case_number, court_request
from tests.tracefreeze.e2e import DemoPolicyRun as Running
from tests.tracefreeze.e2e import Escalations, on_channel, worker_on_demo_policy
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import load_directory

pytestmark = pytest.mark.stack

WAIT_S = 30.0
K = EscalationKind


@pytest.fixture
async def running(stack: Settings) -> AsyncIterator[Running]:
    """A worker and a client of this test alone, on the demo policy in seconds."""
    async with worker_on_demo_policy(stack, "kinds") as run:
        yield run


async def matching(r: Running, query: str) -> list[str]:
    """Workflow ids matching a visibility query, polled until there is one."""
    async with asyncio.timeout(WAIT_S):
        while True:
            ids = [wf.id async for wf in r.client.client.list_workflows(query)]
            if ids:
                return ids
            await asyncio.sleep(0.2)


def decision(step: str, referral_to: str | None = None) -> EscalationDecision:
    return EscalationDecision(
        event_id=str(uuid.uuid4()),
        decided_by="Pre-Trial Chamber II",
        decided_at=datetime.now(UTC),
        step=step,
        proceed=True,
        referral_to=referral_to,  # type: ignore[arg-type]
        reasons="The party has not answered; the Chamber is seized of the matter.",
    )


def rungs(events: list[EscalationEvent]) -> list[tuple[str, str | None, int]]:
    return [(e.kind.value, e.step, e.level) for e in events]


async def at_rest(r: Running, workflow_id: str) -> RequestView:
    """The request's view once its last decided step is recorded."""
    return await r.client.view_id(workflow_id)


async def test_a_request_to_an_international_organisation_ends_in_rs_87_6(
    running: Running,
) -> None:
    r, s = running, running.settings
    request = court_request(
        tag="XIP", requested_state="XIP", measures=["identify", "trace"], case_number=case_number()
    )
    xip = load_directory().states["XIP"]
    watch = Escalations(s, request.reference)
    await watch.consumer.start()
    try:
        workflow_id = await r.client.submit(request)
        found = await matching(
            r, f'WorkflowId = "{workflow_id}" AND PartyKind = "international_organisation"'
        )
        assert found == [workflow_id]
        events = await watch.until(5)
        assert rungs(events) == [
            ("deadline_approaching", None, 0),
            ("step_reached", "reminder", 1),
            ("step_reached", "registry_follow_up", 2),
            ("step_reached", "organisation_consultation", 2),
            ("step_proposed", "chamber_report", 2),
        ]
        assert {e.party_kind for e in events} == {"international_organisation"}
        consultation = events[3]
        assert consultation.basis is not None and consultation.basis.startswith("RS 87(6)")
        assert consultation.addressee == xip.central_authority
        assert events[1].addressee == xip.focal_point
        # The organisation reads its request, the reminder, the note and the consultation
        # on its own channel (RS 87(6)); the proposal to the Chamber stays inside the Court.
        channel = await on_channel(s, "XIP", request.reference, 5)
        assert [m.reminder.step or m.reminder.kind for m in channel[1:] if m.reminder] == [
            "deadline_approaching",
            "reminder",
            "registry_follow_up",
            "organisation_consultation",
        ]

        await r.client.act(workflow_id, decision("chamber_report"))
        reached = (await watch.until(6))[5]
        assert (reached.kind, reached.step, reached.level) == (K.STEP_REACHED, "chamber_report", 3)
        view = await at_rest(r, workflow_id)
        # The end of an organisation's ladder: nothing further is proposed or due.
        assert (view.escalation_step, view.proposed_step, view.next_deadline) == (
            "chamber_report",
            None,
            None,
        )
        assert view.party_kind == "international_organisation"
        assert all(e.step not in ("non_compliance_finding",) for e in watch.events)
    finally:
        await watch.consumer.stop()


async def test_a_request_to_a_non_state_party_with_an_arrangement_ends_in_rs_87_5_b(
    running: Running,
) -> None:
    r, s = running, running.settings
    request = court_request(tag="QMA", requested_state="QMA")  # in ICC-01/22: a State referral
    watch = Escalations(s, request.reference)
    await watch.consumer.start()
    try:
        workflow_id = await r.client.submit(request)
        found = await matching(
            r,
            f'WorkflowId = "{workflow_id}" AND PartyKind = "non_state_party_arrangement" '
            'AND Situation = "ICC-01/22"',
        )
        assert found == [workflow_id]
        events = await watch.until(4)
        assert rungs(events) == [
            ("deadline_approaching", None, 0),
            ("step_reached", "reminder", 1),
            ("step_reached", "registry_follow_up", 2),
            ("step_proposed", "chamber_report", 2),
        ]
        await r.client.act(workflow_id, decision("chamber_report"))
        events = await watch.until(6)
        assert rungs(events[4:6]) == [
            ("step_reached", "chamber_report", 3),
            ("step_proposed", "inform_assembly_or_council", 3),
        ]
        proposed = events[5]
        assert proposed.basis is not None and proposed.basis.startswith("RS 87(5)(b)")
        assert proposed.referral_targets == ("assembly",)
        with pytest.raises(TracefreezeError, match=r"RS 87\(5\)\(b\), 87\(7\)"):
            await r.client.act(
                workflow_id, decision("inform_assembly_or_council", "security_council")
            )
        await r.client.act(workflow_id, decision("inform_assembly_or_council", "assembly"))
        reached = (await watch.until(7))[6]
        assert (reached.kind, reached.step, reached.level) == (
            K.STEP_REACHED,
            "inform_assembly_or_council",
            4,
        )
        view = await at_rest(r, workflow_id)
        assert (view.escalation_step, view.proposed_step, view.next_deadline) == (
            "inform_assembly_or_council",
            None,
            None,
        )
        assert all(e.step != "non_compliance_finding" for e in watch.events)
        assert {e.party_kind for e in watch.events} == {"non_state_party_arrangement"}
    finally:
        await watch.consumer.stop()
