"""``python -m tracefreeze.downstream``: a running table of assets by status per currency.

Reads the request events and escalations topics as a downstream consumer would
(``CourtEventsConsumer``), prints the table (``assets.py``) whenever it changes, and reports
every unreadable record on stderr. ``--group`` names the consumer group (kept: a second run
goes on where the first stopped); ``--from-beginning`` reads with a new group, a replay of
all the broker keeps; ``--until-caught-up`` stops at the end of every partition.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid

import click

from tracefreeze.config import get_settings
from tracefreeze.downstream.assets import AssetTable
from tracefreeze.downstream.consumer import CourtEventsConsumer
from tracefreeze.downstream.envelope import Received, Unreadable

DEFAULT_GROUP = "tracefreeze-downstream-assets"


async def watch(group: str, until_caught_up: bool) -> int:
    settings = get_settings()
    assets = AssetTable()

    async def handle(item: Received) -> None:
        if assets.apply(item.event):
            click.echo(f"\n{item.event.time:%Y-%m-%d %H:%M:%S} {item.event.type.split('.')[-2]}")
            click.echo(assets.render())

    async def unreadable(item: Unreadable) -> None:
        click.echo(f"unreadable record at {item.position}: {item.reason}", err=True)

    consumer = CourtEventsConsumer(settings, group, handle=handle, unreadable=unreadable)
    tally = await consumer.run(until_caught_up=until_caught_up)
    click.echo(
        f"\n{tally.handled} event(s) handled, {tally.duplicates} duplicate(s), "
        f"{tally.unreadable} unreadable (group {group})"
    )
    click.echo(assets.render())
    return 0


@click.command()
@click.option("--group", default=DEFAULT_GROUP, show_default=True, help="Consumer group.")
@click.option("--from-beginning", is_flag=True, help="A new group: read all the broker keeps.")
@click.option("--until-caught-up", is_flag=True, help="Stop at the end of every partition.")
def main(group: str, from_beginning: bool, until_caught_up: bool) -> None:
    """A running table of assets by status per currency, from the Court's events."""
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    if from_beginning:
        group = f"{group}-{uuid.uuid4().hex[:8]}"
    try:
        code = asyncio.run(watch(group, until_caught_up))
    except KeyboardInterrupt:
        code = 0
    except Exception as exc:  # one clear line, not a traceback
        settings = get_settings()
        reason = str(exc) or type(exc).__name__
        click.echo(
            f"tracefreeze.downstream: cannot read the events from Kafka at "
            f"{settings.kafka_bootstrap}: {reason}",
            err=True,
        )
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
