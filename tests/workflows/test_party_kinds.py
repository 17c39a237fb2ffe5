"""Each kind of requested party climbs its own escalation ladder to its own end, on the
time-skipping test server (docs/legal-process.md, 'Who is asked' and 'Deadlines and
escalation'); the situation register (RS 13) decides where a referral may go.

- State Party (Part 9): the ladder proposes an RS 87(7) finding and referral;
- non-State Party with an ad hoc arrangement (RS 87(5)(a)): it ends in RS 87(5)(b), the Court
  informing the Assembly (or the Council where it referred the matter), never RS 87(7);
- non-State Party without an arrangement (RS 87(5)(a)): reminders and a report to the Chamber;
- a State bound by a Security Council resolution (RS 13(b)): the Court informs the Council;
- an international organisation (RS 87(6)): reminders, a consultation, a report to the Chamber.

The kind in force on the transmission date governs, and is recorded in the request at start.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.court import EscalationDecision
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.policy import PartyKind, ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import RequestView
from tests.workflows.support import (
    PublishRecorder,
    assert_rejected,
    court_action,
    court_request,
    reasons,
    send,
    settle,
    start_env,
    start_request,
    wait_for_events,
)
from tracefreeze.policy import load_directory, load_policy, load_situations, resolve
from workflows import search_attributes as sa
from workflows.request import RequestWorkflow

K = EscalationKind
Handle = WorkflowHandle[RequestWorkflow, RequestView]
Referral = Callable[[str], str | None]


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_env()
    try:
        yield env
    finally:
        await env.shutdown()


class Parties:
    def __init__(self, env: WorkflowEnvironment, task_queue: str, published: PublishRecorder):
        self.env, self.task_queue, self.published = env, task_queue, published
        self.handles: list[Handle] = []

    async def start(self, request: CourtRequest, policy: ResolvedPolicy | None = None) -> Handle:
        policy = policy or resolve(load_policy(), load_directory(), request)
        handle = await start_request(self.env.client, self.task_queue, request, policy=policy)
        self.handles.append(handle)
        await wait_for_events(self.published, request.reference, 1)
        return handle

    def events(self, request: CourtRequest) -> list[EscalationEvent]:
        return self.published.escalations(request.reference)

    async def until_proposed(self, handle: Handle, request: CourtRequest, step: str) -> None:
        """Nobody answers; each step proposed before ``step`` is decided (proceed, no
        referral), until ``step`` is proposed."""
        for _ in range(30):
            v = await handle.query(RequestWorkflow.view)
            if v.proposed_step == step:
                return
            if v.proposed_step is not None:
                await send(handle, decision(v.proposed_step))
                await settle(handle)
                continue
            assert v.next_deadline is not None, steps(self.events(request))
            await self.pass_until(handle, v.next_deadline)
        raise AssertionError(f"{step} never proposed: {steps(self.events(request))}")

    async def pass_until(self, handle: Handle, at: datetime) -> None:
        now = await self.env.get_current_time()
        if at > now:
            await self.env.sleep(at - now + timedelta(minutes=1))
        await settle(handle)

    async def climb(self, handle: Handle, request: CourtRequest, referral: Referral) -> RequestView:
        """Nobody answers: policy time passes clock by clock, and each proposed step is
        decided (proceed, with ``referral(step)``), until the ladder has nowhere to go."""
        for _ in range(30):
            v = await handle.query(RequestWorkflow.view)
            if v.proposed_step is not None:
                step = v.proposed_step
                await send(handle, decision(step, referral_to=referral(step)))
                await settle(handle)
                continue
            if v.next_deadline is None:
                return v
            await self.pass_until(handle, v.next_deadline)
        raise AssertionError(f"the ladder never ended: {steps(self.events(request))}")


@pytest.fixture
async def parties(env: WorkflowEnvironment) -> AsyncIterator[Parties]:
    published = PublishRecorder()
    task_queue = f"party-kinds-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[RequestWorkflow],
        activities=published.activities,
    ):
        running = Parties(env, task_queue, published)
        yield running
        for handle in running.handles:
            with contextlib.suppress(RPCError):
                await handle.terminate("end of test")


def decision(step: str, proceed: bool = True, **fields: object) -> EscalationDecision:
    return court_action(EscalationDecision, step=step, proceed=proceed, **reasons(**fields))


def steps(events: list[EscalationEvent]) -> list[tuple[str, str | None, int]]:
    return [(e.kind.value, e.step, e.level) for e in events if e.step]


def ladder_steps(events: list[EscalationEvent]) -> list[str]:
    """The steps reached or proposed, in order (a proposal and its decision count once)."""
    out: list[str] = []
    for e in events:
        if e.step and e.kind in (K.STEP_REACHED, K.STEP_PROPOSED) and e.step not in out:
            out.append(e.step)
    return out


def proposal(events: list[EscalationEvent], step: str) -> EscalationEvent:
    return next(e for e in events if e.kind is K.STEP_PROPOSED and e.step == step)


def never_refers_to_council(step: str) -> str | None:
    return "assembly" if step in ("non_compliance_finding", "inform_assembly_or_council") else None


# --- A State Party: RS 87(7) ------------------------------------------------------------------


async def test_a_state_party_ladder_proposes_an_rs_87_7_finding(parties: Parties) -> None:
    """NLD, a State Party, in ICC-01/22 (a State referral, RS 13(a)): after the report to the
    Chamber the ladder proposes an RS 87(7) finding whose referral goes to the Assembly only;
    a referral to the Security Council is refused, citing RS 87(5)(b)/87(7)."""
    req = court_request(requested_state="NLD")
    handle = await parties.start(req)

    await parties.until_proposed(handle, req, "non_compliance_finding")
    finding = proposal(parties.events(req), "non_compliance_finding")
    assert (finding.party_kind, finding.level) == ("state_party", 3)
    assert finding.basis is not None and "RS 87(7)" in finding.basis
    assert finding.referral_targets == ("assembly",)
    await assert_rejected(
        handle,
        parties.published,
        decision("non_compliance_finding", referral_to="security_council"),
        "the Council did not refer ICC-01/22 (RS 13(b))",
    )
    await send(handle, decision("non_compliance_finding", referral_to="assembly"))
    await settle(handle)
    v = await handle.query(RequestWorkflow.view)
    assert (v.escalation_step, v.escalation_level, v.party_kind) == (
        "non_compliance_finding",
        4,
        "state_party",
    )


async def test_a_state_party_in_a_council_referred_situation_may_be_referred_to_the_council(
    parties: Parties,
) -> None:
    """ICC-02/05 was referred by the Security Council (S/RES/1593 (2005), RS 13(b)): an RS
    87(7) finding against a State Party may go to the Council, and the proposal says so."""
    req = court_request(requested_state="NLD", case_number="ICC-02/05-01/09")
    handle = await parties.start(req)
    end = await parties.climb(
        handle,
        req,
        lambda s: "security_council" if s == "non_compliance_finding" else None,
    )
    events = parties.events(req)
    assert proposal(events, "non_compliance_finding").referral_targets == (
        "assembly",
        "security_council",
    )
    found = [t.what for t in end.timeline if "non_compliance_finding decided" in t.what]
    assert found and found[0].endswith(", referred to the Security Council (RS 87(7))")
    assert end.escalation_step == "report_to_plenary" and end.escalation_level == 5


# --- A non-State Party with an arrangement: RS 87(5)(b), never 87(7) -----------------------------


async def test_a_non_state_party_with_an_arrangement_ends_in_rs_87_5_b_never_87_7(
    parties: Parties,
) -> None:
    """QMA has an ad hoc arrangement (RS 87(5)(a)): its ladder ends with the Court informing
    the Assembly (RS 87(5)(b)); no RS 87(7) finding is ever proposed, nor any Assembly
    procedure step; the Council is not an option in a situation it did not refer."""
    req = court_request(requested_state="QMA")
    handle = await parties.start(req)
    end = await parties.climb(handle, req, never_refers_to_council)
    events = parties.events(req)
    assert ladder_steps(events) == [
        "reminder",
        "registry_follow_up",
        "chamber_report",
        "inform_assembly_or_council",
    ]
    assert all(e.step != "non_compliance_finding" for e in events)
    assert all("87(7)" not in (e.basis or "") or "87(5)(b)" in (e.basis or "") for e in events)
    # RS 87(5)(b) informs the Assembly; it refers nothing (that is RS 87(7)'s word).
    informed = [t.what for t in end.timeline if "inform_assembly_or_council decided" in t.what]
    assert len(informed) == 1 and informed[0].endswith(", the Assembly informed (RS 87(5)(b))")
    assert "referred to the" not in informed[0] and "referral to the" not in informed[0]
    inform = proposal(events, "inform_assembly_or_council")
    assert inform.party_kind == "non_state_party_arrangement"
    assert inform.basis is not None and inform.basis.startswith("RS 87(5)(b)")
    assert inform.referral_targets == ("assembly",)
    assert (end.escalation_step, end.escalation_level, end.next_deadline) == (
        "inform_assembly_or_council",
        4,
        None,
    )
    assert end.proposed_step is None


async def test_informing_the_council_of_an_arrangement_failure_is_refused_where_it_did_not_refer(
    parties: Parties,
) -> None:
    """RS 87(5)(b): the Council is informed only 'where the Security Council referred the
    matter'; ICC-01/22 reached the Court by a State referral (RS 13(a))."""
    req = court_request(requested_state="QMA")
    handle = await parties.start(req)
    await parties.until_proposed(handle, req, "inform_assembly_or_council")
    await assert_rejected(
        handle,
        parties.published,
        decision("inform_assembly_or_council", referral_to="security_council"),
        "RS 87(5)(b), 87(7)",
    )
    await assert_rejected(
        handle,
        parties.published,
        decision("inform_assembly_or_council"),
        "referral_to: RS 87(5)(b)",
    )


