"""The codec server over real HTTP and real sockets: authentication (the UI's bearer token or
a configured token), CORS with the Authorization header, Host and Origin checks, /encode off
by default, errors without key ids, and a connection cap that a slow client cannot exhaust.

The server decrypts confidential request content (RS 87(3), Rule 81); issue 11, section 5.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from temporalio.api.common.v1 import Payload

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

SECRET = "Jan de Vries, villa at Duinweg 12, Wassenaar"
K1, K2 = os.urandom(32), os.urandom(32)
UI = "https://temporal.court.example"
TOKEN = "local-codec-token-" + base64.urlsafe_b64encode(os.urandom(24)).decode()
ISSUER, AUDIENCE = "https://login.court.example", "tracefreeze-codec"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Straight to the local server, whatever proxy the environment names."""


def plain(text: str = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps({"name": text}).encode())


def as_json(payload: Payload) -> dict:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


def codec(namespace: str = "tracefreeze") -> EncryptionCodec:
    return EncryptionCodec({"k1": K1, "k2": K2}, "k2", namespace=namespace)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., CodecServer]]:
    """Start a codec server in this process on a free port; stopped after the test."""
    started: list[CodecServer] = []

    def start(auth: Any = None, **config: Any) -> CodecServer:
        if auth is None:
            tokens = tmp_path / "codec-tokens"
            tokens.write_text(f"# the proxy's token\n{TOKEN}\n", encoding="utf-8")
            auth = TokenAuth(tokens)
        config.setdefault("cors_origins", (UI,))
        config.setdefault("namespaces", ("tracefreeze",))
        srv, _ = start_codec_server(codec(), 0, auth=auth, config=CodecServerConfig(**config))
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def call(
    url: str,
    document: Any = None,
    *,
    method: str = "POST",
    token: str | None = TOKEN,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], dict]:
    hdrs = {"Content-Type": "application/json", "X-Namespace": "tracefreeze"}
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with OPENER.open(request, timeout=30) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else {}
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, dict(err.headers), json.loads(raw) if raw else {}


async def sealed(namespace: str = "tracefreeze") -> dict:
    [payload] = await codec(namespace).encode([plain()])
    return {"payloads": [as_json(payload)]}


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


# --- resources: real sockets --------------------------------------------------------------


def raw_connect(srv: CodecServer) -> socket.socket:
    sock = socket.create_connection(srv.server_address[:2], timeout=30)
    return sock


def slow_post(srv: CodecServer, length: int = 10_000) -> socket.socket:
    """A client that announces a body and sends only its first bytes."""
    sock = raw_connect(srv)
    host, port = srv.server_address[:2]
    sock.sendall(
        (
            f"POST /decode HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
            '{"payloads": ['
        ).encode()
    )
    return sock


def response_of(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def until(what: str, condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


async def test_slow_body_clients_cannot_hold_more_than_the_cap(
    serve: Callable[..., CodecServer],
) -> None:
    """50 slow-body connections once held 50 threads; now at most the cap, the rest are
    answered 503 at once, and the server serves again as soon as the slow ones leave."""
    cap = 4
    srv = serve(max_connections=cap, read_timeout_s=120, request_timeout_s=120)
    slow = [slow_post(srv) for _ in range(cap)]
    until("the slow clients to take every slot", lambda: srv.active == cap)
    others = [raw_connect(srv) for _ in range(46)]
    replies = [response_of(s) for s in others]
    assert all(r.startswith(b"HTTP/1.1 503") and r.endswith(b'{"error":"busy"}\n') for r in replies)
    assert srv.active == cap and srv.refused_busy == 46
    for s in slow + others:
        s.close()
    until("the slots to be released", lambda: srv.active == 0)
    status, _, _ = call(srv.url + "/decode", await sealed())
    assert status == 200


def test_a_request_has_a_deadline_however_slowly_its_body_trickles(
    serve: Callable[..., CodecServer],
) -> None:
    """A byte every 50 ms never trips the per-read timeout; the request deadline cuts it."""
    srv = serve(max_connections=1, read_timeout_s=30, request_timeout_s=0.5)
    sock = slow_post(srv, length=2_000)
    sent = 0
    try:
        while sent < 2_000:
            sock.sendall(b" ")
            sent += 1
            time.sleep(0.05)
    except OSError:
        pass  # the server hung up
    sock.close()
    assert sent < 2_000, "the server kept reading a trickling body for 100 s"
    until("the slot to be released", lambda: srv.active == 0)


def test_an_idle_connection_is_dropped_after_the_read_timeout(
    serve: Callable[..., CodecServer],
) -> None:
    srv = serve(max_connections=1, read_timeout_s=0.2, request_timeout_s=60)
    sock = raw_connect(srv)  # connects, sends nothing
    assert response_of(sock) == b""  # closed by the server, long before our 30 s timeout
    sock.close()
    until("the slot to be released", lambda: srv.active == 0)
