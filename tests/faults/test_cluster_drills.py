"""Fault drills on the production-shaped cluster (``make cluster-up``): the real Temporal
server on PostgreSQL, three KRaft brokers with every topic replicated 3 and
``min.insync.replicas=2``, two workers and two bridges. Same flow and exact count as the dev
stack's drills (tests/faults/test_drills.py): 6 requests, 240 signed answers, sent / applied
/ duplicated / lost.

Run only when the Temporal server build is cached (``make cluster-build``); otherwise each is
skipped with that command in its reason (tests/faults/cluster.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.faults.cluster import (
    another_build,
    applied_ids,
    assigned,
    busiest_leader,
    cluster_flow,
    events_of,
    kafka_trouble,
    kill9,
    leaders,
    logged,
    read_as,
    restart,
    started_cluster,
    survivor_holds_all,
    task_builds,
    worker_of,
)
from tests.faults.drill import RESULTS, WAIT_S, wait_logged
from tests.faults.flow import check_exact
from tests.faults.topic_reads import group_lag, until
from tracefreeze.config import Settings
from tracefreeze.kafka import longest_timeout_s
from tracefreeze.security.kafka_acls import state_principal
from tracefreeze.stack.cluster import brokers
from tracefreeze.stack.cluster.layout import Cluster
from tracefreeze.stack.pids import running_pid

pytestmark = [pytest.mark.cluster, pytest.mark.faults]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    yield from started_cluster()


def report(name: str, started: float, count: object, extra: str) -> None:
    line = count.line(name, time.monotonic() - started, extra)  # type: ignore[attr-defined]
    RESULTS.append(line)
    print(f"\n{line}")


async def test_partition_leader_broker_killed_while_answers_flow(cluster: Cluster) -> None:
    """The broker leading most of the answers topic's partitions is killed with SIGKILL while
    answers are produced (acks=all, idempotent): the two others hold two in-sync replicas
    (``min.insync.replicas=2``), take over its partitions and keep accepting, so nothing is
    lost and nothing applied twice; restarted from its disk, it rejoins every ISR."""
    started = time.monotonic()
    async with cluster_flow(cluster, "leader") as (flow, workers, bridges):
        topic = flow.s.topics.state_answers
        before = await leaders(flow.s, topic)
        assert all(isr == brokers.REPLICATION for _, isr in before.values()), before
        victim = await busiest_leader(flow.s, topic)
        led = sorted(p for p, (leader, _) in before.items() if leader == victim)
        producing = asyncio.create_task(flow.produce())
        await flow.until_produced(0.3)
        await kill9(cluster, brokers.name(victim))
        at_kill = flow.produced
        async with asyncio.timeout(WAIT_S):  # its partitions led by the survivors, ISR 2
            while True:
                now = await leaders(flow.s, topic)
                if all(now[p][0] not in (victim, -1) for p in led):
                    break
                await asyncio.sleep(0.5)
        await producing
        during = flow.produced - at_kill
        await restart(cluster)
        count = await flow.count()
        async with asyncio.timeout(WAIT_S):  # back in every ISR
            while True:
                now = await leaders(flow.s, topic)
                if all(isr == brokers.REPLICATION for _, isr in now.values()):
                    break
                await asyncio.sleep(0.5)
        report(
            "cluster drill 1, partition-leader broker kill -9 while answers flow",
            started,
            count,
            f"broker {victim} led partitions {led}, killed after {at_kill}/{count.sent} "
            f"answers were acknowledged, {during} acknowledged by the two others after the kill",
        )
        check_exact(count)
        assert set(count.dead_letters) <= {"replayed"}
        assert sum(count.dead_letters.values()) <= count.resent
        assert all(a.running for a in (*workers, *bridges))


async def test_one_of_two_workers_killed(cluster: Cluster) -> None:
    """One of the two workers is killed with SIGKILL mid-flow and stays down: the other takes
    its workflow tasks (after their timeout) and every answer is applied exactly once."""
    started = time.monotonic()
    async with cluster_flow(cluster, "worker") as (flow, workers, bridges):
        producing = asyncio.create_task(flow.produce())
        await flow.until_accepted(60)
        at_kill = await flow.accepted()
        await workers[0].kill9()
        await producing
        count = await flow.count()
        report(
            "cluster drill 2, one of two workers kill -9 (not restarted)",
            started,
            count,
            f"killed with {at_kill}/{count.sent} answers accepted",
        )
        check_exact(count)
        assert not count.dead_letters
        assert workers[1].running and all(b.running for b in bridges)


async def test_one_of_two_bridges_killed(cluster: Cluster) -> None:
    """One of the two bridges of the group is killed with SIGKILL mid-flow and stays down: the
    other is assigned all six partitions and applies the rest, none twice."""
    started = time.monotonic()
    async with cluster_flow(cluster, "bridge") as (flow, workers, bridges):
        partitions = flow.s.topics.partitions()[flow.s.topics.state_answers]
        before = (assigned(bridges[0]), assigned(bridges[1]))
        producing = asyncio.create_task(flow.produce())
        await flow.until_accepted(60)
        await bridges[0].kill9()
        await survivor_holds_all(bridges[1], partitions)
        await producing
        count = await flow.count()
        report(
            "cluster drill 3, one of two bridges kill -9 (not restarted)",
            started,
            count,
            f"partitions before the kill {before[0]}+{before[1]}, the survivor then held "
            f"{partitions}",
        )
        check_exact(count)
        assert not count.dead_letters
        assert bridges[1].running and all(w.running for w in workers)


OLD_BUILD, NEW_BUILD = "drill-build-1", "drill-build-2"


async def test_rolling_restart_of_both_workers_onto_a_new_build_while_answers_flow(
    cluster: Cluster,
) -> None:
    """Both workers are replaced one after the other by workers of another build (a copy of
    the code whose own build is ``drill-build-2``; SIGTERM: drain, then the replacement
    started and polling before the next one stops), as a deployment rolls them, while answers
    flow: the requests never lack a worker, every answer is applied once, and the requests go
    on on the new build (the identity the server records on each workflow task)."""
    started = time.monotonic()
    with another_build(NEW_BUILD) as code:
        env = {"TRACEFREEZE_BUILD": OLD_BUILD}
        async with cluster_flow(cluster, "rolling", env) as (flow, workers, bridges):
            during = slice(0, 30)  # 180 answers at 6 a second: ~30 s, the roll among them
            producing = asyncio.create_task(flow.produce(rate_per_s=6.0, part=during))
            steps = []
            for i, worker in enumerate(list(workers)):
                await flow.until_accepted(await flow.accepted() + 20)
                steps.append(await flow.accepted())
                assert await worker.stop() == 0, worker.tail()
                workers[i] = worker_of(flow.s, code, f"{worker.name}-{NEW_BUILD}")
                workers[i].start()
                await wait_logged(workers[i], "worker started", lambda es: bool(es))
            await producing
            rolled = await flow.accepted()
            await flow.produce(rate_per_s=12.0, part=slice(during.stop, None))  # new build only
            count = await flow.count()
            builds = await task_builds(flow)
            tasks = Counter(b for per_request in builds.values() for b in per_request)
            report(
                "cluster drill 5, rolling restart of both workers onto a new build while "
                "answers flow",
                started,
                count,
                f"worker-1 replaced at {steps[0]}/{count.sent} answers accepted, worker-2 at "
                f"{steps[1]}/{count.sent}, both on the new build at {rolled}/{count.sent}; "
                f"workflow tasks completed per build: {dict(sorted(tasks.items()))}",
            )
            check_exact(count)
            assert not count.dead_letters
            assert all(a.running for a in (*workers, *bridges))
            for worker in workers:  # the replacements run the copy's code: its own build
                (line,) = worker.events("worker started", generation=0)
                assert line["build"] == NEW_BUILD and line["identity"].endswith(NEW_BUILD), line
            assert set(tasks) == {OLD_BUILD, NEW_BUILD}, tasks
            for ref, per_request in builds.items():  # each request went on on the new build
                assert OLD_BUILD in per_request and per_request[-1] == NEW_BUILD, (ref, per_request)


async def test_temporal_server_then_postgres_killed_and_restarted(cluster: Cluster) -> None:
    """The Temporal server is killed with SIGKILL while answers flow, restarted; then
    PostgreSQL is killed with SIGKILL and restarted from its data dir (crash recovery from its
    WAL). The bridges retry the updates that fail meanwhile; every answer is applied once."""
    started = time.monotonic()
    async with cluster_flow(cluster, "engine") as (flow, workers, bridges):
        producing = asyncio.create_task(flow.produce(rate_per_s=10.0))
        await flow.until_accepted(30)
        at_temporal = await flow.accepted()
        temporal = await kill9(cluster, "temporal")
        await asyncio.sleep(2)
        await restart(cluster)
        assert running_pid(cluster.stack, "temporal") not in (None, temporal)
        await flow.until_accepted(await flow.accepted() + 30)
        at_postgres = await flow.accepted()
        pg = await kill9(cluster, "postgres")
        await asyncio.sleep(2)
        await restart(cluster)
        assert running_pid(cluster.stack, "postgres") not in (None, pg)
        await producing
        count = await flow.count()
        report(
            "cluster drill 4, Temporal server kill -9, then PostgreSQL kill -9, both restarted",
            started,
            count,
            f"Temporal killed with {at_temporal}/{count.sent} answers accepted, PostgreSQL with "
            f"{at_postgres}/{count.sent}; PostgreSQL recovered from its own data dir",
        )
        check_exact(count)
        assert not count.dead_letters
        assert all(a.running for a in (*workers, *bridges))


async def test_the_brokers_enforce_each_state_s_acls(cluster: Cluster) -> None:
    """SASL/SCRAM over TLS with the ACLs of deploy/kafka-security.md, enforced by the brokers
    (StandardAuthorizer): BEL's principal reads its own channel and no other State's (RS
    87(3): what one State is asked stays between it and the Court); a client without TLS and
    SASL is not served at all."""
    principal = state_principal("BEL")
    bel = cluster.client_settings(principal)
    own, other = bel.topics.party_channel("BEL"), bel.topics.party_channel("NLD")
    assert await read_as(bel, own, principal) == "read"
    assert await read_as(bel, other, principal) == "TopicAuthorizationFailedError"
    assert await read_as(bel, own, "state-nld") == "GroupAuthorizationFailedError"
    plain = cluster.settings.model_copy(update={"kafka_timeout_s": 5.0})
    assert await read_as(plain, own, principal) != "read"


async def test_broker_kept_down_longer_than_the_kafka_clients_timeouts(cluster: Cluster) -> None:
    """The broker leading most of the answers topic's partitions is killed with SIGKILL while
    answers flow and kept down until every Kafka client timeout of the workers and bridges
    has passed (``tracefreeze.kafka.longest_timeout_s``: the consumers' 40 s request
    timeout), shown by the flow itself: the bridges logged the broker's loss, the brokers
    dropped it from every in-sync replica set, and an answer the State's producer had
    acknowledged only after the kill plus that timeout was applied. Restarted from its disk,
    it rejoins every ISR while the rest of the answers flow. Every answer is applied once,
    every lifecycle event is on the events topic under one id, the bridges never exited and
    their group's lag ends at zero."""
    started = time.monotonic()
    async with cluster_flow(cluster, "outage") as (flow, workers, bridges):
        answers, events = flow.s.topics.state_answers, flow.s.topics.request_events
        longest = longest_timeout_s(flow.s)
        victim = await busiest_leader(flow.s, answers)
        led = {
            topic: sorted(p for p, (leader, _) in (await leaders(flow.s, topic)).items()
                          if leader == victim)
            for topic in (answers, events)
        }  # fmt: skip
        await flow.produce(rate_per_s=20.0, part=slice(0, 10))  # 60 before the kill
        marks = [logged(b) for b in bridges]
        await kill9(cluster, brokers.name(victim))
        killed = datetime.now(UTC)
        # 120 answers at 2.5 a second while it is down: 48 s, longer than the longest timeout
        await flow.produce(rate_per_s=2.5, part=slice(10, 30))
        late = {i for i, at in flow.acked_at.items() if at > killed + timedelta(seconds=longest)}
        assert late, (longest, killed, max(flow.acked_at.values()))
        async with asyncio.timeout(WAIT_S):  # a late answer applied, the broker still down
            while not late & await applied_ids(flow):  # noqa: ASYNC110 (the requests)
                await asyncio.sleep(0.5)
        fenced = {t: await leaders(flow.s, t) for t in (answers, events)}
        assert all(
            leader != victim and isr == brokers.REPLICATION - 1
            for parts in fenced.values()
            for leader, isr in parts.values()
        ), fenced
        trouble = [kafka_trouble(b, mark) for b, mark in zip(bridges, marks, strict=True)]
        assert any(trouble), "no bridge noticed the broker's loss"
        down_s = (datetime.now(UTC) - killed).total_seconds()
        assert down_s > longest
        await restart(cluster)
        await flow.produce(rate_per_s=20.0, part=slice(30, None))  # 60 after the restart
        count = await flow.count()
        async with asyncio.timeout(WAIT_S):  # back in every ISR
            while True:
                now = [await leaders(flow.s, t) for t in (answers, events)]
                if all(isr == brokers.REPLICATION for n in now for _, isr in n.values()):
                    break
                await asyncio.sleep(0.5)
        assert await until(lambda: _caught_up(flow.s), WAIT_S), (
            "the bridges' group did not catch up"
        )
        per_id, types = await events_of(flow)
        copies = sum(per_id.values()) - len(per_id)
        seen = Counter(m for t in trouble for m in _kinds(t))
        report(
            "cluster drill 6, a broker kept down longer than the Kafka clients' timeouts",
            started,
            count,
            f"broker {victim} led answers partitions {led[answers]} and events partitions "
            f"{led[events]}; down {down_s:.0f}s (longest client timeout {longest:g}s), "
            f"{len(late)} answers acknowledged after kill + {longest:g}s applied while it was "
            f"down; what the bridges logged: {dict(seen)}; events topic: {len(per_id)} event "
            f"ids ({dict(sorted(types.items()))}), {copies} extra copies",
        )
        check_exact(count)
        assert not count.dead_letters
        assert types["accepted"] == count.sent + 2 * len(flow.refs), types
        assert all(a.running for a in (*workers, *bridges))
        assert all(b.returncode is None for b in bridges)


async def _caught_up(s: Settings) -> bool:
    return await group_lag(s, s.bridge_group_id, s.topics.state_answers) == 0


def _kinds(events: list[str]) -> list[str]:
    """A logged line's kind, without its node ids and addresses."""
    return [e.split(":")[0].split(" (")[0].split(" for group")[0][:60] for e in events]
