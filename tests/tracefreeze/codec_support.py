"""What the codec tests share: a confidential payload, two keys, a codec, and codec servers
started in this process on free ports with a token file, called over real HTTP."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload

from tracefreeze.security.codec import EncryptionCodec
from tracefreeze.security.codec_auth import (
    TokenAuth,
)
from tracefreeze.security.codec_server import (
    CodecServer,
    CodecServerConfig,
    start_codec_server,
)

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


@contextlib.contextmanager
def serving(tmp_path: Path) -> Iterator[Callable[..., CodecServer]]:
    """Start codec servers in this process on free ports; all stopped at the end."""
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
