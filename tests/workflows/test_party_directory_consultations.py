"""RS 96(3) on the party directory (``workflows/party_directory.py``), on the time-skipping
test server with the real Court client: the Court's consultations of a party on the
requirements of its national law, the register of requirements they produce, a fault in a party
rule refused with nothing kept, and a directory carrying its contact, pending Rule 180 changes,
consultations and register across continue-as-new."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from activities.directory import relay_notice
from schemas.directory import (
    NOTICE_SIGNAL,
    CloseNationalLawConsultation,
    DirectoryNotice,
    OpenNationalLawConsultation,
    PartyContact,
    PartyRun,
    party_workflow_id,
)
from tests.workflows.party_directory_support import (
    DAY,
    Court,
    court_fields,
    court_maker,
    fresh_code,
    server_of_each_test,
)
from tests.workflows.support import court_request
from tracefreeze.cli.party import render_party
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import load_directory
from workflows.party_catalog import PARTY_RULES
from workflows.party_directory import PartyDirectoryWorkflow

env = pytest.fixture(name="env")(server_of_each_test)
courts = pytest.fixture(name="courts")(court_maker)


async def test_rs_96_3_a_general_consultation_ends_with_the_information_supplied(
    courts: Callable[..., Court],
) -> None:
    """RS 96(3): the Court consults the party generally on the requirements of its national
    law. The State's reply advises two requirements: the consultation ends with the
    information supplied (no request is modified: only RS 93(3) ends in a modification), and
    the requirements enter the party's register with the date learnt and the consultation
    that produced them. A consultation about one request names it; a closed consultation is
    not closed twice."""
    code = fresh_code()
    court = courts(code)
    await court.submit(court_request(requested_state=code))
    general = OpenNationalLawConsultation(
        **court_fields(questions="What must a request to freeze a bank account contain?")
    )
    party = await court.parties.act(code, general)
    [opened] = party.consultations
    assert opened.open and opened.request_reference is None

    learnt = datetime(2026, 3, 2, tzinfo=UTC)
    reply = CloseNationalLawConsultation(
        **court_fields(
            consultation_id=general.event_id,
            outcome="information_supplied",
            replied_by="state",
            requirements=(
                "A freezing order names the account holder and the bank",
                "A translation into Dutch accompanies the order",
            ),
            learnt_at=learnt,
        )
    )
    party = await court.parties.act(code, reply)
    [closed] = party.consultations
    assert (closed.outcome, closed.replied_by, closed.open) == (
        "information_supplied",
        "state",
        False,
    )
    assert [(r.text, r.learnt_at, r.consultation_id) for r in party.national_requirements] == [
        ("A freezing order names the account holder and the bank", learnt, general.event_id),
        ("A translation into Dutch accompanies the order", learnt, general.event_id),
    ]
    register = await court.handle(party_workflow_id(code)).query(
        PartyDirectoryWorkflow.national_requirements
    )
    assert register == party.national_requirements
    shown = render_party(party)
    assert "A translation into Dutch accompanies the order (learnt 2026-03-02)" in shown
    assert "information_supplied (state)" in shown

    again = CloseNationalLawConsultation(
        **court_fields(consultation_id=general.event_id, outcome="withdrawn", replied_by="court")
    )
    with pytest.raises(TracefreezeError, match="already closed"):
        await court.parties.act(code, again)

    about = OpenNationalLawConsultation(
        **court_fields(request_reference="ICC-01/22-REQ-0042", questions="Seizure of a vessel?")
    )
    await court.parties.act(code, about)
    party = await court.parties.act(
        code,
        CloseNationalLawConsultation(
            **court_fields(
                consultation_id=about.event_id, outcome="no_requirements", replied_by="court"
            )
        ),
    )
    assert party.consultations[-1].request_reference == "ICC-01/22-REQ-0042"
    assert party.consultations[-1].outcome == "no_requirements"
    assert len(party.national_requirements) == 2


def test_rs_96_3_information_supplied_lists_what_was_advised() -> None:
    """RS 96(3): a consultation that ends with the information supplied says what it was; one
    that ends otherwise lists no requirement."""
    with pytest.raises(ValidationError, match="information supplied lists"):
        CloseNationalLawConsultation(
            **court_fields(
                consultation_id=str(uuid.uuid4()),
                outcome="information_supplied",
                replied_by="state",
            )
        )
    with pytest.raises(ValidationError, match="lists none"):
        CloseNationalLawConsultation(
            **court_fields(
                consultation_id=str(uuid.uuid4()),
                outcome="withdrawn",
                replied_by="court",
                requirements=("x",),
            )
        )


async def test_a_fault_in_a_party_rule_is_refused_and_nothing_kept(
    courts: Callable[..., Court], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No exception other than a refusal escapes a directory's update handler: a rule that
    fails half-way is refused (``ActionNotApplied``), what it wrote is rolled back, and the
    directory takes the next action at once."""
    code = fresh_code()
    court = courts(code)
    await court.submit(court_request(requested_state=code))
    before = await court.party(code)
    kind = PARTY_RULES["national_law_consultation"]

    def faulty(carry: Any, m: Any, at: Any) -> str:
        kind.apply(carry, m, at)
        raise ZeroDivisionError("half-way")

    monkeypatch.setitem(PARTY_RULES, kind.name, replace(kind, apply=faulty))
    opened = OpenNationalLawConsultation(**court_fields(questions="Anything?"))
    with pytest.raises(TracefreezeError, match="could not be applied"):
        await court.parties.act(code, opened)
    assert await court.party(code) == before
    monkeypatch.setitem(PARTY_RULES, kind.name, kind)
    again = OpenNationalLawConsultation(**court_fields(questions="Anything?"))
    assert len((await court.parties.act(code, again)).consultations) == 1


