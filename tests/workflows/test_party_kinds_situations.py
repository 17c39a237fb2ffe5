"""The situation register (RS 13) and the kind in force decide where a party's ladder may
lead, on the time-skipping test server (docs/legal-process.md, 'Who is asked' and 'Deadlines
and escalation'):

- in a situation the Security Council referred (RS 13(b)), an RS 87(7) finding may go to the
  Council, and an arrangement party a resolution binds keeps RS 87(5)(b);
- where it did not refer, informing the Council of an arrangement failure is refused
  (RS 87(5)(b));
- the kind in force on the transmission date governs, and is recorded in the request at start
  (RS 12(3), 87(5)(a), 126(2)).
"""

from __future__ import annotations

from datetime import UTC, datetime

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
from tests.workflows.support import assert_rejected, court_request
from tracefreeze.policy import load_directory, load_policy, load_situations, resolve

env = pytest.fixture(scope="module", name="env")(server_of_each_module)
parties = pytest.fixture(name="parties")(running_parties)


# --- The situation register (RS 13) --------------------------------------------------------------


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
    end, events = await climb_to_rs_87_5_b(parties, handle, req)
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
