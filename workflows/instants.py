"""Clock arithmetic that cannot fail: a party may send any date the contracts admit, and a
workflow task must never raise on it (an exception there fails the task in a loop)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NEVER = datetime.max.replace(tzinfo=UTC)
"""The latest instant there is: a clock that would fall due after it waits for ever."""
EVER = datetime.min.replace(tzinfo=UTC)


def shift(at: datetime, by: timedelta) -> datetime:
    """``at + by``, clamped to the calendar's ends instead of raising OverflowError."""
    try:
        return at + by
    except OverflowError:
        return NEVER if by > timedelta(0) else EVER
