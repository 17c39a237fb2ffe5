"""Planning a partition's answers: grouped per request in arrival order, cut into batches by
count and bytes, and the offset to commit stops at the first answer not finished."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from tests.workflows.support import acknowledgement, court_request
from tracefreeze.pipeline import ReceivedAnswer, batches, by_request, next_offset


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
