"""Reading a request's record back from the store, its sealed columns opened.

A request is found by its reference: its plain reference in the search row, or, for an ex
parte request (whose reference the store never holds in plain), the opaque key derived from
the reference and each party of the State directory (``rows.request_key``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import load_directory
from tracefreeze.record.evidence import headers_from_json
from tracefreeze.record.rows import request_key
from tracefreeze.record.seal import Sealer
from tracefreeze.security.request_ids import request_id_key

ENTRIES = """SELECT * FROM entries WHERE request_key = $1 ORDER BY seq"""


@dataclass(frozen=True)
class StoredEntry:
    """One record as the store keeps it, opened."""

    seq: int
    kind: str
    topic: str
    partition: int
    offset: int
    event_id: str | None
    type: str | None
    occurred_at: datetime | None
    kafka_time: datetime | None
    recorded_at: datetime
    value: bytes
    headers: list[tuple[str, bytes | None]]
    key_id: str | None = None
    verdict: str | None = None
    verdict_detail: str | None = None
    checked_at: datetime | None = None
    registry_fingerprint: str | None = None

    def body(self) -> Any:
        """The value as JSON (None if it is not JSON)."""
        try:
            return json.loads(self.value)
        except (ValueError, RecursionError):
            return None


@dataclass(frozen=True)
class RequestRecord:
    """A request's search row and every entry filed with it, in the order recorded."""

    request_key: str
    row: dict[str, Any]
    entries: list[StoredEntry] = field(default_factory=list)

    @property
    def reference(self) -> str | None:
        return self.row.get("reference")

    def of_kind(self, kind: str) -> list[StoredEntry]:
        return [e for e in self.entries if e.kind == kind]


def open_entry(row: asyncpg.Record, sealer: Sealer) -> StoredEntry:
    detail = row["verdict_detail"]
    return StoredEntry(
        seq=row["seq"], kind=row["kind"], topic=row["topic"], partition=row["kafka_partition"],
        offset=row["kafka_offset"], event_id=row["event_id"], type=row["type"],
        occurred_at=row["occurred_at"], kafka_time=row["kafka_time"],
        recorded_at=row["recorded_at"], value=sealer.open(row["body"]),
        headers=headers_from_json(sealer.open(row["headers"])), key_id=row["key_id"],
        verdict=row["verdict"],
        verdict_detail=None if detail is None else sealer.open(detail).decode(),
        checked_at=row["checked_at"], registry_fingerprint=row["registry_fingerprint"],
    )  # fmt: skip


def candidate_keys(settings: Settings, reference: str, state: str | None) -> list[str]:
    """The opaque keys a request with ``reference`` may have (to ``state``, or to any party)."""
    key = request_id_key(settings.state_dir)
    if key is None:
        return []
    states = [state] if state else sorted(load_directory(settings.state_directory_file).states)
    return [request_key(reference, s, key) for s in states]


async def find_records(
    conn: asyncpg.Connection,
    settings: Settings,
    reference: str,
    state: str | None = None,
    sealer: Sealer | None = None,
) -> list[RequestRecord]:
    """Every request with ``reference`` (one per State it went to), with its entries."""
    sealer = sealer or Sealer.from_settings(settings)
    candidates = candidate_keys(settings, reference, state)
    rows = await conn.fetch(
        "SELECT * FROM requests WHERE (reference = $1 AND ($2::text IS NULL "
        "OR requested_state = $2)) OR request_key = ANY($3::text[]) ORDER BY transmitted_at",
        reference, state, candidates,
    )  # fmt: skip
    keys = {r["request_key"]: dict(r) for r in rows}
    found = await conn.fetch(
        "SELECT DISTINCT request_key FROM entries WHERE request_key = ANY($1::text[])", candidates
    )
    for r in found:  # answers filed before any event of their request
        keys.setdefault(r["request_key"], {"request_key": r["request_key"]})
    records = []
    for key, row in keys.items():
        entries = [open_entry(e, sealer) for e in await conn.fetch(ENTRIES, key)]
        if row.get("facts") is not None:
            row["facts"] = json.loads(sealer.open(row["facts"]))
        records.append(RequestRecord(key, row, entries))
    if not records:
        raise TracefreezeError(f"no record of {reference} in the record store")
    return records
