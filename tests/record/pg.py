"""A private PostgreSQL for the record store's tests: its own data dir in a temporary folder
and a free port, started as the local stack starts the store (``tracefreeze/stack/
record_store.py``, on the cluster's PostgreSQL control), never the system's service; stopped
and removed after the session."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tracefreeze.stack import record_store
from tracefreeze.stack.cluster import postgres
from tracefreeze.stack.cluster.layout import Cluster
from tracefreeze.stack.pids import alive
from tracefreeze.stack.ports import free_ports

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Postgres:
    """A running private server: its superuser DSN and where it lives."""

    view: Cluster
    pid: int

    def dsn(self, database: str = "postgres") -> str:
        return record_store.dsn(self.view, database)

    @property
    def bin_dir(self) -> Path:
        return postgres.bin_dir()


@contextlib.contextmanager
def private_postgres() -> Iterator[Postgres]:
    folder = Path(tempfile.mkdtemp(prefix="tracefreeze-record-pg-"))
    view = record_store.server(folder, free_ports(1)[0])
    pid = 0
    try:
        pid = record_store.start(view, os.environ, START_TIMEOUT_S, detached=True)
        yield Postgres(view, pid)
    finally:
        if pid and alive(pid):
            os.kill(pid, signal.SIGINT)  # fast shutdown
            _reap(pid)
        shutil.rmtree(folder, ignore_errors=True)


def _reap(pid: int) -> None:
    """Wait for our child to exit (SIGKILL after the stop timeout)."""
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped already
            return
        if done == pid:
            return
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(0.1)


@contextlib.asynccontextmanager
async def fresh_database(server: Postgres) -> AsyncIterator[str]:
    """A database of one test alone (its DSN), dropped after it."""
    name = f"record_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server.dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield server.dsn(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
