"""Start pacing shared by the product's and the bare engine's scale runs."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bench.common import partitions
from tracefreeze.config import Settings
from tracefreeze.kafka import make_reader

MAX_UNSETTLED = 100
"""Workflows started whose first message is not yet on its topic, at most."""
STALL_S = 300.0
"""The longest a submission waits for room: a run whose workflows publish nothing (a send
refused, a worker gone) fails with the reason instead of waiting for ever. Healthy runs
settle 20-47 starts a second on this machine, so a waiter behind every other submitter
needs far less."""


class Settled:
    """How many workflows of this run have published their first message (a request its
    transmission event), i.e. the worker ran their first tasks and activity (polled from the
    end offsets of ``topic``, the request-events topic by default).

    Submissions wait while more than ``MAX_UNSETTLED`` are not yet settled: a request's
    clocks start when its first task runs, so the deadlines stay within a few seconds of
    each other however fast the worker turns out to be. The bare engine's starts are gated
    the same way (``bench/bare_timers.py``), so start rates compare like for like.
    """

    def __init__(self, settings: Settings, before: int, topic: str | None = None) -> None:
        self.settings, self.before, self.count = settings, before, 0
        self.topic = topic or settings.topics.request_events
        self.task: asyncio.Task[None] | None = None
        self.changed = asyncio.Condition()

    async def _poll(self) -> None:
        try:
            tps = await _partitions_when_known(self.settings, self.topic)
            consumer = make_reader(self.settings, client_id="bench-settled")
            await consumer.start()  # one consumer for the whole run: end offsets are one request
            try:
                while True:
                    count = sum((await consumer.end_offsets(tps)).values())
                    async with self.changed:
                        self.count = count - self.before
                        self.changed.notify_all()
                    await asyncio.sleep(0.1)
            finally:
                await consumer.stop()
        finally:
            async with self.changed:
                self.changed.notify_all()  # a waiter finds the poll gone (``_alive``)

    async def __aenter__(self) -> Settled:
        self.task = asyncio.create_task(self._poll())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def _alive(self) -> None:
        """A poll that died leaves the count still: say so rather than wait for ever."""
        if self.task is not None and self.task.done() and not self.task.cancelled():
            raise RuntimeError(f"the count of first messages stopped: {self.task.exception()!r}")

    async def room(self, submitted: list[str], stall_s: float = STALL_S) -> None:
        """Wait until fewer than ``MAX_UNSETTLED`` of ``submitted`` are unsettled, at most
        ``stall_s`` (the lock taken and released in this task, whatever ends the wait)."""
        try:
            async with asyncio.timeout(stall_s), self.changed:
                await self.changed.wait_for(
                    lambda: self._alive() or len(submitted) - self.count < MAX_UNSETTLED
                )
        except TimeoutError:
            raise RuntimeError(
                f"no room to start another workflow in {stall_s:g}s: {len(submitted) - self.count}"
                f" of the {len(submitted)} started have published no first message to "
                f"{self.topic}; see the worker's log"
            ) from None

    async def reach(self, target: int, timeout_s: float) -> None:
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: self.count >= target), timeout_s
                )


async def _partitions_when_known(settings: Settings, topic: str, attempts: int = 20) -> list[Any]:
    """A topic just made may not be in every broker's metadata yet (three on the cluster)."""
    for attempt in range(attempts):
        try:
            return await partitions(settings, topic)
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")
