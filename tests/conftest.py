"""Suite-wide fixtures: ``stack``, a real isolated Temporal + Kafka stack (see
``tracefreeze/stack/isolated.py``); ``record_postgres``, a private PostgreSQL for the record
store (``tests/record/pg.py``), and ``record_dsn``, a database of one test's own on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

import tests.organ_keys  # noqa: F401  (the session's organ signing keys, by the environment)
from tests.record.pg import Postgres, fresh_database, private_postgres
from tracefreeze.config import Settings
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.isolated import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a Temporal dev server + Kafka broker started for this session on free ports.

    The stack's ``TRACEFREEZE_*`` variables are in ``os.environ`` while it runs, so processes
    started by a test (``tracefreeze bridge``...) see the same addresses.
    """
    try:
        with running_stack(tmp_path_factory.mktemp("stack")) as settings:
            yield settings
    except StackError as exc:
        pytest.fail(f"could not start the test stack:\n{exc}", pytrace=False)


@pytest.fixture(scope="session")
def record_postgres() -> Iterator[Postgres]:
    """PostgreSQL 15+ on a free port with its data dir in a temporary folder, for the session."""
    try:
        with private_postgres() as server:
            yield server
    except StackError as exc:
        pytest.fail(f"could not start PostgreSQL for the record store:\n{exc}", pytrace=False)


@pytest.fixture
async def record_dsn(record_postgres: Postgres) -> AsyncIterator[str]:
    """A record store database of this test alone (dropped after it)."""
    async with fresh_database(record_postgres) as dsn:
        yield dsn