# --- A non-State Party without an arrangement: no compulsion -----------------------------------


async def test_a_non_state_party_without_an_arrangement_ends_with_the_chamber_no_finding(
    parties: Parties,
) -> None:
    """QMB has no arrangement: the request invites one (RS 87(5)(a)); nothing compels it, so
    the ladder ends in reminders and a report to the Chamber — no finding, no referral."""
    req = court_request(requested_state="QMB")
    handle = await parties.start(req)
    await parties.until_proposed(handle, req, "chamber_report")
    await assert_rejected(
        handle,
        parties.published,
        decision("chamber_report", referral_to="assembly"),
        "chamber_report refers nothing to anyone",
    )
    end = await parties.climb(handle, req, lambda _: None)
    events = parties.events(req)
    assert ladder_steps(events) == ["reminder", "registry_follow_up", "chamber_report"]
    assert all(e.referral_targets == () for e in events)
    assert max(e.level for e in events) == 3
    # RS 87(5)(a): no arrangement binds QMB, so the Chamber cannot order it to report.
    report = proposal(events, "chamber_report")
    assert report.basis is not None and report.basis.startswith("RS 87(5)(a)")
    assert "for information; no order, no finding" in report.basis
    assert "may order" not in report.basis
    assert (end.escalation_step, end.next_deadline, end.party_kind) == (
        "chamber_report",
        None,
        "non_state_party",
    )


