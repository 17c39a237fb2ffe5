"""A State's Rule 180 notice reaches its party's directory only as its request relayed it, and
the directory counts the 45 days itself (Rule 180(2)), on the time-skipping test server.

Old code: the directory took any ``take_notice`` signal as the State's notice, and its
``effective_at`` as given, so any Temporal client could redirect the Court's next requests to
a party (its channel and language, Rule 180) from the date of its choosing. Now the worker
relays the notice signed with the workers' relay key (``workflows/notice_signatures.py``);
anything else is ignored there with its reason, and the change takes effect 45 days after the
Court received the notice whatever date the message gives.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.directory import relay_notice
from schemas.court import OrganSignature
from schemas.directory import (
    NOTICE_SIGNAL,
    RULE_180_NOTICE,
    DirectoryNotice,
    PartyCarry,
    PartyContact,
    PartyRun,
    party_workflow_id,
)
from schemas.organs import Organ
from schemas.policy import StateContact
from tests.workflows import party_directory_support as directories
from tests.workflows.party_directory_support import DAY, Court, fresh_code
from tests.workflows.support import court_request
from tracefreeze.policy import load_directory
from tracefreeze.security.organ_keys import signer_for
from workflows import party_rules as pr
from workflows.notice_signatures import notice_bytes
from workflows.party_directory import PartyDirectoryWorkflow

env = pytest.fixture(name="env")(directories.server_of_each_test)
courts = pytest.fixture(name="courts")(directories.court_maker)


def notice(
    code: str, noticed_at: datetime, effective_at: datetime, **fields: Any
) -> DirectoryNotice:
    return DirectoryNotice(
        event_id=str(uuid.uuid4()),
        state=code,
        channel=fields.pop("channel", "email"),
        language="de",
        noticed_at=noticed_at,
        effective_at=effective_at,
        **fields,
    )


def signed_by_registry(n: DirectoryNotice) -> DirectoryNotice:
    """Signed as a relay would sign it, but with the Registry's own key: an organ's key signs
    its own decisions, it does not relay a State's notice."""
    key, key_id = signer_for(Organ.REGISTRY)
    raw = base64.urlsafe_b64encode(key.sign(notice_bytes(n))).rstrip(b"=").decode("ascii")
    return n.model_copy(update={"signature": OrganSignature(key_id=key_id, signature=raw)})


async def test_a_notice_no_request_relayed_changes_nothing(
    env: WorkflowEnvironment, courts: Callable[..., Court]
) -> None:
    """Rule 180; RS 87(1)(a): a client that can reach Temporal signals the directory a
    'notice' moving the party to a channel of its choosing, effective at once: unsigned,
    signed with an organ's key instead of the relay key, and a relayed notice altered after
    it was signed. None is taken (old code took the first, in force within the hour): no
    change pending or in force, each ignored with its reason."""
    code = fresh_code()
    court = courts(code)
    await court.submit(court_request(requested_state=code))
    before = await court.party(code)
    now = await env.get_current_time()
    unsigned = notice(code, now, now + timedelta(hours=1))
    registry = signed_by_registry(notice(code, now, now + timedelta(hours=1)))
    altered = relay_notice(notice(code, now, now + 45 * DAY)).model_copy(
        update={"channel": "forger-channel"}
    )
    party = court.handle(party_workflow_id(code))
    for forged in (unsigned, registry, altered):
        await party.signal(NOTICE_SIGNAL, forged)
    await env.sleep(2 * DAY)

    after = await court.party(code)
    assert (after.contact, after.pending, after.history) == (before.contact, [], [])
    reasons = {i.event_id: i.reason for i in after.ignored_notices}
    assert reasons[unsigned.event_id].startswith("not signed")
    assert "is the registry's, not the workers' relay key" in reasons[registry.event_id]
    assert "does not verify" in reasons[altered.event_id]


async def test_a_notice_takes_effect_45_days_after_receipt_whatever_date_it_claims(
    env: WorkflowEnvironment, courts: Callable[..., Court]
) -> None:
    """Rule 180(2): failing an agreed time, a change takes effect 45 days after the Court
    received the notice. A relayed notice claiming to take effect a minute after it was
    received is pending until day 45 from its receipt (old code: in force after a minute),
    and the contact in force changes only then."""
    code = fresh_code()
    court = courts(code)
    await court.submit(court_request(requested_state=code))
    seed = (await court.party(code)).contact
    received = await env.get_current_time()
    early = relay_notice(notice(code, received, received + timedelta(minutes=1)))
    await court.handle(party_workflow_id(code)).signal(NOTICE_SIGNAL, early)

    [pending] = (await court.party(code)).pending
    assert (pending.event_id, pending.noticed_at) == (early.event_id, received)
    assert pending.effective_at == received + 45 * DAY
    await env.sleep(44 * DAY)
    assert (await court.party(code)).contact == seed
    await env.sleep(2 * DAY)
    assert (await court.party(code)).contact.channel == "email"


async def test_a_notice_that_comes_with_the_directorys_start_waits_for_its_keys(
    env: WorkflowEnvironment, courts: Callable[..., Court]
) -> None:
    """A relayed notice that reaches a directory in its very first moment, before it has read
    the organ key registry it verifies the relay against, is taken once it has read it: it
    is neither ignored for want of a key nor lost."""
    code = fresh_code()
    court = courts(code)
    received = await env.get_current_time()
    early = relay_notice(notice(code, received, received + 45 * DAY))
    entry = load_directory(court.settings.state_directory_file).states[code]
    kept = set(StateContact.model_fields) - {"state"}
    seed = StateContact(state=code, **entry.model_dump(include=kept))
    await court.worker.client.start_workflow(
        PartyDirectoryWorkflow.run,
        PartyRun(code=code, seed=PartyContact.of(seed)),
        id=party_workflow_id(code),
        task_queue=court.worker.task_queue,
        start_signal=NOTICE_SIGNAL,
        start_signal_args=[early],
    )
    view = await court.party(code)
    assert [c.event_id for c in view.pending] == [early.event_id]
    assert view.ignored_notices == []


def test_a_notice_received_long_before_it_reached_the_directory_is_ignored() -> None:
    """A request relays its State's notice within minutes. One received more than a day before
    it reached the directory (a relayed notice replayed once its id left the directory's
    record, or one forged with an old receipt to take effect at once, Rule 180(2)) is ignored
    with the reason; a fresh one is taken, 45 days after its receipt."""
    carry = PartyCarry.model_construct(
        seen=[], notices_seen=[], pending=[], superseded=[], superseded_dropped=0
    )
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    old = notice("NLD", now - timedelta(days=46), now)
    reason = pr.take_notice(carry, "NLD", old, now)
    assert reason is not None and "a replay or a forgery" in reason
    assert carry.pending == []
    fresh = notice("NLD", now - timedelta(minutes=3), now)
    assert pr.take_notice(carry, "NLD", fresh, now) is None
    (pending,) = carry.pending
    assert pending.effective_at == fresh.noticed_at + RULE_180_NOTICE
