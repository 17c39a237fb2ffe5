"""On the real stack, the answer of issue 11 §1: a validly signed execution report whose
national order lapses on 0001-01-01. Old code: it passed the contract and the validator, then
failed every workflow task of its request (deadline arithmetic out of range), the update timed
out and the bridge retried it for ever. Now the contract refuses it: it is dead-lettered as
invalid, naming the field and the window (RS 126), and the next answers — to the same request
and to another — are applied."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from schemas.deadletter import HEADER_REASON, HEADER_REASON_CODE
from schemas.ledger import AssetStatus
from tests.builders import acknowledgement, court_request, freeze_account, now
from tests.signed import signed_bytes
from tests.tracefreeze.e2e import Running, headers, origin, read_until, send, send_signed, wait_view
from tracefreeze.intake.envelope import answer_headers
from tracefreeze.security.canonical import canonical_bytes

pytestmark = pytest.mark.stack


async def test_the_year_1_national_order_is_dead_lettered_and_nothing_stalls(
    running: Running,
) -> None:
    r, s = running, running.settings
    poisoned, other = court_request(), court_request()
    for request in (poisoned, other):
        await r.client.submit(request)
        await send_signed(r, acknowledgement(request, sent_at=now()))

    report = freeze_account(poisoned).model_copy(update={"sent_at": datetime.now(UTC)})
    doc = json.loads(report.model_dump_json())
    doc["results"][0]["national_order_expires_at"] = "0001-01-01T00:00:00Z"
    value = canonical_bytes(doc)
    envelope = answer_headers(report) + signed_bytes(value, "NLD", s.state_dir)
    poison = await send(r, poisoned.reference, value, envelope)
    for request in (poisoned, other):  # answers produced after the poison
        fresh = freeze_account(request).model_copy(update={"sent_at": datetime.now(UTC)})
        await send_signed(r, fresh)

    for request in (poisoned, other):
        view = await wait_view(
            r.client,
            request.reference,
            lambda v: v.ledger.entries["a-account-1"].status is AssetStatus.FROZEN,
        )
        assert view.answers_seen == 2
        assert view.ledger.entries["a-account-1"].national_order_expires_at is None

    dead = await read_until(
        s, s.topics.dead_letter, lambda rs: (poison.partition, poison.offset) in map(origin, rs)
    )
    [record] = [rec for rec in dead if origin(rec) == (poison.partition, poison.offset)]
    assert headers(record)[HEADER_REASON_CODE] == "invalid"
    reason = headers(record)[HEADER_REASON]
    assert "national_order_expires_at" in reason and "Rome Statute" in reason
    assert record.value == value  # the original bytes, nothing lost
