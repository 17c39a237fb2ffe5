"""The local stack's record store (``tracefreeze/record/``): a private PostgreSQL of its own,
data dir ``<state dir>/record/postgres/data``, port ``TRACEFREEZE_RECORD_PG_PORT`` (5439),
started by ``make up`` (``python -m tracefreeze.stack record-up``; the tests' stacks never
start it: they run their own, on free ports) with the cluster's PostgreSQL control
(``tracefreeze/stack/cluster/postgres.py``: ``initdb`` as the ``postgres`` user when run as
root, TCP on 127.0.0.1 only, SCRAM), never the system's service. Its database
``tracefreeze_record`` is migrated, and its DSN written to ``<state dir>/record/dsn`` (0600),
which the recorder, ``tracefreeze record`` and the cooperation report read when
``TRACEFREEZE_RECORD_DSN`` is unset. Where no PostgreSQL server is installed the local stack
runs without a store (one line says so): the store is the Court's, not the demo's, need.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg

from tracefreeze.record.migrate import migrate
from tracefreeze.stack.cluster import postgres
from tracefreeze.stack.cluster.layout import Cluster, ClusterOptions, Ports
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.layout import Stack
from tracefreeze.stack.pids import locked, record, running_pid
from tracefreeze.stack.ports import HOST, check_free, valid_port

NAME = "record-store"
DATABASE = "tracefreeze_record"
PORT_ENV = "TRACEFREEZE_RECORD_PG_PORT"
DEFAULT_PORT = 5439


def dsn_file(state_dir: Path) -> Path:
    return state_dir / "record" / "dsn"


def local_dsn(state_dir: Path) -> str | None:
    """The local store's DSN, if ``make up`` made one in this state dir."""
    try:
        return dsn_file(state_dir).read_text().strip() or None
    except OSError:
        return None


def server(home: Path, port: int) -> Cluster:
    """The cluster's PostgreSQL control reads a ``Cluster``'s folder, logs and port only."""
    only_postgres: dict[str, Any] = {"postgres": port}
    return Cluster(ClusterOptions(dir=home), Ports.model_construct(**only_postgres))


def dsn(view: Cluster, database: str = "postgres") -> str:
    secret = postgres.password(view)
    return f"postgresql://{postgres.USER}:{secret}@{HOST}:{view.ports.postgres}/{database}"


def start(view: Cluster, env: Mapping[str, str], timeout_s: float, *, detached: bool) -> int:
    """``initdb`` once, then the server; its pid once it accepts connections."""
    view.dir.mkdir(parents=True, exist_ok=True)
    view.dir.chmod(0o711)  # the postgres user traverses it to its data dir
    view.log_dir.mkdir(parents=True, exist_ok=True)
    postgres.init(view)
    with (view.log_dir / "postgres.log").open("ab") as log:
        process = subprocess.Popen(
            postgres.command(view), env=dict(env), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=detached,
        )  # fmt: skip
    postgres.wait_ready(view, process.pid, time.monotonic() + timeout_s)
    return process.pid


async def create_store(view: Cluster) -> str:
    """The store's database, made if missing and migrated; its DSN."""
    admin = await asyncpg.connect(dsn(view))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn(view, DATABASE))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return dsn(view, DATABASE)


def up(stack: Stack) -> None:
    """Start the local store if PostgreSQL is installed (``python -m tracefreeze.stack
    record-up``)."""
    try:
        postgres.bin_dir()
    except StackError as err:
        print(f"{NAME}: skipped ({err})")
        return
    port = valid_port(int(os.environ.get(PORT_ENV, DEFAULT_PORT)), PORT_ENV)
    view = server(stack.state_dir / "record", port)
    with locked(stack):
        pid = running_pid(stack, NAME)
        if pid is None:
            check_free(NAME, "PostgreSQL", HOST, port, PORT_ENV)
            pid = start(view, stack.child_env(), stack.options.stack_timeout_s, detached=True)
            record(stack, NAME, pid, f"{HOST}:{port}")
        address = asyncio.run(create_store(view))
        fd = os.open(dsn_file(stack.state_dir), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(address + "\n")
    print(f"{NAME}: PostgreSQL on {HOST}:{port} (pid {pid}), database {DATABASE} migrated")
