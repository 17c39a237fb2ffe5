"""The PostgreSQL sink (tracefreeze/downstream/projector.py) on the real broker and a real
PostgreSQL (the record store's private server, a database of each test's own): the worker's
own events projected into the read model exactly; the same events delivered again to a second
consumer group change nothing; an older event arriving after a newer one never overwrites it;
an unreadable record is kept with its reason and the rest goes on; a transaction that fails
leaves its event to the next run, and nothing is lost or applied twice.

The ledger follows the State's execution of the Court's request (RS 93(1)(k), 57(3)(e)); the
escalations follow the Court's ladder for a State that does not answer (RS 87(7)).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord
from click.testing import CliRunner

from schemas.assets import AssetKind
from schemas.common import Money
from schemas.court import Withdrawal
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import AssetEventData, RequestEvent, RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.builders import (
    case_number,
    court_request,
)
from tests.tracefreeze.downstream_support import both_assets_frozen, producer, publish, topics_of
from tests.tracefreeze.e2e import WAIT_S, Running, read_until, worker_on_demo_policy
from tracefreeze.client import close_action
from tracefreeze.config import Settings, get_settings
from tracefreeze.downstream import read_model
from tracefreeze.downstream.envelope import escalation_type
from tracefreeze.downstream.projector import Projector, main, project

pytestmark = pytest.mark.stack

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TABLES = ("applied_events", "requests", "asset_changes", "assets", "escalation_events")
VIEWS = ("escalations", "open_escalations_by_level", "unreadable")


async def snapshot(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the read model, in a stable order (``applied_at``/``seen_at`` left out:
    when a row was written is not what it says)."""
    conn = await asyncpg.connect(dsn)
    try:
        out = {}
        for name in TABLES + VIEWS:
            rows = await conn.fetch(f"SELECT * FROM tracefreeze_read.{name}")
            kept = [
                tuple(v for k, v in r.items() if k not in ("applied_at", "seen_at")) for r in rows
            ]
            out[name] = sorted(kept, key=repr)
        return out
    finally:
        await conn.close()


async def rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r.values()) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def caught_up(s: Settings, dsn: str, group: str) -> tuple[int, int, int]:
    """(handled, duplicates, unreadable) of one run of the projector to the end."""
    async with asyncio.timeout(WAIT_S):
        tally = await project(s, dsn, group, until_caught_up=True)
    return tally.handled, tally.duplicates, tally.unreadable


def of_type(kind: RequestEventType, n: int) -> Callable[[list[ConsumerRecord]], bool]:
    """Done when ``n`` records of ``kind`` were read."""

    def done(seen: list[ConsumerRecord]) -> bool:
        return sum(json.loads(r.value).get("type") == kind.value for r in seen) >= n

    return done


async def test_the_workers_events_are_projected_and_a_second_delivery_changes_nothing(
    running: Running, record_dsn: str
) -> None:
    r, s = running, running.settings
    request, frozen = await both_assets_frozen(r, "SINK")
    published = await read_until(
        s, s.topics.request_events, of_type(RequestEventType.ASSET_FROZEN, 2)
    )
    events = [json.loads(x.value) for x in published]

    handled, duplicates, unreadable = await caught_up(s, record_dsn, "sink-a")

    assert (handled, duplicates, unreadable) == (len(events), 0, 0)
    ref, party = request.reference, request.requested_state
    assert await rows(
        record_dsn,
        "SELECT request_reference, party, asset_id, status, currency, amount, event_id::text "
        "FROM tracefreeze_read.assets ORDER BY asset_id",
    ) == [
        (ref, party, asset_id, "frozen", "EUR", frozen[asset_id], e["id"])
        for e in events
        if e["type"] == RequestEventType.ASSET_FROZEN.value
        for asset_id in [e["asset"]["asset_id"]]
    ]
    last = events[-1]
    assert await rows(
        record_dsn,
        "SELECT request_reference, party, status, confidentiality, event_id::text, "
        "transmitted_at IS NOT NULL, closed_at FROM tracefreeze_read.requests",
    ) == [(ref, party, last["status"], request.confidentiality.value, last["id"], True, None)]
    assert sorted(
        await rows(record_dsn, "SELECT event_id::text FROM tracefreeze_read.applied_events")
    ) == sorted((e["id"],) for e in events)
    assert await rows(record_dsn, "SELECT count(*) FROM tracefreeze_read.asset_changes") == [(2,)]
    before = await snapshot(record_dsn)

    # Redelivery: a second group reads everything again; the same group has nothing left.
    assert await caught_up(s, record_dsn, "sink-b") == (0, len(events), 0)
    assert await caught_up(s, record_dsn, "sink-a") == (0, 0, 0)
    assert await snapshot(record_dsn) == before


