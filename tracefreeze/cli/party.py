"""``tracefreeze party``: one requested party's directory (``workflows/party_directory.py``).

``show`` prints the contact in force, the changes pending and in force (Rule 180), the RS 96(3)
consultations and the register of national-law requirements. ``agree-change`` records a change
agreed with the party (Rule 180(2)); ``consult`` opens an RS 96(3) consultation, general or
about one request; ``close-consultation`` records its end. Each action gets a fresh event id
and ``decided_at`` = now.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import click
from pydantic import ValidationError

from schemas.directory import (
    AgreedContactChange,
    CloseNationalLawConsultation,
    OpenNationalLawConsultation,
    PartyView,
)
from tracefreeze.config import get_settings
from tracefreeze.errors import TracefreezeError


def _code(code: str) -> str:
    return code.strip().upper()


def _run(code: str, action: Any | None = None) -> PartyView:
    from tracefreeze.directory_client import PartyDirectoryClient
    from tracefreeze.temporal import connect

    async def _go() -> PartyView:
        settings = get_settings()
        directory = PartyDirectoryClient(await connect(settings), settings)
        if action is None:
            return await directory.view(code)
        return await directory.act(code, action)

    return asyncio.run(_go())


def _action(model: type[Any], **fields: Any) -> Any:
    try:
        return model(event_id=str(uuid.uuid4()), decided_at=datetime.now(UTC), **fields)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise TracefreezeError(f"{where}: {first['msg']}") from None


def render_party(view: PartyView) -> str:
    """The party's directory as a person reads it."""
    c = view.contact
    lines = [
        f"party {view.code}",
        f"  channel: {c.channel}   languages: {', '.join(c.languages)}   ({c.time_zone})",
        f"  central authority: {c.central_authority}",
        f"  focal point: {c.focal_point}",
        "contact changes (Rule 180):",
    ]
    if view.history_dropped:
        lines.append(f"  ({view.history_dropped} older changes not shown)")
    for ch in view.history:
        lines.append(
            f"  in force from {ch.effective_at:%Y-%m-%d %H:%M}: {ch.channel} "
            f"({', '.join(ch.languages)}) [{ch.source}]"
        )
    for ch in view.pending:
        lines.append(
            f"  pending, from {ch.effective_at:%Y-%m-%d %H:%M}: {ch.channel} "
            f"({', '.join(ch.languages)}) [{ch.source}]"
        )
    for ch in view.superseded_notices:
        lines.append(
            f"  superseded by {ch.superseded_by}: {ch.channel} ({', '.join(ch.languages)}) "
            f"[{ch.source}]"
        )
    if not view.history and not view.pending:
        lines.append("  none")
    lines.append("consultations (RS 96(3)):")
    for k in view.consultations:
        about = k.request_reference or "general"
        state = f"{k.outcome} ({k.replied_by})" if k.outcome else "open"
        lines.append(f"  {k.consultation_id} {about}, opened {k.opened_at:%Y-%m-%d}: {state}")
    if not view.consultations:
        lines.append("  none")
    lines.append("national-law requirements (RS 96(2)(e)):")
    for r in view.national_requirements:
        about = f", {r.request_reference}" if r.request_reference else ""
        lines.append(f"  - {r.text} (learnt {r.learnt_at:%Y-%m-%d}{about})")
    if not view.national_requirements:
        lines.append("  none")
    return "\n".join(lines)


@click.group()
def party() -> None:
    """A requested party's directory: contact, Rule 180 changes, RS 96(3) register."""


@party.command()
@click.argument("code")
def show(code: str) -> None:
    """Show party CODE's directory (ISO alpha-3, e.g. NLD)."""
    click.echo(render_party(_run(_code(code))))


@party.command("agree-change")
@click.argument("code")
@click.option("--channel", required=True, help="The channel agreed (RS 87(1)(a)).")
@click.option("--language", "languages", multiple=True, required=True, help="ISO 639-1.")
@click.option("--effective-at", type=click.DateTime(), help="Agreed time, UTC (default: now).")
@click.option("--notice", "notice_event_id", help="Event id of the State's notice it settles.")
@click.option("--by", "decided_by", required=True, help="Who records the agreement.")
def agree_change(
    code: str,
    channel: str,
    languages: tuple[str, ...],
    effective_at: datetime | None,
    notice_event_id: str | None,
    decided_by: str,
) -> None:
    """Record a change of channel or languages agreed with party CODE (Rule 180(2))."""
    action = _action(
        AgreedContactChange,
        decided_by=decided_by,
        channel=channel,
        languages=languages,
        effective_at=effective_at.replace(tzinfo=UTC) if effective_at else None,
        notice_event_id=notice_event_id,
    )
    click.echo(render_party(_run(_code(code), action)))


@party.command()
@click.argument("code")
@click.option("--request", "request_reference", help="The request it is about (default: general).")
@click.option("--questions", required=True, help="What the Court asks.")
@click.option("--by", "decided_by", required=True, help="Who opens it.")
def consult(code: str, request_reference: str | None, questions: str, decided_by: str) -> None:
    """Open an RS 96(3) consultation of party CODE on its national-law requirements."""
    action = _action(
        OpenNationalLawConsultation,
        decided_by=decided_by,
        request_reference=request_reference,
        questions=questions,
    )
    click.echo(f"consultation {action.event_id}")
    click.echo(render_party(_run(_code(code), action)))


@party.command("close-consultation")
@click.argument("code")
@click.argument("consultation_id")
@click.option(
    "--outcome",
    type=click.Choice(["information_supplied", "no_requirements", "withdrawn"]),
    required=True,
)
@click.option("--replied-by", type=click.Choice(["state", "court"]), required=True)
@click.option("--requirement", "requirements", multiple=True, help="One advised requirement.")
@click.option("--by", "decided_by", required=True, help="Who records it.")
def close_consultation(
    code: str,
    consultation_id: str,
    outcome: str,
    replied_by: str,
    requirements: tuple[str, ...],
    decided_by: str,
) -> None:
    """Record the end of an RS 96(3) consultation and the requirements it produced."""
    action = _action(
        CloseNationalLawConsultation,
        decided_by=decided_by,
        consultation_id=consultation_id,
        outcome=outcome,
        replied_by=replied_by,
        requirements=requirements,
    )
    click.echo(render_party(_run(_code(code), action)))
