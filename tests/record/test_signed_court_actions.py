"""Issue 17, "the record keeps the signed original": a Chamber's valid order is accepted by a
request, the record store keeps it as its organ signed it, and its signature re-verifies from
the record after Temporal has forgotten the request; a stored original altered since does not.

On the real stack (Temporal dev server, Kafka broker) and a private PostgreSQL: a worker and a
bridge on topics of this test alone, the recorder writing this test's own database. A
confidential request to NLD (RS 87(3)): acknowledged, the account frozen by signed answers
(RS 93(1)(k)); the Trial Chamber's conviction (RS 74) and its forfeiture order (RS 77(2)(b),
75(4); Rules 147, 218), each signed with the Trial Chamber's key. The action's text reaches
the store over the Court-internal topic only: its event on the request-events topic carries
the audit, never the order.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

import asyncpg
import pytest
from click.testing import CliRunner

from schemas.ledger import AssetStatus
from schemas.views import RequestView
from tests.builders import (
    ACCOUNT,
    acknowledgement,
    court_request,
    freeze_account,
    now,
)
from tests.decisions import conviction
from tests.record.support import delete_workflow, recorder_settings, recording, wait_count
from tests.tracefreeze.e2e import send_signed, wait_view, worker_and_bridge
from tests.workflows.support import ORDER, forfeiture
from tracefreeze.cli.main import main
from tracefreeze.client import send
from tracefreeze.config import Settings, get_settings
from tracefreeze.record.reader import find_records
from tracefreeze.record.seal import Sealer
from tracefreeze.record.show import reverify
from tracefreeze.security.request_ids import KEY_ENV

pytestmark = pytest.mark.stack

COURT_ACTIONS = "SELECT count(*) FROM entries WHERE kind = 'court_action'"


async def cli(*args: str) -> tuple[int, str]:
    get_settings.cache_clear()
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args))
    get_settings.cache_clear()
    return result.exit_code, result.output


def _status(view: RequestView, asset_id: str) -> AssetStatus | None:
    entry = view.ledger.entries.get(asset_id)
    return None if entry is None else entry.status


async def test_a_chambers_order_is_kept_signed_in_the_record_and_reverifies_from_it(
    stack: Settings, record_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("TRACEFREEZE_RECORD_DSN", record_dsn)
    settings = recorder_settings(stack, record_dsn, "signed")
    q = court_request(tag="SIG", confidentiality="confidential")
    async with worker_and_bridge(settings) as r, recording(settings):
        workflow_id = await r.client.submit(q)
        await send_signed(r, acknowledgement(q, sent_at=now()))
        await send_signed(r, freeze_account(q, sent_at=now()))
        frozen = AssetStatus.FROZEN
        await wait_view(r.client, q.reference, lambda v: _status(v, ACCOUNT) is frozen)
        handle = r.client.client.get_workflow_handle(workflow_id)
        judgment, order = conviction(), forfeiture(ACCOUNT)
        await send(handle, judgment)  # the client signs each with the Trial Chamber's key
        await send(handle, order)
        view = await r.client.view(q.reference, "NLD")
        assert _status(view, ACCOUNT) is AssetStatus.FORFEITURE_ORDERED
        await wait_count(record_dsn, COURT_ACTIONS, 2)
        await delete_workflow(r.client.client, workflow_id)  # as retention would

    conn = await asyncpg.connect(record_dsn)
    try:
        (record,) = await find_records(conn, get_settings(), q.reference, "NLD")
        actions = record.of_kind("court_action")
        originals = [json.loads(a.value)["action"] for a in actions]
        assert [o["event_id"] for o in originals] == [judgment.event_id, order.event_id]
        assert originals[1]["order_reference"] == ORDER and originals[1]["signature"]["key_id"]
        assert [a.verdict for a in actions] == ["verified", "verified"]
        assert all(a.key_id and a.key_id.startswith("trial_chamber") for a in actions)
        events = {e.event_id: e for e in record.of_kind("event")}
        assert set(events) >= {a.event_id for a in actions}  # each beside its event, same id
        for a in actions:  # the event on the shared topic: the audit, not the order's text
            audit = json.loads(events[a.event_id].value)["audit"]
            assert audit["key_id"] == a.key_id and ORDER.encode() not in events[a.event_id].value
        raw = await conn.fetch("SELECT body FROM entries WHERE kind = 'court_action'")
        sealer = Sealer.from_settings(settings)
        assert all(ORDER.encode() not in b["body"] for b in raw) or not sealer.encrypting
        found = await reverify(conn, record)
        ours = [x for x in found if x.entry.kind == "court_action"]
        assert [(x.now.verdict, x.agrees) for x in ours] == [("verified", True)] * 2
        assert "forfeiture_order signed for Trial Chamber" in ours[1].now.detail
    finally:
        await conn.close()

    code, shown = await cli("record", q.reference, "--state", "NLD")
    assert code == 0 and "The Court's actions (signed originals kept): 2" in shown, shown
    code, verified = await cli("record", "verify", q.reference)
    assert code == 0 and verified.count("ok: court action ") == 2, verified

    conn = await asyncpg.connect(record_dsn)
    try:  # one word of the stored order changed, sealed again as the store seals
        stored = actions[1]
        body = json.loads(stored.value)
        body["action"]["order_reference"] = "ICC-01/22-T-FO-2"
        forged = sealer.seal(json.dumps(body).encode())
        await conn.execute("UPDATE entries SET body = $1 WHERE seq = $2", forged, stored.seq)
        (altered,) = await find_records(conn, get_settings(), q.reference, "NLD")
        results = {x.entry.seq: x for x in await reverify(conn, altered)}
        assert results[actions[0].seq].agrees  # the judgment untouched: still verified
        bad = results[stored.seq]
        assert not bad.agrees and bad.now.verdict == "not_verified"
        assert "does not verify" in bad.now.detail, bad.now.detail
    finally:
        await conn.close()
    code, verified = await cli("record", "verify", q.reference)
    assert code == 1 and "MISMATCH: court action" in verified and "does not verify" in verified