def envelope(ref: str, minutes: int, party: str) -> dict[str, Any]:
    """What every event these tests make shares: a new id, a time ``minutes`` after ``T0``,
    the request and its party."""
    return {
        "id": str(uuid.uuid4()),
        "time": T0 + timedelta(minutes=minutes),
        "subject": ref,
        "case_number": "ICC-01/14",
        "requested_state": party,
    }


def asset_event(
    ref: str, kind: RequestEventType, status: AssetStatus, minutes: int, amount: str, party: str
) -> RequestEvent:
    asset = AssetEventData(
        asset_id="a-account-1",
        kind=AssetKind.BANK_ACCOUNT,
        status=status,
        value=Money(amount=Decimal(amount), currency="EUR"),
    )
    return request_event(ref, kind, RequestStatus.IN_EXECUTION, minutes, party, asset)


def request_event(
    ref: str,
    kind: RequestEventType,
    status: RequestStatus,
    minutes: int,
    party: str,
    asset: AssetEventData | None = None,
) -> RequestEvent:
    return RequestEvent(type=kind, status=status, asset=asset, **envelope(ref, minutes, party))


def ladder(ref: str, kind: EscalationKind, level: int, minutes: int, party: str) -> EscalationEvent:
    return EscalationEvent(
        type=escalation_type(kind),
        **envelope(ref, minutes, party),
        kind=kind,
        level=level,
        step=f"step-{level}" if kind is EscalationKind.STEP_REACHED else None,
    )


