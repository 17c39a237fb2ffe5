"""The PostgreSQL sink: the consumer kit's worked example grown real. It keeps a read model of
the ledger and the escalations (``read_model.py``, schema ``tracefreeze_read``) that a data
engineer queries in SQL: assets by status, party and currency over time, and open escalations
by level.

Each event is applied in one PostgreSQL transaction, its id written with the change
(``applied_events``); the kit asks that table whether an id was handled (``PostgresSeen``)
and commits a record's offset only after the handler returned, that is after the transaction
committed. A crash between the two delivers the event again, and its id absorbs it. Records
the kit cannot read are kept in ``tracefreeze_read.unreadable`` with their reason, and the
stream goes on.

``python -m tracefreeze.downstream.projector`` (``make projector``) runs it against the local
stack's PostgreSQL (``make up``) or ``--dsn`` / ``TRACEFREEZE_READ_DSN``; see
docs/downstream.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import uuid
from dataclasses import dataclass

import asyncpg
import click

from tracefreeze.config import Settings, get_settings
from tracefreeze.downstream import read_model
from tracefreeze.downstream.consumer import CourtEventsConsumer, Tally
from tracefreeze.downstream.envelope import Received, Unreadable
from tracefreeze.report.status import table

DEFAULT_GROUP = "tracefreeze-read-model"
DSN_ENV = "TRACEFREEZE_READ_DSN"

VALUE_BY_PARTY = """SELECT party, currency, status, count(*) AS assets, sum(amount) AS value
FROM tracefreeze_read.assets
WHERE currency IS NOT NULL
GROUP BY party, currency, status
ORDER BY party, currency, status"""
"""The README's query: the value of the assets by party, currency and status, now."""
OPEN_BY_LEVEL = """SELECT level, requests, parties, oldest
FROM tracefreeze_read.open_escalations_by_level ORDER BY level"""


@dataclass
class PostgresSeen:
    """The kit's store of handled ids, read from ``applied_events`` (written by ``apply`` in
    the transaction of the change, so ``add`` has nothing left to do)."""

    conn: asyncpg.Connection

    async def seen(self, event_id: str) -> bool:
        return await read_model.is_applied(self.conn, event_id)

    async def add(self, event_id: str) -> None:
        return None


class Projector:
    """The read model fed by a ``CourtEventsConsumer`` in group ``group_id``."""

    def __init__(self, settings: Settings, conn: asyncpg.Connection, group_id: str) -> None:
        self.conn = conn
        self.applied = 0
        self.consumer = CourtEventsConsumer(
            settings,
            group_id,
            handle=self.handle,
            unreadable=self.unreadable,
            seen=PostgresSeen(conn),
        )

    async def handle(self, item: Received) -> None:
        if await read_model.apply(self.conn, item):
            self.applied += 1

    async def unreadable(self, item: Unreadable) -> None:
        await read_model.note_unreadable(self.conn, item)

    async def run(
        self, stop: asyncio.Event | None = None, *, until_caught_up: bool = False
    ) -> Tally:
        return await self.consumer.run(stop, until_caught_up=until_caught_up)


async def project(
    settings: Settings,
    dsn: str,
    group_id: str = DEFAULT_GROUP,
    stop: asyncio.Event | None = None,
    *,
    until_caught_up: bool = False,
) -> Tally:
    """Migrate the read model, then project the events into it until ``stop`` (or caught up)."""
    conn = await asyncpg.connect(dsn)
    try:
        await read_model.migrate(conn)
        return await Projector(settings, conn, group_id).run(stop, until_caught_up=until_caught_up)
    finally:
        await conn.close()


def configured_dsn(settings: Settings) -> str | None:
    """``TRACEFREEZE_READ_DSN``, else the record store's (``TRACEFREEZE_RECORD_DSN`` or the
    local stack's, ``make up``): the read model is a schema of its own there."""
    from tracefreeze.record.writer import configured_dsn as record_dsn

    return os.environ.get(DSN_ENV) or record_dsn(settings)


async def summary(dsn: str) -> str:
    """The two queries a data engineer starts with, as text."""
    conn = await asyncpg.connect(dsn)
    try:
        values = await conn.fetch(VALUE_BY_PARTY)
        levels = await conn.fetch(OPEN_BY_LEVEL)
    finally:
        await conn.close()
    head = ("party", "currency", "status", "assets", "value")
    first = table(head, [tuple(str(v) for v in r.values()) for r in values])
    open_rows = [
        (
            str(r["level"]),
            str(r["requests"]),
            str(r["parties"]),
            f"{r['oldest']:%Y-%m-%d %H:%M} UTC",
        )
        for r in levels
    ]
    second = table(("level", "requests", "parties", "since"), open_rows)
    return f"{first}\n\nrequests escalated, by the level they stand at\n{second}"


@click.command()
@click.option(
    "--dsn", default=None, help=f"PostgreSQL DSN (default: ${DSN_ENV}, the record store)."
)
@click.option("--group", default=DEFAULT_GROUP, show_default=True, help="Consumer group.")
@click.option("--from-beginning", is_flag=True, help="A new group: replay all the broker keeps.")
@click.option("--until-caught-up", is_flag=True, help="Stop at the end of every partition.")
@click.option("--show", is_flag=True, help="Then print assets by party and open escalations.")
def main(
    dsn: str | None, group: str, from_beginning: bool, until_caught_up: bool, show: bool
) -> None:
    """Keep the PostgreSQL read model of the ledger and escalations from the Court's events."""
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    settings = get_settings()
    dsn = dsn or configured_dsn(settings)
    if not dsn:
        click.echo(
            f"tracefreeze.downstream.projector: no PostgreSQL: set {DSN_ENV} or --dsn, or "
            "start the local stack's store (make up)",
            err=True,
        )
        sys.exit(1)
    if from_beginning:
        group = f"{group}-{uuid.uuid4().hex[:8]}"
    try:
        tally = asyncio.run(project(settings, dsn, group, until_caught_up=until_caught_up))
        click.echo(
            f"{tally.handled} event(s) applied, {tally.duplicates} duplicate(s), "
            f"{tally.unreadable} unreadable (group {group})"
        )
        if show:
            click.echo(asyncio.run(summary(dsn)))
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # one clear line, not a traceback
        reason = str(exc) or type(exc).__name__
        click.echo(f"tracefreeze.downstream.projector: {reason}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
