"""The local identity issuer and the clients' tokens (``tracefreeze/security/identity.py``):
tokens in the form Temporal's JWT claim mapper verifies (ES256, a JWKS with the key id, the
``permissions`` claim), the demo users made once and renewed before they expire, the token
re-read at every connection, and ``tracefreeze whoami`` / ``token issue``. The server's own
check of them is tests/faults/test_cluster_auth.py, on the real cluster."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric import ec

from tracefreeze import court_signing
from tracefreeze.cli.main import main
from tracefreeze.config import Settings, get_settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.security import identity

NS = "tracefreeze"


def invoke(args: list[str]) -> Result:
    """The CLI with the environment as it is now (the settings are read once, then cached)."""
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, args)
    finally:
        get_settings.cache_clear()


def _part(token: str, index: int) -> dict[str, object]:
    text = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def test_a_token_carries_who_for_which_organ_and_until_when(tmp_path: Path) -> None:
    issuer = identity.Issuer.ensure(tmp_path)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    granted = identity.permissions(NS, ["write"])
    token = issuer.issue("registry-officer", "registry", granted, timedelta(hours=12), now=now)
    header, claims = _part(token, 0), _part(token, 1)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": issuer.key_id}
    assert claims["sub"] == "registry-officer"
    assert claims["organ"] == "registry"
    assert claims["permissions"] == ["tracefreeze:write"]
    assert (claims["iss"], claims["aud"]) == (identity.ISSUER, identity.AUDIENCE)
    assert claims["exp"] - claims["iat"] == 12 * 3600
    principal = issuer.verify(token)
    assert principal.expires == now + timedelta(hours=12)
    assert principal.expired(now + timedelta(hours=13))
    assert not principal.expired(now + timedelta(hours=11))


def test_another_issuers_or_an_altered_token_does_not_verify(tmp_path: Path) -> None:
    ours = identity.Issuer.ensure(tmp_path / "ours")
    theirs = identity.Issuer.ensure(tmp_path / "theirs")
    granted = identity.permissions(NS, ["read"])
    token = theirs.issue("observer", "registry", granted, timedelta(hours=1))
    with pytest.raises(TracefreezeError, match="not signed by this issuer"):
        ours.verify(token)
    head, _, signature = ours.issue("observer", "registry", granted, timedelta(hours=1)).split(".")
    raised = dict(_part(token, 1), permissions=[f"{identity.SYSTEM}:admin"])
    body = base64.urlsafe_b64encode(json.dumps(raised).encode()).rstrip(b"=").decode()
    with pytest.raises(TracefreezeError, match="not signed by this issuer"):
        ours.verify(f"{head}.{body}.{signature}")


def test_the_jwks_holds_the_issuers_public_key_under_its_key_id(tmp_path: Path) -> None:
    """The form the server's key provider reads (go-jose: kty EC, crv P-256, 32-byte x and
    y, kid): the key it rebuilds is the issuer's."""
    issuer = identity.Issuer.ensure(tmp_path)
    (key,) = json.loads(identity.jwks_file(tmp_path).read_text())["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["kid"]) == (
        "EC",
        "P-256",
        "ES256",
        issuer.key_id,
    )
    x, y = (int.from_bytes(base64.urlsafe_b64decode(key[c] + "="), "big") for c in "xy")
    rebuilt = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    assert rebuilt.public_numbers() == issuer.key.public_key().public_numbers()
    assert "d" not in key
    again = identity.Issuer.ensure(tmp_path)
    assert again.key_id == issuer.key_id  # made once, kept


def test_roles_and_organs_are_closed_lists() -> None:
    assert identity.permissions(NS, ["read", "system-admin"]) == [
        "tracefreeze:read",
        "temporal-system:admin",
    ]
    with pytest.raises(TracefreezeError, match="unknown role"):
        identity.permissions(NS, ["superuser"])
    with pytest.raises(TracefreezeError, match="unknown organ"):
        identity.Issuer(ec.generate_private_key(ec.SECP256R1()), "k").issue(
            "x", "assembly", [], timedelta(hours=1)
        )


