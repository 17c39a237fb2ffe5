"""The projector's PostgreSQL read model: its schema (``migrations/``, schema
``tracefreeze_read``) and how one event changes it, in one transaction.

- **Duplicates.** The event id is the key: ``applied_events`` takes each id once, in the same
  transaction as the change it causes; an id met again changes nothing.
- **Order.** One request's events come in the order its workflow made them (the kit keeps a
  partition's order), but a replay, a mirror or a re-published record may bring an older
  event after a newer one. Each current-state row (``requests``, ``assets``) keeps the time
  and offset of the event that set it, and an upsert takes an event only when it is later:
  by its ``time`` (the workflow's clock, never going back within a request), then, for the
  events of one workflow step that share a time, by its offset on the partition. The history
  tables (``asset_changes``, ``escalation_events``) keep every event whatever its order, and
  the ``escalations`` view is computed from them.
- **No personal data.** Ids, kinds, statuses, dates, levels and values only; the name an
  override of completeness may carry (RS 96(2), Rule 176(2)) is not kept; ex parte requests'
  events carry no asset (Rule 99(2)).
"""

from __future__ import annotations

import asyncpg

from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent, RequestEventType
from tracefreeze import sql_migrations
from tracefreeze.downstream.envelope import Received, Unreadable
from tracefreeze.sql_migrations import apply_migrations

SCHEMA = "tracefreeze_read"
LOCK_ID = 0x7472_6163_6572_6561
"""pg_advisory_xact_lock key of the read model's migrations ('tracerea')."""
LEDGER = f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.migrations (
    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"""


def migration_files() -> list[tuple[str, str]]:
    """(name, SQL) of each migration shipped in the package, in order."""
    return sql_migrations.migration_files("tracefreeze.downstream")


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the migrations not yet applied, each once in its own transaction under an
    advisory lock (two projectors starting at once apply each once); those applied now."""
    prepare = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", LEDGER]
    return await apply_migrations(conn, migration_files(), LOCK_ID, f"{SCHEMA}.migrations", prepare)


async def is_applied(conn: asyncpg.Connection, event_id: str) -> bool:
    found = await conn.fetchval(
        f"SELECT 1 FROM {SCHEMA}.applied_events WHERE event_id = $1::uuid", event_id
    )
    return found is not None


async def apply(conn: asyncpg.Connection, item: Received) -> bool:
    """Apply one event in one transaction; False when its id was applied before."""
    event, at = item.event, item.position
    async with conn.transaction():
        fresh = await conn.fetchval(
            f"""INSERT INTO {SCHEMA}.applied_events
                  (event_id, type, request_reference, topic, kafka_partition, kafka_offset)
                VALUES ($1::uuid, $2, $3, $4, $5, $6)
                ON CONFLICT (event_id) DO NOTHING RETURNING true""",
            event.id, str(event.type), event.subject, at.topic, at.partition, at.offset,
        )  # fmt: skip
        if not fresh:
            return False
        if isinstance(event, RequestEvent):
            await _request(conn, event, at.offset)
            if event.asset is not None:
                await _asset(conn, event, at.offset)
        else:
            await _escalation(conn, event, at.offset)
    return True


async def note_unreadable(conn: asyncpg.Connection, item: Unreadable) -> None:
    """Keep where an unreadable record is and why (its contents are not kept)."""
    at = item.position
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.unreadable
              (topic, kafka_partition, kafka_offset, kafka_key, reason)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        at.topic, at.partition, at.offset, item.key, item.reason,
    )  # fmt: skip


LATER = "({t}.changed_at, {t}.event_offset) < (EXCLUDED.changed_at, EXCLUDED.event_offset)"


async def _request(conn: asyncpg.Connection, e: RequestEvent, offset: int) -> None:
    transmitted = e.time if e.type is RequestEventType.TRANSMITTED else None
    closed = e.time if e.type is RequestEventType.CLOSED else None
    later = LATER.format(t="r")
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.requests AS r
              (request_reference, case_number, party, status, confidentiality, origin,
               transmitted_at, closed_at, changed_at, event_offset, event_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::uuid)
            ON CONFLICT (request_reference) DO UPDATE SET
              status = CASE WHEN {later} THEN EXCLUDED.status ELSE r.status END,
              confidentiality = CASE WHEN {later} THEN EXCLUDED.confidentiality
                                     ELSE r.confidentiality END,
              changed_at = GREATEST(r.changed_at, EXCLUDED.changed_at),
              event_offset = CASE WHEN {later} THEN EXCLUDED.event_offset ELSE r.event_offset END,
              event_id = CASE WHEN {later} THEN EXCLUDED.event_id ELSE r.event_id END,
              transmitted_at = LEAST(r.transmitted_at, EXCLUDED.transmitted_at),
              closed_at = LEAST(r.closed_at, EXCLUDED.closed_at)""",
        e.subject, e.case_number, e.requested_state, e.status.value, e.confidentiality.value,
        e.origin.value, transmitted, closed, e.time, offset, e.id,
    )  # fmt: skip


async def _asset(conn: asyncpg.Connection, e: RequestEvent, offset: int) -> None:
    a = e.asset
    assert a is not None
    value, held = a.value, a.held_up_to
    row = (
        e.subject, e.case_number, e.requested_state, a.asset_id, a.kind.value, a.status.value,
        value.currency if value else None, value.amount if value else None,
        held.currency if held else None, held.amount if held else None,
        e.confidentiality.value, e.time, offset, e.id,
    )  # fmt: skip
    columns = """request_reference, case_number, party, asset_id, asset_kind, status,
        currency, amount, held_up_to_currency, held_up_to_amount, confidentiality,
        changed_at, event_offset, event_id"""
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.asset_changes ({columns}, event_type)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::uuid, $15)""",
        *row, e.type.value,
    )  # fmt: skip
    kept = ("status", "currency", "amount", "held_up_to_currency", "held_up_to_amount",
            "confidentiality", "changed_at", "event_offset", "event_id")  # fmt: skip
    updated = ", ".join(f"{c} = EXCLUDED.{c}" for c in kept)
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.assets AS a ({columns})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::uuid)
            ON CONFLICT (request_reference, asset_id) DO UPDATE SET {updated}
            WHERE {LATER.format(t="a")}""",
        *row,
    )


async def _escalation(conn: asyncpg.Connection, e: EscalationEvent, offset: int) -> None:
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.escalation_events
              (event_id, request_reference, case_number, party, kind, level, step, stage,
               deadline, at, event_offset)
            VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        e.id, e.subject, e.case_number, e.requested_state, e.kind.value, e.level, e.step,
        e.stage, e.deadline, e.time, offset,
    )  # fmt: skip
