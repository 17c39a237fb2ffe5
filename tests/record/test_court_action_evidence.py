"""A Court action's signed original as the record store checks it (``tracefreeze/record/
decisions.py``), without Kafka or Temporal: the same verification as the request's validator
(``workflows/decision_signatures.py``), so what a request refuses does not verify from the
record either (RS 57(3)(e), 75(4), 77(2)(b), 93(1)(k): who decided is part of the decision).
And on a real PostgreSQL: an original that no longer verifies stays filed with its request,
marked, and re-verifies to the same verdict."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest

from schemas import court as c
from schemas.court import CourtAction, request_address
from schemas.court_record import SignedCourtAction
from schemas.organ_keys import OrganKeys
from schemas.organs import Organ
from tests.builders import ACCOUNT, court_action, new_event_id, now
from tests.organ_keys import KEYS
from tests.workflows.support import forfeiture, reasons
from tracefreeze.record.decisions import NO_POWER, NOT_VERIFIED, UNREADABLE, check_action
from tracefreeze.record.evidence import VERIFIED
from tracefreeze.record.migrate import migrate
from tracefreeze.record.reader import RequestRecord, open_entry
from tracefreeze.record.rows import EntryKind, entry_of
from tracefreeze.record.seal import Sealer
from tracefreeze.record.show import reverify
from tracefreeze.record.write import Writer
from tracefreeze.security.organ_keys import sign_action, signed, signer_for
from workflows.decision_signatures import UNKNOWN_KEY

REFERENCE = "ICC-01/22-SIG-0001"
ADDRESS = request_address(REFERENCE, "NLD")


def addressed(action: CourtAction) -> CourtAction:
    return action.model_copy(update={"addressed_to": ADDRESS})


def original(action: CourtAction, at: datetime | None = None) -> bytes:
    """The action as the request's outbox sends it to the Court-internal topic."""
    return (
        SignedCourtAction(
            id=new_event_id(),
            time=at or now(),
            subject=REFERENCE,
            requested_state="NLD",
            action=action,  # type: ignore[arg-type]
        )
        .model_dump_json()
        .encode()
    )


def test_a_chambers_order_verifies_from_its_original() -> None:
    order = signed(forfeiture(ACCOUNT), ADDRESS)
    found = check_action(original(order), KEYS)
    assert found.verdict == VERIFIED, found.detail
    assert order.signature is not None and found.key_id == order.signature.key_id
    assert found.detail.startswith("forfeiture_order signed for Trial Chamber IX with key")


def test_what_a_request_refuses_does_not_verify_from_the_record_either() -> None:
    order = signed(forfeiture(ACCOUNT), ADDRESS)
    assert order.signature is not None
    key_id = order.signature.key_id
    as_registry = sign_action(addressed(forfeiture(ACCOUNT)), *signer_for(Organ.REGISTRY))
    altered = order.model_copy(update={"order_reference": "ICC-01/22-T-FO-2"})
    rotated_out = OrganKeys(keys=tuple(k for k in KEYS.keys if k.key_id != key_id))
    key = KEYS.get(key_id)
    assert key is not None
    ended = key.model_copy(update={"not_after": order.decided_at - timedelta(days=1)})
    expired = OrganKeys(keys=tuple(ended if k.key_id == key_id else k for k in KEYS.keys))
    cases = [
        (original(forfeiture(ACCOUNT)), KEYS, "is not signed"),
        (original(as_registry), KEYS, "is the registry's, not that of"),
        (original(altered), KEYS, "does not verify"),
        (original(order), rotated_out, UNKNOWN_KEY),
        (original(order), expired, "is not valid"),
    ]
    for value, registry, reason in cases:
        found = check_action(value, registry)
        assert found.verdict == NOT_VERIFIED and reason in found.detail, found.detail
    assert check_action(b'{"action": "forfeiture_order"}', KEYS).verdict == UNREADABLE
    assert check_action(None, KEYS).verdict == UNREADABLE


