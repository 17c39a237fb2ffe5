"""The codec server: lets the Temporal UI (and ``temporal`` CLI) show encrypted payloads.

The UI, configured with this server's URL as its codec endpoint, posts the payloads it wants
to show to ``POST /decode`` (and, only where ``/encode`` is enabled, the payloads of a signal
or update a user sends from the UI to ``POST /encode``) with the Temporal codec-server JSON
protocol::

    {"payloads": [{"metadata": {"encoding": "<base64>", ...}, "data": "<base64>"}]}

and gets the same shape back. It decrypts the confidential content of requests (RS 87(3),
Rule 81, ex parte freezes under RS 57(3)(e)), so every call is checked, in this order:

1. ``Host`` must be one of ``TRACEFREEZE_CODEC_ALLOWED_HOSTS`` (comma-separated ``host`` or
   ``host:port``; default, on a loopback address only, that address and ``localhost`` on its
   port; required on any other): a DNS name rebound to this server is refused (421).
2. A browser call's ``Origin`` must be one of ``TRACEFREEZE_CODEC_CORS_ORIGIN`` (default
   ``http://localhost:8233``, the local UI); other origins get 403, and no CORS headers.
3. ``/encode`` answers only with ``TRACEFREEZE_CODEC_ENCODE=true`` (a UI user sending a
   signal or update with a payload); otherwise 403. Reading history needs only ``/decode``.
4. The namespace (``X-Namespace``, default the server's) must be one it serves
   (``TRACEFREEZE_CODEC_NAMESPACES``, default ``TRACEFREEZE_TEMPORAL_NAMESPACE``); payloads
   are bound to it (``tracefreeze/security/codec.py``).
5. Authentication (``tracefreeze/security/codec_auth.py``): the UI's "pass access token" bearer JWT,
   a configured token, or none on a loopback address only (the local stack).

CORS: ``OPTIONS`` answers the browser's preflight without credentials (browsers send none on
a preflight) with ``Access-Control-Allow-Headers: Authorization, Content-Type, X-Namespace``
and ``Access-Control-Allow-Methods: POST, OPTIONS``, so the UI may send ``Authorization``.

Resources (at most ``TRACEFREEZE_CODEC_MAX_CONNECTIONS`` connections at once, read and request
timeouts, the body limit) and the configuration read from the environment:
``tracefreeze/security/codec_listener.py``.

Errors name the failure class only (``unknown_key``, ``not_decryptable``, ``plaintext_refused``,
``malformed``, ``unauthorized``...): no key id, namespace key, stack or parser internals. The
log has the detail, never a payload or a token. ``GET /healthz`` answers 200 to any Host (the
kubelet's probe) and says nothing else.

Standard library only (``http.server``): no web framework is a dependency of tracefreeze.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from tracefreeze.errors import TracefreezeError
from tracefreeze.security.codec import KEYS_ENV, CodecError, EncryptionCodec, codec_from_env
from tracefreeze.security.codec_auth import Authenticator, AuthError, authenticator_from_env
from tracefreeze.security.codec_listener import ENCODE_ENV, BoundedServer, CodecServerConfig

ALLOW_HEADERS = "Authorization, Content-Type, X-Namespace"
ALLOW_METHODS = "POST, OPTIONS"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081

log = logging.getLogger(__name__)


class CodecServer(BoundedServer):
    """The codec server: its codec, who may call it, and the namespaces it serves."""

    def __init__(
        self,
        address: tuple[str, int],
        codec: EncryptionCodec,
        config: CodecServerConfig,
        auth: Authenticator,
    ) -> None:
        self.codec, self.auth = codec, auth
        super().__init__(address, _Handler, config)
        self.namespaces = config.namespaces or (codec.namespace,)


class _Handler(BaseHTTPRequestHandler):
    server: CodecServer
    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()  # one request per connection: the watchdog bounds it

    def do_GET(self) -> None:
        if self._path() == "/healthz":
            self._reply(HTTPStatus.OK, {"ok": True})
        else:
            self._reply(HTTPStatus.NOT_FOUND, {"error": "not_found"})

    def do_OPTIONS(self) -> None:
        if not self._host_allowed():
            return
        origin = self.headers.get("Origin")
        if origin is None or origin not in self.server.config.cors_origins:
            self._refuse(HTTPStatus.FORBIDDEN, "origin_not_allowed", f"preflight from {origin}")
            return
        self._reply(HTTPStatus.NO_CONTENT, None)

    def do_POST(self) -> None:
        if not self._host_allowed():
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.config.cors_origins:
            self._refuse(HTTPStatus.FORBIDDEN, "origin_not_allowed", f"origin {origin}")
            return
        path = self._path()
        if path not in ("/encode", "/decode"):
            self._reply(HTTPStatus.NOT_FOUND, {"error": "not_found"})
            return
        if path == "/encode" and not self.server.config.encode_enabled:
            self._refuse(HTTPStatus.FORBIDDEN, "encode_disabled", f"{ENCODE_ENV} is not set")
            return
        namespace = self.headers.get("X-Namespace") or self.server.namespaces[0]
        if namespace not in self.server.namespaces:
            self._refuse(HTTPStatus.FORBIDDEN, "namespace_not_served", f"ns {namespace[:80]!r}")
            return
        action = "write" if path == "/encode" else "read"
        try:
            caller = self.server.auth.check(self.headers.get("Authorization"), namespace, action)
        except AuthError as err:
            code = "unauthorized" if err.status == 401 else "forbidden"
            self._refuse(HTTPStatus(err.status), code, err.reason)
            return
        body = self._body()
        if body is None:
            return
        try:
            payloads = json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError, ValueError, RecursionError):
            self._reply(HTTPStatus.BAD_REQUEST, {"error": "not_a_payloads_document"})
            return
        codec = self.server.codec.for_namespace(namespace)
        try:
            if path == "/encode":
                out = codec.encode_sync(payloads.payloads)
            else:
                out = codec.decode_sync(payloads.payloads)
        except CodecError as err:
            log.warning("codec server: %s refused for %s: %s", path, caller.subject, err)
            self._reply(HTTPStatus.BAD_REQUEST, {"error": err.code})
            return
        log.info(
            "codec server: %s of %d payloads in %s for %s",
            path,
            len(out),
            namespace,
            caller.subject,
        )
        self._reply(HTTPStatus.OK, json_format.MessageToDict(Payloads(payloads=out)))

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._reply(HTTPStatus.LENGTH_REQUIRED, {"error": "length_required"})
            return None
        if length < 0 or length > self.server.config.max_body_bytes:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body_too_large"})
            return None
        try:
            body = self.rfile.read(length)
        except (TimeoutError, OSError):
            body = b""
        if len(body) != length:
            log.info("codec server: body not received in time from %s", self.client_address[0])
            self._reply(HTTPStatus.REQUEST_TIMEOUT, {"error": "request_timeout"})
            return None
        return body

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _host_allowed(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        allowed = self.server.allowed_hosts
        if host in allowed or host.rsplit(":", 1)[0] in allowed:
            return True
        self._refuse(HTTPStatus.MISDIRECTED_REQUEST, "host_not_allowed", f"Host {host[:80]!r}")
        return False

    def _refuse(self, status: HTTPStatus, code: str, reason: str) -> None:
        log.warning(
            "codec server: %s %s refused (%s): %s",
            self.command,
            self._path(),
            code,
            reason,
        )
        self._reply(status, {"error": code})

    def _reply(self, status: HTTPStatus, document: dict[str, Any] | None) -> None:
        data = b"" if document is None else json.dumps(document).encode()
        try:
            self.send_response(status)
            origin = self.headers.get("Origin") if self.headers else None
            if origin is not None and origin in self.server.config.cors_origins:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Methods", ALLOW_METHODS)
                self.send_header("Access-Control-Allow-Headers", ALLOW_HEADERS)
                self.send_header("Access-Control-Max-Age", "600")
            self.send_header("Vary", "Origin")
            if status == HTTPStatus.UNAUTHORIZED:
                self.send_header("WWW-Authenticate", 'Bearer realm="tracefreeze-codec"')
            if document is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if data:
                self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Method, path and status only: payloads and tokens are never logged."""
        log.info("codec server: " + format, *args)


