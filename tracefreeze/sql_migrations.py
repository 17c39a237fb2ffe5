"""Applying a package's SQL migrations (the record store's, the projector's read model's):
the ``.sql`` files of its ``migrations/`` folder, in name order, each once, in its own
transaction, under an advisory lock (two processes starting at once apply each file once),
with the names applied kept in a ledger table."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import asyncpg


def migration_files(package: str) -> list[tuple[str, str]]:
    """(name, SQL) of each migration shipped in ``package``'s ``migrations/``, in order."""
    folder = resources.files(package).joinpath("migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


async def apply_migrations(
    conn: asyncpg.Connection,
    migrations: Sequence[tuple[str, str]],
    lock_id: int,
    ledger: str,
    prepare: Sequence[str],
) -> list[str]:
    """Apply those of ``migrations`` not yet in the ``ledger`` table, each in its own
    transaction after taking the advisory lock ``lock_id`` and running ``prepare`` (the
    statements that make the ledger); the names of those applied now."""
    applied: list[str] = []
    for name, sql in migrations:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_id)
            for statement in prepare:
                await conn.execute(statement)
            done = await conn.fetchval(f"SELECT 1 FROM {ledger} WHERE name = $1", name)
            if done:
                continue
            await conn.execute(sql)
            await conn.execute(f"INSERT INTO {ledger} (name) VALUES ($1)", name)
            applied.append(name)
    return applied