def test_demo_users_are_made_once_private_and_renewed_before_expiry(tmp_path: Path) -> None:
    tokens = identity.ensure_demo_identities(tmp_path, NS)
    files = {
        user.subject: identity.token_file(tmp_path, user.subject) for user in identity.DEMO_USERS
    }
    assert all(path.parent == tokens for path in files.values())
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files.values())
    assert stat.S_IMODE(identity.identity_dir(tmp_path).stat().st_mode) == 0o700
    first = {subject: path.read_text() for subject, path in files.items()}
    observer = identity.principal_of(first["observer"])
    assert (observer.organ, observer.permissions) == ("registry", ("tracefreeze:read",))
    admin = identity.principal_of(first["tracefreeze-admin"])
    assert admin.permissions == ("temporal-system:admin",)
    identity.ensure_demo_identities(tmp_path, NS)
    assert {s: p.read_text() for s, p in files.items()} == first  # fresh ones are kept
    issuer = identity.Issuer.ensure(tmp_path)
    near = issuer.issue(
        "registry-officer",
        "registry",
        ["tracefreeze:write"],
        identity.RENEW_BEFORE - timedelta(minutes=1),
    )
    files["registry-officer"].write_text(near)
    identity.ensure_demo_identities(tmp_path, "other-namespace")
    renewed = identity.principal_of(files["registry-officer"].read_text())
    assert renewed.permissions == ("other-namespace:write",)
    assert renewed.expires is not None
    assert renewed.expires - datetime.now(UTC) > identity.PERSON_LIFETIME - timedelta(minutes=5)


def test_the_token_file_is_read_at_every_connection(tmp_path: Path) -> None:
    path = tmp_path / "token.jwt"
    settings = Settings(temporal_token_file=path)
    with pytest.raises(TracefreezeError, match="TRACEFREEZE_TEMPORAL_TOKEN_FILE: cannot read"):
        identity.configured_token(settings)
    path.write_text("")
    with pytest.raises(TracefreezeError, match="is empty"):
        identity.configured_token(settings)
    path.write_text("first\n")
    assert identity.configured_token(settings) == "first"
    path.write_text("renewed")
    assert identity.configured_token(settings) == "renewed"
    assert identity.configured_token(Settings(temporal_token="inline")) == "inline"
    assert identity.configured_token(Settings()) is None


def test_whoami_names_the_principal_and_refuses_an_expired_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity.ensure_demo_identities(tmp_path, NS)
    monkeypatch.setenv("TRACEFREEZE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("TRACEFREEZE_TEMPORAL_NAMESPACE", NS)
    officer = identity.token_file(tmp_path, "registry-officer")
    monkeypatch.setenv("TRACEFREEZE_TEMPORAL_TOKEN_FILE", str(officer))
    result = invoke(["whoami"])
    assert result.exit_code == 0, result.output
    assert "subject      registry-officer" in result.output
    assert "organ        registry" in result.output
    assert "permissions  tracefreeze:write" in result.output
    old = datetime.now(UTC) - timedelta(days=1)
    expired = identity.Issuer.ensure(tmp_path).issue(
        "registry-officer", "registry", ["tracefreeze:write"], timedelta(hours=1), now=old
    )
    officer.write_text(expired)
    result = invoke(["whoami"])
    assert result.exit_code == 1
    assert "EXPIRED" in result.output
    monkeypatch.delenv("TRACEFREEZE_TEMPORAL_TOKEN_FILE")
    result = invoke(["whoami"])
    assert result.exit_code == 1
    assert "no principal" in result.output


def test_token_issue_writes_a_private_token_of_the_local_issuer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEFREEZE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("TRACEFREEZE_TEMPORAL_NAMESPACE", NS)
    out = tmp_path / "elsewhere" / "clerk.jwt"
    args = ["token", "issue", "--user", "jdoe", "--organ", "trial_chamber", "--role", "write"]
    result = invoke([*args, "--hours", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    principal = identity.Issuer.ensure(tmp_path).verify(out.read_text())
    assert (principal.subject, principal.organ) == ("jdoe", "trial_chamber")
    assert principal.permissions == ("tracefreeze:write",)
    assert os.access(out.parent, os.W_OK)  # the caller's directory is left as it was
    refused = invoke([*args[:-1], "owner"])
    assert refused.exit_code == 2


def test_a_court_action_names_the_principal_of_the_token_it_is_sent_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Audit (who decided is part of the decision): the action's ``principal`` is the subject
    of the token the client acts with, before any variable or system user."""
    identity.ensure_demo_identities(tmp_path, NS)
    clerk = identity.token_file(tmp_path, "trial-chamber-clerk")
    monkeypatch.setenv("TRACEFREEZE_PRINCIPAL", "someone-else")
    monkeypatch.setenv("TRACEFREEZE_TEMPORAL_TOKEN_FILE", str(clerk))
    get_settings.cache_clear()
    try:
        assert court_signing.principal() == "trial-chamber-clerk"
        monkeypatch.delenv("TRACEFREEZE_TEMPORAL_TOKEN_FILE")
        get_settings.cache_clear()
        assert court_signing.principal() == "someone-else"
    finally:
        get_settings.cache_clear()
