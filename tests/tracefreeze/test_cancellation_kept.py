"""A cancelled task stays cancelled when what it awaits under a time limit completes in the
same step (``tracefreeze/kafka.py``, and every bounded await of the product).

On Python 3.11, ``asyncio.wait_for`` returns the result instead of raising when the task is
cancelled while the awaitable completes in the same step of the loop: the cancellation is lost.
A worker whose Kafka producer finished starting just as it was told to stop then went on to
poll for ever, and the test that stopped it waited until its timeout (seen once, under load, in
``test_completeness_e2e.py``: 900 s). ``asyncio.timeout`` keeps the cancellation. The
precondition is constructed here, not waited for: the awaitable's completion and the
cancellation are queued in the same step, in that order.
"""

from __future__ import annotations

import asyncio

import pytest

from tracefreeze.kafka import start_with_timeout, stop_with_timeout


class Client:
    """A producer or consumer whose ``start`` ends when told to."""

    def __init__(self) -> None:
        self.entered, self.go = asyncio.Event(), asyncio.Event()
        self.stopped = 0

    async def start(self) -> None:
        self.entered.set()
        await self.go.wait()

    async def stop(self) -> None:
        self.stopped += 1


async def test_a_stop_that_lands_as_a_client_finishes_starting_is_kept() -> None:
    client = Client()
    went_on = asyncio.Event()

    async def process() -> None:
        await start_with_timeout(client, 30)
        went_on.set()  # a process told to stop must never get here
        await asyncio.sleep(3600)

    task = asyncio.create_task(process())
    await client.entered.wait()  # the process is waiting on the start
    client.go.set()  # the start completes in the next step ...
    task.cancel()  # ... and the cancellation is delivered in the same step
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10):
            await task
    assert not went_on.is_set()
    assert client.stopped == 1  # a client cancelled while starting is stopped


async def test_a_stop_bounded_by_its_timeout_is_still_a_stop() -> None:
    client = Client()

    async def stop_then_more() -> None:
        await stop_with_timeout(client, 30)
        await asyncio.sleep(3600)

    task = asyncio.create_task(stop_then_more())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10):
            await task
