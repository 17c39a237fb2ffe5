"""Done when (#16): requests closed, their workflows deleted from Temporal as the namespace
retention would, and still the record store prints each whole, re-verifies each State's signed
answer from its stored original, and the year's report counts them.

On the real stack (Temporal dev server, Kafka broker) and a private PostgreSQL: a worker and a
bridge on topics of this test alone, the recorder writing this test's own database. Four
requests to NLD (public, two confidential, ex parte under Rule 99(2)), each acknowledged and
answered "no assets" by signed answers (RS 93(1)(k)), then closed by the Registry.
"""

from __future__ import annotations

import asyncio
import base64
import os
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner

from tests.builders import acknowledgement, case_number, court_request, no_assets, now
from tests.record.support import (
    assert_same_figures,
    delete_workflow,
    recorder_settings,
    recording,
    records_on_topics,
    visibility_report,
    wait_count,
)
from tests.signed import signed_record
from tests.tracefreeze.e2e import send, wait_view, worker_and_bridge
from tracefreeze.cli.main import main
from tracefreeze.client import close_action
from tracefreeze.config import Settings, get_settings
from tracefreeze.record.evidence import check
from tracefreeze.record.reader import find_records
from tracefreeze.record.seal import Sealer
from tracefreeze.report.from_store import build_report_from_store
from tracefreeze.security.key_registry import KeyRegistry
from tracefreeze.security.request_ids import KEY_ENV

pytestmark = pytest.mark.stack

CLOSED = "int.icc.tracefreeze.request.closed.v1"
CONFIDENTIALITIES = ("public", "confidential", "confidential", "ex_parte")


async def cli(*args: str) -> str:
    get_settings.cache_clear()
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args))
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def originals(folder: Path) -> list[bytes]:
    """The signed originals of an exported bundle, in the order recorded."""
    files = sorted(folder.glob("originals/*.answer.bin"), key=lambda p: int(p.name.split(".")[0]))
    return [p.read_bytes() for p in files]


async def test_closed_requests_deleted_from_temporal_stay_whole_in_the_record(
    stack: Settings, record_dsn: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("TRACEFREEZE_RECORD_DSN", record_dsn)
    settings = recorder_settings(stack, record_dsn, "record")
    case, year = case_number(), datetime.now(UTC).year
    requests = [
        court_request(tag="REC", confidentiality=c, case_number=case) for c in CONFIDENTIALITIES
    ]
    sent: dict[str, list[bytes]] = {r.reference: [] for r in requests}
    async with worker_and_bridge(settings) as r, recording(settings):
        ids = {q.reference: await r.client.submit(q) for q in requests}
        for q in requests:
            for answer in (acknowledgement(q, sent_at=now()), no_assets(q, sent_at=now())):
                value, headers = signed_record(answer, settings.state_dir)
                await send(r, q.reference, value, headers)
                sent[q.reference].append(value)
            await wait_view(r.client, q.reference, lambda v: v.answers_seen == 2)
            await r.client.close(q.reference, "NLD", close_action("executed", "Registry"))
        sql = "SELECT count(*) FROM entries WHERE type = $1"
        await wait_count(record_dsn, sql, len(requests), CLOSED)
        on_topics = await records_on_topics(settings)
        await wait_count(record_dsn, "SELECT count(*) FROM entries", on_topics)
        extra = f'CaseNumber = "{case}" OR WorkflowId = "{ids[requests[3].reference]}"'
        live = await visibility_report(r.client.client, year, extra, len(requests), 2)
        for workflow_id in ids.values():  # as retention would, once closed
            await delete_workflow(r.client.client, workflow_id)

    conn = await asyncpg.connect(record_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM entries") == on_topics  # none doubled
        plain = await conn.fetch("SELECT reference FROM requests WHERE reference IS NOT NULL")
        ex_parte = requests[3].reference
        assert {p["reference"] for p in plain} == {q.reference for q in requests[:3]}
        raw = await conn.fetch("SELECT body, headers FROM entries")  # sealed at rest
        assert all(ex_parte.encode() not in b["body"] + b["headers"] for b in raw)
        assert all(b'"request_reference"' not in b["body"] for b in raw)
        for q in requests:
            (record,) = await find_records(conn, get_settings(), q.reference, "NLD")
            answers = record.of_kind("answer")
            assert [a.value for a in answers] == sent[q.reference]  # the signed originals
            assert {a.verdict for a in answers} == {"verified"}
            rotated = check(answers[0].value, answers[0].headers, KeyRegistry(), now())
            assert rotated.verdict == "unknown_key"  # today's registry no longer has the key
            assert record.row["closed_at"] is not None and record.row["status"] == "closed"
            assert len(record.of_kind("party_message")) >= 2  # the request, the closure
            kinds = {k: len(record.of_kind(k)) for k in ("party_message", "answer", "event")}
            print(f"\nrecord of a {q.confidentiality.value} request: {kinds}")
    finally:
        await conn.close()

    for q in requests:
        shown = await cli("record", q.reference, "--state", "NLD")
        assert "request.closed" in shown and "party.request" in shown
        assert shown.count(": verified (key ") == 3  # two answers, the Registry's close
        verified = await cli("record", "verify", q.reference)
        assert verified.count("ok: answer ") == 2 and "MISMATCH" not in verified
        assert verified.count("ok: court action ") == 1  # the close, as the Registry signed it
        out = await cli("record", "export", q.reference, str(tmp_path / "bundle"))
        folder = Path(out.split("exported: ")[1].strip())
        assert originals(folder) == sent[q.reference]
    assert "(ex parte: reference not held in plain)" in await cli("record", ex_parte)

    report = await build_report_from_store(record_dsn, year, Sealer.from_settings(settings))
    assert report.sent == 3 and report.ex_parte == 1 and report.outstanding == 0
    assert_same_figures(live, report)  # as visibility counted them before the deletion
    (nld,) = report.states
    assert nld.answered == 3 and len(nld.to_acknowledgement.seconds) == 3
    monkeypatch.setenv("TRACEFREEZE_REPORT_MIN_GROUP", "2")  # RS 87(3): two confidential
    out = await cli("report", "--year", str(year), "--out", str(tmp_path / "report"))
    assert f"cooperation report {year}: 3 requests" in out
