"""Who acts: the Court users and organs as Temporal principals, from JSON Web Tokens.

Every client of Temporal (the CLI, the typed client, the worker, the bridge, the demo) sends
a bearer token (``Client.connect(api_key=...)``: ``authorization: Bearer <token>``) read from
``TRACEFREEZE_TEMPORAL_TOKEN_FILE`` (re-read at every connect, so a renewed file is taken by
the next connection) or ``TRACEFREEZE_TEMPORAL_TOKEN``. The production-shaped cluster's
frontend verifies it with the server's JWT claim mapper and default authorizer
(``tracefreeze/stack/cluster/authorization.py``) and refuses a call without one.

In production the tokens come from the Court's identity provider (OIDC), ES256 or RS256 (the
only algorithms Temporal's key provider accepts), with the claims of ``Principal``: ``sub``
(the person or service), ``organ`` (the organ it acts for, RS 34), ``permissions`` (Temporal's
``<namespace>:<role>``), ``iss``, ``aud``, ``exp``. Here a local issuer stands in: an ES256
key made by ``make up`` and ``cluster-up`` in ``<state dir>/keys/identity/`` (never committed;
the state dir is git-ignored) with its public JWKS and the demo users' tokens (``DEMO_USERS``),
and ``tracefreeze token issue`` for any other user (docs/operations.md, "Identity and access").
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from tracefreeze.errors import TracefreezeError

if TYPE_CHECKING:
    from tracefreeze.config import Settings

ISSUER = "tracefreeze-local-issuer"
"""The ``iss`` of the local issuer's tokens (the Court's identity provider's URL in
production)."""
AUDIENCE = "tracefreeze-temporal"
"""The ``aud`` every token must carry; the server's ``global.authorization.audience``."""
SYSTEM = "temporal-system"
"""Temporal's cluster scope in a permission (``temporal-system:admin``)."""
ROLES = ("read", "write", "worker", "admin")
"""Temporal's roles. Its default authorizer compares them as numbers (worker < read < write <
admin), so ``worker`` alone allows nothing and ``write`` would also take and settle tasks; the
cluster's server (deploy/temporal-server) narrows that: only a principal holding ``worker``
(or the server's own internal principal) may poll a task queue or answer a task. The workers
carry ``write`` and ``worker``; the bridges and every person ``write`` alone."""
ORGANS = (
    "pre_trial_chamber",
    "trial_chamber",
    "appeals_chamber",
    "presidency",
    "prosecutor",
    "registry",
)
"""The organs of the Court (RS 34; ``schemas.organs.Organ``), the values of ``organ``."""
PERSON_LIFETIME = timedelta(hours=12)
"""A person's demo token: one working day, then ``make up`` (or ``token issue``) renews it."""
SERVICE_LIFETIME = timedelta(days=7)
"""A service's demo token (worker, bridge, admin): renewed by ``make up``/``cluster-up`` when
less than ``RENEW_BEFORE`` is left; a process reads its file at every connection."""
RENEW_BEFORE = timedelta(hours=2)
KEY_ID_BYTES = 8


@dataclass(frozen=True)
class DemoUser:
    subject: str
    organ: str
    roles: tuple[str, ...]
    """Roles in the namespace; ``system-admin`` is ``temporal-system:admin``."""
    service: bool = False


DEMO_USERS = (
    DemoUser("registry-officer", "registry", ("write",)),
    DemoUser("pre-trial-chamber-clerk", "pre_trial_chamber", ("write",)),
    DemoUser("trial-chamber-clerk", "trial_chamber", ("write",)),
    DemoUser("presidency-clerk", "presidency", ("write",)),
    DemoUser("observer", "registry", ("read",)),
    DemoUser("tracefreeze-worker", "registry", ("write", "worker"), service=True),
    DemoUser("tracefreeze-bridge", "registry", ("write",), service=True),
    DemoUser("tracefreeze-admin", "registry", ("system-admin",), service=True),
)
"""The local stack's users: a Registry officer (transmits and follows requests, RS 43(1)), a
clerk for each deciding organ, a read-only observer, and the services. Which organ may take
which Court action is the catalog's table of powers; Temporal's roles only say who may read
and who may write at all; the workers alone take tasks."""


@dataclass(frozen=True)
class Principal:
    """What a token says about its bearer (not verified here: the server verifies)."""

    subject: str
    organ: str | None
    permissions: tuple[str, ...]
    issuer: str | None
    expires: datetime | None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (now or datetime.now(UTC))


def identity_dir(state_dir: Path) -> Path:
    return state_dir / "keys" / "identity"


def jwks_file(state_dir: Path) -> Path:
    """The issuer's public keys (JWKS): the server reads it through ``file://``."""
    return identity_dir(state_dir) / "jwks.json"


def token_file(state_dir: Path, subject: str) -> Path:
    return identity_dir(state_dir) / "tokens" / f"{subject}.jwt"


