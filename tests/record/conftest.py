"""Fixtures of the record store's tests: a private PostgreSQL for the session (``pg.py``) and
a database of each test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.record.pg import Postgres, fresh_database, private_postgres
from tracefreeze.stack.errors import StackError


@pytest.fixture(scope="session")
def record_postgres() -> Iterator[Postgres]:
    try:
        with private_postgres() as server:
            yield server
    except StackError as exc:
        pytest.fail(f"could not start PostgreSQL for the record store:\n{exc}", pytrace=False)


@pytest.fixture
async def record_dsn(record_postgres: Postgres) -> AsyncIterator[str]:
    async with fresh_database(record_postgres) as dsn:
        yield dsn
