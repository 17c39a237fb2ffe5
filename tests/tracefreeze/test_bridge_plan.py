"""Planning a partition's answers: grouped per request in arrival order, cut into batches by
count and bytes, and the offset to commit stops at the first answer not finished."""

from __future__ import annotations

import dataclasses

from aiokafka.structs import ConsumerRecord

from schemas.deadletter import HEADER_REPLAYED_FROM, DeadLetterReason
from tests.builders import acknowledgement, court_request
from tracefreeze.intake.gate import ReceivedAnswer
from tracefreeze.intake.lanes import by_request, next_offset
from tracefreeze.intake.parking import ParkedRequests, batches


def record(offset: int, size: int = 10) -> ConsumerRecord:
    return ConsumerRecord(
        topic="answers", partition=0, offset=offset, timestamp=0, timestamp_type=0,
        key=None, value=b"x" * size, checksum=None, serialized_key_size=0,
        serialized_value_size=size, headers=(),
    )  # fmt: skip


def items(*plan: tuple[str, int]) -> list[ReceivedAnswer]:
    """(request label, size) per record, offsets 0, 1, 2, ..."""
    requests = {label: court_request() for label, _ in plan}
    return [
        ReceivedAnswer(record(i, size), acknowledgement(requests[label]))
        for i, (label, size) in enumerate(plan)
    ]


def offsets(groups: list[list[ReceivedAnswer]]) -> list[list[int]]:
    return [[i.record.offset for i in g] for g in groups]


def test_answers_are_grouped_per_request_keeping_their_order() -> None:
    found = by_request(items(("a", 1), ("b", 1), ("a", 1), ("c", 1), ("b", 1), ("a", 1)))
    assert offsets(found) == [[0, 2, 5], [1, 4], [3]]


def test_a_group_is_cut_by_count_and_by_bytes_in_order() -> None:
    group = items(*[("a", 10)] * 7)
    assert offsets(batches(group, max_answers=3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert offsets(batches(group, max_answers=50, max_bytes=25)) == [[0, 1], [2, 3], [4, 5], [6]]
    big = items(("a", 10), ("a", 100), ("a", 10))
    assert offsets(batches(big, max_bytes=50)) == [[0], [1], [2]]  # too big: travels alone


def test_the_commit_stops_before_the_first_unfinished_answer() -> None:
    records = [record(o) for o in (7, 8, 9, 10)]
    assert next_offset(records, {7, 8, 9, 10}) == 11
    assert next_offset(records, {7, 8, 10}) == 9  # 10 is read again: a duplicate, a no-op
    assert next_offset(records, {8, 9}) is None


def replayed(item: ReceivedAnswer) -> ReceivedAnswer:
    """The same answer as an operator's authenticated replay of its dead letter (the gate
    verified its MAC: ``tracefreeze/intake/replay_auth.py``)."""
    r = item.record
    headers = ((HEADER_REPLAYED_FROM, b"0:7"),)
    return ReceivedAnswer(dataclasses.replace(r, headers=headers), item.answer, replayed=True)


def forged(item: ReceivedAnswer) -> ReceivedAnswer:
    """The same answer with a ``tf_replayed_from`` header its State wrote itself (no MAC)."""
    headers = ((HEADER_REPLAYED_FROM, b"0:7"),)
    return ReceivedAnswer(dataclasses.replace(item.record, headers=headers), item.answer)


def test_a_forged_replay_header_does_not_jump_a_parked_request() -> None:
    """H2: a State marking its own answers as replays is still parked behind its request's
    parked answer (the old bridge took the bare header at its word and delivered it)."""
    a0, a1 = items(("a", 1), ("a", 1))
    parked = ParkedRequests()
    parked.mark(a0)
    fake = forged(a1)
    batch, why = parked.next([fake])
    assert batch == [fake] and why is not None
    parked.delivered([fake], taken=True)  # and never releases the request
    assert a0.workflow_id in parked


def test_parked_marks_are_bounded_per_state() -> None:
    """L1: BEL getting many requests parked evicts only BEL's marks, never NLD's."""
    nld = items(("n", 1))[0]
    bel_requests = [court_request(requested_state="BEL") for _ in range(5)]
    bel = [
        ReceivedAnswer(record(i), acknowledgement(r, state="BEL"))
        for i, r in enumerate(bel_requests)
    ]
    parked = ParkedRequests(max_entries=2)
    parked.mark(nld)
    for item in bel:
        parked.mark(item)
    assert nld.workflow_id in parked
    assert parked.next([nld])[1] is not None
    assert [i.workflow_id in parked for i in bel] == [False, False, False, True, True]


def test_behind_a_parked_answer_the_same_requests_later_answers_are_parked_in_order() -> None:
    a0, b0, a1, a2 = items(("a", 1), ("b", 1), ("a", 1), ("a", 1))
    parked = ParkedRequests()
    batch, why = parked.next([a0, a1, a2])
    assert (offsets([batch]), why) == ([[0, 2, 3]], None)  # nothing parked: one batch
    parked.delivered([a0], taken=False)  # a0 could not be taken: parked
    assert a0.workflow_id in parked and b0.workflow_id not in parked
    batch, why = parked.next([a1, a2])
    assert offsets([batch]) == [[2, 3]]
    assert why is not None and why.reason is DeadLetterReason.STUCK
    assert a0.answer.event_id in why.detail and "answers/0/0" in why.detail
    assert parked.next([b0]) == ([b0], None)  # another request is not held


def test_a_replay_of_a_parked_request_is_delivered_and_releases_it() -> None:
    a0, a1, a2 = items(("a", 1), ("a", 1), ("a", 1))
    parked = ParkedRequests()
    parked.mark(a0, DeadLetterReason.THROTTLED)
    again0, again1 = replayed(a0), replayed(a1)
    batch, why = parked.next([a2, again0, again1])
    assert batch == [a2] and why is not None  # not a replay: behind the parked one
    assert why.reason is DeadLetterReason.THROTTLED  # for the same reason as the first
    batch, why = parked.next([again0, again1])
    assert (batch, why) == ([again0], None)  # the replay alone, first
    parked.delivered(batch, taken=True)
    assert a0.workflow_id not in parked
    assert parked.next([again1, a2]) == ([again1, a2], None)


def test_a_replay_that_is_stuck_again_keeps_the_request_parked() -> None:
    a0, a1 = items(("a", 1), ("a", 1))
    parked = ParkedRequests()
    parked.mark(a0)
    parked.delivered([replayed(a0)], taken=False)
    assert parked.next([a1])[1] is not None


def test_parked_requests_are_bounded() -> None:
    a, b, c = items(("a", 1), ("b", 1), ("c", 1))
    parked = ParkedRequests(max_entries=2)
    for item in (a, b, c):
        parked.mark(item)
    assert a.workflow_id not in parked and b.workflow_id in parked and c.workflow_id in parked


def test_the_commit_passes_parked_answers_once_their_outcome_is_final() -> None:
    """A parked answer's dead-letter record was acknowledged: it is finished like any other,
    so the partition's offset moves past it."""
    records = [record(o) for o in (0, 1, 2)]
    parked_first = {0}  # parked, acknowledged by the dead-letter topic
    assert next_offset(records, parked_first | {1, 2}) == 3
