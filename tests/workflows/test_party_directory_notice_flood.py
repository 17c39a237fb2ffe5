"""Rule 180 against a hostile State, on the time-skipping test server with the real Court
client: the State's own notices hold one place among its directory's pending changes (the
newest stands, each earlier one is kept as superseded), so however many it sends it can
neither fill the pending changes nor stop the Court agreeing a change, nor stop an agreed
change taking effect at the agreed time (Rule 180(2))."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.directory import relay_notice
from schemas.answers import ChannelChangeNotice
from schemas.directory import (
    MAX_PENDING,
    MAX_SEEN,
    NOTICE_SIGNAL,
    AgreedContactChange,
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
from tests.workflows.support import court_request, send, state_answer
from workflows import party_rules as pr

env = pytest.fixture(name="env")(server_of_each_test)
courts = pytest.fixture(name="courts")(court_maker)


def notice_of(code: str, noticed_at: datetime, channel: str) -> DirectoryNotice:
    """A State's notice as its request relays it (signed with the workers' relay key)."""
    return relay_notice(
        DirectoryNotice(
            event_id=str(uuid.uuid4()),
            state=code,
            channel=channel,
            language="fr",
            noticed_at=noticed_at,
            effective_at=noticed_at + 45 * DAY,
        )
    )


async def test_a_flood_of_notices_holds_one_place_and_never_blocks_an_agreed_change(
    env: WorkflowEnvironment, courts: Callable[..., Court]
) -> None:
    """The State sends one notice on its request, then more than the pending changes hold.
    Only its newest is pending; every earlier one is kept as superseded (by the one after
    it), nothing lost. The Court then agrees a change on the State's first notice and another
    without a notice: both are recorded, and the first comes into force at its agreed time,
    whatever the State keeps sending."""
    code = fresh_code()
    court = courts(code)
    req = court_request(requested_state=code)
    request_id = await court.submit(req)
    first = state_answer(ChannelChangeNotice, req, channel="central_authority", language="fr")
    await send(court.handle(request_id), first)
    party = court.handle(party_workflow_id(code))
    await env.sleep(timedelta(hours=1))  # the flood comes after the first notice
    now = await env.get_current_time()
    flood = [  # received after the first, each before the next (and never after now)
        notice_of(code, now - timedelta(minutes=MAX_PENDING + 5 - i), f"channel-{i}")
        for i in range(MAX_PENDING + 5)
    ]
    for n in flood:
        await party.signal(NOTICE_SIGNAL, n)

    view = await court.party(code)
    assert [(c.event_id, c.source) for c in view.pending] == [(flood[-1].event_id, "state_notice")]
    sent = [first.event_id] + [n.event_id for n in flood]
    assert [(c.event_id, c.superseded_by) for c in view.superseded_notices] == list(
        itertools.pairwise(sent)
    )

    agreed = AgreedContactChange(
        **court_fields(
            channel="central_authority",
            languages=("fr", "en"),
            effective_at=now + 10 * DAY,
            notice_event_id=first.event_id,
        )
    )
    view = await court.parties.act(code, agreed)
    on_its_own = AgreedContactChange(
        **court_fields(channel="email", languages=("en",), effective_at=now + 20 * DAY)
    )
    view = await court.parties.act(code, on_its_own)
    assert sorted((c.event_id, c.source) for c in view.pending) == sorted(
        [
            (agreed.event_id, "court_agreement"),
            (on_its_own.event_id, "court_agreement"),
            (flood[-1].event_id, "state_notice"),
        ]
    )
    await party.signal(NOTICE_SIGNAL, notice_of(code, now, "yet-another"))
    await env.sleep(11 * DAY)
    view = await court.party(code)
    assert (view.contact.channel, view.contact.languages) == ("central_authority", ("fr", "en"))
    assert [c.event_id for c in view.history] == [agreed.event_id]
    assert sum(c.source == "state_notice" for c in view.pending) == 1


async def test_a_notice_that_arrives_after_a_newer_one_is_superseded_at_once(
    courts: Callable[..., Court], env: WorkflowEnvironment
) -> None:
    """Two requests forward the State's notices out of order: the newer (by the time the
    Court received it) stands; the older is kept as superseded by it, never pending."""
    code = fresh_code()
    court = courts(code)
    await court.submit(court_request(requested_state=code))
    party = court.handle(party_workflow_id(code))
    now = await env.get_current_time()
    older, newer = notice_of(code, now - DAY / 12, "older"), notice_of(code, now, "newer")
    await party.signal(NOTICE_SIGNAL, newer)
    await party.signal(NOTICE_SIGNAL, older)
    view: Any = await court.party(code)
    assert [c.event_id for c in view.pending] == [newer.event_id]
    assert [(c.event_id, c.superseded_by) for c in view.superseded_notices] == [
        (older.event_id, newer.event_id)
    ]


def test_a_flood_of_notices_never_makes_the_directory_forget_a_court_action() -> None:
    """The rules the workflow applies (``workflows/party_rules.py``), on their own: the
    Court records an agreed change, then the State sends more notices than the directory
    remembers event ids. Old code: notices and Court actions shared one memory of ids, the
    flood pushed the agreement's id out, and the Court's client sending the agreement again
    after a continue-as-new (a retry after a lost reply) had it recorded a second time. Now
    the State's notices are remembered apart: the agreement's id stays taken."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    seed = PartyContact(
        central_authority="Central Authority",
        focal_point="Focal point",
        channel="diplomatic",
        languages=("en",),
        time_zone="Europe/Amsterdam",
    )
    carry, code = PartyCarry(contact=seed), "QZZ"
    agreed = AgreedContactChange(
        **court_fields(channel="email", languages=("en",), effective_at=now + 100 * DAY)
    )
    pr.check_agreed_change(carry, agreed, now)
    pr.apply_agreed_change(carry, agreed, now)
    pr.remember(carry, agreed.event_id)  # as the workflow's handler does
    for i in range(MAX_SEEN + 1):
        notice = notice_of(code, now + timedelta(seconds=i), "x")
        assert pr.take_notice(carry, code, notice, now) is None
        assert pr.take_notice(carry, code, notice, now) == "taken before"
    assert agreed.event_id in carry.seen  # the handler takes it again as a no-op
    assert [c.event_id for c in carry.pending if c.source == "court_agreement"] == [agreed.event_id]
    assert sum(c.source == "state_notice" for c in carry.pending) == 1
