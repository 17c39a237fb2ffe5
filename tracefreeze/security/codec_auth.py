"""Who may use the codec server: bearer tokens, checked before any payload is touched.

The codec server decrypts the confidential content of requests (RS 87(3), Rule 81), so only
the Court's own staff, already signed in to the Temporal UI, may call it. The Temporal UI's
codec setting "pass access token" (``TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true`` /
``codec.passAccessToken``; the UI then requires an ``https`` codec endpoint) sends the signed
in user's OIDC access token as ``Authorization: Bearer <token>``; the ``temporal`` CLI sends
``--codec-auth "Bearer <token>"``. Modes (``TRACEFREEZE_CODEC_AUTH``):

``jwt``
    The bearer is a JWT signed by the identity provider: its signature (RS256, ES256 or EdDSA)
    is checked against the keys of ``TRACEFREEZE_CODEC_JWT_KEYS_FILE`` (a JWKS document,
    re-read when it changes), and its claims: ``exp`` (required), ``nbf``, ``iss`` =
    ``TRACEFREEZE_CODEC_JWT_ISSUER`` and ``aud`` containing ``TRACEFREEZE_CODEC_JWT_AUDIENCE``
    (both required). With ``TRACEFREEZE_CODEC_JWT_PERMISSIONS_CLAIM`` set (e.g.
    ``permissions``, as Temporal's own authorizer reads), that claim must grant the called
    namespace (``<namespace>:read``, ``:write`` or ``:admin``; ``/encode`` needs write).
``token``
    The bearer is one of the tokens in ``TRACEFREEZE_CODEC_TOKENS_FILE`` (one per line, ``#``
    comments), compared in constant time: for an authenticating proxy in front of the server
    that injects its own token, and for the ``temporal`` CLI.
``none``
    No authentication: accepted only when the server listens on a loopback address (the local
    stack, whose UI has no sign-in; every local process can read the codec key file anyway).
    The server refuses to start with ``none`` on any other address.

Failures say only ``unauthorized`` or ``forbidden`` to the caller; the reason goes to the log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tracefreeze.errors import TracefreezeError

AUTH_ENV = "TRACEFREEZE_CODEC_AUTH"
TOKENS_FILE_ENV = "TRACEFREEZE_CODEC_TOKENS_FILE"
JWT_KEYS_FILE_ENV = "TRACEFREEZE_CODEC_JWT_KEYS_FILE"
JWT_ISSUER_ENV = "TRACEFREEZE_CODEC_JWT_ISSUER"
JWT_AUDIENCE_ENV = "TRACEFREEZE_CODEC_JWT_AUDIENCE"
JWT_PERMISSIONS_ENV = "TRACEFREEZE_CODEC_JWT_PERMISSIONS_CLAIM"
MODES = ("jwt", "token", "none")
MAX_TOKEN_CHARS = 16 * 1024
LEEWAY_S = 60
"""Clock skew allowed on ``exp`` and ``nbf``."""
WRITE_ACTIONS = ("write", "admin")
READ_ACTIONS = ("read", *WRITE_ACTIONS)


class AuthError(Exception):
    """Why a call is refused: ``status`` 401 (no valid credentials) or 403 (not allowed);
    ``reason`` is for the log only, never for the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Caller:
    """The authenticated caller, for the audit log (never a token)."""

    subject: str


class Authenticator:
    """Checks the ``Authorization`` header of one call for ``namespace`` and ``action``."""

    mode = "none"

    def check(self, authorization: str | None, namespace: str, action: str) -> Caller:
        raise NotImplementedError


class NoAuth(Authenticator):
    mode = "none"

    def check(self, authorization: str | None, namespace: str, action: str) -> Caller:
        return Caller("anonymous (loopback)")


def bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError(401, "no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError(401, "Authorization is not 'Bearer <token>'")
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthError(401, "bearer token too long")
    return token


class _WatchedFile:
    """A small file parsed once and again whenever its size, mtime or inode change; a file
    that no longer parses keeps the last good value (and ``on_error`` is told)."""

    def __init__(
        self,
        path: Path,
        parse: Callable[[bytes], Any],
        on_error: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.path, self._parse, self._on_error = path, parse, on_error
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        try:
            self.value = self._load()  # the first read must succeed
        except ValueError as err:
            raise TracefreezeError(f"{path}: {err}") from err

    def _load(self) -> Any:
        try:
            stat = self.path.stat()
            value = self._parse(self.path.read_bytes())
        except OSError as err:
            raise TracefreezeError(f"cannot read {self.path}: {err.strerror}") from err
        self._stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        return value

    def current(self) -> Any:
        try:
            stat = self.path.stat()
        except OSError as err:
            self._on_error(f"{self.path}: {err.strerror}; keeping the last good copy")
            return self.value
        if (stat.st_mtime_ns, stat.st_size, stat.st_ino) == self._stamp:
            return self.value
        with self._lock:
            try:
                self.value = self._load()
            except (TracefreezeError, ValueError) as err:
                self._stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
                self._on_error(f"{self.path}: {err}; keeping the last good copy")
        return self.value


def _parse_tokens(raw: bytes) -> tuple[bytes, ...]:
    lines = raw.decode("utf-8").splitlines()
    tokens = [line.split("#", 1)[0].strip() for line in lines]
    digests = tuple(hashlib.sha256(t.encode()).digest() for t in tokens if t)
    if not digests:
        raise ValueError("no token in the file")
    return digests


class TokenAuth(Authenticator):
    """Static bearer tokens from a file (only their SHA-256 digests are kept in memory)."""

    mode = "token"

    def __init__(self, path: Path, on_error: Callable[[str], None] = lambda _: None) -> None:
        self._file = _WatchedFile(path, _parse_tokens, on_error)

    def check(self, authorization: str | None, namespace: str, action: str) -> Caller:
        digest = hashlib.sha256(bearer(authorization).encode()).digest()
        matched = False
        for known in self._file.current():
            matched |= hmac.compare_digest(digest, known)
        if not matched:
            raise AuthError(401, "bearer token not among the configured tokens")
        return Caller(f"token {digest.hex()[:12]}")


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise AuthError(401, "JWT segment is not base64url") from err


def _int(text: str) -> int:
    return int.from_bytes(_b64url(text), "big")


def _jwk_key(jwk: Mapping[str, Any]) -> Any:
    kty = jwk.get("kty")
    if kty == "RSA":
        return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    if kty == "EC" and jwk.get("crv") == "P-256":
        return ec.EllipticCurvePublicNumbers(
            _int(jwk["x"]), _int(jwk["y"]), ec.SECP256R1()
        ).public_key()
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return Ed25519PublicKey.from_public_bytes(_b64url(jwk["x"]))
    raise ValueError(f"unsupported JWK kty={kty!r} crv={jwk.get('crv')!r}")


ALGORITHMS = {"RS256": rsa.RSAPublicKey, "ES256": ec.EllipticCurvePublicKey}
ALGORITHMS_ED = {"EdDSA": Ed25519PublicKey}


def _parse_jwks(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw)
        keys = {str(jwk["kid"]): _jwk_key(jwk) for jwk in document["keys"]}
    except (KeyError, TypeError, AuthError) as err:
        raise ValueError(f"not a JWKS document with a kid on every key: {err}") from err
    if not keys:
        raise ValueError("the JWKS document has no key")
    return keys


def _verify_signature(alg: str, key: Any, signature: bytes, signed: bytes) -> None:
    try:
        if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                raise AuthError(401, "ES256 signature is not 64 bytes")
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), signed, ec.ECDSA(hashes.SHA256()))
        elif alg == "EdDSA" and isinstance(key, Ed25519PublicKey):
            key.verify(signature, signed)
        else:
            raise AuthError(401, f"JWT alg {alg} does not match its key's type")
    except InvalidSignature as err:
        raise AuthError(401, "JWT signature does not verify") from err


