"""The downstream consumer kit on the real broker (tracefreeze/downstream, docs/downstream.md):
events parsed by type, duplicates handled once, each request's order kept across partitions,
unreadable records reported while the loop goes on, and a restart after a crash before the
commit handing over only what was not handled."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner

from activities.publish import EventPublisher
from schemas.assets import AssetKind
from schemas.common import Money
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import AssetEventData, RequestEvent, RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tests.tracefreeze.downstream_support import both_assets_frozen, producer, publish, topics_of
from tests.tracefreeze.e2e import WAIT_S, Running
from tracefreeze.config import Settings, get_settings
from tracefreeze.downstream import CourtEventsConsumer, InMemorySeen, Received, Unreadable
from tracefreeze.downstream.__main__ import main as example
from tracefreeze.downstream.assets import AssetTable
from tracefreeze.downstream.envelope import escalation_type

pytestmark = pytest.mark.stack

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STEPS = (
    (RequestEventType.TRANSMITTED, RequestStatus.TRANSMITTED, None),
    (RequestEventType.ANSWER_ACCEPTED, RequestStatus.ACKNOWLEDGED, None),
    (RequestEventType.ASSET_FROZEN, RequestStatus.IN_EXECUTION, AssetStatus.FROZEN),
    (RequestEventType.ASSET_SEIZED, RequestStatus.IN_EXECUTION, AssetStatus.SEIZED),
)


def lifecycle(reference: str, amount: str = "1000.00") -> list[RequestEvent]:
    """A request's events in the order its workflow makes them."""
    events = []
    for i, (kind, status, asset_status) in enumerate(STEPS):
        asset = None
        if asset_status is not None:
            value = Money(amount=Decimal(amount), currency="EUR")
            asset = AssetEventData(
                asset_id="a-account-1",
                kind=AssetKind.BANK_ACCOUNT,
                status=asset_status,
                value=value,
            )
        events.append(
            RequestEvent(
                id=str(uuid.uuid4()),
                type=kind,
                time=T0 + timedelta(minutes=i),
                subject=reference,
                case_number="ICC-01/14",
                requested_state="NLD",
                status=status,
                asset=asset,
            )
        )
    return events


def escalation(reference: str) -> EscalationEvent:
    kind = EscalationKind.DEADLINE_APPROACHING
    return EscalationEvent(
        id=str(uuid.uuid4()),
        type=escalation_type(kind),
        time=T0,
        subject=reference,
        case_number="ICC-01/14",
        requested_state="NLD",
        kind=kind,
        level=1,
    )


class Recorder:
    """A caller's handlers: what was handed over, in order, and what was reported."""

    def __init__(self) -> None:
        self.handled: list[Received] = []
        self.unreadable: list[Unreadable] = []

    async def handle(self, item: Received) -> None:
        self.handled.append(item)

    async def report(self, item: Unreadable) -> None:
        self.unreadable.append(item)

    def consumer(self, s: Settings, group: str, **options: object) -> CourtEventsConsumer:
        return CourtEventsConsumer(
            s,
            group,
            handle=self.handle,
            unreadable=self.report,
            **options,  # type: ignore[arg-type]
        )

    def ids(self) -> list[str]:
        return [r.id for r in self.handled]


async def test_duplicates_are_handled_once_and_each_request_keeps_its_order(
    stack: Settings,
) -> None:
    s = await topics_of(stack)
    refs = [f"ICC-01/14-REQ-{n:04d}" for n in range(12)]
    lives = {ref: lifecycle(ref) for ref in refs}
    partitions: set[int] = set()
    async with producer(s) as p:
        for step in range(len(STEPS)):  # interleaved: every request's first event, then ...
            for ref in refs:
                partitions.add(await publish(p, s.topics.request_events, lives[ref][step]))
        # A retried publish repeats the same event ids: three requests' events sent again.
        again = [e for ref in refs[:3] for e in lives[ref]]
        for e in again:
            await publish(p, s.topics.request_events, e)
        sent_escalations = [escalation(ref) for ref in refs[:2]]
        for e in sent_escalations:
            await publish(p, s.topics.escalations, e)
    assert len(partitions) > 1, "the requests must spread over several partitions"

    r = Recorder()
    async with asyncio.timeout(WAIT_S):
        tally = await r.consumer(s, "downstream-a").run(until_caught_up=True)

    assert r.unreadable == []
    expected = [x.id for e in lives.values() for x in e] + [e.id for e in sent_escalations]
    assert sorted(r.ids()) == sorted(expected)
    assert len(r.ids()) == len(set(r.ids())), "an event handed over twice"
    assert (tally.handled, tally.duplicates) == (12 * len(STEPS) + 2, len(again))
    for ref in refs:  # each request's events in the order its workflow made them
        mine = [
            x.id
            for x in r.handled
            if x.request_reference == ref and x.position.topic == s.topics.request_events
        ]
        assert mine == [e.id for e in lives[ref]]
    escalations = [x for x in r.handled if x.position.topic == s.topics.escalations]
    assert [type(x.event) for x in escalations] == [EscalationEvent] * 2
    assert all(type(x.event) is RequestEvent for x in r.handled if x not in escalations)