def permissions(namespace: str, roles: tuple[str, ...] | list[str]) -> list[str]:
    """Temporal's ``<namespace>:<role>`` of ``roles`` (``system-admin``: cluster admin)."""
    out = []
    for role in roles:
        if role == "system-admin":
            out.append(f"{SYSTEM}:admin")
        elif role in ROLES:
            out.append(f"{namespace}:{role}")
        else:
            known = ", ".join((*ROLES, "system-admin"))
            raise TracefreezeError(f"unknown role {role!r}: one of {known}")
    return out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def write_private(path: Path, data: bytes) -> None:
    """``data`` in ``path``, readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


class Issuer:
    """The local identity issuer: one ES256 key (P-256), its key id, its JWKS."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, key_id: str) -> None:
        self.key, self.key_id = key, key_id

    @classmethod
    def ensure(cls, state_dir: Path) -> Issuer:
        """The issuer of ``state_dir``, made (key, key id, JWKS) if missing."""
        directory = identity_dir(state_dir)
        (directory / "tokens").mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)  # the key and the tokens; the server runs as the same user
        pem, kid = directory / "issuer.pem", directory / "issuer.key-id"
        if pem.exists() and kid.exists():
            key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise TracefreezeError(f"{pem}: not an EC private key")
            issuer = cls(key, kid.read_text().strip())
        else:
            issuer = cls(ec.generate_private_key(ec.SECP256R1()), secrets.token_hex(KEY_ID_BYTES))
            pkcs8 = issuer.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_private(pem, pkcs8)
            write_private(kid, issuer.key_id.encode())
        jwks = jwks_file(state_dir)
        wanted = json.dumps(issuer.jwks(), indent=2) + "\n"
        if not jwks.exists() or jwks.read_text() != wanted:
            jwks.write_text(wanted)  # public: the server (another user, in a container) reads it
            jwks.chmod(0o644)
        return issuer

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": _b64(numbers.x.to_bytes(32, "big")),
                    "y": _b64(numbers.y.to_bytes(32, "big")),
                    "kid": self.key_id,
                    "alg": "ES256",
                    "use": "sig",
                }
            ]
        }

    def issue(
        self,
        subject: str,
        organ: str,
        granted: list[str],
        lifetime: timedelta,
        now: datetime | None = None,
    ) -> str:
        """A signed token (ES256) for ``subject`` acting for ``organ`` with ``granted``."""
        if organ not in ORGANS:
            raise TracefreezeError(f"unknown organ {organ!r}: one of {', '.join(ORGANS)}")
        if not subject or len(subject) > 100:
            raise TracefreezeError("the subject is 1 to 100 characters")
        issued = int((now or datetime.now(UTC)).timestamp())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": AUDIENCE,
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(lifetime.total_seconds()),
            "organ": organ,
            "permissions": granted,
        }
        header = {"alg": "ES256", "typ": "JWT", "kid": self.key_id}
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def verify(self, token: str) -> Principal:
        """``token``'s principal if this issuer signed it (a test's check, not the server's)."""
        signing_input, _, signature = token.rpartition(".")
        raw = _unb64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            self.key.public_key().verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as err:
            raise TracefreezeError("the token is not signed by this issuer") from err
        return principal_of(token)


def principal_of(token: str) -> Principal:
    """The claims of ``token`` as a ``Principal``; a token that is not a JWT is an error."""
    parts = token.strip().split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three parts")
        claims = json.loads(_unb64(parts[1]))
        subject = claims["sub"]
        if not isinstance(subject, str):
            raise ValueError("sub is not a string")
    except (ValueError, KeyError, TypeError) as err:
        raise TracefreezeError(f"the Temporal token is not a JWT with a subject ({err})") from err
    exp = claims.get("exp")
    granted = claims.get("permissions") or []
    return Principal(
        subject=subject,
        organ=claims.get("organ") if isinstance(claims.get("organ"), str) else None,
        permissions=tuple(p for p in granted if isinstance(p, str)),
        issuer=claims.get("iss") if isinstance(claims.get("iss"), str) else None,
        expires=datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None,
    )


def ensure_demo_identities(state_dir: Path, namespace: str) -> Path:
    """The issuer and a fresh token for each demo user (renewed when ``RENEW_BEFORE`` from its
    expiry or when its permissions are not those of ``namespace``); the tokens' directory."""
    issuer = Issuer.ensure(state_dir)
    now = datetime.now(UTC)
    for user in DEMO_USERS:
        path = token_file(state_dir, user.subject)
        granted = permissions(namespace, user.roles)
        if path.exists():
            try:
                held = issuer.verify(path.read_text())
            except TracefreezeError:
                held = None
            if (
                held is not None
                and list(held.permissions) == granted
                and held.expires is not None
                and held.expires - now > RENEW_BEFORE
            ):
                continue
        lifetime = SERVICE_LIFETIME if user.service else PERSON_LIFETIME
        write_private(path, issuer.issue(user.subject, user.organ, granted, lifetime).encode())
    return token_file(state_dir, "x").parent


APP_PRINCIPALS = {"worker": "tracefreeze-worker", "bridge": "tracefreeze-bridge"}
"""Whom each long-running app acts as (the codec server and the recorder call no Temporal)."""


def app_token_env(state_dir: Path, app: str) -> dict[str, str]:
    """The token variable of ``app`` (``worker``, ``bridge``): its own demo token, whoever
    started the stack; nothing for an app that calls no Temporal."""
    subject = APP_PRINCIPALS.get(app)
    if subject is None:
        return {}
    return {"TRACEFREEZE_TEMPORAL_TOKEN_FILE": str(token_file(state_dir, subject))}


def configured_token(settings: Settings) -> str | None:
    """The bearer token of ``settings``: the file's (read now), else the variable's, else
    none (the dev server needs none; the cluster refuses a client without)."""
    if settings.temporal_token_file is not None:
        try:
            token = settings.temporal_token_file.read_text().strip()
        except OSError as err:
            raise TracefreezeError(
                f"TRACEFREEZE_TEMPORAL_TOKEN_FILE: cannot read {settings.temporal_token_file}: "
                f"{err.strerror}"
            ) from err
        if not token:
            raise TracefreezeError(
                f"TRACEFREEZE_TEMPORAL_TOKEN_FILE: {settings.temporal_token_file} is empty"
            )
        return token
    if settings.temporal_token is not None:
        return settings.temporal_token.get_secret_value().strip() or None
    return None


def configured_principal(settings: Settings) -> Principal | None:
    """Who the clients of ``settings`` act as (``tracefreeze whoami``), or none."""
    token = configured_token(settings)
    return principal_of(token) if token else None