# --- A State bound by a Security Council resolution: the Council ------------------------------


async def test_a_state_bound_by_a_council_resolution_ends_in_informing_the_council(
    parties: Parties,
) -> None:
    """SDN, not party to the Statute, is obliged to cooperate by S/RES/1593 (2005) in the
    situation the Council referred (ICC-02/05, RS 13(b)): the Court informs the Council, and
    only the Council (the Assembly is refused)."""
    req = court_request(requested_state="SDN", case_number="ICC-02/05-01/09")
    policy = resolve(load_policy(), load_directory(), req)
    assert policy.party_kind is PartyKind.SECURITY_COUNCIL_BOUND
    assert policy.situation is not None and policy.situation.resolution == "S/RES/1593 (2005)"
    handle = await parties.start(req, policy)
    await parties.until_proposed(handle, req, "inform_security_council")
    await assert_rejected(
        handle,
        parties.published,
        decision("inform_security_council", referral_to="assembly"),
        "security_council only",
    )
    end = await parties.climb(handle, req, lambda _: "security_council")
    events = parties.events(req)
    assert ladder_steps(events)[-1] == "inform_security_council"
    inform = proposal(events, "inform_security_council")
    assert inform.referral_targets == ("security_council",)
    # RS 13(b) and the resolution, nothing else: RS 87(5)(b) needs an arrangement and RS 87(7)
    # concerns States Parties.
    assert inform.basis is not None and inform.basis.startswith("RS 13(b) and the Council's")
    assert "87(5)" not in inform.basis and "87(7)" not in inform.basis
    assert all(e.step != "non_compliance_finding" for e in events)
    assert (end.escalation_step, end.next_deadline) == ("inform_security_council", None)
    assert end.timeline[-1].what.endswith(", the Security Council informed (RS 13(b))")


async def test_an_arrangement_party_a_resolution_binds_keeps_the_assembly_rs_87_5_b(
    parties: Parties,
) -> None:
    """QMA has an ad hoc arrangement (RS 87(5)(a)); a Council resolution (RS 13(b)) that also
    obliges it does not make it a merely Council-bound State: RS 87(5)(b) lets the Court
    inform the Assembly or, the Council having referred the matter, the Council."""
    register = load_situations().model_copy(deep=True)
    darfur = register.situations["ICC-02/05"].model_copy(update={"bound_states": ("SDN", "QMA")})
    register = register.model_copy(update={"situations": {"ICC-02/05": darfur}})
    req = court_request(requested_state="QMA", case_number="ICC-02/05-01/09")
    policy = resolve(load_policy(), load_directory(), req, register)
    assert policy.party_kind is PartyKind.NON_STATE_PARTY_ARRANGEMENT
    handle = await parties.start(req, policy)
    end = await parties.climb(handle, req, lambda s: "assembly" if s.startswith("inform") else None)
    events = parties.events(req)
    assert ladder_steps(events)[-1] == "inform_assembly_or_council"
    inform = proposal(events, "inform_assembly_or_council")
    assert inform.referral_targets == ("assembly", "security_council")
    assert inform.basis is not None and inform.basis.startswith("RS 87(5)(b)")
    assert (end.escalation_step, end.party_kind) == (
        "inform_assembly_or_council",
        "non_state_party_arrangement",
    )


