"""What a partition's lane works from (``tracefreeze/intake/bridge.py``): the records queued
behind it, bounded, grouped by the request they answer, and the offset it may commit once
their outcomes are final. A library: it reaches back into neither the bridge nor delivery."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka.structs import ConsumerRecord

from tracefreeze.intake.gate import ReceivedAnswer

QUEUED_MAX = 1000
QUEUED_MAX_BYTES = 4 * 1024 * 1024
"""Records, or bytes of keys and values (headers not counted), queued behind a busy lane from
which its partition is paused until its lane takes them. Memory per partition: the chunk its
lane holds (up to ``MAX_BATCH`` records, about as large as the queue it was taken from), the
queue up to this bound, and one fetch past it (up to ``MAX_BATCH`` records or the consumer's
1 MiB per partition). Below both nothing is ever paused."""


@dataclass
class Queued:
    """One partition's records waiting for its lane, in offset order, and their size."""

    records: list[ConsumerRecord] = field(default_factory=list)
    size: int = 0

    def add(self, records: list[ConsumerRecord]) -> None:
        self.records += records
        self.size += sum(record_size(r) for r in records)

    def take(self, most: int) -> list[ConsumerRecord]:
        taken, self.records = self.records[:most], self.records[most:]
        self.size -= sum(record_size(r) for r in taken)
        return taken

    def full(self) -> bool:
        return len(self.records) >= QUEUED_MAX or self.size >= QUEUED_MAX_BYTES


def record_size(record: ConsumerRecord) -> int:
    return max(record.serialized_key_size, 0) + max(record.serialized_value_size, 0)


def by_request(items: Iterable[ReceivedAnswer]) -> list[list[ReceivedAnswer]]:
    """The items grouped by the request they answer, each group in arrival order; groups in
    the order their first answer arrived."""
    groups: dict[str, list[ReceivedAnswer]] = {}
    for item in items:
        groups.setdefault(item.workflow_id, []).append(item)
    return list(groups.values())


def next_offset(records: list[ConsumerRecord], finished: set[int]) -> int | None:
    """The offset to commit for the partition: its first record whose outcome is not final,
    or one past the last record; None when not even the first is final. Answers after the
    first unfinished one are read again and are duplicates (no-ops) in their request."""
    done: int | None = None
    for record in records:
        if record.offset not in finished:
            break
        done = record.offset + 1
    return done
