"""``tracefreeze ledger``, ``act`` and ``export-ftm``: the Court's side of one request.

``act`` records any Court action (``schemas/court.py``) on a request: its fields as options
generated from the action's contract (``tracefreeze/cli/action_options.py``), or a file
holding the action's JSON (its ``action_type`` is the ACTION named on the command line unless
the file names it), or both, the options over the file; ``--edit`` opens a pre-filled draft.
The CLI gives it a fresh event id and the current time as ``decided_at`` unless given (re-
sending the same file with its event id is then a no-op, as every update is deduplicated by
event id).
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from schemas import court as c
from schemas.request import CourtRequest
from schemas.views import RequestView
from tracefreeze.cli.action_options import document_from, missing, options_for, placeholders
from tracefreeze.cli.input import INVALID_DOCUMENT, load_document, read_json, validate
from tracefreeze.config import get_settings
from tracefreeze.court_signing import acting_as, address_of_target, by_user, check_acting
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.organ_keys import signed
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


def court_action(
    file: Path | None, name: str, given: dict[str, Any] | None = None
) -> c.CourtAction:
    """The action in ``file`` (if any) with the fields ``given`` on the command line over it, a
    fresh event id and ``decided_at`` = now if absent. The file may name its ``action_type``
    itself (as the JSON Schema has it); if it does not, the ACTION given on the command line
    does, and the two may not differ."""
    doc = _draft(file, name, given or {})
    return _validated(file or Path("(options)"), name, doc)


def _validated(file: Path, name: str, doc: Any) -> c.CourtAction:
    """The action, unless a field still holds a placeholder (exit 2, nothing sent)."""
    unfilled = placeholders(doc)
    if unfilled:
        click.secho(
            f"{file}: the {_what(name)} still holds placeholders: {', '.join(unfilled)}; "
            "fill them in (nothing was recorded)",
            fg="red",
            err=True,
        )
        raise SystemExit(INVALID_DOCUMENT)
    return validate(file, ACTION_MODELS[name], doc, _what(name))


def _what(name: str) -> str:
    return f"{name.replace('_', ' ')} action"


def _draft(file: Path | None, name: str, given: dict[str, Any]) -> Any:
    doc = read_json(file) if file is not None else {}
    if isinstance(doc, dict):
        doc.update(given)
        doc.setdefault("event_id", str(uuid.uuid4()))
        doc.setdefault("decided_at", datetime.now(UTC).isoformat())
        doc.setdefault("action_type", name)
    return doc


def _edited(name: str, doc: Any) -> Any:
    """``doc`` opened in the user's editor ($EDITOR), each required field still missing shown
    as a placeholder to replace; the saved text is read back as JSON."""
    if isinstance(doc, dict):
        for field in missing(ACTION_MODELS[name], doc):
            doc[field] = f"<required: {field}>"
    text = click.edit(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", extension=".json")
    if text is None:
        raise TracefreezeError(f"{_what(name)} not recorded: the draft was closed unsaved")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        what = _what(name)
        raise TracefreezeError(f"{what} not recorded: the draft is not JSON ({err})") from err


_JSON: dict[str, Any] = {"indent": 2, "exclude_none": True}


def _address(request: str) -> str:
    """The request a dry run signs for, told without asking the cluster: the signature covers
    it, so REF alone (which party?) or an opaque id is not enough."""
    address = address_of_target(request)
    if address is None:
        raise TracefreezeError(
            f"--dry-run signs the action for one request: give {request} as REF/STATE "
            "or its plain workflow id (request/REF/STATE)"
        )
    return address


def _send(request: str, name: str, model: c.CourtAction) -> str:
    from tracefreeze.client import RequestClient

    async def _act() -> str:
        client = await RequestClient.connect(get_settings())
        receipt = await client.act(request, model)
        seen = " (already recorded)" if receipt.duplicate else ""
        return f"{request}: {name} {receipt.event_id}{seen}; request {receipt.status.value}"

    return asyncio.run(_act())


@click.group(cls=click.Group)
@click.argument("request")
@click.pass_context
def act(ctx: click.Context, request: str) -> None:
    """Record a Court ACTION on REQUEST (REF, REF/STATE or workflow id): its fields as options
    (`tracefreeze act REQUEST ACTION --help` lists them), from a JSON FILE, or both (the
    options win); `--edit` opens a pre-filled draft; `--dry-run` prints the action only."""
    ctx.obj = request


def _action_command(name: str, model: type[c.CourtAction]) -> click.Command:
    def run(file: Path | None, edit: bool, dry_run: bool, **values: Any) -> None:
        request = click.get_current_context().find_object(str)
        given = document_from(model, values)
        if edit:
            doc = _edited(name, _draft(file, name, given))
            action = _validated(file or Path("(draft)"), name, doc)
        else:
            action = court_action(file, name, given)
        if dry_run:  # signed for REQUEST: what the Temporal UI's "Send an Update" takes
            person = acting_as()
            check_acting(person, action)  # signed only as the organ one acts for
            action = by_user(action, person)  # naming who sends it, under the signature
            click.echo(signed(action, _address(str(request))).model_dump_json(**_JSON))
            return
        click.echo(_send(str(request), name, action))

    summary = (model.__doc__ or name).strip().split("\n\n")[0].replace("\n", " ")
    params: list[click.Parameter] = [
        click.Argument(["file"], required=False, type=FILE),
        *options_for(model),
        click.Option(["--edit"], is_flag=True, help="Open a pre-filled draft in $EDITOR."),
        click.Option(
            ["--dry-run"],
            is_flag=True,
            help="Print the action signed by its organ (for the UI); record nothing.",
        ),
    ]
    return click.Command(name, params=params, callback=run, help=summary)


for _name, _model in sorted(ACTION_MODELS.items()):
    act.add_command(_action_command(_name, _model))


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