async def test_an_older_event_never_overwrites_a_newer_and_a_poison_record_does_not_block(
    stack: Settings, record_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await topics_of(stack)
    nld, bel = "ICC-01/14-SINK-0001", "ICC-01/14-SINK-0002"
    R, A = RequestEventType, AssetStatus
    transmitted = request_event(nld, R.TRANSMITTED, RequestStatus.TRANSMITTED, 0, "NLD")
    frozen = asset_event(nld, R.ASSET_FROZEN, A.FROZEN, 2, "1000.00", "NLD")
    seized = asset_event(nld, R.ASSET_SEIZED, A.SEIZED, 3, "1200.00", "NLD")
    # An older event arriving last (a mirror or a re-published record would bring it): the
    # asset as it stood at minute 1, and the request as it stood when transmitted.
    stale_asset = asset_event(nld, R.ASSET_FROZEN, A.FROZEN, 1, "900.00", "NLD")
    stale_request = request_event(nld, R.ANSWER_ACCEPTED, RequestStatus.ACKNOWLEDGED, 1, "NLD")
    bel_sent = request_event(bel, R.TRANSMITTED, RequestStatus.TRANSMITTED, 0, "BEL")
    bel_closed = request_event(bel, R.CLOSED, RequestStatus.CLOSED, 30, "BEL")
    K = EscalationKind
    # The de-escalation of minute 20 arrives before the steps it steps down from.
    down = ladder(nld, K.DEESCALATED, 0, 20, "NLD")
    step1, step2 = (
        ladder(nld, K.STEP_REACHED, 1, 5, "NLD"),
        ladder(nld, K.STEP_REACHED, 2, 10, "NLD"),
    )
    step3 = ladder(nld, K.STEP_REACHED, 3, 25, "NLD")
    bel_step = ladder(bel, K.STEP_REACHED, 2, 10, "BEL")
    fra = "ICC-01/14-SINK-0004"  # at level 2: counted there, not again at level 1
    fra1, fra2 = ladder(fra, K.STEP_REACHED, 1, 6, "FRA"), ladder(fra, K.STEP_REACHED, 2, 8, "FRA")
    topic = s.topics.request_events
    async with producer(s) as p:
        for e in (transmitted, frozen):
            await publish(p, topic, e)
        await p.send_and_wait(topic, value=b"{not json", key=nld.encode())
        for e in (seized, stale_asset, stale_request, bel_sent, bel_closed):
            await publish(p, topic, e)
        for x in (down, step1, step2, step3, bel_step, fra2, fra1):
            await publish(p, s.topics.escalations, x)

    assert await caught_up(s, record_dsn, "sink-c") == (14, 0, 1)

    assert await rows(
        record_dsn,
        "SELECT request_reference, asset_id, status, amount, changed_at, event_id::text "
        "FROM tracefreeze_read.assets",
    ) == [(nld, "a-account-1", "seized", Decimal("1200.00"), seized.time, seized.id)]
    assert await rows(
        record_dsn,
        "SELECT status, amount, changed_at FROM tracefreeze_read.asset_changes ORDER BY changed_at",
    ) == [
        ("frozen", Decimal("900.00"), stale_asset.time),
        ("frozen", Decimal("1000.00"), frozen.time),
        ("seized", Decimal("1200.00"), seized.time),
    ]
    assert await rows(
        record_dsn,
        "SELECT request_reference, party, status, transmitted_at, closed_at, event_id::text "
        "FROM tracefreeze_read.requests ORDER BY request_reference",
    ) == [
        (nld, "NLD", "in_execution", transmitted.time, None, seized.id),
        (bel, "BEL", "closed", bel_sent.time, bel_closed.time, bel_closed.id),
    ]
    assert await rows(
        record_dsn,
        "SELECT request_reference, party, level, opened_at, resolved_at "
        "FROM tracefreeze_read.escalations ORDER BY request_reference, level",
    ) == [
        (nld, "NLD", 1, step1.time, down.time),
        (nld, "NLD", 2, step2.time, down.time),
        (nld, "NLD", 3, step3.time, None),
        (bel, "BEL", 2, bel_step.time, bel_closed.time),
        (fra, "FRA", 1, fra1.time, None),
        (fra, "FRA", 2, fra2.time, None),
    ]
    assert await rows(
        record_dsn, "SELECT * FROM tracefreeze_read.open_escalations_by_level ORDER BY level"
    ) == [(2, 1, 1, fra2.time), (3, 1, 1, step3.time)]
    # Where the kit sends what it cannot read: kept with its position and reason.
    [(where, offset, key, reason)] = await rows(
        record_dsn, "SELECT topic, kafka_offset, kafka_key, reason FROM tracefreeze_read.unreadable"
    )
    assert (where, offset, key) == (topic, 2, nld)  # after the request's first two events
    assert reason.startswith("value is not JSON")

    # A replay from the beginning (a new group, through the command) changes nothing.
    before = await snapshot(record_dsn)
    monkeypatch.setenv("TRACEFREEZE_TOPICS__REQUEST_EVENTS", s.topics.request_events)
    monkeypatch.setenv("TRACEFREEZE_TOPICS__ESCALATIONS", s.topics.escalations)
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(
            CliRunner().invoke,
            main,
            ["--dsn", record_dsn, "--from-beginning", "--until-caught-up", "--show"],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "0 event(s) applied, 14 duplicate(s), 1 unreadable" in result.output
    # --show: the README's query (value by party, currency and status) and the open levels.
    assert re.search(r"^NLD\s+EUR\s+seized\s+1\s+1200\.00\s*$", result.output, re.M)
    assert re.search(r"^3\s+1\s+1\s+2026-11-30 09:25 UTC\s*$", result.output, re.M)
    assert await snapshot(record_dsn) == before


async def test_a_failed_transaction_leaves_its_event_to_the_next_run(
    stack: Settings, record_dsn: str
) -> None:
    """PostgreSQL refuses the third event's transaction: the run stops (the kit never skips),
    the two before are applied and committed, nothing of the third is kept, and the next run
    applies the third and the rest once."""
    s = await topics_of(stack)
    ref = "ICC-01/14-SINK-0003"
    R, A = RequestEventType, AssetStatus
    events = [
        request_event(ref, R.TRANSMITTED, RequestStatus.TRANSMITTED, 0, "NLD"),
        request_event(ref, R.ANSWER_ACCEPTED, RequestStatus.ACKNOWLEDGED, 1, "NLD"),
        asset_event(ref, R.ASSET_FROZEN, A.FROZEN, 2, "10.00", "NLD"),
        asset_event(ref, R.ASSET_SEIZED, A.SEIZED, 3, "10.00", "NLD"),
    ]
    async with producer(s) as p:
        for e in events:
            await publish(p, s.topics.request_events, e)
    conn = await asyncpg.connect(record_dsn)
    try:
        await read_model.migrate(conn)
        # The asset table refuses writes for now (as a full disk or a lost primary would).
        await conn.execute(
            "ALTER TABLE tracefreeze_read.assets ADD CONSTRAINT refuse CHECK (false) NOT VALID"
        )
        projector = Projector(s, conn, "sink-d")
        with pytest.raises(asyncpg.CheckViolationError):
            async with asyncio.timeout(WAIT_S):
                await projector.run()
        assert projector.applied == 2
        assert sorted(
            await rows(record_dsn, "SELECT event_id::text FROM tracefreeze_read.applied_events")
        ) == sorted([(events[0].id,), (events[1].id,)])
        assert await rows(record_dsn, "SELECT count(*) FROM tracefreeze_read.asset_changes") == [
            (0,)
        ]
        await conn.execute("ALTER TABLE tracefreeze_read.assets DROP CONSTRAINT refuse")
    finally:
        await conn.close()

    assert await caught_up(s, record_dsn, "sink-d") == (2, 0, 0)
    assert await rows(record_dsn, "SELECT status, event_id::text FROM tracefreeze_read.assets") == [
        ("seized", events[3].id)
    ]
    assert sorted(
        await rows(record_dsn, "SELECT event_id::text FROM tracefreeze_read.applied_events")
    ) == sorted((e.id,) for e in events)


def kind_seen(kind: str) -> Callable[[list[ConsumerRecord]], bool]:
    """Done when a record whose ``kind`` (escalations) or ``type`` (request events) is
    ``kind`` was read."""

    def done(seen: list[ConsumerRecord]) -> bool:
        return any(
            kind in (json.loads(r.value).get("kind"), json.loads(r.value)["type"]) for r in seen
        )

    return done


async def test_the_workers_escalation_ladder_is_projected_and_a_withdrawal_resolves_it(
    stack: Settings, record_dsn: str
) -> None:
    """A request to NLD nobody answers, under the demo policy in seconds: the worker climbs
    the ladder (reminder, Registry follow-up: RS 87(7)) and proposes the Chamber report; the
    read model shows the request standing at level 2. The Chamber withdraws the request (the
    ladder steps down to level 0) and the Registry closes it: its steps are resolved at the
    step down, and nothing stands open."""
    async with worker_on_demo_policy(stack, "sink-esc") as r:
        s = r.settings
        request = court_request(tag="SINKESC", case_number=case_number())
        await r.client.submit(request)
        ladder_records = await read_until(s, s.topics.escalations, kind_seen("step_proposed"))
        steps = [
            e
            for e in (EscalationEvent.model_validate_json(x.value) for x in ladder_records)
            if e.kind is EscalationKind.STEP_REACHED
        ]
        assert [(e.step, e.level) for e in steps] == [("reminder", 1), ("registry_follow_up", 2)]

        handled, _, unreadable = await caught_up(s, record_dsn, "sink-e")
        assert handled >= len(ladder_records) + 1 and unreadable == 0  # + the transmission
        ref = request.reference
        expected = [(ref, "NLD", e.level, e.step, e.time) for e in steps]
        sql = (
            "SELECT request_reference, party, level, step, opened_at{} "
            "FROM tracefreeze_read.escalations ORDER BY opened_at"
        )
        assert await rows(record_dsn, sql.format(", resolved_at")) == [
            (*row, None) for row in expected
        ]
        assert await rows(
            record_dsn, "SELECT * FROM tracefreeze_read.open_escalations_by_level"
        ) == [(2, 1, 1, steps[1].time)]

        withdrawal = Withdrawal(
            event_id=str(uuid.uuid4()),
            decided_by="Pre-Trial Chamber II",
            decided_at=datetime.now(UTC),
            reasons="The Prosecutor no longer seeks the assets.",
        )
        await r.client.act(ref, withdrawal)
        await r.client.close(ref, "NLD", close_action("withdrawn", "Registry"))
        [closed] = [
            json.loads(x.value)
            for x in await read_until(
                s, s.topics.request_events, kind_seen(RequestEventType.CLOSED.value)
            )
            if json.loads(x.value)["type"] == RequestEventType.CLOSED.value
        ]
        # The withdrawal steps the ladder down to level 0 (its clocks stop), before the close.
        [down] = [
            e
            for e in (
                EscalationEvent.model_validate_json(x.value)
                for x in await read_until(s, s.topics.escalations, kind_seen("deescalated"))
            )
            if e.kind is EscalationKind.DEESCALATED
        ]
        assert down.level == 0
        await caught_up(s, record_dsn, "sink-e")
        assert await rows(record_dsn, sql.format(", resolved_at")) == [
            (*row, down.time) for row in expected
        ]
        assert (
            await rows(record_dsn, "SELECT * FROM tracefreeze_read.open_escalations_by_level") == []
        )
        assert await rows(
            record_dsn, "SELECT status, closed_at FROM tracefreeze_read.requests"
        ) == [("closed", datetime.fromisoformat(closed["time"]))]
