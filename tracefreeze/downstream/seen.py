"""The event ids a consumer has handled, so an event delivered twice is handled once.

Every event id is made once, in the workflow, and a retried publish repeats it
(``schemas/events.py``): a duplicate is a record whose id was handled before. Kafka delivers
at least once (a publish retried after a lost acknowledgement; a consumer restarted before
its commit), so a consumer remembers the ids it handled. ``SeenStore`` is what the consumer
asks; ``InMemorySeen`` keeps the newest ``capacity`` ids in memory. A caller that keeps a
read model in a database keeps the ids there too, in the same transaction as the change they
caused (then no restart ever re-applies one); any store is bounded, so a handler stays
idempotent by id for a duplicate older than the store remembers.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol, runtime_checkable

DEFAULT_CAPACITY = 100_000
"""Ids kept by default: far more than the events one restart can re-deliver."""


@runtime_checkable
class SeenStore(Protocol):
    """The ids handled so far. ``add`` is called only after the handler finished."""

    async def seen(self, event_id: str) -> bool: ...

    async def add(self, event_id: str) -> None: ...


class InMemorySeen:
    """The newest ``capacity`` ids handled, oldest forgotten first; lost with the process."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity {capacity}: at least 1")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    async def seen(self, event_id: str) -> bool:
        return event_id in self._ids

    async def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def __len__(self) -> int:
        return len(self._ids)