async def test_an_unreadable_record_is_reported_and_the_loop_goes_on(stack: Settings) -> None:
    s = await topics_of(stack)
    ref = "ICC-01/14-REQ-0100"
    first, second, third, fourth = lifecycle(ref)
    topic = s.topics.request_events
    async with producer(s) as p:
        await publish(p, topic, first)
        await p.send_and_wait(topic, value=b"{not json", key=ref.encode())
        v2 = json.loads(second.model_dump_json()) | {"type": "int.icc.tracefreeze.request.x.v2"}
        await p.send_and_wait(topic, value=json.dumps(v2).encode(), key=ref.encode())
        record = EventPublisher._record(second)
        record["headers"] = [
            (k, str(uuid.uuid4()).encode() if k == "ce_id" else v) for k, v in record["headers"]
        ]
        await p.send_and_wait(topic, **record)
        other_key = EventPublisher._record(third) | {"key": b"ICC-01/14-REQ-0999"}
        await p.send_and_wait(topic, **other_key)
        await publish(p, topic, fourth)

    r = Recorder()
    async with asyncio.timeout(WAIT_S):
        tally = await r.consumer(s, "downstream-b").run(until_caught_up=True)

    assert r.ids() == [first.id, fourth.id]
    assert tally.unreadable == 4
    # The record under another key is on that key's partition; the rest in offset order.
    [moved] = [u for u in r.unreadable if u.key == "ICC-01/14-REQ-0999"]
    assert moved.reason.startswith("Kafka key 'ICC-01/14-REQ-0999' differs")
    in_line = [u for u in r.unreadable if u is not moved]
    assert [u.position.offset for u in in_line] == [1, 2, 3]
    not_json, unknown, header = (u.reason for u in in_line)
    assert not_json.startswith("value is not JSON")
    assert unknown.startswith("unknown event type 'int.icc.tracefreeze.request.x.v2'")
    assert header.startswith("ce_id ") and "differs from the body's" in header

    # Reported records count as finished: the same group has nothing left to read.
    again = Recorder()
    async with asyncio.timeout(WAIT_S):
        tally = await again.consumer(s, "downstream-b").run(until_caught_up=True)
    assert (again.handled, again.unreadable, tally.handled) == ([], [], 0)


async def crash_after(s: Settings, group: str, r: Recorder, n: int, **options: object) -> None:
    """Run until ``n`` events are handled, then crash (the task cancelled in the handler of
    the next: that record is not finished, and nothing more is committed)."""
    reached = asyncio.Event()

    async def handle(item: Received) -> None:
        if len(r.handled) == n:
            reached.set()
            await asyncio.Event().wait()  # the process dies here
        r.handled.append(item)

    consumer = CourtEventsConsumer(s, group, handle=handle, unreadable=r.report, **options)  # type: ignore[arg-type]
    task = asyncio.create_task(consumer.run())
    async with asyncio.timeout(WAIT_S):
        await reached.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_restart_after_a_crash_hands_over_only_what_was_not_handled(
    stack: Settings,
) -> None:
    s = await topics_of(stack)
    ref = "ICC-01/14-REQ-0200"
    events = lifecycle(ref) + lifecycle(ref, "2000.00")
    async with producer(s) as p:
        for e in events:
            await publish(p, s.topics.request_events, e)
    ids = [e.id for e in events]

    # (a) Committed after each event: Kafka delivers again only what was not handled.
    crashed = Recorder()
    await crash_after(s, "downstream-c", crashed, 3, commit_every=1)
    assert crashed.ids() == ids[:3]
    restarted = Recorder()
    async with asyncio.timeout(WAIT_S):
        tally = await restarted.consumer(s, "downstream-c").run(until_caught_up=True)
    assert restarted.ids() == ids[3:]
    assert tally.duplicates == 0

    # (b) Nothing committed before the crash: Kafka delivers everything again, and the
    # caller's kept store of handled ids hands over only what was not handled.
    kept = InMemorySeen()
    crashed = Recorder()
    await crash_after(
        s, "downstream-d", crashed, 3, seen=kept, commit_every=1000, commit_interval_s=3600
    )
    for i in ids[:3]:  # what the caller kept with its read model
        await kept.add(i)
    restarted = Recorder()
    async with asyncio.timeout(WAIT_S):
        tally = await restarted.consumer(s, "downstream-d", seen=kept).run(until_caught_up=True)
    assert restarted.ids() == ids[3:]
    assert tally.duplicates == 3


