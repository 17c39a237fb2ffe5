"""Applying the record store's schema: the SQL files of ``migrations/``, in name order, each
once, in its own transaction, under an advisory lock (two writers starting at once apply each
file once). ``tracefreeze record migrate`` runs it; the recorder runs it at start."""

from __future__ import annotations

import asyncpg

from tracefreeze import sql_migrations
from tracefreeze.sql_migrations import apply_migrations

LOCK_ID = 0x7472_6163_6566_7265
"""pg_advisory_xact_lock key of the migrations ('tracefre')."""
LEDGER = """CREATE TABLE IF NOT EXISTS record_migrations (
    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"""


def migration_files() -> list[tuple[str, str]]:
    """(name, SQL) of each migration shipped in the package, in order."""
    return sql_migrations.migration_files("tracefreeze.record")


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the migrations not yet applied; the names of those applied now."""
    return await apply_migrations(conn, migration_files(), LOCK_ID, "record_migrations", [LEDGER])
