"""``tracefreeze ledger``, ``act`` and ``export-ftm``: the Court's side of one request.

``act`` records any Court action (``schemas/court.py``) on a request: the file holds the
action's JSON (its ``action_type`` is the ACTION named on the command line unless the file
names it); the CLI gives it a fresh event id and the current time as ``decided_at`` unless
the file already carries them (re-sending the same file with its event id is then a no-op,
as every update is deduplicated by event id).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click

from schemas import court as c
from schemas.request import CourtRequest
from schemas.views import RequestView
from tracefreeze.cli.input import load_document, read_json, validate
from tracefreeze.config import get_settings
from tracefreeze.errors import TracefreezeError
from workflows import catalog

ACTION_MODELS: dict[str, type[c.CourtAction]] = {
    kind.name: kind.contract
    for kind in catalog.CATALOG
    if kind.party == "court" and issubclass(kind.contract, c.CourtAction)
}
"""Each Court action by its ``action_type``, with its contract (from ``workflows/catalog.py``)."""

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _view(request: str) -> RequestView:
    from tracefreeze.client import RequestClient

    async def _get() -> RequestView:
        client = await RequestClient.connect(get_settings())
        return await client.view_id(await client.resolve(request))

    return asyncio.run(_get())


@click.command()
@click.argument("request")
def ledger(request: str) -> None:
    """Every asset of REQUEST (REF or REF/STATE) with its history, and the totals."""
    from tracefreeze.report.status import render_asset_ledger

    click.echo(render_asset_ledger(_view(request)))


def court_action(file: Path, name: str) -> c.CourtAction:
    """The action in ``file`` with a fresh event id and ``decided_at`` = now if absent. The
    file may name its ``action_type`` itself (as the JSON Schema has it); if it does not, the
    ACTION given on the command line does, and the two may not differ."""
    doc = read_json(file)
    if isinstance(doc, dict):
        doc.setdefault("event_id", str(uuid.uuid4()))
        doc.setdefault("decided_at", datetime.now(UTC).isoformat())
        doc.setdefault("action_type", name)
    return validate(file, ACTION_MODELS[name], doc, f"{name.replace('_', ' ')} action")


@click.command()
@click.argument("request")
@click.argument("action", type=click.Choice(sorted(ACTION_MODELS)))
@click.argument("file", type=FILE)
def act(request: str, action: str, file: Path) -> None:
    """Record the Court ACTION in FILE (JSON) on REQUEST (REF or REF/STATE)."""
    model = court_action(file, action)
    from tracefreeze.client import RequestClient

    async def _act() -> str:
        client = await RequestClient.connect(get_settings())
        receipt = await client.act(request, model)
        seen = " (already recorded)" if receipt.duplicate else ""
        return f"{request}: {action} {receipt.event_id}{seen}; request {receipt.status.value}"

    click.echo(asyncio.run(_act()))


@click.command("export-ftm")
@click.argument("request")
@click.option(
    "--request", "request_file", type=FILE, required=True, help="The request document (JSON)."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_ftm(request: str, request_file: Path, output: Path | None) -> None:
    """FollowTheMoney JSON lines of REQUEST's parties, ledger assets and ownerships.

    Confidential (RS 87(3)): for authorised investigators only.
    """
    document = load_document(request_file, CourtRequest, "request")
    view = _view(request)
    if (document.reference, document.requested_state) != (view.reference, view.requested_state):
        raise TracefreezeError(
            f"{request_file} is request {document.reference} to {document.requested_state}, "
            f"not {view.reference} to {view.requested_state}"
        )
    from tracefreeze.report.ftm import export_entities, write_ftm

    entities = export_entities(document, view.ledger)
    if output is None:
        write_ftm(entities, sys.stdout)
        return
    with output.open("w", encoding="utf-8") as stream:
        write_ftm(entities, stream)
    click.echo(f"{len(entities)} entities written to {output}", err=True)
