"""A process told to stop stops, whatever it was awaiting under a time limit
(``tracefreeze/within.py``, through which every bounded await of the product goes).

Seen once under load: a test's in-process worker, stopped about as soon as it was started,
went on polling, and the test waited until pytest's timeout (900 s). On Python 3.11
``asyncio.wait_for`` returns the result when the task is cancelled as the awaitable
completes in the same step; aiokafka's ``stop`` swallows a cancellation that lands while it
awaits its own tasks; the Temporal client turns a cancelled update call into an error the
bridge takes for a timeout. Each precondition is constructed here, not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from tracefreeze.kafka import start_with_timeout, stop_with_timeout
from tracefreeze.within import within


class Client:
    """A producer or consumer: ``start`` ends when told to (``go``); ``stop``, like
    aiokafka's, awaits a task of its own under ``suppress(CancelledError)``, which ends when
    told to (``released``)."""

    def __init__(self) -> None:
        self.entered, self.go = asyncio.Event(), asyncio.Event()
        self.stopping, self.released = asyncio.Event(), asyncio.Event()
        self.stopped = 0

    async def start(self) -> None:
        self.entered.set()
        await self.go.wait()

    async def stop(self) -> None:
        self.stopped += 1
        own = asyncio.create_task(self.released.wait())
        self.stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await own
        own.cancel()


async def cancelled_while(
    work: Callable[[], Awaitable[None]],
    at: asyncio.Event,
    first: Callable[[], object] = lambda: None,
) -> bool:
    """Run ``work`` then sleep for an hour; once ``at`` is set, call ``first`` and cancel in
    the same step. True if the task ended cancelled without going past ``work``."""
    went_on = asyncio.Event()

    async def process() -> None:
        await work()
        went_on.set()  # a process told to stop must never get here
        await asyncio.sleep(3600)

    task = asyncio.create_task(process())
    await at.wait()
    first()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        async with asyncio.timeout(10):
            await task
    return task.cancelled() and not went_on.is_set()


async def test_a_stop_that_lands_as_a_client_finishes_starting_is_kept() -> None:
    client = Client()
    client.released.set()  # its stop, after the cancellation, ends at once

    async def start() -> None:
        await start_with_timeout(client, 30)

    # Once the process waits on the start: the start completes in the next step, and the
    # cancellation is delivered in the same step, after it.
    assert await cancelled_while(start, client.entered, first=client.go.set)
    assert client.stopped == 1  # a client cancelled while starting is stopped


async def test_a_stop_that_lands_while_a_client_stops_is_kept() -> None:
    client = Client()

    async def stop() -> None:
        await stop_with_timeout(client, 30)

    assert await cancelled_while(stop, client.stopping)


async def test_a_cancellation_the_awaitable_turns_into_an_error_is_kept() -> None:
    """As the Temporal client does with a cancelled update call: never taken for a timeout."""
    called = asyncio.Event()

    async def update_call() -> None:
        called.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("update call timed out or was cancelled") from None

    async def deliver() -> None:
        with contextlib.suppress(RuntimeError, TimeoutError):  # the bridge would try again
            await within(30, update_call())

    assert await cancelled_while(deliver, called)


async def test_its_own_timeout_is_a_timeout_not_a_cancellation() -> None:
    task = asyncio.current_task()
    assert task is not None
    before = task.cancelling()
    with pytest.raises(TimeoutError):
        await within(0.01, asyncio.sleep(3600))
    assert task.cancelling() == before
    assert await within(None, asyncio.sleep(0, "done")) == "done"
