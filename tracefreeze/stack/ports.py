"""Ports of the local stack: the one place that picks free ports and checks configured ones.

``free_ports`` is how the tests, the fault drills and the benchmark give their stack (and
each worker or bridge they start) ports of its own, so that a developer's stack on the
configured ports never collides with them. ``check_free`` is how ``python -m
tracefreeze.stack up`` refuses to start a service on a port another process holds.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess

from tracefreeze.stack.errors import StackError

HOST = "127.0.0.1"


def free_ports(count: int, host: str = HOST) -> list[int]:
    """Distinct ports that were free a moment ago (all held open together while picked)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` -> (host, port); the first of a comma-separated list (one local broker)."""
    first = address.split(",", 1)[0]
    host, _, port = first.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StackError(f"invalid address in configuration: {address!r} (want host:port)")
    return host, int(port)


def valid_port(port: int, variable: str) -> int:
    if not 0 < port < 65536:
        raise StackError(f"invalid port in configuration: {variable}={port}")
    return port


def taken(host: str, port: int) -> bool:
    """Something listens on host:port already (it cannot be bound as the servers bind it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def owner(port: int) -> str:
    """Best effort: `` (pid N: name)`` of the process listening on ``port``, from ``ss``."""
    if shutil.which("ss") is None:
        return ""
    done = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
    )
    found = re.search(r'\(\("([^"]+)",pid=(\d+)', done.stdout)
    return f" (pid {found[2]}: {found[1]})" if found else ""


def check_free(service: str, what: str, host: str, port: int, variable: str) -> None:
    """Refuse a port another process listens on, naming it and the variable that moves it."""
    if taken(host, port):
        raise StackError(
            f"port {port} ({service} {what}) on {host} is already in use by another "
            f"process{owner(port)}; free it or set {variable}"
        )


def check_distinct(ports: list[int]) -> None:
    if len(set(ports)) != len(ports):
        raise StackError(
            f"a port is configured twice among {ports} (Temporal and Kafka ports must differ)"
        )


def listening(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """A TCP connection to host:port is accepted."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
