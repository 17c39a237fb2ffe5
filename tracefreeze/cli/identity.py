"""``tracefreeze whoami`` (the principal the configured token names) and ``tracefreeze token
issue`` (a token of the local identity issuer; in production the Court's identity provider
issues them). See ``tracefreeze/security/identity.py`` and docs/operations.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from tracefreeze.config import get_settings
from tracefreeze.security import identity


@click.command()
def whoami() -> None:
    """Who this client acts as: the subject, organ, permissions and expiry of its token."""
    settings = get_settings()
    principal = identity.configured_principal(settings)
    if principal is None:
        click.echo(
            "no principal: set TRACEFREEZE_TEMPORAL_TOKEN_FILE (the cluster refuses a client "
            "without a token; the local dev server has no authorizer)"
        )
        raise SystemExit(1)
    expires = principal.expires
    if expires is None:
        left = "no expiry (refused by the cluster)"
    elif principal.expired():
        left = f"{expires:%Y-%m-%dT%H:%M:%SZ} (EXPIRED)"
    else:
        left = f"{expires:%Y-%m-%dT%H:%M:%SZ} (in {expires - datetime.now(UTC)})".split(".")[0]
    click.echo(f"subject      {principal.subject}")
    click.echo(f"organ        {principal.organ or '-'}")
    click.echo(f"permissions  {', '.join(principal.permissions) or '-'}")
    click.echo(f"issuer       {principal.issuer or '-'}")
    click.echo(f"expires      {left}")
    click.echo(f"namespace    {settings.temporal_namespace} at {settings.temporal_address}")
    if principal.expired():
        raise SystemExit(1)


@click.group()
def token() -> None:
    """Tokens of the local identity issuer (made by make up / cluster-up)."""


@token.command("issue")
@click.option("--user", required=True, help="The subject: the person or service.")
@click.option("--organ", required=True, type=click.Choice(identity.ORGANS), help="Acting for.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([*identity.ROLES, "system-admin"]),
    help="Temporal role in the namespace (repeatable); system-admin: temporal-system:admin.",
)
@click.option("--hours", type=click.FloatRange(0.01, 24 * 30), default=12.0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write it here.")
def issue(user: str, organ: str, roles: tuple[str, ...], hours: float, out: Path | None) -> None:
    """Issue a token with the local issuer of TRACEFREEZE_STATE_DIR (never in production)."""
    settings = get_settings()
    issuer = identity.Issuer.ensure(settings.state_dir)
    granted = identity.permissions(settings.temporal_namespace, list(roles))
    made = issuer.issue(user, organ, granted, timedelta(hours=hours))
    if out is None:
        click.echo(made)
        return
    identity.write_private(out, made.encode())
    click.echo(f"token for {user} ({organ}; {', '.join(granted)}) in {out}", err=True)
