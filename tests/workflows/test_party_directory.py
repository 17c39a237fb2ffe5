"""The party directory over time (``workflows/party_directory.py``), on the time-skipping
test server with the real Court client: Rule 180 (a change of channel or language takes effect
at the agreed time or 45 days after notice, for future requests, without prejudice to requests
in progress) and the Court's RS 96(3) consultations with the register of national-law
requirements they produce.

Each test uses parties of its own (codes no other test uses), with the static directory's
NLD entry copied under that code, so the directory workflows ``party/<code>`` of one test never
meet another's."""

from __future__ import annotations

import base64
import contextlib
import itertools
import string
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from schemas.answers import ChannelChangeNotice
from schemas.directory import (
    NOTICE_SIGNAL,
    AgreedContactChange,
    CloseNationalLawConsultation,
    DirectoryNotice,
    OpenNationalLawConsultation,
    PartyContact,
    PartyRun,
    PartyView,
    party_workflow_id,
)
from schemas.policy import StateContact
from schemas.request import CourtRequest
from tests.workflows.support import court_request, send, settle, start_env, state_answer
from tracefreeze.cli.party import render_party
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.directory_client import PartyDirectoryClient
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import DEFAULT_DIRECTORY, load_directory
from tracefreeze.security.request_ids import KEY_ENV
from workflows.carry import RequestRun
from workflows.party_catalog import PARTY_RULES
from workflows.party_directory import PartyDirectoryWorkflow

DAY = timedelta(days=1)
_CODES = ("Q" + "".join(p) for p in itertools.product(string.ascii_uppercase, repeat=2))
"""Party codes no real party has (ISO 3166-1 leaves QM-QZ to users) and no other test uses."""


def fresh_code() -> str:
    return next(_CODES)


def directory_file(tmp_path: Path, *codes: str) -> Path:
    """The static directory with its NLD entry copied under each of ``codes``."""
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8")
    nld = text[text.index("[states.NLD]") :]
    nld = nld[: nld.index("[states.", 1)]  # the NLD entry and its overrides
    path = tmp_path / "states.toml"
    path.write_text(text + "".join(nld.replace("states.NLD", f"states.{c}") for c in codes))
    assert set(codes) <= set(load_directory(path).states)
    return path


