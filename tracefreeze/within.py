"""Every bounded await of the product: ``await within(timeout_s, awaitable)``.

A process told to stop (its task cancelled: a test's in-process worker, a bridge's lane, the
CLI on Ctrl-C) must stop, whatever it was awaiting. Two ways lose the cancellation, both seen
here on Python 3.11:

- ``asyncio.wait_for`` returns the result when the task is cancelled as the awaitable
  completes in the same step of the loop (banned by ruff, TID251);
- an awaitable that catches ``CancelledError`` inside: aiokafka's ``stop`` awaits its own
  cancelled tasks under ``suppress(CancelledError)``, and the Temporal client turns a
  cancelled update call into ``WorkflowUpdateRPCTimeoutOrCancelledError``, which the bridge
  would take for a timeout and try again.

``within`` runs the awaitable in the caller's task under ``asyncio.timeout`` and, when the
task was cancelled meanwhile (its count of cancel requests grew), raises ``CancelledError``
whatever the awaitable returned or raised. Its own timeout is not such a request: on
expiry ``asyncio.timeout`` takes it back and raises ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(timeout_s: float | None, awaitable: Awaitable[T]) -> T:
    """``await awaitable``, at most ``timeout_s`` (``TimeoutError``), never losing a
    cancellation of the calling task."""
    task = asyncio.current_task()
    before = task.cancelling() if task is not None else 0
    try:
        async with asyncio.timeout(timeout_s):
            result = await awaitable
    except asyncio.CancelledError:
        raise
    except BaseException as err:
        if task is not None and task.cancelling() > before:
            raise asyncio.CancelledError from err
        raise
    if task is not None and task.cancelling() > before:
        raise asyncio.CancelledError
    return result
