"""A private PostgreSQL for the record store's tests: its own data dir in a temporary folder
and a free port, started with the cluster's PostgreSQL control (``tracefreeze/stack/cluster/
postgres.py``: ``initdb`` as the ``postgres`` user when run as root, TCP on 127.0.0.1 only),
never the system's service; stopped and removed after the session."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tracefreeze.stack.cluster import postgres
from tracefreeze.stack.cluster.layout import Cluster, ClusterOptions, Ports
from tracefreeze.stack.ports import HOST

START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Postgres:
    """A running private server: its superuser DSN and where it lives."""

    cluster: Cluster
    pid: int

    def dsn(self, database: str = "postgres") -> str:
        secret = postgres.password(self.cluster)
        port = self.cluster.ports.postgres
        return f"postgresql://{postgres.USER}:{secret}@{HOST}:{port}/{database}"

    @property
    def bin_dir(self) -> Path:
        return postgres.bin_dir()


@contextlib.contextmanager
def private_postgres() -> Iterator[Postgres]:
    folder = Path(tempfile.mkdtemp(prefix="tracefreeze-record-pg-"))
    folder.chmod(0o711)  # the postgres user traverses it to its data dir
    cluster = Cluster(ClusterOptions(dir=folder), Ports.pick())
    cluster.log_dir.mkdir(parents=True)
    process: subprocess.Popen[bytes] | None = None
    try:
        postgres.init(cluster)
        with (cluster.log_dir / "postgres.log").open("wb") as log:
            process = subprocess.Popen(
                postgres.command(cluster), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        postgres.wait_ready(cluster, process.pid, time.monotonic() + START_TIMEOUT_S)
        yield Postgres(cluster, process.pid)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)


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
