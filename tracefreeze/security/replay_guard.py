"""The bridge's memory of answers it verified, and how far an answer's clock may be off.

``ReplayGuard`` remembers (answering State, event id) of each verified answer for a while, so
that a verified answer sent again at another Kafka position is refused as ``replayed``
(``tracefreeze/security/verify.py``); ``Tolerance`` bounds ``sent_at`` against the bridge's
clock (``too_old``, ``from_future``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

Position = tuple[str, int, int]
"""Where a message sits in Kafka: (topic, partition, offset)."""


ReplayKey = tuple[str, str]
"""(answering State, event id): what the replay guard remembers."""


class ReplayGuard:
    """(State, event id) of answers verified recently: an LRU per State with a time to live.

    Keyed by the answering State as well as the event id: a State can only replay its own
    answers, so another State sending a message under the same event id (e.g. BEL reusing
    NLD's predictable ``nld-answer-000042``) never blocks the genuine answer (issue 11).
    Bounded per State (``max_entries`` each): a State flooding event ids evicts only its own
    entries, never another State's (RS art. 93(1): each State's request is its own).

    Only a first line: it forgets on restart, after ``ttl`` and beyond ``max_entries``, and
    each bridge process has its own. The request workflow's seen-set is the real dedupe.

    An event id seen again at the *same* Kafka position is a redelivery (the bridge stopped
    or lost the partition before committing), not a replay: it passes. Seen at another
    position (or with no position given), it is a replay.
    """

    def __init__(self, max_entries: int = 100_000, ttl: timedelta = timedelta(days=7)) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries, self.ttl = max_entries, ttl
        self._seen: dict[str, OrderedDict[str, tuple[datetime, Position | None]]] = {}
        """State -> event id -> (when, where), oldest first."""

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._seen.values())

    def __contains__(self, key: object) -> bool:
        """``(state, event_id)``; a bare event id: recorded for any State."""
        if isinstance(key, str):
            return any(key in entries for entries in self._seen.values())
        if isinstance(key, tuple) and len(key) == 2:
            state, event_id = key
            return event_id in self._seen.get(state, ())
        return False

    def replayed(
        self, state: str, event_id: str, now: datetime, position: Position | None = None
    ) -> bool:
        """Whether ``state`` sent ``event_id`` within the TTL at another position."""
        entries = self._seen.get(state)
        if not entries:
            return False
        self._expire(entries, now)
        entry = entries.get(event_id)
        if entry is None:
            return False
        _, where = entry
        return position is None or where != position

    def record(
        self, state: str, event_id: str, now: datetime, position: Position | None = None
    ) -> None:
        entries = self._seen.setdefault(state, OrderedDict())
        entries[event_id] = (now, position)
        entries.move_to_end(event_id)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def forget(self, event_id: str, state: str | None = None) -> None:
        """Forget ``event_id`` of ``state``, or of every State when ``state`` is None."""
        states = [state] if state is not None else list(self._seen)
        for s in states:
            entries = self._seen.get(s)
            if entries is not None:
                entries.pop(event_id, None)

    def _expire(
        self, entries: OrderedDict[str, tuple[datetime, Position | None]], now: datetime
    ) -> None:
        while entries:
            oldest = next(iter(entries))
            if now - entries[oldest][0] < self.ttl:
                break
            entries.popitem(last=False)


@dataclass(frozen=True)
class Tolerance:
    """How far ``sent_at`` may be from the bridge's clock."""

    max_age: timedelta = timedelta(days=7)
    """An answer sent longer ago than this is ``too_old`` (Kafka backlog after an outage
    stays well within it; keep it at most the replay guard's TTL)."""
    max_skew: timedelta = timedelta(minutes=5)
    """An answer dated later than now + this is ``from_future`` (clock skew)."""


DEFAULT_TOLERANCE = Tolerance()
