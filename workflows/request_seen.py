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

A Court action's id is never forgotten: no age limit of the intake reaches a Court action, so
a genuine signed act (a ``resume``, a ``withdrawal``) captured by an insider could otherwise be
sent again once its id had left the window, or after a hand-over, and be taken again. Its id is
kept for the request's life apart from the window (``court``, carried as
``RequestCarry.court_ids``), at most ``MAX_REQUEST_COURT_ACTIONS`` of them
(``workflows/court_admission.py`` refuses an action past it). Why kept rather than refused by
age (a Court action older than the window): an act the case relays carries its Chamber's
original with the date it was decided (a judgment told to a request the case adds years later,
``workflows/case.py``), and the Court may record an act some weeks after deciding it, so an age
limit would refuse the Court's own acts; a bounded set refuses only past a cap no request's
procedure reaches, and its ids never count against the State's cap.
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

    def __init__(
        self, days: list[SeenDay], legacy: list[str], taken: int, now: datetime, court: str = ""
    ) -> None:
        self._days: dict[date, list[str]] = {}
        self._day_of: dict[str, date] = {}
        self._court: dict[str, None] = dict.fromkeys(
            court[i : i + DIGEST_CHARS] for i in range(0, len(court), DIGEST_CHARS)
        )
        """The Court actions' ids, kept for the request's life (in the order taken)."""
        for d in days:
            chunk = d.digests
            for i in range(0, len(chunk), DIGEST_CHARS):
                self._put(chunk[i : i + DIGEST_CHARS], d.day)
        for event_id in legacy:  # a carry from before the window: its ids count as taken now
            self._put(digest(event_id), now.date())
        self.taken = max(taken, len(self._day_of) + len(self._court))
        """Every distinct id ever taken, forgotten or not (``answers_seen``)."""

    def _put(self, key: str, day: date) -> None:
        if key not in self._day_of:
            self._day_of[key] = day
            self._days.setdefault(day, []).append(key)

    def __contains__(self, event_id: object) -> bool:
        if not isinstance(event_id, str):
            return False
        key = digest(event_id)
        return key in self._day_of or key in self._court

    def __len__(self) -> int:
        return self.taken

    @property
    def held(self) -> int:
        """Ids held now (within the window)."""
        return len(self._day_of)

    @property
    def court_actions(self) -> int:
        """Court actions' ids held (for the request's life)."""
        return len(self._court)

    def add(self, event_id: str, now: datetime, court: bool = False) -> None:
        """Count ``event_id`` as taken: a State's answer within the window, a Court action's
        for the request's life (``court``)."""
        key = digest(event_id)
        if key in self._day_of or key in self._court:
            return
        if court:
            self._court[key] = None
        else:
            self._put(key, now.astimezone(UTC).date())
        self.taken += 1

    def discard(self, event_id: str) -> None:
        """Undo ``add`` (an answer rolled back by the guard)."""
        key = digest(event_id)
        if key in self._court:
            del self._court[key]
            self.taken -= 1
            return
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

    def court_carried(self) -> str:
        """The Court actions' ids, concatenated (``RequestCarry.court_ids``)."""
        return "".join(self._court)
