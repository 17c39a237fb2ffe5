"""``tracefreeze dlq``: list the dead-letter topic and replay its records after a fix.

The rules of what is replayed, and why re-running is harmless, are in ``tracefreeze/intake/dlq.py``.
Nothing here ever prints a record's value: only its position, reason and key.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
from collections.abc import AsyncIterator, Callable

import click
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.deadletter import DeadLetterReason
from tracefreeze.config import Settings, get_settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.dlq import (
    REPLAY_GROUP,
    DeadLetter,
    Replay,
    Selection,
    Summary,
    Window,
    listing,
)
from tracefreeze.kafka import make_consumer, make_producer, start_with_timeout, stop_with_timeout

REASONS = click.Choice([r.value for r in DeadLetterReason])


@click.group()
def dlq() -> None:
    """The dead-letter topic: list it, replay its records after a fix."""


@dlq.command("list")
@click.option("--reason", "reasons", multiple=True, type=REASONS, help="Only this reason code.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
def list_cmd(reasons: tuple[str, ...], limit: int) -> None:
    """Print position, reason and origin of dead-letter records (never their contents)."""
    settings = get_settings()
    found = asyncio.run(_list(settings, reasons, limit))
    for dead in found:
        click.echo(describe(dead))
    click.echo(f"{len(found)} record(s) in {settings.topics.dead_letter}")


@dlq.command()
@click.option("--reason", "reasons", multiple=True, type=REASONS, help="Replay this reason code.")
@click.option("--force", is_flag=True, help="Allow reasons a fix cannot cure (malformed...).")
@click.option("--since-offset", type=click.IntRange(min=0), help="First offset (inclusive).")
@click.option("--until-offset", type=click.IntRange(min=0), help="Last offset (inclusive).")
@click.option("--partition", type=click.IntRange(min=0), help="Only this dead-letter partition.")
@click.option("--at", "at", metavar="P:O", help="Only the dead-letter record at partition:offset.")
@click.option("--event-id", "event_ids", multiple=True, help="Only the answer with this event id.")
@click.option(
    "--operator",
    default=lambda: os.environ.get("TRACEFREEZE_OPERATOR") or getpass.getuser(),
    show_default="$TRACEFREEZE_OPERATOR, else the login name",
    help="Who replays: on each replayed record (tf_replayed_by) and in the audit log.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be replayed; send nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def replay(
    reasons: tuple[str, ...],
    force: bool,
    since_offset: int | None,
    until_offset: int | None,
    partition: int | None,
    at: str | None,
    event_ids: tuple[str, ...],
    operator: str,
    dry_run: bool,
    yes: bool,
) -> None:
    """Re-produce dead-lettered answers (original value, key, headers) to the answers topic.

    Default: reasons unknown_request, request_stopped, rejected, stuck and throttled, from
    where the `tracefreeze-dlq-replay` group stopped. With --since/--until-offset, --at or
    --event-id those records are read instead and the group's progress is left alone.
    """
    settings = get_settings()
    selection = Selection.of(reasons, force, event_ids)
    if at is not None:
        partition, since_offset = _position(at)
        until_offset = since_offset
    window = Window(since_offset, until_offset, partition)
    if not operator.strip():
        raise click.UsageError("--operator must name who replays")
    if not dry_run and not yes:
        preview = asyncio.run(run_replay(settings, selection, window, dry_run=True))
        click.echo(preview.render(dry_run=True))
        if not preview.selected:
            return
        click.confirm(f"replay {preview.selected} record(s)?", abort=True)
    summary = asyncio.run(
        run_replay(settings, selection, window, dry_run, echo=click.echo, operator=operator)
    )
    click.echo(summary.render(dry_run))


def _position(text: str) -> tuple[int, int]:
    partition, _, offset = text.partition(":")
    if not (partition.isdigit() and offset.isdigit()):
        raise click.BadParameter(f"{text!r} is not PARTITION:OFFSET", param_hint="--at")
    return int(partition), int(offset)


def describe(dead: DeadLetter) -> str:
    key = dead.key.decode("utf-8", errors="replace") if dead.key is not None else "-"
    origin = f"{dead.topic}/{dead.original_partition}/{dead.original_offset}"
    return f"{dead.where}  {dead.reason_code}  {origin}  key={key}  {dead.reason}"


LIST_GROUP = "tracefreeze-dlq-list"
"""The listing's consumer group: it reads by assignment and never commits."""


def list_consumer(settings: Settings) -> AIOKafkaConsumer:
    """The listing's consumer: TLS and SASL like every client (``tracefreeze/kafka.py``)."""
    return make_consumer(settings, group_id=LIST_GROUP)


async def _list(settings: Settings, reasons: tuple[str, ...], limit: int) -> list[DeadLetter]:
    consumer = list_consumer(settings)
    async with _started(settings, consumer):
        return await listing(consumer, settings, reasons, limit)


async def run_replay(
    settings: Settings,
    selection: Selection,
    window: Window | None = None,
    dry_run: bool = False,
    group_id: str = REPLAY_GROUP,
    echo: Callable[[str], None] | None = None,
    operator: str = "",
) -> Summary:
    """One replay run with its own consumer (group ``group_id``) and idempotent producer."""
    consumer = make_consumer(settings, group_id=group_id)
    producer = None if dry_run else make_producer(settings, client_id=group_id)

    def on_record(dead: DeadLetter, skip: str | None) -> None:
        if echo is not None and skip is None:
            verb = "would replay" if dry_run else "replaying"
            echo(f"{verb} {describe(dead)}")

    async with _started(settings, consumer), _started(settings, producer):
        replay = Replay(
            consumer, producer, settings, selection, window or Window(), operator, on_record
        )
        try:
            return await replay.run()
        except (TimeoutError, KafkaError) as err:
            raise TracefreezeError(
                f"replay stopped after {replay.summary.replayed} record(s): {err!r}; progress "
                "is committed up to the last acknowledged record, run it again to go on"
            ) from err


@contextlib.asynccontextmanager
async def _started(
    settings: Settings, client: AIOKafkaConsumer | AIOKafkaProducer | None
) -> AsyncIterator[None]:
    if client is None:
        yield
        return
    timeout = settings.kafka_timeout_s
    try:
        await start_with_timeout(client, timeout)
    except (TimeoutError, KafkaError) as err:
        raise TracefreezeError(
            f"cannot reach Kafka at {settings.kafka_bootstrap}; is the stack up?"
        ) from err
    try:
        yield
    finally:
        await stop_with_timeout(client, timeout)
