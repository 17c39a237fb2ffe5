"""Planning one partition's fetched answers: which travel together, and what to commit.

Answers to one request keep their order (they share a key, hence a partition); answers to
different requests are independent. So the bridge delivers each request's answers in order,
several in one update when a backlog queued them (``take_answers``), and different requests
side by side. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka.structs import ConsumerRecord

from schemas.answers import MAX_BATCH_ANSWERS
from schemas.request import request_workflow_id
from tracefreeze.routing import Answer

MAX_BATCH_BYTES = 1024 * 1024
"""Answer bytes per batch update: well under Temporal's 2 MiB payload limit (answers are
at most ``routing.MAX_ANSWER_BYTES`` each)."""


@dataclass(frozen=True)
class ReceivedAnswer:
    """A verified answer and the record it came in."""

    record: ConsumerRecord
    answer: Answer

    @property
    def workflow_id(self) -> str:
        return request_workflow_id(self.answer.request_reference, self.answer.state)

    @property
    def size(self) -> int:
        return len(self.record.value or b"")


def by_request(items: Iterable[ReceivedAnswer]) -> list[list[ReceivedAnswer]]:
    """The items grouped by the request they answer, each group in arrival order; groups in
    the order their first answer arrived."""
    groups: dict[str, list[ReceivedAnswer]] = {}
    for item in items:
        groups.setdefault(item.workflow_id, []).append(item)
    return list(groups.values())


def batches(
    group: list[ReceivedAnswer],
    max_answers: int = MAX_BATCH_ANSWERS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> list[list[ReceivedAnswer]]:
    """One request's answers cut, in order, into batches of at most ``max_answers`` answers
    and ``max_bytes`` bytes (a single larger answer travels alone)."""
    out: list[list[ReceivedAnswer]] = []
    current: list[ReceivedAnswer] = []
    size = 0
    for item in group:
        if current and (len(current) >= max_answers or size + item.size > max_bytes):
            out.append(current)
            current, size = [], 0
        current.append(item)
        size += item.size
    if current:
        out.append(current)
    return out


def next_offset(records: list[ConsumerRecord], finished: set[int]) -> int | None:
    """The offset to commit for the partition: its first record whose outcome is not final,
    or one past the last record; None when not even the first is final. Answers after the
    first unfinished one are read again and are duplicates (no-ops) in their request."""
    done: int | None = None
    for record in records:
        if record.offset not in finished:
            break
        done = record.offset + 1
    return done