class HandlerFailed(RuntimeError):
    pass


async def test_a_handler_that_raises_stops_the_run_and_what_finished_is_committed(
    stack: Settings,
) -> None:
    """The third event's handler fails: the run raises (never skips it), the two before it
    are committed although no commit was due, and the next run starts at the third."""
    s = await topics_of(stack)
    events = lifecycle("ICC-01/14-REQ-0250")
    async with producer(s) as p:
        for e in events:
            await publish(p, s.topics.request_events, e)
    ids = [e.id for e in events]
    failing = Recorder()

    async def handle(item: Received) -> None:
        if len(failing.handled) == 2:
            raise HandlerFailed("the warehouse is down")
        failing.handled.append(item)

    consumer = CourtEventsConsumer(
        s,
        "downstream-f",
        handle=handle,
        unreadable=failing.report,
        commit_every=1000,
        commit_interval_s=3600,
    )
    with pytest.raises(HandlerFailed):
        async with asyncio.timeout(WAIT_S):
            await consumer.run()
    assert failing.ids() == ids[:2] and consumer.tally.commits == 1

    restarted = Recorder()
    async with asyncio.timeout(WAIT_S):
        await restarted.consumer(s, "downstream-f").run(until_caught_up=True)
    assert restarted.ids() == ids[2:]


async def test_the_workers_own_events_read_as_typed_events(running: Running) -> None:
    """What the real worker publishes parses whole: no unreadable record, no unknown field;
    the worked example's table shows the frozen assets."""
    r, s = running, running.settings
    request, frozen = await both_assets_frozen(r, "KIT")

    table = AssetTable()
    got = Recorder()
    stop = asyncio.Event()

    async def handle(item: Received) -> None:
        await got.handle(item)
        table.apply(item.event)
        if sum(x.event.type is RequestEventType.ASSET_FROZEN for x in got.handled) == 2:
            stop.set()

    consumer = CourtEventsConsumer(s, "downstream-e", handle=handle, unreadable=got.report)
    async with asyncio.timeout(WAIT_S):
        await consumer.run(stop)

    assert got.unreadable == []
    assert all(x.unknown_fields == () for x in got.handled)
    assert {x.request_reference for x in got.handled} == {request.reference}
    kinds = [x.event.type for x in got.handled if isinstance(x.event, RequestEvent)]
    assert kinds[0] is RequestEventType.TRANSMITTED
    [eur_frozen] = [row for row in table.rows() if row.status is AssetStatus.FROZEN]
    assert (eur_frozen.currency, eur_frozen.assets) == ("EUR", 2)
    assert eur_frozen.value == sum(frozen.values())


async def test_the_worked_example_prints_assets_by_status_per_currency(
    stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await topics_of(stack)
    async with producer(s) as p:
        for ref, amount in (("ICC-01/14-REQ-0300", "1000.00"), ("ICC-01/14-REQ-0301", "5.50")):
            for e in lifecycle(ref, amount)[:3]:  # transmitted, acknowledged, frozen
                await publish(p, s.topics.request_events, e)
            await publish(p, s.topics.escalations, escalation(ref))
    monkeypatch.setenv("TRACEFREEZE_TOPICS__REQUEST_EVENTS", s.topics.request_events)
    monkeypatch.setenv("TRACEFREEZE_TOPICS__ESCALATIONS", s.topics.escalations)
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(
            CliRunner().invoke, example, ["--from-beginning", "--until-caught-up"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    last = result.output.rsplit("unreadable (group", 1)[1]
    assert "8 event(s) handled, 0 duplicate(s), 0 unreadable" in result.output
    assert re.search(r"EUR\s+frozen\s+2\s+1,005\.50", last), last
