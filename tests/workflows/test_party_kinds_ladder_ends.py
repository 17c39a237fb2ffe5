"""Each kind of requested party climbs its own escalation ladder to its own end, on the
time-skipping test server (docs/legal-process.md, 'Who is asked' and 'Deadlines and
escalation'):

- State Party (Part 9): the ladder proposes an RS 87(7) finding and referral;
- non-State Party with an ad hoc arrangement (RS 87(5)(a)): it ends in RS 87(5)(b), the Court
  informing the Assembly (or the Council where it referred the matter), never RS 87(7);
- non-State Party without an arrangement (RS 87(5)(a)): reminders and a report to the Chamber;
- a State bound by a Security Council resolution (RS 13(b)): the Court informs the Council;
- an international organisation (RS 87(6)): reminders, a consultation, a report to the Chamber.
"""

from __future__ import annotations

import pytest

from schemas.policy import PartyKind
from tests.workflows.party_kinds_support import (
    Parties,
    climb_to_rs_87_5_b,
    decision,
    ladder_steps,
    proposal,
    running_parties,
    server_of_each_module,
)
from tests.workflows.support import assert_rejected, court_request, send, settle
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows import search_attributes as sa
from workflows.request import RequestWorkflow

env = pytest.fixture(scope="module", name="env")(server_of_each_module)
parties = pytest.fixture(name="parties")(running_parties)


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


# --- A non-State Party with an arrangement: RS 87(5)(b), never 87(7) -----------------------------


async def test_a_non_state_party_with_an_arrangement_ends_in_rs_87_5_b_never_87_7(
    parties: Parties,
) -> None:
    """QMA has an ad hoc arrangement (RS 87(5)(a)): its ladder ends with the Court informing
    the Assembly (RS 87(5)(b)); no RS 87(7) finding is ever proposed, nor any Assembly
    procedure step; the Council is not an option in a situation it did not refer."""
    req = court_request(requested_state="QMA")
    handle = await parties.start(req)
    end, events = await climb_to_rs_87_5_b(parties, handle, req)
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