# --- An international organisation: RS 87(6) --------------------------------------------------


async def test_an_international_organisation_ends_in_rs_87_6_consultation_and_chamber(
    parties: Parties,
) -> None:
    """XIP (INTERPOL, RS 87(6)): reminders, a consultation on the cooperation agreed with it,
    a report to the Chamber; no finding, no referral. Its kind and situation are search
    attributes (never its name)."""
    req = court_request(requested_state="XIP", measures=["identify", "trace"])
    handle = await parties.start(req)
    await settle(handle)
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(sa.PARTY_KIND) == "international_organisation"
    assert attrs.get(sa.SITUATION) == "ICC-01/22"
    end = await parties.climb(handle, req, lambda _: None)
    events = parties.events(req)
    assert ladder_steps(events) == [
        "reminder",
        "registry_follow_up",
        "organisation_consultation",
        "chamber_report",
    ]
    consultation = next(e for e in events if e.step == "organisation_consultation")
    assert consultation.basis is not None and consultation.basis.startswith("RS 87(6)")
    # Addressed to the organisation's office the directory names, not a generic role.
    assert consultation.addressee == load_directory().states["XIP"].central_authority
    assert {e.party_kind for e in events} == {"international_organisation"}
    assert all(e.referral_targets == () for e in events)
    # RS 87(6): the Chamber cannot order an organisation to report.
    report = proposal(events, "chamber_report")
    assert report.basis is not None and report.basis.startswith("RS 87(6)")
    assert "for information; no order, no finding" in report.basis
    assert "may order" not in report.basis
    assert (end.escalation_step, end.next_deadline) == ("chamber_report", None)


# --- The kind in force on the transmission date ------------------------------------------------


async def test_the_kind_in_force_on_the_transmission_date_governs_the_ladder(
    parties: Parties,
) -> None:
    """UKR: a non-State Party that lodged RS 12(3) declarations (from 17 April 2014), which
    oblige it to cooperate "in accordance with Part 9", until its ratification took effect on
    1 January 2025 (RS 126(2)). A declarant is taken, conservatively, as an arrangement party:
    a request transmitted in 2024 ends in RS 87(5)(b), never an RS 87(7) finding, though the
    directory now says State Party: the kind is recorded at start."""
    req = court_request(requested_state="UKR")
    on = [datetime(2014, 4, 16, tzinfo=UTC), datetime(2014, 4, 17, tzinfo=UTC)]
    on += [datetime(2024, 6, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)]
    kinds = [resolve(load_policy(), load_directory(), req, at=t).party_kind for t in on]
    assert kinds == [
        PartyKind.NON_STATE_PARTY,
        PartyKind.NON_STATE_PARTY_ARRANGEMENT,
        PartyKind.NON_STATE_PARTY_ARRANGEMENT,
        PartyKind.STATE_PARTY,
    ]
    before = resolve(load_policy(), load_directory(), req, at=on[2])
    handle = await parties.start(req, before)
    end = await parties.climb(handle, req, never_refers_to_council)
    events = parties.events(req)
    assert ladder_steps(events) == [
        "reminder",
        "registry_follow_up",
        "chamber_report",
        "inform_assembly_or_council",
    ]
    assert all(e.step != "non_compliance_finding" for e in events)
    inform = proposal(events, "inform_assembly_or_council")
    assert inform.basis is not None and inform.basis.startswith("RS 87(5)(b)")
    assert (end.escalation_step, end.party_kind) == (
        "inform_assembly_or_council",
        "non_state_party_arrangement",
    )


def test_an_arrangement_counts_from_its_date_and_an_unknown_party_is_never_compelled() -> None:
    """QMA's arrangement (RS 87(5)(a)) from 1 March 2024: before it, a non-State Party
    without one. A party the directory does not know is taken, conservatively, as a
    non-State Party without an arrangement: no finding can be proposed against it."""
    qma = court_request(requested_state="QMA")
    on = [datetime(2024, 2, 29, 23, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)]
    kinds = [resolve(load_policy(), load_directory(), qma, at=t).party_kind for t in on]
    assert kinds == [PartyKind.NON_STATE_PARTY, PartyKind.NON_STATE_PARTY_ARRANGEMENT]
    unknown = court_request(requested_state="ZZZ")
    assert resolve(load_policy(), load_directory(), unknown).party_kind is PartyKind.NON_STATE_PARTY