async def test_a_directory_carries_everything_across_continue_as_new(
    env: WorkflowEnvironment, courts: Callable[..., Court]
) -> None:
    """A party's directory lives as long as the party: it continues as new (here after each
    action) carrying its contact, pending changes, consultations, register and the event ids it
    took — a notice signalled again in a later run is still a duplicate (Rule 180), and the
    memo the client reads is there from the first moment of each run."""
    code = fresh_code()
    court = courts(code)
    seed = load_directory(court.settings.state_directory_file).states[code]
    contact = PartyContact(
        central_authority=seed.central_authority,
        focal_point=seed.focal_point,
        channel=seed.channel,
        languages=(seed.language,),
        time_zone=seed.time_zone,
    )
    party = await court.worker.client.start_workflow(
        PartyDirectoryWorkflow.run,
        PartyRun(code=code, seed=contact, actions_per_run=1),
        id=party_workflow_id(code),
        task_queue=court.worker.task_queue,
    )
    now = await env.get_current_time()
    notice = relay_notice(  # as the State's request relays it
        DirectoryNotice(
            event_id=str(uuid.uuid4()),
            state=code,
            channel="central_authority",
            language="fr",
            noticed_at=now,
            effective_at=now + 45 * DAY,
        )
    )
    await party.signal(NOTICE_SIGNAL, notice)
    opened = OpenNationalLawConsultation(**court_fields(questions="Seizure of land?"))
    await court.parties.act(code, opened)
    await court.parties.act(
        code,
        CloseNationalLawConsultation(
            **court_fields(
                consultation_id=opened.event_id,
                outcome="information_supplied",
                replied_by="state",
                requirements=("A land-registry extract",),
            )
        ),
    )
    await party.signal(NOTICE_SIGNAL, notice)  # again, in a later run
    view = await court.party(code)
    assert (await party.describe()).run_id != party.first_execution_run_id
    assert [c.event_id for c in view.pending] == [notice.event_id]
    assert [r.text for r in view.national_requirements] == ["A land-registry extract"]
    assert view.consultations[0].outcome == "information_supplied"
    assert await court.parties.contact_in_force(code) == contact
    await env.sleep(46 * DAY)
    assert (await court.party(code)).contact.channel == "central_authority"


def test_the_memo_shows_the_most_recent_requirements_with_ids_that_never_shift() -> None:
    """RS 96(3), 96(2)(e): the memo the completeness check reads holds at most
    ``MAX_PARTY_REQUIREMENTS`` requirements (the most recent), each numbered within its
    consultation over the whole register: a requirement keeps its id when older ones leave
    the memo."""
    from schemas.common import MAX_TEXT
    from schemas.completeness import MAX_PARTY_REQUIREMENTS
    from schemas.directory import NationalRequirement, PartyCarry, requirement_id
    from workflows.party_directory import MEMO_REQUIREMENTS, memo_of

    learnt = datetime(2026, 1, 1, tzinfo=UTC)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    register = [
        NationalRequirement(text=f"{cid} rule {n}", learnt_at=learnt, consultation_id=cid)
        for cid, count in ((first, 30), (second, 40))
        for n in range(1, count + 1)
    ]
    contact = PartyContact(
        central_authority="Ministry of Justice",
        focal_point="International Legal Assistance",
        channel="diplomatic",
        languages=("en",),
        time_zone="Europe/Amsterdam",
    )
    shown = memo_of(PartyCarry(contact=contact, requirements=register))[MEMO_REQUIREMENTS]
    assert len(shown) == MAX_PARTY_REQUIREMENTS == 50
    assert shown[0] == {"requirement_id": f"{first}-21", "text": f"{first} rule 21"}
    assert shown[-1] == {"requirement_id": f"{second}-40", "text": f"{second} rule 40"}
    assert all(len(r["text"]) <= MAX_TEXT for r in shown)
    # A consultation id that is no Identifier (upper case, a dot) still gives a valid,
    # deterministic id.
    odd = requirement_id("Consult.ABC:2026", 3)
    assert odd == requirement_id("Consult.ABC:2026", 3) != requirement_id("consult-abc-2026", 3)
    assert odd.endswith("-3") and odd == odd.lower() and len(odd) <= 64
