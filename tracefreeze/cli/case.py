"""``tracefreeze case``: open a multi-State case, see where it stands, record its judgment,
release it after an acquittal or a termination, close it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from schemas.case import AddState, CaseOrder, CloseCase, ReleaseCase, SecureAmount
from schemas.common import Money
from schemas.court import Judgment
from schemas.request import CourtRequest
from tracefreeze.cli.input import load_document
from tracefreeze.config import get_settings

T = TypeVar("T")
INCOMPLETE = 3
"""Exit code for a request the completeness check finds incomplete (as ``submit``'s)."""

override_by = click.option("--override-by", help="Who decides to transmit an incomplete request.")
override_reason = click.option(
    "--override-reason", help="Why the incomplete request is transmitted all the same."
)


def _checked(run: Callable[[], Coroutine[Any, Any, T]], by: str | None, reason: str | None) -> T:
    """Run a case command that transmits requests; an incomplete request is refused with its
    report (exit 3) unless both override options are given (seed para 11; RS 96(2))."""
    from tracefreeze.client import BlockedRequest, IncompleteRequest

    if bool(by) != bool(reason):
        raise click.UsageError("--override-by and --override-reason go together")
    try:
        return asyncio.run(run())
    except IncompleteRequest as incomplete:
        click.secho("refused: a request is incomplete", fg="red", err=True)
        click.echo(str(incomplete), err=True)
        if not isinstance(incomplete, BlockedRequest):
            click.echo(
                "transmit it all the same only with --override-by NAME --override-reason TEXT",
                err=True,
            )
        raise SystemExit(INCOMPLETE) from None


@click.group()
def case() -> None:
    """Multi-State cases: one Court order, one request per State."""


@case.command("open")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@override_by
@override_reason
def open_case(file: Path, override_by: str | None, override_reason: str | None) -> None:
    """Validate a case order (JSON), check each request and transmit one per State.

    An incomplete request is refused with its report (exit 3), and nothing is transmitted,
    unless --override-by and --override-reason say who transmits it all the same and why."""
    order = load_document(file, CaseOrder, "case order")
    from tracefreeze.case_client import CaseClient
    from tracefreeze.client import ui_url

    settings = get_settings()

    async def _open() -> str:
        client = await CaseClient.connect(settings)
        return await client.open_case(
            order, override_by=override_by, override_reason=override_reason
        )

    workflow_id = _checked(_open, override_by, override_reason)
    click.echo(f"opened case {order.case_number}, order {order.order_reference}")
    for request in order.requests:
        click.echo(f"  transmitted {request.reference} to {request.requested_state}")
    click.echo(f"workflow id: {workflow_id}")
    click.echo(f"Temporal UI: {ui_url(settings, workflow_id)}")


@case.command("add")
@click.argument("order_reference")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "decided_by", required=True, help="Who decided to add the request.")
@override_by
@override_reason
def add(
    order_reference: str,
    file: Path,
    decided_by: str,
    override_by: str | None,
    override_reason: str | None,
) -> None:
    """Add a request (JSON) to the case: to a State not yet asked, or a further request to a
    party already asked that names, in ``supplements``, the request it supplements."""
    request = load_document(file, CourtRequest, "request")
    from tracefreeze.case_client import CaseClient

    action = AddState(
        event_id=str(uuid.uuid4()),
        decided_by=decided_by,
        decided_at=datetime.now(UTC),
        request=request,
    )

    async def _add() -> str:
        client = await CaseClient.connect(get_settings())
        view = await client.add_state(
            order_reference, action, override_by=override_by, override_reason=override_reason
        )
        return f"case {view.case_number}: {len(view.requests)} request(s)"

    click.echo(_checked(_add, override_by, override_reason))
    click.echo(f"  transmitted {request.reference} to {request.requested_state}")


@case.command("status")
@click.argument("order_reference")
def status(order_reference: str) -> None:
    """Each State's request and the totals across the case; the judgment in force; after a
    case release, every asset still held, by party and asset, until nothing is."""
    from tracefreeze.case_client import CaseClient
    from tracefreeze.case_status import render_judgment_and_release
    from tracefreeze.report.status import render_case

    async def _status() -> str:
        client = await CaseClient.connect(get_settings())
        view = await client.case_view(order_reference)
        return render_case(view) + render_judgment_and_release(view)

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


CHAMBERS = click.Choice(["pre_trial_chamber", "trial_chamber", "appeals_chamber"])


