"""The codec server: lets the Temporal UI (and ``temporal`` CLI) show encrypted payloads.

The UI, configured with this server's URL as its codec endpoint, posts the payloads it wants
to show to ``POST /decode`` (and, when a user sends a signal or update from the UI, to
``POST /encode``) with the Temporal codec-server JSON protocol::

    {"payloads": [{"metadata": {"encoding": "<base64>", ...}, "data": "<base64>"}]}

and gets the same shape back. The browser calls it cross-origin, so every answer carries the
CORS headers the UI needs, and ``OPTIONS`` answers the preflight:

- ``Access-Control-Allow-Origin``: ``$TRACEFREEZE_CODEC_CORS_ORIGIN``, default
  ``http://localhost:8233`` (the local Temporal UI); a comma-separated list allows several
  origins (the request's ``Origin`` is echoed when listed, else the first is sent);
- ``Access-Control-Allow-Methods: POST, OPTIONS``;
- ``Access-Control-Allow-Headers: Content-Type,X-Namespace``.

Standard library only (``http.server.ThreadingHTTPServer``): no web framework is a
dependency of tracefreeze. It listens on 127.0.0.1 by default: whoever reaches it can read
every request, so expose it only behind the same authentication as the UI.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from tracefreeze.codec import KEYS_ENV, CodecError, EncryptionCodec, codec_from_env
from tracefreeze.errors import TracefreezeError

CORS_ORIGIN_ENV = "TRACEFREEZE_CODEC_CORS_ORIGIN"
DEFAULT_CORS_ORIGIN = "http://localhost:8233"
ALLOW_HEADERS = "Content-Type,X-Namespace"
ALLOW_METHODS = "POST, OPTIONS"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
MAX_BODY_BYTES = 64 * 1024 * 1024
"""A request body larger than this is refused (413)."""

log = logging.getLogger(__name__)


class CodecServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], codec: EncryptionCodec, cors_origin: str):
        self.codec, self.cors_origin = codec, cors_origin
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: CodecServer
    protocol_version = "HTTP/1.1"

    def do_OPTIONS(self) -> None:
        self._reply(HTTPStatus.NO_CONTENT, None)

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path not in ("/encode", "/decode"):
            self._reply(
                HTTPStatus.NOT_FOUND, {"error": f"no endpoint {path}; POST /encode|/decode"}
            )
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._reply(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"})
            return
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return
        body = self.rfile.read(length)
        try:
            payloads = json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError, ValueError) as err:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": f"not a payloads document: {err}"})
            return
        codec = self.server.codec
        try:
            if path == "/encode":
                out = codec.encode_sync(payloads.payloads)
            else:
                out = codec.decode_sync(payloads.payloads)
        except CodecError as err:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": str(err)})
            return
        self._reply(HTTPStatus.OK, json_format.MessageToDict(Payloads(payloads=out)))

    def _reply(self, status: HTTPStatus, document: dict[str, Any] | None) -> None:
        data = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", self._allowed_origin())
        self.send_header("Access-Control-Allow-Methods", ALLOW_METHODS)
        self.send_header("Access-Control-Allow-Headers", ALLOW_HEADERS)
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Vary", "Origin")
        if document is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _allowed_origin(self) -> str:
        allowed = [o.strip() for o in self.server.cors_origin.split(",") if o.strip()]
        origin = self.headers.get("Origin", "")
        return origin if origin in allowed else (allowed[0] if allowed else "")

    def log_message(self, format: str, *args: Any) -> None:
        """Method, path and status only: payloads are never logged."""
        log.info("codec server: " + format, *args)


def make_codec_server(
    codec: EncryptionCodec,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    cors_origin: str | None = None,
) -> CodecServer:
    """A bound, not yet serving, codec server (``port=0``: a free port, see ``.url``)."""
    origin = cors_origin or os.environ.get(CORS_ORIGIN_ENV) or DEFAULT_CORS_ORIGIN
    return CodecServer((host, port), codec, origin)


def start_codec_server(
    codec: EncryptionCodec, port: int = 0, host: str = DEFAULT_HOST
) -> tuple[CodecServer, threading.Thread]:
    """Serve in a daemon thread; stop with ``server.shutdown(); server.server_close()``."""
    server = make_codec_server(codec, port, host)
    thread = threading.Thread(target=server.serve_forever, name="codec-server", daemon=True)
    thread.start()
    return server, thread


def run_codec_server(
    port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, codec: EncryptionCodec | None = None
) -> None:
    """Serve until interrupted, with the codec from the environment unless one is given."""
    codec = codec or codec_from_env()
    if codec is None:
        raise TracefreezeError(
            f"the codec server needs the codec keys: set {KEYS_ENV} (see tracefreeze/codec.py)"
        )
    with make_codec_server(codec, port, host) as server:
        log.info(
            "codec server listening on %s (keys %s, active %s; CORS origin %s)",
            server.url,
            ", ".join(codec.key_ids),
            codec.active_key_id,
            server.cors_origin,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(port: int = DEFAULT_PORT) -> None:
    """Entry point for ``tracefreeze codec-server`` (wired by the CLI)."""
    run_codec_server(port)
