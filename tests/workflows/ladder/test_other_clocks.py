"""The clocks beside the answer stages: an urgent request's confirmation through the formal
channel (RS 96(1)); a change of channel or language notified under Rule 180(2), which is for
future requests, not the one in hand (RS 87(1)(a), 87(2)); a national freezing order about to
lapse (RS 93(1)(k)); and the policy version recorded at start, which a later policy file does
not rewrite.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from schemas import court as c
from schemas.answers import ChannelChangeNotice
from tests.workflows.ladder.support import (
    DAY,
    VERSION,
    K,
    Ladder,
    close_to,
    decision,
    of_kind,
    started_at,
    view,
)
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    court_action,
    court_request,
    execution_report,
    result,
    send,
    settle,
    state_answer,
)
from tracefreeze.policy import DEFAULT_POLICY, load_directory, load_policy, resolve

# --- The other clocks ----------------------------------------------------------------------


async def test_an_urgent_request_not_confirmed_in_time_is_flagged(ladder: Ladder) -> None:
    """RS 96(1): an urgent request is confirmed through the formal channel; the policy allows
    P5D. Unconfirmed, the clock fires once, at exactly five days."""
    req = court_request(urgency="urgent")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + 5 * DAY - timedelta(minutes=1))
    assert of_kind(ladder.events(req), K.URGENT_CONFIRMATION_OVERDUE) == []
    await ladder.advance_to(handle, t0 + 30 * DAY)
    [overdue] = of_kind(ladder.events(req), K.URGENT_CONFIRMATION_OVERDUE)
    assert overdue.deadline == t0 + 5 * DAY and close_to(overdue.time, t0 + 5 * DAY)
    # The urgent ladder is in hours: ack PT8H, reminder at PT6H, follow-up PT24H later.
    reminder = next(e for e in ladder.events(req) if e.step == "reminder")
    assert close_to(reminder.time, t0 + timedelta(hours=8))


async def test_an_urgent_request_confirmed_in_time_is_not_flagged(ladder: Ladder) -> None:
    req = court_request(urgency="urgent")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + DAY)
    await send(handle, court_action(c.UrgentConfirmation, channel="diplomatic"))
    await ladder.advance_to(handle, t0 + 30 * DAY)
    assert of_kind(ladder.events(req), K.URGENT_CONFIRMATION_OVERDUE) == []
    assert ladder.events(req)  # the ladder itself did run


async def test_a_channel_change_is_for_future_requests_not_the_request_in_hand(
    ladder: Ladder,
) -> None:
    """Rule 180(2): NLD notifies a change to its central authority channel, in French. The
    change takes effect 45 days after notice (no time was agreed) *without prejudice to
    requests in progress*: the Registry is told at once, with the date, to update the party
    directory for future requests; this request keeps its channel and language to its end —
    every reminder, follow-up and Chamber step, before and after the 45 days, goes through
    the diplomatic channel it was transmitted by."""
    req = court_request()
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await ladder.advance_to(handle, t0 + DAY)
    notice = state_answer(ChannelChangeNotice, req, channel="central_authority", language="fr")
    await send(handle, notice)
    await settle(handle)
    v = await view(handle)
    noticed_at = v.timeline[-1].at
    assert v.timeline[-1].what == (
        f"Rule 180 notice: central_authority (fr) for requests made from "
        f"{noticed_at + 45 * DAY:%Y-%m-%d}; this request keeps its channel and language"
    )
    [notified] = of_kind(ladder.events(req), K.CHANNEL_CHANGE_NOTIFIED)
    assert notified.caused_by == notice.event_id and notified.addressee == "Registry"
    assert notified.directory_change is not None
    assert notified.directory_change.model_dump() == {
        "channel": "central_authority",
        "language": "fr",
        "effective_at": noticed_at + 45 * DAY,
        "noticed_at": noticed_at,
    }
    assert notified.deadline == noticed_at + 45 * DAY
    assert notified.channel == "diplomatic"  # the request's own channel

    await ladder.advance_to(handle, noticed_at + 60 * DAY)
    await send(handle, decision("chamber_report"))
    await settle(handle)
    events = ladder.events(req)
    assert [e.step for e in events if e.kind is K.STEP_REACHED] == [
        "reminder",
        "registry_follow_up",
        "chamber_report",
    ]
    assert {e.channel for e in events} == {"diplomatic"}
    assert [e.kind for e in events].count(K.CHANNEL_CHANGE_NOTIFIED) == 1
    assert events[-1].time > noticed_at + 45 * DAY


async def test_a_lapsing_national_order_is_flagged_two_weeks_ahead(ladder: Ladder) -> None:
    """The State reports the account frozen under a national order that lapses in 60 days
    unless renewed; the policy reminds P14D before it lapses."""
    req = court_request()
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    now = await ladder.now()
    expires = now + 60 * DAY
    await send(
        handle,
        execution_report(
            req,
            [
                result(
                    ACCOUNT,
                    "identify",
                    "freeze",
                    value=("398214.37", "EUR"),
                    national_order_expires_at=expires.isoformat(),
                )
            ],
        ),
    )
    await settle(handle)
    assert (await view(handle)).ledger.entries[ACCOUNT].national_order_expires_at == expires
    await ladder.advance_to(handle, expires - 14 * DAY - timedelta(minutes=1))
    assert of_kind(ladder.events(req), K.NATIONAL_ORDER_LAPSING) == []
    await ladder.advance_to(handle, expires)
    [lapsing] = of_kind(ladder.events(req), K.NATIONAL_ORDER_LAPSING)
    assert (lapsing.asset_id, lapsing.deadline) == (ACCOUNT, expires)
    assert close_to(lapsing.time, expires - 14 * DAY)


# --- The policy in force is the one recorded at start -------------------------------------


async def test_a_running_request_keeps_the_policy_it_started_with(
    ladder: Ladder, tmp_path: Path
) -> None:
    """A policy file changed after start (new version, shorter deadlines) does not rewrite a
    running request: its view and its clocks keep the version recorded at start."""
    path = tmp_path / "deadlines.toml"
    path.write_text(DEFAULT_POLICY.read_text(encoding="utf-8"), encoding="utf-8")
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req, resolve(load_policy(path), load_directory(), req))
    t0 = await started_at(handle)

    changed = path.read_text(encoding="utf-8").replace(f'"{VERSION}"', '"2099-01-01"')
    changed = changed.replace('acknowledgement = "P7D"', 'acknowledgement = "P1D"')
    path.write_text(changed, encoding="utf-8")
    load_policy.cache_clear()
    reread = load_policy(path)
    assert reread.version == "2099-01-01"
    assert reread.deadlines["restraint"].ordinary.acknowledgement == DAY

    await ladder.advance_to(handle, t0 + 6 * DAY)
    v = await view(handle)
    assert v.policy_version == VERSION
    assert [e.kind for e in ladder.events(req)] == [K.DEADLINE_APPROACHING]  # day 5 of 7
    assert ladder.events(req)[0].deadline == t0 + 7 * DAY
    assert ladder.events(req)[0].policy_version == VERSION
