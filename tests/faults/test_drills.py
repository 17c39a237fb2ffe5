"""Fault drills with real processes and ``kill -9``: no answer lost, none applied twice.

Each drill runs a real ``tracefreeze worker`` and ``tracefreeze bridge`` (child processes) on
the drills' own stack (``conftest.py``), prepares six requests (acknowledged, one asset
frozen), then sends 240 signed asset-management answers across them while one process is
killed with SIGKILL and brought back. At the end every request must have accepted exactly
the answers sent to it (``answers_seen``, the asset's valuation history), and the
``answer.accepted`` events on the request-events topic, deduped by event id, must name each
answer exactly once: sent / applied / duplicated / lost, printed per drill.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiokafka.partitioner import murmur2

from tests.builders import acknowledgement, court_request, now, to
from tests.faults.drill import (
    RESULTS,
    WAIT_S,
    App,
    bridge_ready,
    drill_app,
    isolated,
    kill_service,
    restart_services,
    service_pid,
    wait_logged,
)
from tests.faults.flow import SETUP_ANSWERS, STATE, Count, Flow, check_exact
from tests.faults.isolation import BEL, on_partition_of, parked
from tests.faults.running import running_flow
from tests.replay_check import histories_that_do_not_replay
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings

pytestmark = [pytest.mark.stack, pytest.mark.faults]

PARTITIONS = 6
RESTART_AFTER_S = 1.5
STALL_BUDGET_S = 120.0
"""The retry budget of the bridge in the kill-between-update-and-commit drill: how long the
stalled answer holds its partition's commit (its window, long even on a loaded machine)."""
SETTINGS: dict[str, dict[str, float]] = {
    "test_temporal_killed_and_restarted": {"kafka_timeout_s": 5.0},
    "test_bridge_killed_between_update_and_commit": {"bridge_retry_budget_s": STALL_BUDGET_S},
}
"""Temporal stays down until the bridge has failed a delivery of an answer produced during the
outage; each attempt waits ``kafka_timeout_s`` at most, so the bridge's own retry of the same
update id runs, not only the client's."""


@dataclass
class Drill:
    s: Settings
    flow: Flow
    worker: App
    bridge: App
    started: float

    def report(self, name: str, count: Count, extra: str = "") -> None:
        line = count.line(name, time.monotonic() - self.started, extra)
        RESULTS.append(line)
        print(f"\n{line}")


@pytest.fixture
async def drill(fault_stack: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Drill]:
    """Worker and bridge processes on topics, queue and group of this drill; requests ready."""
    started = time.monotonic()
    s = isolated(fault_stack, request.node.name.removeprefix("test_")[:24])
    s = s.model_copy(update=SETTINGS.get(request.node.name, {}))
    async with running_flow(s) as (flow, worker, bridge):
        yield Drill(s, flow, worker, bridge, started)


async def test_worker_killed_mid_publishing_and_restarted(drill: Drill) -> None:
    """Every answer's workflow task schedules the publishing of its events, which this worker
    runs, so while answers flow the worker is killed in the middle of workflow tasks and
    publishing rounds; the restarted worker replays them and publishes again (same event
    ids)."""
    d = drill
    producing = asyncio.create_task(d.flow.produce())
    await d.flow.until_accepted(60)
    killed_at = await d.flow.accepted()  # queries need a worker: ask before the kill
    await d.worker.kill9()
    await asyncio.sleep(RESTART_AFTER_S)
    d.worker.start()
    await producing
    count = await d.flow.count()
    d.report(
        "drill 1, worker kill -9 mid-publishing",
        count,
        f"killed while answers flowed, {killed_at}/{count.sent} answers accepted",
    )
    check_exact(count)
    assert not count.dead_letters
    assert d.bridge.running