class Court:
    """The Court's clients (requests and party directories) on the test worker's queue; every
    workflow it starts is terminated at the end of the test."""

    def __init__(self, worker: Any, tmp_path: Path, *codes: str) -> None:
        self.worker = worker
        self.codes = codes
        self.settings = Settings(
            task_queue=worker.task_queue,
            state_dir=tmp_path,
            state_directory_file=directory_file(tmp_path, *codes),
        )
        self.requests = RequestClient(worker.client, self.settings)
        self.parties = PartyDirectoryClient(worker.client, self.settings)
        self.started: list[str] = [party_workflow_id(c) for c in codes]

    async def submit(self, request: CourtRequest) -> str:
        workflow_id = await self.requests.submit(request)
        self.started.append(workflow_id)
        return workflow_id

    def handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        return self.worker.client.get_workflow_handle(workflow_id)

    async def party(self, code: str) -> PartyView:
        await settle(self.handle(party_workflow_id(code)))
        return await self.parties.view(code)

    async def contact_recorded(self, workflow_id: str) -> StateContact | None:
        """The contact the request recorded at transmission (its start input)."""
        history = await self.handle(workflow_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [run] = pydantic_data_converter.payload_converter.from_payloads(
            started.input.payloads, [RequestRun]
        )
        assert run.policy is not None
        return run.policy.contact

    async def end(self) -> None:
        """A workflow left with a timer would fire it after the worker is gone, and the
        time-skipping server never skips past a workflow task nobody takes."""
        for workflow_id in self.started:
            with contextlib.suppress(RPCError):
                await self.handle(workflow_id).terminate("end of test")


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of each test alone: time skips only when no workflow task is
    outstanding, and the test server keeps the task in which an update was refused, so
    another test's workflow (or its refused update) could stop every sleep here."""
    env = await start_env()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def courts(worker: Any, tmp_path: Path) -> AsyncIterator[Callable[..., Court]]:
    made: list[Court] = []

    def make(*codes: str) -> Court:
        made.append(Court(worker, tmp_path, *codes))
        return made[-1]

    yield make
    for c in made:
        await c.end()


def court_fields(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "decided_by": "Registrar",
        "decided_at": datetime.now(UTC),
        **fields,
    }


async def test_rule_180_a_notice_takes_effect_45_days_after_it_for_future_requests_only(
    env: WorkflowEnvironment, worker: Any, courts: Callable[..., Court]
) -> None:
    """Rule 180(2): the State notifies, on a request in progress, that requests are to reach
    it through its central authority in French. No time is agreed, so the change takes effect
    45 days after the Court received the notice: a request transmitted on day 44 still goes
    through the diplomatic channel in English; one transmitted after day 45 records the new
    channel and language; and the request the notice came on, and every request transmitted
    before, keep the contact they were transmitted with to their end."""
    code = fresh_code()
    court = courts(code)
    first = court_request(requested_state=code)
    first_id = await court.submit(first)  # the directory starts from states.toml
    assert (await court.contact_recorded(first_id)).channel == "diplomatic"  # type: ignore[union-attr]
    notice = state_answer(ChannelChangeNotice, first, channel="central_authority", language="fr")
    await send(court.handle(first_id), notice)

    party = await court.party(code)
    [pending] = party.pending
    assert (pending.event_id, pending.source, pending.request_reference) == (
        notice.event_id,
        "state_notice",
        first.reference,
    )
    assert pending.noticed_at is not None
    assert pending.effective_at == pending.noticed_at + 45 * DAY
    assert (party.contact.channel, party.contact.languages) == ("diplomatic", ("en",))
    # The same notice again (the State re-sent it) changes nothing.
    await send(court.handle(first_id), notice)
    assert len((await court.party(code)).pending) == 1

    await env.sleep(pending.effective_at - await env.get_current_time() - DAY)  # day 44
    day_44 = court_request(requested_state=code)
    day_44_id = await court.submit(day_44)
    assert (await court.party(code)).contact.channel == "diplomatic"
    assert (await court.contact_recorded(day_44_id)).channel == "diplomatic"  # type: ignore[union-attr]

    await env.sleep(2 * DAY)  # past day 45: the change is in force
    party = await court.party(code)
    assert (party.contact.channel, party.contact.languages) == ("central_authority", ("fr",))
    assert [c.event_id for c in party.history] == [notice.event_id] and not party.pending
    later = court_request(requested_state=code)
    later_contact = await court.contact_recorded(await court.submit(later))
    assert later_contact is not None
    assert (later_contact.channel, later_contact.language) == ("central_authority", "fr")
    # Without prejudice to requests in progress: the first two keep theirs.
    for workflow_id in (first_id, day_44_id):
        kept = await court.contact_recorded(workflow_id)
        assert kept is not None and (kept.channel, kept.language) == ("diplomatic", "en")
    await settle(court.handle(first_id))
    sent = worker.published.escalations(first.reference)  # its own steps, before and after
    assert any(e.time >= pending.noticed_at for e in sent)
    assert {e.channel for e in sent} == {"diplomatic"}


async def test_rule_180_an_agreed_time_replaces_the_45_days(
    env: WorkflowEnvironment, worker: Any, courts: Callable[..., Court]
) -> None:
    """Rule 180(2): the Court and the State agree the change takes effect after 10 days, not
    45: the Registry records the agreement on the pending notice, whose 45-day date is
    replaced; on day 11 requests go through the agreed channel and languages. An agreed time
    already past, or an agreement on a notice that is not pending, is refused with the reason."""
    code = fresh_code()
    court = courts(code)
    req = court_request(requested_state=code)
    request_id = await court.submit(req)
    notice = state_answer(ChannelChangeNotice, req, channel="central_authority", language="fr")
    await send(court.handle(request_id), notice)
    await court.party(code)
    now = await env.get_current_time()

    agreed = AgreedContactChange(
        **court_fields(
            channel="central_authority",
            languages=("fr", "en"),
            effective_at=now + 10 * DAY,
            notice_event_id=notice.event_id,
        )
    )
    party = await court.parties.act(code, agreed)
    assert [(c.event_id, c.source, c.supersedes) for c in party.pending] == [
        (agreed.event_id, "court_agreement", notice.event_id)
    ]
    assert await court.parties.act(code, agreed) == party  # recorded once

    await env.sleep(11 * DAY)
    party = await court.party(code)
    assert (party.contact.channel, party.contact.languages) == ("central_authority", ("fr", "en"))
    assert party.history[-1].effective_at == now + 10 * DAY
    contact = await court.contact_recorded(await court.submit(court_request(requested_state=code)))
    assert contact is not None and (contact.channel, contact.language) == (
        "central_authority",
        "fr",
    )
    # Nothing of the superseded notice takes effect at its own 45 days.
    await env.sleep(40 * DAY)
    assert [c.event_id for c in (await court.party(code)).history] == [agreed.event_id]
    now = await env.get_current_time()
    with pytest.raises(TracefreezeError, match="is past"):
        await court.parties.act(
            code,
            AgreedContactChange(
                **court_fields(channel="x", languages=("fr",), effective_at=now - DAY)
            ),
        )
    with pytest.raises(TracefreezeError, match="no pending notice"):
        await court.parties.act(
            code,
            AgreedContactChange(
                **court_fields(channel="x", languages=("fr",), notice_event_id=notice.event_id)
            ),
        )


async def test_rule_180_a_notice_never_touches_another_partys_directory(
    courts: Callable[..., Court],
) -> None:
    """One State's notice changes its own directory only: the request forwards it to the
    directory of the State it is addressed to (the id derived from the request), and a notice
    naming another State that reached a directory anyway is ignored there."""
    mine, other = fresh_code(), fresh_code()
    court = courts(mine, other)
    req = court_request(requested_state=mine)
    request_id = await court.submit(req)
    await court.submit(court_request(requested_state=other))
    notice = state_answer(ChannelChangeNotice, req, channel="central_authority", language="fr")
    await send(court.handle(request_id), notice)
    assert [c.event_id for c in (await court.party(mine)).pending] == [notice.event_id]
    before = await court.party(other)

    forged = DirectoryNotice(
        event_id=str(uuid.uuid4()),
        state=mine,
        channel="email",
        language="de",
        noticed_at=datetime(2026, 1, 1, tzinfo=UTC),
        effective_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    await court.handle(party_workflow_id(other)).signal(NOTICE_SIGNAL, forged)
    after = await court.party(other)
    assert after == before and not after.pending and not after.history


async def test_a_request_to_a_party_without_a_directory_workflow_takes_states_toml(
    courts: Callable[..., Court],
) -> None:
    """The static directory is the fallback: a request to a party that has no directory
    workflow records the states.toml contact, and the directory starts from it."""
    code = fresh_code()
    court = courts(code)
    assert await court.parties.contact_in_force(code) is None
    request_id = await court.submit(court_request(requested_state=code))
    contact = await court.contact_recorded(request_id)
    static = load_directory(court.settings.state_directory_file).states[code]
    assert contact is not None
    assert (contact.channel, contact.language) == (static.channel, static.language)
    party = await court.party(code)
    assert (party.contact.channel, party.contact.languages) == (static.channel, (static.language,))


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
    notice = DirectoryNotice(
        event_id=str(uuid.uuid4()),
        state=code,
        channel="central_authority",
        language="fr",
        noticed_at=now,
        effective_at=now + 45 * DAY,
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


async def test_an_ex_parte_request_does_not_name_itself_in_the_directory(
    courts: Callable[..., Court], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 99(1): an ex parte request runs under an opaque id and shows nothing to search;
    the Rule 180 notice it forwards changes its party's directory all the same, without the
    request's reference."""
    monkeypatch.setenv(KEY_ENV, base64.b64encode(bytes(range(32))).decode())
    code = fresh_code()
    court = courts(code)
    req = court_request(requested_state=code, confidentiality="ex_parte")
    request_id = await court.submit(req)
    assert req.reference not in request_id
    notice = state_answer(ChannelChangeNotice, req, channel="central_authority", language="fr")
    await send(court.handle(request_id), notice)
    [pending] = (await court.party(code)).pending
    assert pending.event_id == notice.event_id and pending.request_reference is None
