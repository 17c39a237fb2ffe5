"""The local stack's process and port helpers, without a stack: ``App`` (one child process,
restartable, its log per start), pid files that never point at a stranger, the port checks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from tracefreeze.config import Settings
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.layout import Stack, StackOptions
from tracefreeze.stack.pids import pid_file, running_pid
from tracefreeze.stack.ports import HOST, check_distinct, check_free, free_ports, split_address
from tracefreeze.stack.process import App

CHILD = """
import json, os, signal
print(json.dumps({"event": "up", "mark": os.environ["MARK"]}), flush=True)
signal.pause()
"""
"""Logs one JSON line with the marker of its start, then waits for a signal."""


def local_stack(tmp_path: Path) -> Stack:
    return Stack(Settings(state_dir=tmp_path), StackOptions())


async def logged(app: App, generation: int) -> list[dict[str, object]]:
    async with asyncio.timeout(30):
        while True:
            found = app.events("up", generation)
            if found:
                return found
            assert app.running, app.tail()
            await asyncio.sleep(0.02)


async def test_app_restarts_with_a_log_per_start(tmp_path: Path) -> None:
    app = App(
        "child", [sys.executable, "-c", CHILD], {**os.environ, "MARK": "a"}, tmp_path / "c.log"
    )
    app.start()
    assert await logged(app, 0) == [{"event": "up", "mark": "a"}]
    assert await app.stop() == -signal.SIGTERM
    assert not app.running
    app.env["MARK"] = "b"
    app.start()
    assert await logged(app, 1) == [{"event": "up", "mark": "b"}]
    assert (app.rss_bytes() or 0) > 0
    await app.kill9()
    assert [log.name for log in app.logs] == ["c.log", "c-1.log"]
    assert [e["mark"] for e in app.lines()] == ["a", "b"]


async def test_app_passes_its_health_port(tmp_path: Path) -> None:
    show = "import os; print(os.environ['TRACEFREEZE_HEALTH_PORT'])"
    env = {**os.environ, "TRACEFREEZE_HEALTH_PORT": "1"}
    app = App("port", [sys.executable, "-c", show], env, tmp_path / "p.log", health_port=4321)
    app.start()
    async with asyncio.timeout(30):
        while True:  # until it exited by itself
            if not app.running:
                break
            await asyncio.sleep(0.02)
    assert app.text().strip() == "4321"
    assert await app.stop() == 0


def test_a_pid_file_of_another_state_dir_is_stale(tmp_path: Path) -> None:
    """A pid reused by a process this state dir did not start is never taken for a service."""
    stack = local_stack(tmp_path)
    stack.run_dir.mkdir(parents=True)
    pid_file(stack, "kafka").write_text(f"{os.getpid()}\n")  # alive, but not started from here
    assert running_pid(stack, "kafka") is None
    assert not pid_file(stack, "kafka").exists()


def test_a_port_in_use_is_refused_with_its_variable() -> None:
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(StackError, match=f"port {port} .*in use.*TRACEFREEZE_X"):
            check_free("kafka", "broker", HOST, port, "TRACEFREEZE_X")
    check_free("kafka", "broker", HOST, port, "TRACEFREEZE_X")  # free again once closed


def test_ports_and_addresses_are_checked() -> None:
    first, second = free_ports(2)
    assert first != second
    check_distinct([first, second])
    with pytest.raises(StackError, match="configured twice"):
        check_distinct([first, first])
    assert split_address("127.0.0.1:9092,other:9092") == ("127.0.0.1", 9092)
    for bad in ("9092", "host:", "host:0", "host:70000", "host:x"):
        with pytest.raises(StackError, match="invalid address"):
            split_address(bad)
