"""The record store on a real PostgreSQL, without Kafka: its schema and reader roles, what it
keeps of a State's answer that is not what it claims (RS 93(1)(k): only the requested State
answers, and only as itself), re-verification of a stored original, and its sealed columns
across a rotation of the payload codec's keys (RS 87(3))."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.common.v1 import Payload

from tests.record.support import store_answers
from tracefreeze.record.migrate import migrate, migration_files
from tracefreeze.record.reader import RequestRecord, open_entry
from tracefreeze.record.seal import Sealer
from tracefreeze.record.show import reverify
from tracefreeze.security.codec import CodecError, EncryptionCodec


@pytest.fixture
async def conn(record_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(record_dsn)
    try:
        assert await migrate(connection) == [name for name, _ in migration_files()]
        yield connection
    finally:
        await connection.close()


def codec(*ids: str, active: str) -> EncryptionCodec:
    return EncryptionCodec({i: i.encode().ljust(32, b"k") for i in ids}, active)


async def test_migrations_apply_once_and_each_reader_role_sees_only_its_part(
    conn: asyncpg.Connection,
) -> None:
    assert await migrate(conn) == []  # the recorder's start and the CLI may both run it
    columns = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'report_requests'"
    )
    assert {"reference", "case_number"}.isdisjoint(c["column_name"] for c in columns)
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE tracefreeze_record_report")
        await conn.fetch("SELECT * FROM report_requests")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT * FROM entries")
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE tracefreeze_record_report")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT reference FROM requests")
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE tracefreeze_record_registry")
        await conn.fetch("SELECT * FROM entries, requests, key_registry_versions")


async def test_an_answer_signed_by_another_state_is_kept_marked_and_filed_with_no_request(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    record = await store_answers(conn, tmp_path, Sealer(None), [None, "BEL"])
    assert [e.verdict for e in record.entries] == ["verified", "misaddressed"]
    assert [r.agrees for r in await reverify(conn, record)] == [True, True]
    filed = await conn.fetch("SELECT request_key FROM entries ORDER BY seq")
    assert filed[0]["request_key"] == record.request_key  # NLD's own, with its request
    assert filed[1]["request_key"] is None  # BEL writes nothing into NLD's record


async def test_a_stored_original_altered_in_the_store_no_longer_verifies(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    sealer = Sealer(None)  # a store without codec keys: the bytes are there to alter
    record = await store_answers(conn, tmp_path, sealer, [None])
    forged = record.entries[0].value.replace(b"acknowledgement", b"acknowledgement ")
    await conn.execute("UPDATE entries SET body = $1", sealer.seal(forged))
    rows = await conn.fetch("SELECT * FROM entries ORDER BY seq")
    altered = RequestRecord(record.request_key, {}, [open_entry(r, sealer) for r in rows])
    (result,) = await reverify(conn, altered)
    assert not result.agrees and result.now.verdict in ("bad_signature", "malformed")


async def test_sealed_columns_open_after_a_key_rotation_and_only_in_the_store(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    before = Sealer(codec("k1", active="k1"))
    record = await store_answers(conn, tmp_path, before, [None])
    raw = await conn.fetchval("SELECT body FROM entries")
    assert record.entries[0].value not in raw  # sealed at rest
    rotated = Sealer(codec("k1", "k2", active="k2"))  # k2 new, k1 kept listed
    assert rotated.open(raw) == record.entries[0].value
    assert rotated.open(rotated.seal(b"x")) == b"x"
    with pytest.raises(CodecError):
        Sealer(codec("k2", active="k2")).open(raw)  # k1 dropped too early
    history = codec("k1", active="k1")  # the same key bound to a Temporal namespace
    with pytest.raises(CodecError):
        history.decode_sync([Payload.FromString(raw)])
    with pytest.raises(CodecError):
        Sealer(None).open(raw)  # no keys: a sealed value does not pass as plain
