"""``tracefreeze state``: the State kit's commands for a requested State's focal point.

    tracefreeze state keygen --state NLD --key-id nld-2026-1 --out-dir ./keys
    tracefreeze state requests --state NLD
    tracefreeze state answer answer.json --state NLD --key ./keys/nld-2026-1.pem

The Kafka connection is the usual ``TRACEFREEZE_KAFKA_*`` settings with the State's own
principal (``state-<iso3>``, deploy/kafka-security.md). A document that does not validate is
listed field by field (exit 2) and nothing is sent. See README.md, "For States".
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from tracefreeze.cli.input import INVALID_DOCUMENT, read_json
from tracefreeze.config import get_settings
from tracefreeze.errors import TracefreezeError

STATE = click.option(
    "--state",
    required=True,
    envvar="TRACEFREEZE_STATE_CODE",
    callback=lambda _ctx, _param, value: value.upper(),
    help="This State's code (ISO 3166-1 alpha-3, e.g. NLD); env TRACEFREEZE_STATE_CODE.",
)


@click.group()
def state() -> None:
    """The State kit: make a signing key, read my requests, send a signed answer."""


@state.command()
@STATE
@click.option("--key-id", required=True, help="A name for the key, e.g. nld-2026-1.")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("keys"),
    show_default=True,
    help="Where the private key (0600) and the public key file go.",
)
def keygen(state: str, key_id: str, out_dir: Path) -> None:
    """Make this State's Ed25519 signing key; print the public key to send to the Registry."""
    from tracefreeze.state_kit import make_state_key

    pem, public, entry = make_state_key(state, key_id, out_dir)
    click.echo(f"private key: {pem} (mode 0600; keep it, never send it)")
    click.echo(f"public key:  {public} (send this file to the Registry)")
    click.echo("")
    click.echo(public.read_text(encoding="utf-8").rstrip())
    click.echo("")
    click.echo(f"key id {entry.key_id} of {entry.state}, valid from {entry.not_before.isoformat()}")


@state.command()
@STATE
def requests(state: str) -> None:
    """List what is on this State's own channel: requests, Court decisions, reminders."""
    from tracefreeze.state_kit import describe, read_channel

    settings = get_settings()
    messages = asyncio.run(read_channel(settings, state))
    channel = settings.topics.party_channel(state)
    if not messages:
        click.echo(f"nothing on {channel} yet")
        return
    click.echo(f"{len(messages)} message(s) on {channel}:")
    for message in messages:
        click.echo(describe(message))


@state.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@STATE
@click.option(
    "--key",
    "key_file",
    required=True,
    envvar="TRACEFREEZE_STATE_KEY",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="This State's private key (PEM); env TRACEFREEZE_STATE_KEY.",
)
@click.option("--key-id", default=None, help="Default: the key file's name without .pem.")
def answer(file: Path, state: str, key_file: Path, key_id: str | None) -> None:
    """Check an answer (JSON) against the contract, sign it with my key and send it."""
    from aiokafka.errors import KafkaError

    from tracefreeze.state_kit import InvalidAnswer, Signer, prepare_answer, send_answer

    doc = read_json(file)
    try:
        checked = prepare_answer(doc, state)  # before the key and Kafka: nothing is sent
    except InvalidAnswer as err:
        click.secho(f"{file}: the answer is invalid; nothing was sent:", fg="red", err=True)
        for problem in err.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(INVALID_DOCUMENT) from None
    signer = Signer.from_file(key_file, key_id)
    try:
        sent = asyncio.run(send_answer(get_settings(), checked, signer))
    except (TimeoutError, OSError, KafkaError) as err:
        raise TracefreezeError(f"could not send the answer: {err or type(err).__name__}") from err
    click.echo(sent.summary())
