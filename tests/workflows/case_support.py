"""What the case workflow's tests share: a Court action decided now, and waiting on the case."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.builders import ActionT, court_action, now


def decided_now(cls: type[ActionT], **fields: Any) -> ActionT:
    """A Court action of type ``cls`` decided now (``tests/builders.py``, ``court_action``)."""
    return court_action(cls, decided_at=now(), **fields)


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    """Until ``check()`` holds (a case learns of its requests through their reports), failing
    the test after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)
