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
from collections.abc import Iterator

import pytest

from tests.faults.cluster import (
    assigned,
    busiest_leader,
    cluster_flow,
    kill9,
    leaders,
    read_as,
    restart,
    started_cluster,
    survivor_holds_all,
)
from tests.faults.drill import RESULTS, WAIT_S, wait_logged
from tests.faults.flow import check_exact
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


async def test_rolling_restart_of_both_workers_while_answers_flow(cluster: Cluster) -> None:
    """Both workers are replaced one after the other (SIGTERM: drain; a new process started
    and polling before the next one stops), as a deployment rolls them onto a new build: the
    requests never lack a worker and every answer is applied once."""
    started = time.monotonic()
    async with cluster_flow(cluster, "rolling") as (flow, workers, bridges):
        producing = asyncio.create_task(flow.produce(rate_per_s=6.0))  # ~40 s of answers
        steps = []
        for worker in workers:
            await flow.until_accepted(await flow.accepted() + 20)
            steps.append(await flow.accepted())
            assert await worker.stop() == 0, worker.tail()
            worker.start()
            await wait_logged(worker, "worker started", lambda es: bool(es))
        await producing
        count = await flow.count()
        report(
            "cluster drill 5, rolling restart of both workers while answers flow",
            started,
            count,
            f"worker-1 replaced at {steps[0]}/{count.sent} answers accepted, worker-2 at "
            f"{steps[1]}/{count.sent}",
        )
        check_exact(count)
        assert not count.dead_letters
        assert all(a.running for a in (*workers, *bridges))


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
