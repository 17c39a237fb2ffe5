"""``tracefreeze case``: open a multi-State case, see where it stands, close it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click

from schemas.case import CaseOrder, CloseCase
from tracefreeze.cli.input import load_document
from tracefreeze.config import get_settings


@click.group()
def case() -> None:
    """Multi-State cases: one Court order, one request per State."""


@case.command("open")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def open_case(file: Path) -> None:
    """Validate a case order (JSON) and transmit one request per State."""
    order = load_document(file, CaseOrder, "case order")
    from tracefreeze.case_client import CaseClient
    from tracefreeze.client import ui_url

    settings = get_settings()

    async def _open() -> str:
        return await (await CaseClient.connect(settings)).open_case(order)

    workflow_id = asyncio.run(_open())
    click.echo(f"opened case {order.case_number}, order {order.order_reference}")
    for request in order.requests:
        click.echo(f"  transmitted {request.reference} to {request.requested_state}")
    click.echo(f"workflow id: {workflow_id}")
    click.echo(f"Temporal UI: {ui_url(settings, workflow_id)}")


@case.command("status")
@click.argument("order_reference")
def status(order_reference: str) -> None:
    """Each State's request and the totals across the case."""
    from tracefreeze.case_client import CaseClient
    from tracefreeze.report.status import render_case

    async def _status() -> str:
        client = await CaseClient.connect(get_settings())
        return render_case(await client.case_view(order_reference))

    click.echo(asyncio.run(_status()))


@case.command("close")
@click.argument("order_reference")
@click.option("--reason", required=True, help="Why the Court closes the case.")
@click.option("--by", "decided_by", required=True, help="Who decided the closure.")
def close(order_reference: str, reason: str, decided_by: str) -> None:
    """Close the case; refused while any request in it is still open."""
    from tracefreeze.case_client import CaseClient

    action = CloseCase(
        event_id=str(uuid.uuid4()),
        decided_by=decided_by,
        decided_at=datetime.now(UTC),
        reason=reason,
    )

    async def _close() -> str:
        client = await CaseClient.connect(get_settings())
        view = await client.close_case(order_reference, action)
        return f"case {view.case_number}, order {view.order_reference}: closed"

    click.echo(asyncio.run(_close()))
