"""A downstream consumer of the request-events topic, as a data engineer's would read it (the
product's consumer settings: committed records only), for the end-to-end figure that ends
where the lifecycle event is consumed: when did the ``answer.accepted`` event of each answer
arrive."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

from bench.common import partitions
from schemas.events import RequestEventType
from tracefreeze.config import Settings
from tracefreeze.kafka import make_reader

ACCEPTED = RequestEventType.ANSWER_ACCEPTED.value


class Downstream:
    """Reads the events topic from its end on; ``expect(event_id)`` is resolved with the
    ``time.perf_counter()`` at which the acceptance event caused by that answer was read."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.consumer = make_reader(settings, client_id="bench-downstream")
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, event_id: str) -> asyncio.Future[float]:
        """Call before the answer is produced: its event can be read before the produce returns."""
        future = asyncio.get_running_loop().create_future()
        self._waiting[event_id] = future
        return future

    async def read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            read_at = time.perf_counter()
            for records in batches.values():
                for record in records:
                    self._arrived(record.value, read_at)

    def _arrived(self, value: bytes | None, read_at: float) -> None:
        event = json.loads(value or b"{}")
        if event.get("type") == ACCEPTED:
            future = self._waiting.pop(event.get("caused_by") or "", None)
            if future is not None and not future.done():
                future.set_result(read_at)


@contextlib.asynccontextmanager
async def reading(settings: Settings) -> AsyncIterator[Downstream]:
    """A ``Downstream`` reading from the topic's current end until the block ends."""
    downstream = Downstream(settings)
    consumer = downstream.consumer
    await consumer.start()
    try:
        consumer.assign(await partitions(settings, settings.topics.request_events))
        await consumer.seek_to_end()
        task = asyncio.create_task(downstream.read())
        try:
            yield downstream
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await consumer.stop()