@case.command("judgment")
@click.argument("order_reference")
@click.option("--reference", "judgment_reference", required=True, help="The judgment's reference.")
@click.option(
    "--outcome", type=click.Choice(["conviction", "acquittal", "termination"]), required=True
)
@click.option(
    "--cause",
    type=click.Choice(["death", "withdrawal_of_charges"]),
    help="termination: why the proceedings ended.",
)
@click.option("--chamber", type=CHAMBERS, required=True, help="The Chamber that gave it.")
@click.option(
    "--delivered-on", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="YYYY-MM-DD"
)
@click.option("--finality", type=click.Choice(["appeal_pending", "final"]), required=True)
def judgment(
    order_reference: str,
    judgment_reference: str,
    outcome: str,
    cause: str | None,
    chamber: str,
    delivered_on: datetime,
    finality: str,
) -> None:
    """Record a judgment of the case (RS 74, 83(2); RS 61): conviction, acquittal or
    termination, with its date, Chamber and finality. Every request of the case is told it."""
    from tracefreeze.case_client import CaseClient

    recorded = Judgment(
        event_id=str(uuid.uuid4()),
        decided_by=chamber,
        decided_at=datetime.now(UTC),
        judgment_reference=judgment_reference,
        outcome=outcome,
        termination_cause=cause,
        delivered_on=date(delivered_on.year, delivered_on.month, delivered_on.day),
        finality=finality,
    )

    async def _record() -> str:
        client = await CaseClient.connect(get_settings())
        view = await client.record_judgment(order_reference, recorded)
        return f"case {view.case_number}: judgment {judgment_reference} ({outcome}) recorded"

    click.echo(asyncio.run(_record()))


@case.command("release")
@click.argument("order_reference")
@click.option("--judgment", "judgment_reference", required=True, help="The judgment in force.")
@click.option("--chamber", type=CHAMBERS, required=True, help="The Chamber whose act this is.")
@click.option("--reasons", required=True, help="The Chamber's reasons.")
def release(order_reference: str, judgment_reference: str, chamber: str, reasons: str) -> None:
    """Release the whole case after the acquittal or termination in force (RS 74, 81(3)(c),
    83(2); RS 61): every frozen or seized asset in every request; each request is closed once
    settled. See what is still held with ``tracefreeze case status``."""
    from tracefreeze.case_client import CaseClient

    act = ReleaseCase(
        event_id=str(uuid.uuid4()),
        decided_by=chamber,
        decided_at=datetime.now(UTC),
        judgment_reference=judgment_reference,
        reasons=reasons,
    )

    async def _release() -> str:
        client = await CaseClient.connect(get_settings())
        view = await client.release_case(order_reference, act)
        told = len(view.requests)
        return f"case {view.case_number}: released on {judgment_reference}, {told} request(s)"

    click.echo(asyncio.run(_release()))


@case.command("secure")
@click.argument("order_reference")
@click.option(
    "--basis",
    type=click.Choice(["estimated_reparations_liability", "fine", "reparations_award"]),
    required=True,
    help="What the amount is: RS 57(3)(e) and 75, RS 77(2)(a), RS 75(2).",
)
@click.option("--amount", required=True, help="The amount, e.g. 52400000.00")
@click.option("--currency", required=True, help="ISO 4217 code, e.g. EUR")
@click.option(
    "--by",
    "decided_by",
    type=click.Choice(["pre_trial_chamber", "trial_chamber", "appeals_chamber", "presidency"]),
    required=True,
)
@click.option("--reasons", default="", help="Why this amount.")
def secure(
    order_reference: str, basis: str, amount: str, currency: str, decided_by: str, reasons: str
) -> None:
    """Set the amount the case is to secure; the case proposes releases to the Chamber when
    its requests secure more than it plus the policy's margin (nothing is released on that)."""
    from tracefreeze.case_client import CaseClient

    act = SecureAmount(
        event_id=str(uuid.uuid4()),
        decided_by=decided_by,
        decided_at=datetime.now(UTC),
        basis=basis,
        amount=Money(amount=amount, currency=currency),
        margin=0,  # the client sets the policy's margin
        reasons=reasons,
    )

    async def _secure() -> str:
        client = await CaseClient.connect(get_settings())
        view = await client.secure_amount(order_reference, act)
        p = view.proportionality
        over = p is not None and p.over_secured
        state = "over the margin: releases proposed" if over else "within the margin"
        return f"case {view.case_number}: {currency} {amount} to secure; {state}"

    click.echo(asyncio.run(_secure()))
