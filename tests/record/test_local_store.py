"""The local stack's record store (``python -m tracefreeze.stack record-up``, run by ``make
up`` and ``make demo``): a private PostgreSQL in the state dir on its own port, the store's
database migrated, its DSN where the recorder and ``tracefreeze record`` find it; ``down``
stops it, and the tests' own stacks never start it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tracefreeze.record.writer import configured_dsn
from tracefreeze.stack.isolated import new_settings, run_cli
from tracefreeze.stack.ports import free_ports
from tracefreeze.stack.record_store import PORT_ENV, dsn_file


@pytest.fixture
def state_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="tracefreeze-local-store-"))
    folder.chmod(0o711)  # as a repository's .state: the postgres user may traverse it
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_record_up_starts_a_migrated_store_and_down_stops_it(state_dir: Path) -> None:
    settings = new_settings(state_dir)
    assert configured_dsn(settings) is None  # no store until record-up
    own = {PORT_ENV: str(free_ports(1)[0])}
    try:
        up = run_cli("record-up", settings, timeout_s=180, overrides=own)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "database tracefreeze_record migrated" in up.stdout
        dsn = configured_dsn(settings)
        assert dsn is not None and f":{own[PORT_ENV]}/" in dsn
        assert dsn_file(state_dir).stat().st_mode & 0o077 == 0  # the password is in it
        conn = await asyncpg.connect(dsn)
        try:
            tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
        finally:
            await conn.close()
        assert {"entries", "requests", "key_registry_versions"} <= tables
        again = run_cli("record-up", settings, timeout_s=120, overrides=own)
        assert again.returncode == 0 and "record-store" in again.stdout
        status = run_cli("status", settings, timeout_s=30, overrides=own).stdout
        assert "running" in next(x for x in status.splitlines() if x.startswith("record-store"))
    finally:
        down = run_cli("down", settings, timeout_s=120, overrides=own)
    assert "record-store: stopped" in down.stdout, down.stdout + down.stderr
