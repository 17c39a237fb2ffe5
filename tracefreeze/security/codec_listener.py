"""How the codec server listens: what it accepts, and how many connections it holds for how long.

``CodecServerConfig`` is what the server accepts, read from the environment: the ``Host``
names callers may use (``TRACEFREEZE_CODEC_ALLOWED_HOSTS``; on a loopback address it defaults
to that address and ``localhost`` on its port, on any other it is required), the browser
origins (``TRACEFREEZE_CODEC_CORS_ORIGIN``), the namespaces served
(``TRACEFREEZE_CODEC_NAMESPACES``), whether ``/encode`` answers (``TRACEFREEZE_CODEC_ENCODE``).

Resources (``BoundedServer``): at most ``TRACEFREEZE_CODEC_MAX_CONNECTIONS`` (16) connections
are served at once; one more is answered 503 at once from the accepting thread and closed.
Each connection serves one request; a read waits at most ``TRACEFREEZE_CODEC_READ_TIMEOUT_S``
(5 s) and the whole request at most ``TRACEFREEZE_CODEC_REQUEST_TIMEOUT_S`` (15 s), so a
client sending its body a byte at a time holds one slot for that long and no longer. Bodies
over ``TRACEFREEZE_CODEC_MAX_BODY_BYTES`` (8 MiB) are refused before they are read.

What each request is checked for and answered is ``tracefreeze/security/codec_server.py``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from tracefreeze.errors import TracefreezeError
from tracefreeze.security.codec import CodecError, env_flag
from tracefreeze.security.codec_auth import is_loopback

CORS_ORIGIN_ENV = "TRACEFREEZE_CODEC_CORS_ORIGIN"
ALLOWED_HOSTS_ENV = "TRACEFREEZE_CODEC_ALLOWED_HOSTS"
NAMESPACES_ENV = "TRACEFREEZE_CODEC_NAMESPACES"
ENCODE_ENV = "TRACEFREEZE_CODEC_ENCODE"
MAX_CONNECTIONS_ENV = "TRACEFREEZE_CODEC_MAX_CONNECTIONS"
READ_TIMEOUT_ENV = "TRACEFREEZE_CODEC_READ_TIMEOUT_S"
REQUEST_TIMEOUT_ENV = "TRACEFREEZE_CODEC_REQUEST_TIMEOUT_S"
MAX_BODY_ENV = "TRACEFREEZE_CODEC_MAX_BODY_BYTES"
DEFAULT_CORS_ORIGIN = "http://localhost:8233"
MAX_BODY_BYTES = 8 * 1024 * 1024
"""A request body larger than this is refused (413) unless configured otherwise."""
BUSY_REPLY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 17\r\n\r\n"
    b'{"error":"busy"}\n'
)


@dataclass(frozen=True)
class CodecServerConfig:
    """What the server accepts (module docstring); ``from_env`` reads it."""

    cors_origins: tuple[str, ...] = (DEFAULT_CORS_ORIGIN,)
    allowed_hosts: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    encode_enabled: bool = False
    max_connections: int = 16
    read_timeout_s: float = 5.0
    request_timeout_s: float = 15.0
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, cors_origin: str | None = None
    ) -> CodecServerConfig:
        env = os.environ if environ is None else environ

        def listed(name: str, default: str = "") -> tuple[str, ...]:
            return tuple(i.strip() for i in env.get(name, default).split(",") if i.strip())

        def number(name: str, default: float, kind: type = float) -> Any:
            raw = env.get(name, "").strip()
            try:
                value = kind(raw) if raw else default
            except ValueError as err:
                raise TracefreezeError(f"{name} must be a number, not {raw!r}") from err
            if value <= 0:
                raise TracefreezeError(f"{name} must be positive")
            return value

        try:
            encode = env_flag(env, ENCODE_ENV)
        except CodecError as err:
            raise TracefreezeError(str(err)) from err
        origins = cors_origin or env.get(CORS_ORIGIN_ENV) or DEFAULT_CORS_ORIGIN
        return cls(
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            allowed_hosts=listed(ALLOWED_HOSTS_ENV),
            namespaces=listed(NAMESPACES_ENV),
            encode_enabled=encode,
            max_connections=number(MAX_CONNECTIONS_ENV, 16, int),
            read_timeout_s=number(READ_TIMEOUT_ENV, 5.0),
            request_timeout_s=number(REQUEST_TIMEOUT_ENV, 15.0),
            max_body_bytes=number(MAX_BODY_ENV, MAX_BODY_BYTES, int),
        )


class BoundedServer(ThreadingHTTPServer):
    """Threads per connection, at most ``config.max_connections`` of them at once."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        config: CodecServerConfig,
    ) -> None:
        if not config.allowed_hosts and not is_loopback(address[0]):
            raise TracefreezeError(
                f"the codec server listens on {address[0]}: set {ALLOWED_HOSTS_ENV} to the "
                "host names its callers use (e.g. the public codec host and the Service name)"
            )
        self.config = config
        self._slots = threading.BoundedSemaphore(config.max_connections)
        self._count_lock = threading.Lock()
        self.active = 0
        """Connections being served now (for the operator's log and the tests)."""
        self.refused_busy = 0
        super().__init__(address, handler)
        host, port = cast(tuple[str, int], self.server_address[:2])
        self.allowed_hosts = frozenset(
            h.lower() for h in (config.allowed_hosts or (f"{host}:{port}", f"localhost:{port}"))
        )

    @property
    def url(self) -> str:
        host, port = cast(tuple[str, int], self.server_address[:2])
        return f"http://{host}:{port}"

    @property
    def cors_origin(self) -> str:
        return ",".join(self.config.cors_origins)

    def process_request(self, request: Any, client_address: Any) -> None:
        """From the accepting thread: take a slot or answer 503 now, never wait for one."""
        if not self._slots.acquire(blocking=False):
            self.refused_busy += 1
            try:
                request.setblocking(False)
                with contextlib.suppress(OSError):
                    request.recv(65536)  # what already came: closing on unread data resets
                request.sendall(BUSY_REPLY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        with self._count_lock:
            self.active += 1
        request.settimeout(self.config.read_timeout_s)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        watchdog = threading.Timer(self.config.request_timeout_s, _cut, args=(request,))
        watchdog.daemon = True
        watchdog.start()
        try:
            super().process_request_thread(request, client_address)
        finally:
            watchdog.cancel()
            self._release()

    def _release(self) -> None:
        with self._count_lock:
            self.active -= 1
        self._slots.release()


def _cut(sock: socket.socket) -> None:
    """The request's time is up: unblock its reads (they see end of stream)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