class JwtAuth(Authenticator):
    """JWTs of the identity provider whose keys are in a JWKS file (module docstring)."""

    mode = "jwt"

    def __init__(
        self,
        keys_file: Path,
        issuer: str,
        audience: str,
        permissions_claim: str = "",
        clock: Callable[[], float] = time.time,
        on_error: Callable[[str], None] = lambda _: None,
    ) -> None:
        if not issuer or not audience:
            raise TracefreezeError(
                f"{AUTH_ENV}=jwt needs {JWT_ISSUER_ENV} and {JWT_AUDIENCE_ENV}: a token of "
                "another issuer or for another service must not open the codec server"
            )
        self._keys = _WatchedFile(keys_file, _parse_jwks, on_error)
        self.issuer, self.audience = issuer, audience
        self.permissions_claim, self.clock = permissions_claim, clock

    def check(self, authorization: str | None, namespace: str, action: str) -> Caller:
        token = bearer(authorization)
        parts = token.split(".")
        if len(parts) != 3:
            raise AuthError(401, "bearer token is not a JWS compact JWT")
        try:
            header = json.loads(_b64url(parts[0]))
            claims = json.loads(_b64url(parts[1]))
        except (ValueError, UnicodeDecodeError) as err:
            raise AuthError(401, "JWT header or claims are not JSON") from err
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise AuthError(401, "JWT header or claims are not objects")
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in (*ALGORITHMS, *ALGORITHMS_ED):
            raise AuthError(401, f"JWT alg {str(alg)[:20]!r} is not accepted")
        key = self._keys.current().get(str(kid))
        if key is None:
            raise AuthError(401, f"JWT kid {str(kid)[:40]!r} is not in the key set")
        signed = f"{parts[0]}.{parts[1]}".encode("ascii")
        _verify_signature(alg, key, _b64url(parts[2]), signed)
        self._claims(claims)
        self._permitted(claims, namespace, action)
        return Caller(f"sub {str(claims.get('sub', '?'))[:80]}")

    def _claims(self, claims: Mapping[str, Any]) -> None:
        now = self.clock()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise AuthError(401, "JWT has no numeric exp")
        if now > exp + LEEWAY_S:
            raise AuthError(401, "JWT expired")
        if nbf is not None and (not isinstance(nbf, int | float) or now < nbf - LEEWAY_S):
            raise AuthError(401, "JWT not yet valid")
        if claims.get("iss") != self.issuer:
            raise AuthError(401, "JWT of another issuer")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.audience not in audiences:
            raise AuthError(401, "JWT for another audience")

    def _permitted(self, claims: Mapping[str, Any], namespace: str, action: str) -> None:
        if not self.permissions_claim:
            return
        granted = claims.get(self.permissions_claim)
        if not isinstance(granted, list):
            raise AuthError(403, f"JWT has no {self.permissions_claim} list")
        actions = WRITE_ACTIONS if action == "write" else READ_ACTIONS
        wanted = {f"{namespace}:{a}" for a in actions} | {"temporal-system:admin"}
        if not wanted.intersection(p for p in granted if isinstance(p, str)):
            raise AuthError(403, f"JWT grants no {action} on namespace {namespace}")


def authenticator_from_env(
    host: str,
    environ: Mapping[str, str] | None = None,
    on_error: Callable[[str], None] = lambda _: None,
) -> Authenticator:
    """The authenticator ``TRACEFREEZE_CODEC_AUTH`` names (default ``jwt``): a server on a
    non-loopback ``host`` without authentication is refused."""
    env = os.environ if environ is None else environ
    mode = env.get(AUTH_ENV, "").strip().lower() or "jwt"
    if mode not in MODES:
        raise TracefreezeError(f"{AUTH_ENV} must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none":
        if not is_loopback(host):
            raise TracefreezeError(
                f"{AUTH_ENV}=none on {host}: a codec server without authentication may only "
                "listen on a loopback address; use jwt (the UI's pass-access-token) or token"
            )
        return NoAuth()
    if mode == "token":
        path = env.get(TOKENS_FILE_ENV, "").strip()
        if not path:
            raise TracefreezeError(f"{AUTH_ENV}=token needs {TOKENS_FILE_ENV}")
        return TokenAuth(Path(path), on_error)
    path = env.get(JWT_KEYS_FILE_ENV, "").strip()
    if not path:
        raise TracefreezeError(
            f"{AUTH_ENV}=jwt (the default) needs {JWT_KEYS_FILE_ENV} (the identity provider's "
            f"JWKS), {JWT_ISSUER_ENV} and {JWT_AUDIENCE_ENV}; for the local stack only, "
            f"{AUTH_ENV}=none on 127.0.0.1"
        )
    return JwtAuth(
        Path(path),
        env.get(JWT_ISSUER_ENV, "").strip(),
        env.get(JWT_AUDIENCE_ENV, "").strip(),
        env.get(JWT_PERMISSIONS_ENV, "").strip(),
        on_error=on_error,
    )


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
