"""The codec server over real HTTP: authentication (the UI's bearer token or a configured
token), CORS with the Authorization header, Host and Origin checks, /encode off by default,
and errors without key ids (its connection cap: test_codec_server_sockets.py).

The server decrypts confidential request content (RS 87(3), Rule 81); issue 11, section 5.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.tracefreeze.codec_support import (
    AUDIENCE,
    ISSUER,
    SECRET,
    TOKEN,
    UI,
    as_json,
    call,
    codec,
    plain,
    sealed,
)
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.codec import EncryptionCodec
from tracefreeze.security.codec_auth import (
    JwtAuth,
    NoAuth,
    TokenAuth,
    authenticator_from_env,
)
from tracefreeze.security.codec_listener import CodecServerConfig
from tracefreeze.security.codec_server import CodecServer, start_codec_server

# --- authentication -----------------------------------------------------------------------


async def test_decode_needs_a_valid_bearer_token(serve: Callable[..., CodecServer]) -> None:
    srv = serve()
    document = await sealed()
    for token in (None, "", "wrong", TOKEN + "x"):
        status, headers, body = call(srv.url + "/decode", document, token=token)
        assert status == 401 and body == {"error": "unauthorized"}, token
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert SECRET not in json.dumps(body)
    status, _, body = call(srv.url + "/decode", document)
    assert status == 200, body
    [decoded] = body["payloads"]
    assert json.loads(base64.b64decode(decoded["data"])) == {"name": SECRET}


def test_token_file_change_is_picked_up_and_a_broken_file_keeps_the_old(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("first\n", encoding="utf-8")
    errors: list[str] = []
    auth = TokenAuth(tokens, errors.append)
    auth.check("Bearer first", "tracefreeze", "read")
    tokens.write_text("second-token\n", encoding="utf-8")
    auth.check("Bearer second-token", "tracefreeze", "read")
    with pytest.raises(Exception, match="not among"):
        auth.check("Bearer first", "tracefreeze", "read")
    tokens.write_text("# emptied by mistake\n", encoding="utf-8")
    auth.check("Bearer second-token", "tracefreeze", "read")  # the last good set stays
    assert errors and "keeping the last good copy" in errors[0]


class Idp:
    """A stand-in identity provider: its JWKS file and the tokens it signs (EdDSA, ES256)."""

    def __init__(self, directory: Path) -> None:
        self.ed, self.ec = Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())
        ed_x = self.ed.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        numbers = self.ec.public_key().public_numbers()
        self.jwks = directory / "jwks.json"
        self.jwks.write_text(
            json.dumps(
                {
                    "keys": [
                        {"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "x": b64u(ed_x)},
                        {
                            "kty": "EC",
                            "crv": "P-256",
                            "kid": "ec-1",
                            "x": b64u(numbers.x.to_bytes(32, "big")),
                            "y": b64u(numbers.y.to_bytes(32, "big")),
                        },
                    ]
                }
            ),
            encoding="utf-8",
        )

    def token(self, alg: str = "EdDSA", kid: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "registry-officer", "exp": now + 300}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        kid = kid or ("ed-1" if alg == "EdDSA" else "ec-1")
        header = {"alg": alg, "kid": kid, "typ": "JWT"}
        signed = f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(body).encode())}"
        if alg == "EdDSA":
            signature = self.ed.sign(signed.encode())
        elif alg == "ES256":
            r, s = decode_dss_signature(self.ec.sign(signed.encode(), ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = b""
        return f"{signed}.{b64u(signature)}"


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_the_ui_users_jwt_is_verified(
    serve: Callable[..., CodecServer], tmp_path: Path
) -> None:
    """The UI's "pass access token": the signed-in user's JWT, checked for signature, issuer,
    audience, expiry and (when configured) a permission on the namespace."""
    idp = Idp(tmp_path)
    auth = JwtAuth(idp.jwks, ISSUER, AUDIENCE, permissions_claim="permissions")
    srv = serve(auth=auth)
    document = await sealed()
    granted = ["tracefreeze:read"]
    for good in (idp.token(permissions=granted), idp.token("ES256", permissions=granted)):
        status, _, body = call(srv.url + "/decode", document, token=good)
        assert status == 200, body
    now = int(time.time())
    refused = {
        "expired": idp.token(permissions=granted, exp=now - 3600),
        "no exp": idp.token(permissions=granted, exp=None),
        "not yet": idp.token(permissions=granted, nbf=now + 3600),
        "issuer": idp.token(permissions=granted, iss="https://evil.example"),
        "audience": idp.token(permissions=granted, aud="another-service"),
        "alg none": idp.token("none", kid="ed-1", permissions=granted),
        "unknown kid": idp.token(kid="ed-9", permissions=granted),
        "alg/key mismatch": idp.token("ES256", kid="ed-1", permissions=granted),
        "forged": idp.token(permissions=granted)[:-4] + "AAAA",
        "not a jwt": TOKEN,
    }
    for why, token in refused.items():
        status, _, body = call(srv.url + "/decode", document, token=token)
        assert (status, body) == (401, {"error": "unauthorized"}), why
    for why, perms in {"other ns": ["sandbox:admin"], "none": None}.items():
        token = idp.token(permissions=perms)
        status, _, body = call(srv.url + "/decode", document, token=token)
        assert (status, body) == (403, {"error": "forbidden"}), why


def test_no_authentication_only_on_loopback(tmp_path: Path) -> None:
    local = authenticator_from_env("127.0.0.1", {"TRACEFREEZE_CODEC_AUTH": "none"})
    assert isinstance(local, NoAuth)
    for host in ("0.0.0.0", "10.1.2.3", "codec.court.example"):
        with pytest.raises(TracefreezeError, match="loopback"):
            authenticator_from_env(host, {"TRACEFREEZE_CODEC_AUTH": "none"})
    with pytest.raises(TracefreezeError, match="JWKS"):
        authenticator_from_env("0.0.0.0", {})  # jwt is the default and needs its keys
    with pytest.raises(TracefreezeError, match="ISSUER"):
        authenticator_from_env(
            "0.0.0.0",
            {"TRACEFREEZE_CODEC_JWT_KEYS_FILE": str(Idp(tmp_path).jwks)},
        )
    with pytest.raises(TracefreezeError, match="TOKENS_FILE"):
        authenticator_from_env("0.0.0.0", {"TRACEFREEZE_CODEC_AUTH": "token"})


# --- CORS, Host, Origin, /encode, namespace ------------------------------------------------


def test_cors_preflight_allows_the_authorization_header(
    serve: Callable[..., CodecServer],
) -> None:
    srv = serve()
    preflight = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    # Browsers send no credentials on a preflight: it must succeed without them.
    status, headers, _ = call(srv.url + "/decode", method="OPTIONS", token=None, headers=preflight)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == UI
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert "POST" in headers["Access-Control-Allow-Methods"]
    evil = {**preflight, "Origin": "https://evil.example"}
    status, headers, _ = call(srv.url + "/decode", method="OPTIONS", token=None, headers=evil)
    assert status == 403 and "Access-Control-Allow-Origin" not in headers


async def test_origin_and_host_are_checked(serve: Callable[..., CodecServer]) -> None:
    srv = serve()
    document = await sealed()
    status, headers, _ = call(srv.url + "/decode", document, headers={"Origin": UI})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == UI
    status, headers, body = call(
        srv.url + "/decode", document, headers={"Origin": "https://evil.example"}
    )
    assert (status, body) == (403, {"error": "origin_not_allowed"})
    assert "Access-Control-Allow-Origin" not in headers
    # A DNS name rebound to the server's address: the browser sends that name as Host.
    port = srv.server_address[1]
    for host in (f"rebind.evil.example:{port}", "rebind.evil.example", f"127.0.0.2:{port}"):
        status, _, body = call(srv.url + "/decode", document, headers={"Host": host})
        assert (status, body) == (421, {"error": "host_not_allowed"}), host
    status, _, _ = call(srv.url + "/decode", document, headers={"Host": f"localhost:{port}"})
    assert status == 200
    named = serve(allowed_hosts=("codec.court.example",))
    status, _, _ = call(named.url + "/decode", document)
    assert status == 421
    status, _, _ = call(named.url + "/decode", document, headers={"Host": "codec.court.example"})
    assert status == 200
    status, _, body = call(named.url + "/healthz", method="GET", token=None)
    assert (status, body) == (200, {"ok": True})  # the kubelet probes by pod IP
    with pytest.raises(TracefreezeError, match="TRACEFREEZE_CODEC_ALLOWED_HOSTS"):
        start_codec_server(codec(), 0, "0.0.0.0", auth=NoAuth(), config=CodecServerConfig())


async def test_encode_only_when_enabled(serve: Callable[..., CodecServer]) -> None:
    document = {"payloads": [as_json(plain())]}
    status, _, body = call(serve().url + "/encode", document)
    assert (status, body) == (403, {"error": "encode_disabled"})
    srv = serve(encode_enabled=True)
    status, _, body = call(srv.url + "/encode", document)
    assert status == 200, body
    [encoded] = body["payloads"]
    assert base64.b64decode(encoded["metadata"]["encryption-key-id"]) == b"k2"
    assert SECRET.encode() not in base64.b64decode(encoded["data"])
    status, _, body = call(srv.url + "/decode", {"payloads": [encoded]})
    assert json.loads(base64.b64decode(body["payloads"][0]["data"])) == {"name": SECRET}


async def test_errors_name_no_key_id_and_no_internals(serve: Callable[..., CodecServer]) -> None:
    srv = serve(namespaces=("tracefreeze", "sandbox"))
    [by_k9] = await EncryptionCodec({"k9": os.urandom(32)}, "k9", namespace="tracefreeze").encode(
        [plain()]
    )
    cases = {
        "unknown_key": {"payloads": [as_json(by_k9)]},
        "not_a_payloads_document": {"payloads": "nope"},
    }
    for code, document in cases.items():
        status, _, body = call(srv.url + "/decode", document)
        assert (status, body) == (400, {"error": code})
    # A payload of one namespace asked for under another does not decrypt.
    status, _, body = call(
        srv.url + "/decode", await sealed("tracefreeze"), headers={"X-Namespace": "sandbox"}
    )
    assert (status, body) == (400, {"error": "not_decryptable"})
    status, _, body = call(srv.url + "/decode", await sealed(), headers={"X-Namespace": "other"})
    assert (status, body) == (403, {"error": "namespace_not_served"})
    status, _, body = call(srv.url + "/other", {"payloads": []})
    assert (status, body) == (404, {"error": "not_found"})
