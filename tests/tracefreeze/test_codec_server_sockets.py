"""The codec server over real sockets: a connection cap that slow clients cannot exhaust, a
deadline per request however slowly its body trickles, and idle connections dropped.

The server decrypts confidential request content (RS 87(3), Rule 81); issue 11, section 5.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from tests.tracefreeze.codec_support import (
    TOKEN,
    call,
    sealed,
)
from tracefreeze.security.codec_server import (
    CodecServer,
)

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
