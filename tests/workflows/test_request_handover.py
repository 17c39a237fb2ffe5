"""A request that lives ten years hands a bounded carry to every run (RS 93(1)(k), 96, 99).

Property of the hand-over (``workflows/request_handover.py``), without a server: after k
windows of answers (each window: valuations of a frozen account, cf. EU 2018/1805 art. 28, a
modification of the request after consultation, RS 93(3), 96(3), and a freeze-limit
consultation decided and lifted, RS 97) the carry's serialized size is the same bound for every
k from the second window on, while the counts it keeps stay exact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.contrib.pydantic import pydantic_data_converter

from schemas.ledger import RequestStatus
from schemas.views import TimelineEntry
from tests.workflows.support import (
    ACCOUNT,
    acknowledgement,
    asset_management,
    court_request,
    freeze_account,
)
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows.carry import (
    TIMELINE_CARRIED,
    Clocks,
    FreezeLimitConsultation,
    RequestCarry,
    RequestVersion,
)
from workflows.catalog import KINDS, RULES
from workflows.ledger import ledger_from_request
from workflows.request_handover import (
    SETTLED_FREEZE_LIMITS_CARRIED,
    VERSIONS_CARRIED,
    hand_over,
)
from workflows.request_seen import SeenIds

WINDOW = timedelta(days=2)
PER_WINDOW = 400
"""Answers in one dedupe window (two a day would be a busy State; this is a flood)."""
WINDOWS = SETTLED_FREEZE_LIMITS_CARRIED + 4
BOUND = 200 * 1024
"""The carry's bytes after any number of windows (the seen ids of one window, 12 characters
each, the carried timeline, the asset's history and the rest)."""


def size(rec: RequestCarry) -> int:
    (payload,) = pydantic_data_converter.payload_converter.to_payloads([rec])
    return len(payload.data)


def take(rec: RequestCarry, seen: SeenIds, m, at: datetime) -> None:
    """What the workflow does with an answer (``RequestWorkflow._take``), minus publishing."""
    outcome = RULES[KINDS[m.answer_type].name].apply(rec, req_of(rec), m, at)
    if outcome.status is not None:
        rec.status = outcome.status
    rec.ledger.collapse_histories()
    rec.timeline.append(
        TimelineEntry(at=at, event_id=m.event_id, what=outcome.what, status=rec.status)
    )
    seen.add(m.event_id, at)
    seen.forget_before(at, WINDOW)


REQUEST = court_request()


def req_of(rec: RequestCarry):
    return rec.versions[-1].request if rec.versions else REQUEST


def amount(i: int) -> str:
    return f"{9000000 - i}.00"  # the same width for every answer


def test_the_carry_stays_under_one_bound_after_any_number_of_windows() -> None:
    start = datetime(2027, 1, 4, tzinfo=UTC)
    policy = resolve(load_policy(), load_directory(), REQUEST)
    rec = RequestCarry(
        status=RequestStatus.TRANSMITTED,
        ledger=ledger_from_request(REQUEST),
        timeline=[],
        clocks=Clocks(policy=policy, started_at=start),
    )
    seen = SeenIds([], [], 0, start)
    take(rec, seen, acknowledgement(REQUEST), start)
    take(rec, seen, freeze_account(REQUEST), start)
    sizes, answers = [], 2
    for k in range(WINDOWS):
        for i in range(PER_WINDOW):
            at = start + k * WINDOW + (WINDOW * i) / PER_WINDOW
            take(rec, seen, asset_management(REQUEST, ACCOUNT, amount(answers)), at)
            answers += 1
        at = start + (k + 1) * WINDOW
        version = (rec.versions[-1].version if rec.versions else 1) + 1
        rec.versions.append(RequestVersion(version=version, at=at, request=REQUEST))
        assert rec.clocks is not None
        rec.clocks.freeze_limits.append(
            FreezeLimitConsultation(
                asset_id=ACCOUNT,
                proposed_at=at,
                proposed_until=at + WINDOW,
                decision="freeze_limited",
                lift_at=at,
                lifted=True,
            )
        )
        rec = RequestCarry.model_validate(hand_over(rec, seen, at, WINDOW).model_dump())
        seen = SeenIds(rec.seen, rec.seen_event_ids, rec.answers_taken, at)
        sizes.append(size(rec))
        # Exact counts, whatever is no longer held.
        assert rec.answers_taken == answers
        assert len(rec.timeline) + rec.timeline_dropped == answers
        account = rec.ledger.entries[ACCOUNT]
        assert len(account.history) + account.history_collapsed == answers - 1
        assert rec.versions[-1].version == k + 2
    print(f"carry bytes after each window: {sizes}")
    assert max(sizes) <= BOUND
    # Once every window is full (the last to fill: the settled freeze limits) the carry no
    # longer grows: the same size, give or take the seen ids' split over days.
    full = sizes[SETTLED_FREEZE_LIMITS_CARRIED - 1 :]
    assert max(full) - min(full) <= 512, sizes
    assert len(rec.timeline) == TIMELINE_CARRIED
    assert len(rec.versions) == VERSIONS_CARRIED
    assert rec.clocks is not None
    assert len(rec.clocks.freeze_limits) == SETTLED_FREEZE_LIMITS_CARRIED
    assert seen.held <= 2 * PER_WINDOW


def test_a_pending_freeze_limit_and_a_lift_to_come_are_always_carried() -> None:
    """RS 97: only a consultation that is over may be dropped; one awaiting the Chamber, or a
    decision whose lift is still to come, is carried however many came before it."""
    at = datetime(2027, 1, 4, tzinfo=UTC)
    over = [
        FreezeLimitConsultation(
            asset_id=ACCOUNT, proposed_at=at, proposed_until=at, decision="freeze_maintained"
        )
        for _ in range(3 * SETTLED_FREEZE_LIMITS_CARRIED)
    ]
    pending = FreezeLimitConsultation(asset_id=ACCOUNT, proposed_at=at, proposed_until=at)
    to_lift = FreezeLimitConsultation(
        asset_id="a-2", proposed_at=at, proposed_until=at, decision="freeze_limited", lift_at=at
    )
    rec = RequestCarry(
        status=RequestStatus.IN_EXECUTION,
        ledger=ledger_from_request(REQUEST),
        timeline=[],
        clocks=Clocks(
            policy=resolve(load_policy(), load_directory(), REQUEST),
            started_at=at,
            freeze_limits=[pending, *over, to_lift],
        ),
    )
    hand_over(rec, SeenIds([], [], 0, at), at, WINDOW)
    assert rec.clocks is not None
    kept = rec.clocks.freeze_limits
    assert kept[0] is pending and kept[-1] is to_lift
    assert kept[1:-1] == over[-SETTLED_FREEZE_LIMITS_CARRIED:]
