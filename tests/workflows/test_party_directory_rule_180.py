"""Rule 180 on the party directory (``workflows/party_directory.py``), on the time-skipping
test server with the real Court client: a change of channel or language notified by the State
takes effect at the agreed time or 45 days after notice (Rule 180(2)), for future requests,
without prejudice to requests in progress; one State's notice never touches another party's
directory; states.toml is the fallback; an ex parte request (Rule 99(2)) forwards its notice
without naming itself."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.directory import relay_notice
from schemas.answers import ChannelChangeNotice
from schemas.directory import (
    NOTICE_SIGNAL,
    AgreedContactChange,
    ContactChange,
    DirectoryNotice,
    PartyCarry,
    PartyContact,
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
from tests.workflows.support import court_request, send, settle, state_answer
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import load_directory
from tracefreeze.security.request_ids import KEY_ENV
from workflows.party_directory import memo_of

env = pytest.fixture(name="env")(server_of_each_test)
courts = pytest.fixture(name="courts")(court_maker)


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

    forged = relay_notice(  # even relayed as a request's, it names another State
        DirectoryNotice(
            event_id=str(uuid.uuid4()),
            state=mine,
            channel="email",
            language="de",
            noticed_at=datetime(2026, 1, 1, tzinfo=UTC),
            effective_at=datetime(2026, 1, 2, tzinfo=UTC),
        )
    )
    await court.handle(party_workflow_id(other)).signal(NOTICE_SIGNAL, forged)
    after = await court.party(other)
    assert [(i.event_id, i.reason) for i in after.ignored_notices] == [
        (forged.event_id, f"a notice of {mine} is not for the directory of {other}")
    ]
    assert after.model_copy(update={"ignored_notices": []}) == before
    assert not after.pending and not after.history


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


async def test_an_ex_parte_request_does_not_name_itself_in_the_directory(
    courts: Callable[..., Court], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 99(2): an ex parte request runs under an opaque id and shows nothing to search;
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


def test_the_memo_names_no_request_a_pending_change_came_on() -> None:
    """Rule 99(2): the directory's memo is visible to anyone who may list workflows; were a
    pending change to carry its request's reference, the one without it would betray an ex
    parte request to the party. The memo shows no reference at all."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    change = ContactChange(
        event_id="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c51",
        channel="central_authority",
        languages=("fr",),
        effective_at=now + timedelta(days=45),
        recorded_at=now,
        source="state_notice",
        noticed_at=now,
        request_reference="ICC-01/22-REQ-0007",
    )
    seed = PartyContact(
        central_authority="Central Authority",
        focal_point="Focal point",
        channel="diplomatic",
        languages=("en",),
        time_zone="Europe/Amsterdam",
    )
    memo = memo_of(PartyCarry(contact=seed, pending=[change]))
    assert memo["pending"] and all("request_reference" not in c for c in memo["pending"])
    assert "ICC-01/22-REQ-0007" not in str(memo)