async def test_bridge_killed_between_update_and_commit(drill: Drill) -> None:
    """The bridge is killed while answers it applied are, by construction, not committed.

    The precondition is built, not hoped for: a partition's offset is committed only past a
    contiguous prefix of finished records, so one answer ahead of the flow's on partition P
    that cannot be taken (State BEL's request runs on a task queue no worker polls) holds
    P's commit for the whole retry budget (raised to ``STALL_BUDGET_S``), while the flow's
    answers behind it, fetched in the same batch, are applied side by side. Once one of them
    is applied, the kill lands between its update and its commit. BEL's request is then
    served (a worker on its queue), so the restarted bridge applies BEL's answer too: it is
    not part of the flow's count and nothing is dead-lettered (RS art. 93(1), 96(1); Rule
    176(2): each State's request is its own)."""
    d = drill
    partitions = d.s.topics.partitions()[d.s.topics.state_answers]
    held_ref = d.flow.refs[0]
    held = (murmur2(held_ref.encode()) & 0x7FFFFFFF) % partitions

    # BEL's request runs on a task queue no worker polls: no update to it can complete.
    nobody = d.s.model_copy(update={"task_queue": f"{d.s.task_queue}-nobody"})
    bel_ref = on_partition_of(held_ref, partitions, "ICC-FAULT-BEL")
    bel_client = await RequestClient.connect(nobody)
    await bel_client.submit(court_request(reference=bel_ref, requested_state=BEL))

    # With the bridge stopped (it commits what it finished), BEL's answer goes first on P,
    # then the flow's; the restarted bridge fetches BEL's answer and the flow's answers on P
    # already acknowledged in one batch (one lane, requests side by side).
    await d.bridge.stop()
    stalled = acknowledgement(to(bel_ref, BEL), sent_at=now())
    await d.flow.send(stalled)
    assert d.flow.positions[stalled.event_id][0] == held
    producing = asyncio.create_task(d.flow.produce())
    on_held = {a.event_id for a in d.flow.answers[held_ref]}
    async with asyncio.timeout(WAIT_S):
        while not on_held & d.flow.positions.keys():  # noqa: ASYNC110 (the producer's acks)
            await asyncio.sleep(0.05)
    d.bridge.start()
    await bridge_ready(d.bridge)

    # An answer of the flow on P applied: behind BEL's, it cannot be committed. Kill now.
    view = await d.flow.wait_view(held_ref, lambda v: v.answers_seen > SETUP_ANSWERS)
    assert view.answers_seen > SETUP_ANSWERS, "no answer of the flow applied on BEL's partition"
    await d.bridge.kill9()
    assert not parked(d.bridge, stalled.event_id), (
        f"BEL's answer was parked before the kill: the {STALL_BUDGET_S:g}s window closed"
    )
    # Applied by the requests, not committed by the dead bridge: handed over again. On P the
    # commit is held by BEL's answer; other partitions' commits may still be on the wire.
    uncommitted = {
        i for i in await d.flow.accepted_not_committed() if d.flow.positions[i][0] == held
    }
    assert uncommitted, "no applied answer on BEL's partition was left uncommitted"

    bel_worker = drill_app(nobody, "worker", name="worker-bel").start()
    try:
        await asyncio.sleep(RESTART_AFTER_S)
        d.bridge.start()
        await bridge_ready(d.bridge)
        await producing
        count = await d.flow.count()
        bel = await d.flow.wait_view(bel_ref, lambda v: v.answers_seen == 1, state=BEL)
    finally:
        await bel_worker.stop()
    # Delivered again by the restarted bridge; Temporal answered with the first outcome
    # (same update id) and the request's seen-set kept it a no-op: the count stays exact.
    again = {e["event_id"] for e in d.bridge.events("answer accepted", len(d.bridge.logs) - 1)}
    d.report(
        "drill 2, bridge kill -9 between update and commit",
        count,
        f"applied but uncommitted at the kill {len(uncommitted)} (held behind a stalled "
        f"answer on partition {held}), delivered again as no-ops {len(uncommitted & again)}",
    )
    check_exact(count)
    assert not count.dead_letters
    assert bel.answers_seen == 1, "BEL's stalled answer was not taken once its request was served"
    assert uncommitted <= again, "an applied, uncommitted answer was not handed over again"


async def test_broker_killed_while_answers_are_produced(drill: Drill) -> None:
    d = drill
    temporal_pid = service_pid(d.s, "temporal")
    producing = asyncio.create_task(d.flow.produce())
    await d.flow.until_produced(0.3)
    killed = await kill_service(d.s, "kafka")
    produced_at_kill = d.flow.produced
    await asyncio.sleep(RESTART_AFTER_S)
    output = await restart_services(d.s)
    assert f"temporal: already running (pid {temporal_pid}" in output, output
    assert service_pid(d.s, "kafka") not in (None, killed)
    await producing
    count = await d.flow.count()
    d.report(
        "drill 3, Kafka broker kill -9 while producing",
        count,
        f"broker killed after {produced_at_kill}/{count.sent} answers were acknowledged",
    )
    check_exact(count)
    # A send that failed for good and was sent again may already have been written: the
    # bridge then rejects the copy as a replay (its first copy was applied once).
    assert set(count.dead_letters) <= {"replayed"}
    assert sum(count.dead_letters.values()) <= count.resent
    assert d.worker.running and d.bridge.running


