"""Drills: one request that cannot take its answers stalls no other State.

A State's request is its own (RS art. 93(1), 96(1); Rule 176(2)): whatever one State sends,
and whatever becomes of one request, another State's answers are still applied. Here State
BEL's request cannot take any answer (its workflow runs on a task queue no worker polls, so
every update to it times out: the class of fault "a request that cannot accept", whatever its
cause), while NLD sends 100 answers to its own requests, one of them on BEL's partition. Every
NLD answer must be applied within one retry budget of being produced, BEL's answers parked
(reason ``stuck``, original coordinates, in order), nothing lost; then, once BEL's request is
served, ``tracefreeze dlq replay`` brings BEL's answers back, in order.

On the bridge before per-partition lanes and the retry budget, BEL's answer was retried
forever and no partition was fetched or committed again: NLD's answers were never applied.

A second drill deletes the request-events topic while answers flow and says what holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import murmur2
from aiokafka.structs import ConsumerRecord

from schemas.answers import AnswerBase
from schemas.deadletter import (
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REASON,
    HEADER_REASON_CODE,
    HEADER_REPLAYED_FROM,
    HEADER_TOPIC,
)
from schemas.views import RequestView
from tests.builders import acknowledgement, court_request, now, to
from tests.faults.drill import RESULTS, WAIT_S, App, bridge_ready, drill_app, isolated
from tests.faults.flow import (
    SETUP_ANSWERS,
    EventTally,
    Flow,
    check_exact,
    freeze_report,
    make_producer,
    valuation,
)
from tests.faults.topic_reads import read_topic
from tests.signed import signed_record
from tracefreeze.cli.dlq import run_replay
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.intake.dlq import Selection
from tracefreeze.intake.replay_auth import HEADER_REPLAY_MAC, HEADER_REPLAY_RECEIVED
from tracefreeze.stack.ports import free_ports

pytestmark = [pytest.mark.stack, pytest.mark.faults]

BEL = "BEL"
BUDGET_S = 20.0
"""The bridge's retry budget in this drill (production: ``bridge_retry_budget_s``)."""
UPDATE_TIMEOUT_S = 4.0
"""How long one update attempt waits (``kafka_timeout_s``)."""
NLD_ANSWERS = 100
THROTTLE = {"bridge_state_rate": 10.0, "bridge_state_burst": 10, "bridge_throttle_wait_s": 2.0}
"""A small per-State answer budget: 10 at once, then 10 a second; a partition waits 2 s at
most per fetch for it. The burst is small next to BEL's flood (120): the bridge before issue
11's H3 fix waited up to 2 s per batch of 10, batch after batch (11 s), holding the
partition for NLD's answers on it, and parked nothing."""
SETTINGS: dict[str, dict[str, float]] = {
    "test_a_state_over_its_answer_budget_waits_and_slows_no_other_state": THROTTLE,
}
BEL_FLOOD = 120


@dataclass
class Isolation:
    s: Settings
    flow: Flow
    worker: App
    bridge: App
    health_port: int
    started: float

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.health_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.read().decode()

    def ready(self) -> int:
        url = f"http://127.0.0.1:{self.health_port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as err:
            return err.code


@pytest.fixture
async def isolation(
    fault_stack: Settings, request: pytest.FixtureRequest
) -> AsyncIterator[Isolation]:
    """Worker and bridge (with /metrics on a free port) for this drill; NLD's six requests
    acknowledged with their asset frozen."""
    started = time.monotonic()
    s = isolated(fault_stack, request.node.name.removeprefix("test_")[:24]).model_copy(
        update={
            "kafka_timeout_s": UPDATE_TIMEOUT_S,
            "bridge_retry_budget_s": BUDGET_S,
            **SETTINGS.get(request.node.name, {}),
        }
    )
    [port] = free_ports(1)
    client = await RequestClient.connect(s)
    producer = make_producer(s)
    flow = Flow(s, client, producer)
    apps = [drill_app(s, "worker"), drill_app(s, "bridge", health_port=port)]
    try:
        await producer.start()
        await flow.prepare_topics()
        for app in apps:
            app.start()
        await bridge_ready(apps[1])
        await flow.prepare()
        yield Isolation(s, flow, apps[0], apps[1], port, started)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), timeout=30)
        for app in apps:
            await app.stop()
            print(f"\n--- {app.name}: last lines of {app.logs[-1] if app.logs else '-'}")
            print(app.tail(15))


