"""One small HTTP server per process for operations: ``/metrics``, ``/healthz``, ``/readyz``.

Served on ``Settings.health_host``:``Settings.health_port`` (``TRACEFREEZE_HEALTH_HOST``,
127.0.0.1: only this host, the local default; ``0.0.0.0`` in a container, where the kubelet
or compose probes it; ``TRACEFREEZE_HEALTH_PORT``, 8080; 0 = none) from a daemon thread
with the standard library's server, so a blocked event loop cannot hide itself:

- ``/healthz`` (liveness): 200 while every component's event loop has ticked within
  ``STALE_S`` seconds, else 503.
- ``/readyz`` (readiness): 200 while every component reports ready; each one's check is
  false from the moment its drain (SIGTERM) starts. The body names each component's state.
- ``/metrics``: ``prometheus_client``'s default registry followed by the Temporal SDK's own
  exposition (``tracefreeze/ops/metrics.py``).

The worker and bridge each register one component; when both run in one process (tests,
benchmarks) they share the server, which stops when the last one leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tracefreeze.errors import TracefreezeError
from tracefreeze.ops.metrics import sdk_metrics_text

log = structlog.get_logger(__name__)

BEAT_S = 1.0
STALE_S = 15.0


class Component:
    """A worker or bridge as the probes see it."""

    def __init__(self, name: str, ready: Callable[[], bool]) -> None:
        self.name, self._ready = name, ready
        self.beat = time.monotonic()

    def alive(self) -> bool:
        return time.monotonic() - self.beat < STALE_S

    def ready(self) -> bool:
        """The component's own check, which is false from the moment its drain starts."""
        try:
            return bool(self._ready())
        except Exception:
            return False

    async def _heartbeat(self) -> None:
        while True:
            self.beat = time.monotonic()
            await asyncio.sleep(BEAT_S)


class _Handler(BaseHTTPRequestHandler):
    components: dict[str, Component] = {}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            body = generate_latest() + sdk_metrics_text().encode()
            self._send(200, body, CONTENT_TYPE_LATEST)
        elif path in ("/healthz", "/readyz"):
            probe = Component.alive if path == "/healthz" else Component.ready
            states = {name: probe(c) for name, c in list(self.components.items())}
            ok = bool(states) and all(states.values())
            body = json.dumps({"ok": ok, "components": states}).encode()
            self._send(200 if ok else 503, body, "application/json")
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # probes would flood the log
        pass


_server: ThreadingHTTPServer | None = None


def _start(port: int, host: str | None = None) -> ThreadingHTTPServer:
    global _server
    if _server is None:
        if host is None:
            from tracefreeze.config import get_settings

            host = get_settings().health_host
        try:
            _server = ThreadingHTTPServer((host, port), _Handler)
        except OSError as err:
            raise TracefreezeError(f"cannot serve probes on {host}:{port}: {err}") from err
        _server.daemon_threads = True
        threading.Thread(target=_server.serve_forever, name="ops-http", daemon=True).start()
        log.info("serving /metrics, /healthz, /readyz", host=host, port=_server.server_address[1])
    return _server


@contextlib.asynccontextmanager
async def serving(
    port: int, name: str, ready: Callable[[], bool], host: str | None = None
) -> AsyncIterator[Component]:
    """Register ``name`` with the process's server on ``host:port`` (started if need be) for
    the block; port 0 serves nothing. ``host`` defaults to ``Settings.health_host``."""
    global _server
    component = Component(name, ready)
    beating = asyncio.create_task(component._heartbeat())
    if port:
        _start(port, host)
        _Handler.components = {**_Handler.components, name: component}
    try:
        yield component
    finally:
        beating.cancel()
        if port and _Handler.components.get(name) is component:
            _Handler.components = {k: v for k, v in _Handler.components.items() if k != name}
            if not _Handler.components and _server is not None:
                server, _server = _server, None
                await asyncio.to_thread(server.shutdown)
                server.server_close()