RETRIED = {"delivering answer failed; will retry", "delivering answers failed; will retry"}


async def test_temporal_killed_and_restarted(drill: Drill) -> None:
    """Answers produced while Temporal is down (after the kill, before the restart) are
    retried by the bridge, never dead-lettered, and each applied once after the restart.

    The precondition is constructed, not hoped for: a third of each request's answers is
    produced only once the server is dead, and the restart waits until the bridge has logged
    a failed delivery of one of them."""
    d = drill
    kafka_pid = service_pid(d.s, "kafka")
    per_request = len(d.flow.answers[d.flow.refs[0]])
    before, during, after = (
        slice(0, per_request // 3),
        slice(per_request // 3, 2 * per_request // 3),
        slice(2 * per_request // 3, None),
    )
    await d.flow.produce(part=before)
    await d.flow.until_accepted(len(d.flow.refs))
    killed = await kill_service(d.s, "temporal")
    down = time.monotonic()
    await d.flow.produce(part=during)  # Kafka is up: acknowledged while Temporal is dead
    in_outage = {a.event_id for ref in d.flow.refs for a in d.flow.answers[ref][during]}

    generation = len(d.bridge.logs) - 1
    async with asyncio.timeout(WAIT_S):
        while not any(
            e.get("event") in RETRIED and e.get("event_id") in in_outage
            for e in d.bridge.lines(generation)
        ):
            assert d.bridge.running, d.bridge.tail()
            await asyncio.sleep(0.2)
    output = await restart_services(d.s)
    down = time.monotonic() - down
    assert f"kafka: already running (pid {kafka_pid}" in output, output
    assert service_pid(d.s, "temporal") not in (None, killed)
    await d.flow.produce(part=after)
    count = await d.flow.count()
    retries = [e for e in d.bridge.lines() if e.get("event") in RETRIED]
    retried_outage = {e["event_id"] for e in retries if e.get("event_id") in in_outage}
    d.report(
        "drill 4, Temporal dev server kill -9",
        count,
        f"Temporal down {down:.1f}s, {len(in_outage)} answers produced during the outage; "
        f"the bridge retried {len(retries)} deliveries ({len(retried_outage)} of the outage's "
        f"answers or batches; update timeout {d.s.kafka_timeout_s:g}s), dead-lettered none",
    )
    check_exact(count)
    assert not count.dead_letters
    assert retried_outage, "no answer produced during the outage was retried"
    assert d.worker.running and d.bridge.running
    for ref in d.flow.refs:  # the requests survived in the server's SQLite file
        assert (await d.flow.client.view(ref, STATE)).answers_seen == SETUP_ANSWERS + len(
            d.flow.answers[ref]
        )
    # A workflow task lost with the server is tried again, never decided differently.
    assert await histories_that_do_not_replay(d.flow.client.client, d.s.task_queue) == {}


def _assigned(app: App) -> int:
    """How many partitions the bridge's current run holds, by its last assignment."""
    events = app.events("partitions assigned", generation=len(app.logs) - 1)
    return len(events[-1]["partitions"]) if events else 0


async def test_two_bridges_one_killed_the_other_takes_over(drill: Drill) -> None:
    d = drill
    other = drill_app(d.s, "bridge", name="bridge-b").start()
    try:
        async with asyncio.timeout(90):
            while not (_assigned(other) > 0 and _assigned(d.bridge) + _assigned(other) == 6):
                assert other.running, other.tail()
                await asyncio.sleep(0.2)
        before = (_assigned(d.bridge), _assigned(other))
        producing = asyncio.create_task(d.flow.produce())
        await d.flow.until_accepted(60)
        await d.bridge.kill9()
        await wait_logged(
            other,
            "partitions assigned",
            lambda es: bool(es) and len(es[-1]["partitions"]) == PARTITIONS,
        )
        await producing
        count = await d.flow.count()
        took = sum(1 for e in other.events("answer accepted") if e["event_id"] in d.flow.sent_ids)
        d.report(
            "drill 5, two bridges in one group, one kill -9",
            count,
            f"partitions before the kill {before[0]}+{before[1]}, survivor then held "
            f"{PARTITIONS} and accepted {took} answers",
        )
        check_exact(count)
        assert not count.dead_letters
        assert other.running
    finally:
        await other.stop()