def on_partition_of(ref: str, partitions: int, prefix: str) -> str:
    """A fresh reference whose Kafka key lands on the same partition as ``ref``'s."""
    wanted = (murmur2(ref.encode()) & 0x7FFFFFFF) % partitions
    tag = uuid.uuid4().hex[:6].upper()
    for i in range(100_000):
        candidate = f"{prefix}-{tag}-{i:05d}"
        if (murmur2(candidate.encode()) & 0x7FFFFFFF) % partitions == wanted:
            return candidate
    raise AssertionError("no reference found on that partition")


def split(total: int, refs: list[str]) -> dict[str, int]:
    """``total`` answers spread over ``refs`` as evenly as possible."""
    base, extra = divmod(total, len(refs))
    return {ref: base + (k < extra) for k, ref in enumerate(refs)}


def metric(text: str, name: str, labels: str = "") -> float:
    """The value of one sample of a Prometheus exposition (0 if absent)."""
    for line in text.splitlines():
        if line.startswith(f"{name}{labels} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def retried(bridge: App, event_id: str) -> bool:
    """The bridge logged a failed delivery of ``event_id`` (alone or first of a batch)."""
    names = {"delivering answer failed; will retry", "delivering answers failed; will retry"}
    return any(
        e.get("event") in names and e.get("event_id") == event_id
        for e in bridge.lines(len(bridge.logs) - 1)
    )


def parked(bridge: App, event_id: str) -> bool:
    """The bridge logged that it parked ``event_id``."""
    return any(
        e.get("event") == "answer parked" and e.get("event_id") == event_id
        for e in bridge.lines(len(bridge.logs) - 1)
    )


async def until_true(check: Any, timeout_s: float, what: str) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 (polls a log file and an HTTP endpoint)
            await asyncio.sleep(0.1)
    assert check(), what


async def test_a_request_that_cannot_take_answers_stalls_no_other_state(
    isolation: Isolation,
) -> None:
    d = isolation
    partitions = d.s.topics.partitions()[d.s.topics.state_answers]

    # BEL's request runs on a task queue no worker polls: no update to it can complete.
    nobody = d.s.model_copy(update={"task_queue": f"{d.s.task_queue}-nobody"})
    bel_ref = on_partition_of(d.flow.refs[0], partitions, "ICC-FAULT-BEL")
    bel_client = await RequestClient.connect(nobody)
    await bel_client.submit(court_request(reference=bel_ref, requested_state=BEL))
    bel: list[AnswerBase] = [
        acknowledgement(to(bel_ref, BEL), sent_at=now()),
        freeze_report(bel_ref, BEL),
    ]
    for answer in bel:
        await d.flow.send(answer)
    bel_ids = [a.event_id for a in bel]

    # The precondition, constructed: the bridge is retrying BEL's answer, and says so.
    await until_true(lambda: retried(d.bridge, bel_ids[0]), 60, "BEL's answer never retried")
    await until_true(
        lambda: metric(d.metrics(), "tracefreeze_oldest_stuck_answer_seconds") > 0,
        30,
        "the oldest-stuck gauge never rose",
    )
    assert d.ready() == 200  # within its budget: the bridge is working as it should

    # NLD: 100 answers to its own requests, one of which shares BEL's partition.
    plan = split(NLD_ANSWERS, d.flow.refs)
    d.flow.answers = {ref: [valuation(ref, i) for i in range(n)] for ref, n in plan.items()}
    produced_from = time.monotonic()
    await d.flow.produce()
    producing_s = time.monotonic() - produced_from
    nld_ids = {a.event_id for answers in d.flow.answers.values() for a in answers}
    async with EventTally(d.s) as tally:
        await tally.until(nld_ids, 3 * BUDGET_S)
    missing = nld_ids - tally.applied_at.keys()
    assert not missing, (
        f"{len(missing)}/{NLD_ANSWERS} NLD answers not applied {3 * BUDGET_S:g}s after "
        "being produced: one State's stuck request stalled another State"
    )
    delays = {i: (tally.applied_at[i] - d.flow.acked_at[i]).total_seconds() for i in nld_ids}
    shared = {a.event_id for a in d.flow.answers[d.flow.refs[0]]}
    worst, worst_shared = max(delays.values()), max(delays[i] for i in shared)

    count = await d.flow.count()
    check_exact(count)

    # BEL's two answers are parked, in order, with their coordinates and original bytes.
    dead = await read_topic(d.s, d.s.topics.dead_letter)
    assert len(dead) == 2, [dict(r.headers) for r in dead]
    for record, answer, why in zip(dead, bel, ("retry budget", "behind parked"), strict=True):
        headers = dict(record.headers)
        position = d.flow.positions[answer.event_id]
        assert headers[HEADER_REASON_CODE] == b"stuck"
        assert why in headers[HEADER_REASON].decode(), headers[HEADER_REASON]
        assert headers[HEADER_TOPIC] == d.s.topics.state_answers.encode()
        assert (int(headers[HEADER_PARTITION]), int(headers[HEADER_OFFSET])) == position
        assert headers["ce_id"] == answer.event_id.encode()
        assert record.key == bel_ref.encode()
        assert record.value == signed_record(answer, d.s.state_dir)[0]
    assert bel_ids[0] in dict(dead[1].headers)[HEADER_REASON].decode()
    text = d.metrics()
    assert metric(text, "tracefreeze_answers_parked_total", '{reason="stuck"}') == 2
    assert d.ready() == 200

    # Fixed: a worker serves BEL's request's queue. The replay brings both back, in order.
    bel_worker = drill_app(nobody, "worker", name="worker-bel").start()
    try:
        summary = await run_replay(
            d.s, Selection.of(["stuck"]), group_id=f"{d.s.task_queue}-r", operator="drill"
        )
        assert (summary.selected, summary.replayed) == (2, 2)
        view = await d.flow.wait_view(
            bel_ref, lambda v: v.answers_seen == 2, timeout_s=60, state=BEL
        )
        assert view.answers_seen == 2
        assert [e.event_id for e in view.timeline if e.event_id in bel_ids] == bel_ids
    finally:
        await bel_worker.stop()
    assert len(await read_topic(d.s, d.s.topics.dead_letter)) == 2  # none dead-lettered again

    line = (
        f"isolation drill, BEL's request cannot take answers: NLD sent {count.sent} / applied "
        f"{count.applied} / duplicated {count.duplicated} / lost {count.lost}; max delay from "
        f"produced to applied {worst:.1f}s ({worst_shared:.1f}s on BEL's partition; retry "
        f"budget {BUDGET_S:g}s); BEL parked 2 (stuck), replayed and applied 2 in order; "
        f"NLD's 100 produced in {producing_s:.1f}s"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert worst <= BUDGET_S, delays


async def delete_topic(s: Settings, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([topic], timeout_ms=30_000)
        async with asyncio.timeout(60):
            while topic in await admin.list_topics():  # noqa: ASYNC110 (polls the broker)
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def test_request_events_topic_gone_while_answers_flow(isolation: Isolation) -> None:
    """The request-events topic (where each request's publishing activity writes) is deleted
    while answers flow: what holds.

    Publishing is the request's own outbox, retried by Temporal, apart from its update
    handlers; so answers are still taken and applied while no event can be written, the
    bridge (which writes nothing there) does not stall, and once the topic is back every
    answer taken meanwhile is announced, each exactly once."""
    d = isolation
    topic = d.s.topics.request_events
    per_request = len(d.flow.answers[d.flow.refs[0]])
    before, during = slice(0, per_request // 4), slice(per_request // 4, None)
    await d.flow.produce(part=before)
    await d.flow.until_accepted(len(d.flow.refs))
    await delete_topic(d.s, topic)
    gone = time.monotonic()
    await d.flow.produce(part=during)
    produced = time.monotonic()
    want = {ref: SETUP_ANSWERS + len(d.flow.answers[ref]) for ref in d.flow.refs}
    for ref in d.flow.refs:  # applied with the topic still gone
        view = await d.flow.wait_view(ref, lambda v, n=want[ref]: v.answers_seen >= n)
        assert view.answers_seen == want[ref], (ref, view.answers_seen, want[ref])
    applied_after = time.monotonic() - produced
    assert topic not in await list_topics(d.s), "the topic came back by itself"
    assert d.ready() == 200 and d.bridge.running and d.worker.running

    await d.flow.prepare_topics()  # the operator restores the topic
    outage = time.monotonic() - gone
    in_outage = {a.event_id for ref in d.flow.refs for a in d.flow.answers[ref][during]}
    async with EventTally(d.s) as tally:
        await tally.until(in_outage, WAIT_S)
    announced = {i for i in in_outage if tally.per_cause[i] >= 1}
    twice = {i for i in in_outage if tally.per_cause[i] > 1}
    dead = await read_topic(d.s, d.s.topics.dead_letter)
    line = (
        f"request-events topic deleted while answers flowed: {len(in_outage)} answers produced "
        f"with it gone, all applied {applied_after:.1f}s after the last was produced (topic "
        f"still gone); topic restored after "
        f"{outage:.1f}s, then {len(announced)}/{len(in_outage)} announced, {len(twice)} twice; "
        f"dead-lettered {len(dead)}"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert announced == in_outage and not twice
    assert not dead


async def list_topics(s: Settings) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def every_answer_settled(
    d: Isolation, ref: str, total: int
) -> tuple[RequestView, list[ConsumerRecord]]:
    """BEL's view and the dead letters once every one of its ``total`` answers is either taken
    by its request or dead-lettered (the bridge may still be waiting out or parking the tail of
    a flood when NLD's answers are all in: both sides are read again until they add up)."""
    deadline = time.monotonic() + 120
    while True:
        dead = await read_topic(d.s, d.s.topics.dead_letter)
        view = await d.flow.wait_view(ref, lambda v: True, state=BEL)
        if view.answers_seen + len(dead) >= total:
            return view, dead
        assert time.monotonic() < deadline, (view.answers_seen, len(dead), total)
        await asyncio.sleep(0.5)


async def test_a_state_over_its_answer_budget_waits_and_slows_no_other_state(
    isolation: Isolation,
) -> None:
    """BEL floods one of its requests (120 answers at once, twelve times its burst); NLD
    answers meanwhile. BEL's answers beyond its budget wait, then are parked as
    ``throttled`` in order; NLD's are applied at once; nothing is lost, and a replay brings
    BEL's parked answers back (an operator's replay does not count against BEL)."""
    d = isolation
    bel_ref = on_partition_of(d.flow.refs[0], 6, "ICC-FAULT-BEL")
    await d.flow.client.submit(court_request(reference=bel_ref, requested_state=BEL))
    for answer in (acknowledgement(to(bel_ref, BEL), sent_at=now()), freeze_report(bel_ref, BEL)):
        await d.flow.send(answer)
    await d.flow.wait_view(bel_ref, lambda v: v.answers_seen == 2, state=BEL)
    flood = [valuation(bel_ref, i).model_copy(update={"state": BEL}) for i in range(BEL_FLOOD)]
    d.flow.answers = {ref: [valuation(ref, i) for i in range(2)] for ref in d.flow.refs}
    await asyncio.gather(*(d.flow.send(a) for a in flood))  # at once, in order per key
    await d.flow.produce(rate_per_s=8.0)  # NLD within its own budget
    nld_ids = {a.event_id for answers in d.flow.answers.values() for a in answers}
    async with EventTally(d.s) as tally:
        await tally.until(nld_ids, 60)
    delays = [(tally.applied_at[i] - d.flow.acked_at[i]).total_seconds() for i in nld_ids]
    count = await d.flow.count()
    check_exact(count)

    bel_ids = [a.event_id for a in flood]
    view, dead = await every_answer_settled(d, bel_ref, 2 + BEL_FLOOD)
    parked = [dict(r.headers)[HEADER_REASON_CODE].decode() for r in dead]
    applied = view.answers_seen - 2  # the ledger keeps only the latest valuations in full
    parked_ids = [dict(r.headers)["ce_id"].decode() for r in dead]
    assert set(parked) == {"throttled"}, parked
    assert parked_ids == bel_ids[applied:]  # every one, once: the first applied, the rest parked
    assert 0 < len(parked_ids) < BEL_FLOOD
    text = d.metrics()
    assert metric(text, "tracefreeze_answers_parked_total", '{reason="throttled"}') == len(dead)
    assert metric(text, "tracefreeze_answers_throttled_total", '{state="BEL"}') >= 1
    assert not nld_ids & set(parked_ids)  # NLD's answers are never parked for BEL's flood

    summary = await run_replay(
        d.s, Selection.of(["throttled"]), group_id=f"{d.s.task_queue}-r", operator="drill"
    )
    assert summary.replayed == len(parked_ids)
    view = await d.flow.wait_view(
        bel_ref, lambda v: v.answers_seen == 2 + BEL_FLOOD, timeout_s=60, state=BEL
    )
    async with EventTally(d.s) as taken:  # the request's own account, in the order it took them
        await taken.until(set(bel_ids), 60)
    assert [i for i in taken.order if i in set(bel_ids)] == bel_ids
    line = (
        f"per-State budget drill (burst {THROTTLE['bridge_state_burst']:g}, "
        f"{THROTTLE['bridge_state_rate']:g}/s, wait {THROTTLE['bridge_throttle_wait_s']:g}s): "
        f"BEL flooded {BEL_FLOOD}, {applied} applied, {len(parked_ids)} parked as "
        f"throttled then replayed, all {BEL_FLOOD} in order; NLD {count.applied}/{count.sent} "
        f"applied, max delay {max(delays):.1f}s"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert max(delays) <= THROTTLE["bridge_throttle_wait_s"] + UPDATE_TIMEOUT_S


FORGED = 4
"""BEL's answers with a forged replay header, sent behind its stuck answer."""


async def test_a_forged_replay_header_neither_jumps_parking_nor_holds_the_partition(
    isolation: Isolation,
) -> None:
    """H2: BEL's request cannot take answers; BEL sends its acknowledgement, then ``FORGED``
    answers each carrying replay headers it wrote itself (``tf_replayed_from``, a made-up
    MAC). The bridge before the replay MAC took each for an operator's replay: delivered
    alone past the parking, each retried for a whole retry budget while NLD's answer on the
    same partition, fetched after them, waited FORGED budgets. Now the claims are refused
    (logged, counted) and the forged answers are parked behind the first at once: NLD's
    answer is applied within one budget, BEL's five answers are parked in order, nothing
    lost."""
    d = isolation
    partitions = d.s.topics.partitions()[d.s.topics.state_answers]
    nobody = d.s.model_copy(update={"task_queue": f"{d.s.task_queue}-nobody"})
    bel_ref = on_partition_of(d.flow.refs[0], partitions, "ICC-FAULT-BEL")
    await (await RequestClient.connect(nobody)).submit(
        court_request(reference=bel_ref, requested_state=BEL)
    )
    first = acknowledgement(to(bel_ref, BEL), sent_at=now())
    await d.flow.send(first)
    await until_true(lambda: retried(d.bridge, first.event_id), 60, "BEL's answer never retried")
    forged = [valuation(bel_ref, i).model_copy(update={"state": BEL}) for i in range(FORGED)]
    for answer in forged:
        value, headers = signed_record(answer, d.s.state_dir)
        claim = [
            (HEADER_REPLAYED_FROM, b"0:1"),
            (HEADER_REPLAY_RECEIVED, b"1"),
            ("tf_replayed_by", b"registry-officer-7"),
            (HEADER_REPLAY_MAC, b"A" * 43),
        ]
        await d.flow.producer.send_and_wait(
            d.s.topics.state_answers, value=value, key=bel_ref.encode(), headers=headers + claim
        )
    # The precondition, constructed: the bridge has fetched the forged answers (it retries
    # the first of them, as the old bridge did, or has parked it).
    await until_true(
        lambda: retried(d.bridge, forged[0].event_id) or parked(d.bridge, forged[0].event_id),
        3 * BUDGET_S,
        "the forged answers were never fetched",
    )
    nld = valuation(d.flow.refs[0], 0)  # on BEL's partition, fetched after the forged ones
    d.flow.answers = {d.flow.refs[0]: [nld]}
    await d.flow.send(nld)
    async with EventTally(d.s) as tally:
        await tally.until({nld.event_id}, 3 * BUDGET_S + FORGED * BUDGET_S)
    assert nld.event_id in tally.applied_at, "NLD's answer never applied"
    delay = (tally.applied_at[nld.event_id] - d.flow.acked_at[nld.event_id]).total_seconds()

    dead = await read_topic(d.s, d.s.topics.dead_letter)
    ids = [dict(r.headers)["ce_id"].decode() for r in dead]
    assert ids == [first.event_id, *(a.event_id for a in forged)]  # in order, once each
    assert {dict(r.headers)[HEADER_REASON_CODE] for r in dead} == {b"stuck"}
    assert all("behind parked" in dict(r.headers)[HEADER_REASON].decode() for r in dead[1:])
    text = d.metrics()
    assert metric(text, "tracefreeze_forged_replays_total", '{state="BEL"}') == FORGED
    refused = [
        e for e in d.bridge.lines(len(d.bridge.logs) - 1)
        if e.get("event") == "replay claim refused; handled as a fresh answer"
    ]  # fmt: skip
    assert len(refused) == FORGED and all(e.get("audit") for e in refused)
    line = (
        f"forged replay drill: BEL stuck + {FORGED} answers with forged replay headers: "
        f"{len(dead)} parked in order (stuck), {FORGED} claims refused; NLD's answer on the "
        f"same partition applied {delay:.1f}s after produced (retry budget {BUDGET_S:g}s; "
        f"the old bridge: about {FORGED} budgets)"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert delay <= BUDGET_S + 2 * UPDATE_TIMEOUT_S, delay


GARBAGE = 2000


async def test_a_flood_of_unsigned_records_on_one_partition_is_dead_lettered_in_bulk(
    isolation: Isolation,
) -> None:
    """M1: one principal sends 2,000 unsigned answers to one partition at once. Each is
    dead-lettered (``missing_signature``) at its own offset, once, in order; an NLD answer
    behind them on that partition is then applied. The dead letters of one fetch are sent
    together and acknowledged together (no figure is asserted: the machine is shared; the
    throughput is reported)."""
    d = isolation
    ref = d.flow.refs[0]
    template = valuation(ref, 0).model_copy(update={"state": BEL})
    values = [
        template.model_copy(update={"event_id": str(uuid.uuid4())}).model_dump_json().encode()
        for _ in range(GARBAGE)
    ]
    started = time.monotonic()
    futures = [
        await d.flow.producer.send(d.s.topics.state_answers, value=v, key=ref.encode())
        for v in values
    ]
    metas = await asyncio.gather(*futures)
    produced_s = time.monotonic() - started
    assert len({m.partition for m in metas}) == 1
    nld = valuation(ref, 1)
    d.flow.answers = {ref: [nld]}
    await d.flow.send(nld)
    async with EventTally(d.s) as tally:
        await tally.until({nld.event_id}, 300)
    cleared_s = time.monotonic() - started
    assert nld.event_id in tally.applied_at, "the answer behind the flood was never applied"
    dead = await read_topic(d.s, d.s.topics.dead_letter)
    assert len(dead) == GARBAGE
    assert {dict(r.headers)[HEADER_REASON_CODE] for r in dead} == {b"missing_signature"}
    offsets = [int(dict(r.headers)[HEADER_OFFSET]) for r in dead]
    assert offsets == sorted(offsets) == [m.offset for m in metas]  # each once, in order
    line = (
        f"dead-letter flood: {GARBAGE} unsigned records on one partition produced in "
        f"{produced_s:.1f}s, all dead-lettered and the answer behind them applied "
        f"{cleared_s:.1f}s after the first was sent ({GARBAGE / cleared_s:.0f} records/s)"
    )
    RESULTS.append(line)
    print(f"\n{line}")
