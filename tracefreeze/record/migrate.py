"""Applying the record store's schema: the SQL files of ``migrations/``, in name order, each
once, in its own transaction, under an advisory lock (two writers starting at once apply each
file once). ``tracefreeze record migrate`` runs it; the recorder runs it at start."""

from __future__ import annotations

from importlib import resources

import asyncpg

LOCK_ID = 0x7472_6163_6566_7265
"""pg_advisory_xact_lock key of the migrations ('tracefre')."""
LEDGER = """CREATE TABLE IF NOT EXISTS record_migrations (
    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"""


def migration_files() -> list[tuple[str, str]]:
    """(name, SQL) of each migration shipped in the package, in order."""
    folder = resources.files("tracefreeze.record").joinpath("migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the migrations not yet applied; the names of those applied now."""
    applied: list[str] = []
    for name, sql in migration_files():
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_ID)
            await conn.execute(LEDGER)
            done = await conn.fetchval("SELECT 1 FROM record_migrations WHERE name = $1", name)
            if done:
                continue
            await conn.execute(sql)
            await conn.execute("INSERT INTO record_migrations (name) VALUES ($1)", name)
            applied.append(name)
    return applied
