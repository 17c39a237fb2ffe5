"""The event ids a request has taken, kept as long as an answer could come back, and no longer.

Every answer and Court action is deduplicated by its event id. Kept for ever, the ids would
grow the request's continue-as-new input without bound (a State sending thousands of answers
could push it past the SDK's 2 MB payload limit and jam the request for the Court). They need
not be kept for ever: the intake refuses an answer whose ``sent_at`` is older than its answer
age limit (``answer_max_age_days``, ``tracefreeze/intake/gate.py``), so an id taken longer ago than
that window can never be offered again. The window comes with the request's input, never from
the environment, and is carried across continue-as-new.

Ids are kept per UTC day they were taken, as a short digest (BLAKE2b, 9 bytes, base64: 12
characters whatever the id's length); a day's ids are forgotten once the whole day lies
outside the window (so an id is kept at least the window, at most a day longer). A hard cap on
the ids held within the window is the last line: past it a new answer is refused with a clear
reason (``Rejection``), never a failed workflow task.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.views import RequestInput
    from workflows.carry import SeenDay
    from workflows.outcome import Rejection

DIGEST_BYTES = 9
"""72 bits: two of a request's 20,000 ids collide with odds below 1 in 10^13 (birthday
bound), and a State cannot aim a collision at an id it has not seen."""
DIGEST_CHARS = 12
"""Base64 characters of one digest (9 bytes, no padding)."""


def digest(event_id: str) -> str:
    raw = hashlib.blake2b(event_id.encode(), digest_size=DIGEST_BYTES).digest()
    return base64.b64encode(raw).decode()


class SeenIds:
    """The ids taken within the window, by the day they were taken, and how many in all."""

    def __init__(self, days: list[SeenDay], legacy: list[str], taken: int, now: datetime) -> None:
        self._days: dict[date, list[str]] = {}
        self._day_of: dict[str, date] = {}
        for d in days:
            chunk = d.digests
            for i in range(0, len(chunk), DIGEST_CHARS):
                self._put(chunk[i : i + DIGEST_CHARS], d.day)
        for event_id in legacy:  # a carry from before the window: its ids count as taken now
            self._put(digest(event_id), now.date())
        self.taken = max(taken, len(self._day_of))
        """Every distinct id ever taken, forgotten or not (``answers_seen``)."""

    def _put(self, key: str, day: date) -> None:
        if key not in self._day_of:
            self._day_of[key] = day
            self._days.setdefault(day, []).append(key)

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, str) and digest(event_id) in self._day_of

    def __len__(self) -> int:
        return self.taken

    @property
    def held(self) -> int:
        """Ids held now (within the window)."""
        return len(self._day_of)

    def add(self, event_id: str, now: datetime) -> None:
        key = digest(event_id)
        if key not in self._day_of:
            self._put(key, now.astimezone(UTC).date())
            self.taken += 1

    def discard(self, event_id: str) -> None:
        """Undo ``add`` (an answer rolled back by the guard)."""
        key = digest(event_id)
        day = self._day_of.pop(key, None)
        if day is not None:
            self._days[day].remove(key)
            self.taken -= 1

    def _expired(self, now: datetime, window: timedelta) -> list[date]:
        """The days wholly older than ``now - window``."""
        horizon = now - window
        return [
            day
            for day in self._days
            if datetime.combine(day + timedelta(days=1), time(), UTC) <= horizon
        ]

    def held_within(self, now: datetime, window: timedelta) -> int:
        """Ids taken within the window (read-only: for validators)."""
        return self.held - sum(len(self._days[d]) for d in self._expired(now, window))

    def check_cap(self, reference: str, now: datetime, inp: RequestInput) -> None:
        """Refuse a new answer when the request already holds its cap of ids within the
        dedupe window: a flood is refused with its reason, never a failed workflow task.
        Read-only (it runs in update validators, which are not replayed)."""
        window, cap = inp.dedupe_window, inp.seen_ids_cap
        held = self.held_within(now, window)
        if held >= cap:
            raise Rejection(
                f"request {reference} has taken {held} answers within {window.days} days, "
                "its cap: refused until older answers leave the window"
            )

    def forget_before(self, now: datetime, window: timedelta) -> None:
        """Forget the days wholly older than the window."""
        for day in self._expired(now, window):
            for key in self._days.pop(day):
                del self._day_of[key]

    def carried(self) -> list[SeenDay]:
        return [SeenDay(day=d, digests="".join(keys)) for d, keys in sorted(self._days.items())]
