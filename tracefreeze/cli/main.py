"""``tracefreeze``: run the worker and bridge, submit requests, follow and close them.

Court actions, the asset ledger and the FtM export are in ``tracefreeze/cli/court.py``;
multi-State cases in ``tracefreeze/cli/case.py``. Errors the user can act on are one red line
on stderr (exit 1); an invalid document lists each field in error (exit 2). ``submit`` exits 3
for an incomplete request; ``submit --check`` 4 when it could not check it in full (the Court's
records not read: ``NOT_FULLY_CHECKED``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import click

from schemas.request import CourtRequest
from tracefreeze.cli import case as cli_case
from tracefreeze.cli import court as cli_court
from tracefreeze.cli import dlq as cli_dlq
from tracefreeze.cli import identity as cli_identity
from tracefreeze.cli import party as cli_party
from tracefreeze.cli import record as cli_record
from tracefreeze.cli import report as cli_report
from tracefreeze.cli import state as cli_state
from tracefreeze.cli.input import field_errors, load_document
from tracefreeze.config import get_settings
from tracefreeze.downstream.projector import main as projector
from tracefreeze.ops.failures import explain
from tracefreeze.ops.logging import configure_logging

__all__ = ["field_errors", "main"]

SCRIPTS = ("acknowledge", "freeze-known", "no-assets", "postpone-94", "claim:<asset_id>")


SERVICES = frozenset({"worker", "bridge", "codec-server"})
"""Long-running processes: a failure is also logged with its trace, for the SRE on call."""


class _Group(click.Group):
    """Turns any failure into one clear line instead of a stack trace (``explain``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """As a program (not under a test runner): exit without interpreter teardown."""
        from tracefreeze.temporal import exit_process

        try:
            self.main(*args, **kwargs)
        except SystemExit as done:
            exit_process(done.code)
        exit_process(0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: usage errors, --help, a deliberate exit
        except Exception as err:  # one line, never a trace (tracefreeze/ops/failures.py)
            if ctx.invoked_subcommand in SERVICES:  # an SRE needs the trace in the log
                logging.getLogger("tracefreeze").error("service failed", exc_info=err)
            click.secho(f"error: {explain(err)}", fg="red", err=True)
            ctx.exit(1)


@click.group(cls=_Group)
@click.option("--log-level", default="INFO", show_default=True, help="Logging level.")
def main(log_level: str) -> None:
    """Durable ICC requests to States to identify, trace, freeze or seize assets."""
    configure_logging(log_level)


@main.command()
def worker() -> None:
    """Run the Temporal worker (request workflows, event publishing) until SIGTERM/SIGINT."""
    from tracefreeze.worker import run_worker

    asyncio.run(run_worker(get_settings()))


@main.command()
def bridge() -> None:
    """Run the Kafka -> Temporal bridge for State answers until SIGTERM/SIGINT."""
    from tracefreeze.intake.bridge import run_bridge

    asyncio.run(run_bridge(get_settings()))


@main.command("codec-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Default: TRACEFREEZE_CODEC_PORT or 8081.")
def codec_server(host: str, port: int | None) -> None:
    """Serve /encode and /decode for the Temporal UI with the payload codec's keys."""
    from tracefreeze.security.codec_server import run_codec_server

    run_codec_server(port if port is not None else get_settings().codec_port, host)


INCOMPLETE = 3
"""Exit code of ``submit`` for a request the completeness check finds incomplete."""
NOT_FULLY_CHECKED = 4
"""Exit code of ``submit --check`` when the check could not be made in full: the Court's
records (the party's RS 96(3) register, a supplemented request) were not read, because of
``--offline`` or because Temporal could not be reached. It takes precedence over
``INCOMPLETE``: the report lists what the rules it could check found."""


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--check", "check_only", is_flag=True, help="Only check completeness; transmit nothing."
)
@click.option("--json", "as_json", is_flag=True, help="With --check: the report as JSON.")
@click.option(
    "--offline",
    is_flag=True,
    help="With --check: do not contact the server; the party's RS 96(3) register (and a "
    "supplemented request) are reported unverified and the command exits 4.",
)
@click.option("--override-by", help="Who decides to transmit an incomplete request.")
@click.option("--override-reason", help="Why the incomplete request is transmitted all the same.")
def submit(
    file: Path,
    check_only: bool,
    as_json: bool,
    offline: bool,
    override_by: str | None,
    override_reason: str | None,
) -> None:
    """Check a Court request (JSON) for completeness and transmit it to the requested party.

    An incomplete request (RS 96(2), 87(2); seed para 11) is refused with its report (exit 3)
    unless --override-by and --override-reason name who transmits it all the same and why;
    the override is recorded with the request. --check prints the report (--json: as a
    JSON document), transmitting nothing: it reads the party's RS 96(3) register and a
    supplemented request from the server as submit does, and exits 3 if the request is
    incomplete; 4 if the server could not be reached within TRACEFREEZE_CHECK_TIMEOUT_S (or
    with --offline): what was not read is reported as unverified.
    """
    request = load_document(file, CourtRequest, "request")
    if as_json and not check_only:
        raise click.UsageError("--json goes with --check")
    if offline and not check_only:
        raise click.UsageError("--offline goes with --check")
    if bool(override_by) != bool(override_reason):
        raise click.UsageError("--override-by and --override-reason go together")
    if check_only:
        _check(request, as_json, offline)
        return
    from tracefreeze.client import BlockedRequest, IncompleteRequest, RequestClient, ui_url

    settings = get_settings()

    async def _submit() -> str:
        client = await RequestClient.connect(settings)
        return await client.submit(
            request, override_by=override_by, override_reason=override_reason
        )

    try:
        workflow_id = asyncio.run(_submit())
    except BlockedRequest as blocked:
        click.secho("refused: the request is incomplete", fg="red", err=True)
        click.echo(str(blocked), err=True)
        raise SystemExit(INCOMPLETE) from None
    except IncompleteRequest as incomplete:
        click.secho("refused: the request is incomplete", fg="red", err=True)
        click.echo(str(incomplete), err=True)
        click.echo(
            "transmit it all the same only with --override-by NAME --override-reason TEXT",
            err=True,
        )
        raise SystemExit(INCOMPLETE) from None
    click.echo(f"transmitted {request.reference} to {request.requested_state}")
    click.echo(f"workflow id: {workflow_id}")
    click.echo(f"Temporal UI: {ui_url(settings, workflow_id)}")


def _check(request: CourtRequest, as_json: bool, offline: bool) -> None:
    """The completeness report of ``request``, with the Court's records as ``submit`` reads
    them, or saying loudly what it did not read (``tracefreeze/completeness_records.py``)."""
    from tracefreeze import completeness
    from tracefreeze.completeness_records import check_with_records

    report = asyncio.run(check_with_records(request, get_settings(), offline=offline))
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        click.echo(completeness.render(report))
    if not report.fully_checked:
        raise SystemExit(NOT_FULLY_CHECKED)
    if not report.complete:
        raise SystemExit(INCOMPLETE)


@main.command()
@click.argument("request")
def status(request: str) -> None:
    """Show where a request stands (REQUEST is REF or REF/STATE)."""
    from tracefreeze.client import RequestClient
    from tracefreeze.report.status import render_view

    async def _status() -> str:
        client = await RequestClient.connect(get_settings())
        return render_view(await client.view_id(await client.resolve(request)))

    click.echo(asyncio.run(_status()))


@main.command()
@click.argument("request")
@click.option("--reason", required=True, help="Why the Registry closes the request.")
@click.option("--by", "decided_by", required=True, help="Who decided the closure.")
def close(request: str, reason: str, decided_by: str) -> None:
    """Close a request whose execution has ended and that holds no frozen asset."""
    from tracefreeze.client import RequestClient, close_action

    async def _close() -> str:
        client = await RequestClient.connect(get_settings())
        workflow_id = await client.resolve(request)
        receipt = await client.close_id(workflow_id, close_action(reason, decided_by))
        return f"{workflow_id}: {receipt.status.value} (event {receipt.event_id})"

    click.echo(asyncio.run(_close()))


@main.command("simulate-state")
@click.argument("request")
@click.option("--state", required=True, help="The requested State (ISO alpha-3, e.g. NLD).")
@click.option("--script", required=True, help=f"What the State says: one of {', '.join(SCRIPTS)}.")
def simulate_state_cmd(request: str, state: str, script: str) -> None:
    """Play a requested State answering REQUEST over Kafka (for demos and trials)."""
    from tracefreeze.demo.simulator import check_script, simulate_state

    check_script(script)

    asyncio.run(simulate_state(get_settings(), request, state.upper(), script))
    click.echo(f"{state.upper()} answered {request}: {script}")


main.add_command(cli_court.ledger)
main.add_command(cli_court.act)
main.add_command(cli_court.export_ftm)
main.add_command(cli_case.case)
main.add_command(cli_report.report)
main.add_command(cli_dlq.dlq)
main.add_command(cli_state.state)
main.add_command(cli_party.party)
main.add_command(cli_record.record)
main.add_command(cli_record.recorder)
main.add_command(projector, "project")
main.add_command(cli_identity.whoami)
main.add_command(cli_identity.token)
