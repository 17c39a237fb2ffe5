"""``tracefreeze report --year YYYY``: the annual cooperation report (seed para 28)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracefreeze.config import get_settings

if TYPE_CHECKING:
    from tracefreeze.report.cooperation import CooperationReport


@click.command()
@click.option(
    "--year",
    type=click.IntRange(2000, 9998),
    default=lambda: datetime.now(UTC).year,
    show_default="this year",
    help="Report on the requests transmitted in this year (UTC).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Folder for the Markdown, HTML, JSON and PNG files.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
@click.option(
    "--where",
    "extra_query",
    default=None,
    help="Narrow the listing with a visibility filter, e.g. 'CaseNumber = \"ICC-01/22\"'.",
)
@click.option(
    "--visibility",
    "live",
    is_flag=True,
    help="Read Temporal visibility even when a record store is configured (live requests; "
    "closed ones only within the namespace's retention).",
)
def report(
    year: int, out_dir: Path, no_progress: bool, extra_query: str | None, live: bool
) -> None:
    """Build the cooperation report of a year (HTML, Markdown, JSON) from the record store
    when TRACEFREEZE_RECORD_DSN is set (every request of the year), else from visibility.

    Figures over fewer confidential requests than TRACEFREEZE_REPORT_MIN_GROUP (default 5)
    are withheld (RS 87(3)); ex parte requests (Rule 99(2)) are left out of every table."""
    from tracefreeze.report.cooperation import build_report
    from tracefreeze.report.published import publish
    from tracefreeze.report.render import write_report
    from tracefreeze.temporal import connect

    settings = get_settings()

    async def _build() -> CooperationReport:
        from tracefreeze.record.writer import configured_dsn

        store = configured_dsn(settings)
        if store and not live and extra_query is None:
            from tracefreeze.record.seal import Sealer
            from tracefreeze.report.from_store import build_report_from_store

            return await build_report_from_store(
                store,
                year,
                Sealer.from_settings(settings),
                min_group=settings.report_min_group,
            )
        client = await connect(settings)
        return await build_report(
            client,
            year,
            progress=not no_progress,
            extra_query=extra_query,
            min_group=settings.report_min_group,
        )

    built = asyncio.run(_build())
    paths = write_report(built, out_dir)
    shown = publish(built)
    click.echo(
        f"cooperation report {year}: {shown.sent} requests, {shown.shown_states} States shown, "
        f"built in {built.build_seconds:.2f} s"
    )
    click.echo(f"html: {paths['html']}")
    click.echo(f"pdf: {paths['pdf']}")
    click.echo(f"markdown: {paths['markdown']}")
    click.echo(f"json: {paths['json']}")