def make_codec_server(
    codec: EncryptionCodec,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    cors_origin: str | None = None,
    *,
    auth: Authenticator | None = None,
    config: CodecServerConfig | None = None,
) -> CodecServer:
    """A bound, not yet serving, codec server (``port=0``: a free port, see ``.url``).

    ``auth`` defaults to ``TRACEFREEZE_CODEC_AUTH`` (``codec_auth.authenticator_from_env``),
    ``config`` to the environment (``CodecServerConfig.from_env``)."""
    config = config or CodecServerConfig.from_env(cors_origin=cors_origin)
    auth = auth or authenticator_from_env(host, on_error=log.error)
    return CodecServer((host, port), codec, config, auth)


def start_codec_server(
    codec: EncryptionCodec,
    port: int = 0,
    host: str = DEFAULT_HOST,
    *,
    auth: Authenticator | None = None,
    config: CodecServerConfig | None = None,
) -> tuple[CodecServer, threading.Thread]:
    """Serve in a daemon thread; stop with ``server.shutdown(); server.server_close()``."""
    server = make_codec_server(codec, port, host, auth=auth, config=config)
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
            f"the codec server needs the codec keys: set {KEYS_ENV} "
            "(see tracefreeze/security/codec.py)"
        )
    with make_codec_server(codec, port, host) as server:
        log.info(
            "codec server listening on %s (auth %s; namespaces %s; hosts %s; CORS origin %s; "
            "/encode %s; at most %d connections)",
            server.url,
            server.auth.mode,
            ", ".join(server.namespaces),
            ", ".join(sorted(server.allowed_hosts)),
            server.cors_origin,
            "enabled" if server.config.encode_enabled else "disabled",
            server.config.max_connections,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(port: int = DEFAULT_PORT) -> None:
    """Entry point for ``tracefreeze codec-server`` (wired by the CLI)."""
    run_codec_server(port)
