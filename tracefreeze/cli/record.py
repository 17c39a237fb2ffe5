"""``tracefreeze record``: the record store (``tracefreeze/record/``), and ``tracefreeze
recorder``, the process that writes it.

    tracefreeze record REF [--state NLD]          the request's complete record
    tracefreeze record verify REF [--state NLD]   each State answer re-verified as it was
    tracefreeze record export REF DIR             a bundle: record.json + signed originals
    tracefreeze record migrate                    apply the store's schema
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tracefreeze.config import get_settings

T = TypeVar("T")


class _RecordGroup(click.Group):
    """``record REF`` is ``record show REF``: a first word that is no subcommand is a
    reference."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


def _with_store(work: Callable[[Any], Awaitable[T]]) -> T:
    import asyncpg

    from tracefreeze.record.writer import dsn_of

    async def run() -> T:
        conn = await asyncpg.connect(dsn_of(get_settings()))
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def _records(conn: Any, reference: str, state: str | None) -> Awaitable[list[Any]]:
    from tracefreeze.record.reader import find_records

    return find_records(conn, get_settings(), reference, state.upper() if state else None)


STATE = click.option("--state", default=None, help="Only the request to this State (ISO3).")


@click.group(cls=_RecordGroup)
def record() -> None:
    """The Court's record of its requests (kept after Temporal's retention)."""


@record.command()
@click.argument("reference")
@STATE
def show(reference: str, state: str | None) -> None:
    """Print a request's complete record from the store."""
    from tracefreeze.record.show import describe

    records = _with_store(lambda conn: _records(conn, reference, state))
    click.echo("\n\n".join(describe(r) for r in records))


@record.command()
@click.argument("reference")
@STATE
def verify(reference: str, state: str | None) -> None:
    """Re-verify each State answer and each Court action of a request from its stored signed
    original, against the key registry as it was when it was recorded; exit 1 on any
    mismatch."""
    from tracefreeze.record.show import describe_reverified, reverify

    async def work(conn: Any) -> list[Any]:
        return [
            r for rec in await _records(conn, reference, state) for r in await reverify(conn, rec)
        ]

    results = _with_store(work)
    click.echo(describe_reverified(results))
    if not all(r.agrees for r in results):
        raise SystemExit(1)


@record.command("export")
@click.argument("reference")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@STATE
def export_(reference: str, out_dir: Path, state: str | None) -> None:
    """Write a request's record as a bundle (record.json, the signed originals, the key
    registry versions) under OUT_DIR."""
    from tracefreeze.record.export import export

    async def work(conn: Any) -> list[Path]:
        return [await export(conn, r, out_dir) for r in await _records(conn, reference, state)]

    for folder in _with_store(work):
        click.echo(f"exported: {folder}")


@record.command()
def migrate() -> None:
    """Apply the record store's schema (idempotent)."""
    from tracefreeze.record.migrate import migrate as apply

    applied = _with_store(apply)
    click.echo(
        f"record store: applied {', '.join(applied)}" if applied else "record store: up to date"
    )


@click.command()
def recorder() -> None:
    """Write the record store from the Court's topics (TRACEFREEZE_RECORD_DSN)."""
    from tracefreeze.record.writer import run_recorder

    asyncio.run(run_recorder(get_settings()))
