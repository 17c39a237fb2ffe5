"""What goes next for one request: a batch to deliver, or answers parked behind an earlier one.

Answers to one request keep their order (they share a key, hence a partition); answers to
different requests are independent. So the bridge delivers each request's answers in order,
several in one update when a backlog queued them (``batches``, ``take_answers``), and
different requests side by side. Once an answer to a request is parked (``ParkedRequests``),
its later answers are parked behind it until a replay of that request's answers is taken.
Pure, no I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import takewhile

from schemas.answers import MAX_BATCH_ANSWERS
from schemas.deadletter import DeadLetterReason
from tracefreeze.intake.gate import ReceivedAnswer

MAX_BATCH_BYTES = 1024 * 1024
"""Answer bytes per batch update: well under Temporal's 2 MiB payload limit (answers are
at most ``routing.MAX_ANSWER_BYTES`` each)."""


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


def behind(first: ReceivedAnswer) -> str:
    """The dead-letter reason of an answer parked behind ``first`` (same request)."""
    r = first.record
    return (
        f"behind parked answer {first.answer.event_id} ({r.topic}/{r.partition}/{r.offset}) "
        "to the same request: answers to one request are applied in order; replay them "
        "together"
    )


@dataclass(frozen=True)
class Parked:
    """Why a request's answers are parked: the first one's reason, and which one it was."""

    reason: DeadLetterReason
    detail: str


@dataclass
class ParkedRequests:
    """Requests with a parked answer, so that their later answers are parked behind it.

    Held by one bridge process, bounded *per State* (``max_entries`` marks each; a State's
    oldest marks go first, and only its own): however many requests one State gets parked,
    it never evicts another State's mark. A bridge that restarts delivers a parked request's
    new answers again, and they are parked again if the request still cannot take them
    (docs/operations.md, "Stuck answers")."""

    max_entries: int = 10_000
    _behind: dict[str, OrderedDict[str, Parked]] = field(default_factory=dict)
    """State -> workflow id -> why its answers are parked."""

    def __contains__(self, workflow_id: str) -> bool:
        return any(workflow_id in marks for marks in self._behind.values())

    def _of(self, item: ReceivedAnswer) -> OrderedDict[str, Parked]:
        return self._behind.setdefault(item.answer.state, OrderedDict())

    def mark(
        self, first: ReceivedAnswer, reason: DeadLetterReason = DeadLetterReason.STUCK
    ) -> None:
        """``first`` was parked (for ``reason``): its request's later answers go behind it,
        for the same reason."""
        marks = self._of(first)
        marks[first.workflow_id] = Parked(reason, behind(first))
        marks.move_to_end(first.workflow_id)
        while len(marks) > self.max_entries:
            marks.popitem(last=False)

    def next(self, pending: list[ReceivedAnswer]) -> tuple[list[ReceivedAnswer], Parked | None]:
        """The next answers of one request's ``pending`` (in order) and, if they are to be
        parked behind an earlier answer, why. An authenticated replay is always delivered,
        alone, while its request is marked; the answers before it that are not replays are
        parked."""
        marks = self._behind.get(pending[0].answer.state)
        why = marks.get(pending[0].workflow_id) if marks else None
        if why is None:
            return batches(pending)[0], None
        if pending[0].replayed:
            return pending[:1], None
        return list(takewhile(lambda i: not i.replayed, pending)), why

    def delivered(self, batch: list[ReceivedAnswer], taken: bool) -> None:
        """After a delivery: not taken (parked) marks the request; a replay taken clears it."""
        if not taken:
            self.mark(batch[0])
        elif batch[0].replayed:
            marks = self._behind.get(batch[0].answer.state)
            if marks is not None:
                marks.pop(batch[0].workflow_id, None)
