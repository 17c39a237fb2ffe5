"""Writing one entry, and its request's search row, in the recorder's transaction.

Idempotent: an entry is inserted once by its place in Kafka (topic, partition, offset) and,
for the Court's own events, once by its event id (a retried publish repeats the id at another
offset); a record met again inserts nothing and changes nothing. The search row only moves
forward: first dates are the earliest seen, the level the highest, the status the latest
event's.
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from schemas.organ_keys import OrganKeys
from tracefreeze.record.evidence import Check, fingerprint, headers_json, registry_json
from tracefreeze.record.rows import Entry, EntryKind, RequestFacts
from tracefreeze.record.seal import Sealer
from tracefreeze.security.key_registry import KeyRegistry

INSERT_ENTRY = """
INSERT INTO entries (topic, kafka_partition, kafka_offset, kind, request_key, event_id, type,
    occurred_at, kafka_time, body, headers, key_id, verdict, verdict_detail, checked_at,
    registry_fingerprint)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT DO NOTHING
RETURNING seq"""

FIRST_KNOWN = ("reference", "requested_state", "case_number")
"""Kept once known (never taken back: an ex parte request's stay null)."""
LATEST_SAID = ("confidentiality", "origin", "legal_basis", "party_kind")
LATEST_EVENT = ("status", "facts")
"""The latest event's (by the event's time)."""
EARLIEST = ("transmitted_at", "acknowledged_at", "first_report_at", "ended_at", "closed_at")
HIGHEST = ("last_event_at", "max_escalation_level")
COLUMNS = ("request_key", *FIRST_KNOWN, *LATEST_SAID, *LATEST_EVENT, *EARLIEST, *HIGHEST)
NEWER = "(r.last_event_at IS NULL OR EXCLUDED.last_event_at >= r.last_event_at)"
MOVES = [
    *(f"{c} = COALESCE(r.{c}, EXCLUDED.{c})" for c in FIRST_KNOWN),
    *(f"{c} = COALESCE(EXCLUDED.{c}, r.{c})" for c in LATEST_SAID),
    *(f"{c} = CASE WHEN EXCLUDED.{c} IS NOT NULL AND {NEWER} THEN EXCLUDED.{c} ELSE r.{c} END"
      for c in LATEST_EVENT),
    *(f"{c} = LEAST(r.{c}, EXCLUDED.{c})" for c in EARLIEST),
    *(f"{c} = GREATEST(r.{c}, EXCLUDED.{c})" for c in HIGHEST),
]  # fmt: skip
UPSERT_REQUEST = (
    f"INSERT INTO requests AS r ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(COLUMNS) + 1))}) "
    f"ON CONFLICT (request_key) DO UPDATE SET {', '.join(MOVES)}"
)


MAX_TEXT = 200


def text(value: str | None) -> str | None:
    """A search column's text from outside, or None: PostgreSQL holds no NUL, and an id that
    is not printable or is too long searches nothing (the sealed original keeps it all)."""
    if value is None or len(value) > MAX_TEXT or not value.isprintable():
        return None
    return value


class Writer:
    """Writes entries with one connection; remembers the registry versions already stored."""

    def __init__(self, conn: asyncpg.Connection, sealer: Sealer) -> None:
        self.conn, self.sealer = conn, sealer
        self._registries: set[str] = set()

    async def registry_version(self, registry: KeyRegistry | OrganKeys) -> str:
        """The registry's fingerprint (a State registry or the organs'), its public keys
        stored once."""
        print_ = fingerprint(registry)
        if print_ not in self._registries:
            await self.conn.execute(
                "INSERT INTO key_registry_versions (fingerprint, registry) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING",
                print_,
                registry_json(registry),
            )
            self._registries.add(print_)
        return print_

    async def write(
        self,
        entry: Entry,
        check: Check | None = None,
        registry: str | None = None,
        checked_at: datetime | None = None,
    ) -> bool:
        """Insert the entry (and move its request's row); False if it was already there. An
        answer its named State did not sign is kept filed with no request."""
        if check is not None and entry.kind is EntryKind.ANSWER and not check.attributable:
            entry.request_key = None  # (a Court action's topic only the worker writes)
        seal = self.sealer.seal
        seq = await self.conn.fetchval(
            INSERT_ENTRY,
            entry.topic, entry.partition, entry.offset, entry.kind.value, entry.request_key,
            text(entry.event_id), text(entry.type), entry.occurred_at, entry.kafka_time,
            seal(entry.value), seal(headers_json(entry.headers)),
            text(check.key_id) if check else None, check.verdict if check else None,
            seal(check.detail.encode()) if check else None, checked_at, registry,
        )  # fmt: skip
        if seq is None:
            return False
        if entry.facts is not None:
            await self._move(entry.facts)
        return True

    async def _move(self, f: RequestFacts) -> None:
        facts = None if f.totals is None else self.sealer.seal(json.dumps(f.totals).encode())
        values: dict[str, object] = {"last_event_at": f.at, "facts": facts}
        values["max_escalation_level"] = f.escalation_level
        await self.conn.execute(
            UPSERT_REQUEST, *(values[c] if c in values else getattr(f, c) for c in COLUMNS)
        )