def test_a_good_signature_without_the_power_to_act_is_not_verified() -> None:
    """RS 76, 77(2)(b): a forfeiture order is the Trial Chamber's. The Registry's own key
    signs its own name well; the record says it had no power, as the request did."""
    by_registry = forfeiture(ACCOUNT).model_copy(update={"decided_by": "Registrar"})
    found = check_action(original(signed(by_registry, ADDRESS)), KEYS)
    assert found.verdict == NO_POWER, found.detail
    assert "the Registry may not take forfeiture_order" in found.detail
    # A release's row is its request's (what holds the assets): the record checks the organ.
    chamber = court_action(c.Release, asset_ids=[ACCOUNT], ground="revocation", **reasons())
    assert check_action(original(signed(chamber, ADDRESS)), KEYS).verdict == VERIFIED


@pytest.fixture
async def conn(record_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(record_dsn)
    try:
        await migrate(connection)
        yield connection
    finally:
        await connection.close()


async def test_an_original_that_does_not_verify_stays_filed_with_its_request_marked(
    conn: asyncpg.Connection,
) -> None:
    """The court-actions topic is the worker's alone (deploy/kafka-security.md): whatever the
    verdict, the original is its request's record; re-verified, the verdict is the same."""
    sealer, id_key = Sealer(None), os.urandom(32)
    writer = Writer(conn, sealer)
    order = signed(forfeiture(ACCOUNT), ADDRESS)
    good, forged = original(order), original(order.model_copy(update={"asset_ids": ("x-2",)}))
    for offset, value in enumerate((good, forged)):
        entry = entry_of(EntryKind.COURT_ACTION, "t.court-actions", 0, offset, value, [], 0, id_key)
        at, found = now(), check_action(value, KEYS)
        assert await writer.write(entry, found, await writer.registry_version(KEYS), at)
        assert not await writer.write(entry)  # met again: nothing twice
    rows = await conn.fetch("SELECT * FROM entries ORDER BY seq")
    assert len({r["request_key"] for r in rows}) == 1 and rows[0]["request_key"] is not None
    assert [r["verdict"] for r in rows] == [VERIFIED, NOT_VERIFIED]
    record = RequestRecord(rows[0]["request_key"], {}, [open_entry(r, sealer) for r in rows])
    again = await reverify(conn, record)
    assert [(r.now.verdict, r.agrees) for r in again] == [(VERIFIED, True), (NOT_VERIFIED, True)]


async def test_nothing_sent_first_under_a_genuine_acts_id_keeps_it_out_of_the_record(
    conn: asyncpg.Connection,
) -> None:
    """A forged original (or one of an organ without the power) under the genuine act's id,
    recorded first, is filed as evidence; the genuine act is recorded beside it, once."""
    writer, id_key = Writer(conn, Sealer(None)), os.urandom(32)
    genuine = SignedCourtAction.model_validate_json(original(signed(forfeiture(ACCOUNT), ADDRESS)))
    by_registry = forfeiture(ACCOUNT).model_copy(update={"decided_by": "Registrar"})
    forged = genuine.model_copy(
        update={"action": genuine.action.model_copy(update={"asset_ids": ("x-2",)})}
    )
    no_power = genuine.model_copy(update={"action": signed(by_registry, ADDRESS)})
    sent = [forged, no_power, genuine, genuine]  # the genuine one twice: a retried publish
    for offset, record in enumerate(sent):
        value = record.model_dump_json().encode()
        entry = entry_of(EntryKind.COURT_ACTION, "t.court-actions", 0, offset, value, [], 0, id_key)
        found = check_action(value, KEYS)
        await writer.write(entry, found, await writer.registry_version(KEYS), now())
    rows = await conn.fetch(
        "SELECT verdict FROM entries WHERE event_id = $1 ORDER BY seq", str(genuine.id)
    )
    assert [r["verdict"] for r in rows] == [NOT_VERIFIED, NO_POWER, VERIFIED]
