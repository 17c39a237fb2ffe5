"""The cluster drills' support: the production-shaped cluster (``tracefreeze.stack.cluster``:
the Temporal server on PostgreSQL, three KRaft brokers) started for one test module, and a
flow with two workers and two bridges of its own on it.

The cluster needs the Temporal server built once (``make cluster-build``, minutes): when the
build is not in the cache, the cluster drills are skipped with that command in the reason,
so that ``make test`` on a fresh machine (CI) never builds Go.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka.errors import KafkaError
from temporalio.api.enums.v1 import EventType

from schemas.request import request_workflow_id
from tests.faults.drill import RESULTS, STOP_S, WAIT_S, App, app_env, drill_app, wait_logged
from tests.faults.flow import ASSET, STATE, Flow, make_producer
from tests.faults.topic_reads import read_topic
from tests.stack import isolated as isolated_settings
from tracefreeze.client import RequestClient
from tracefreeze.config import REPO_ROOT, Settings
from tracefreeze.kafka import make_admin, make_consumer
from tracefreeze.stack.cluster import brokers, build, control, ui_build
from tracefreeze.stack.cluster.layout import Cluster
from tracefreeze.stack.isolated import exported
from tracefreeze.stack.layout import StackOptions
from tracefreeze.stack.pids import alive, running_pid
from tracefreeze.topics import ensure_topics

PAIR = 2
"""Two workers and two bridges, as deploy/k8s runs them."""


def require_build(what: str) -> None:
    """Skip ``what`` with a ``NOT RUN`` reason unless the cluster's Go builds are cached: a
    clean clone does not pay their minutes (``make cluster-build`` once, then they run)."""
    cache = StackOptions().cache_dir
    if not build.cached(cache):
        reason = (
            f"NOT RUN: {what} need the Temporal server {build.TEMPORAL_VERSION} "
            f"and its UI server {ui_build.UI_VERSION} built in {cache}; run "
            f"`{build.BUILD_COMMAND}` once (minutes), then run them again"
        )
        RESULTS.append(reason)  # in the drills' summary at the end of every run, not only -rs
        pytest.skip(reason)


def started_cluster() -> Iterator[Cluster]:
    """A cluster of its own in a fresh directory, services only; stopped and removed after."""
    require_build("the cluster drills")
    directory = Path(tempfile.mkdtemp(prefix="tracefreeze-cluster-"))
    with exported({"TRACEFREEZE_CLUSTER_DIR": str(directory)}):
        cluster = Cluster.from_env(create=True)
        try:
            control.up(cluster, with_apps=False)
            yield cluster
        finally:
            control.down(cluster)
            shutil.rmtree(directory, ignore_errors=True)


async def kill9(cluster: Cluster, name: str) -> int:
    """SIGKILL one process of the cluster (by its pid file); its pid once it is gone."""
    pid = running_pid(cluster.stack, name)
    assert pid is not None, f"{name} is not running"
    os.kill(pid, signal.SIGKILL)
    async with asyncio.timeout(STOP_S):
        while alive(pid):  # noqa: ASYNC110 (a process, not an asyncio event)
            await asyncio.sleep(0.05)
    return pid


async def restart(cluster: Cluster) -> None:
    """``cluster-up`` (services only): starts what is down, waits for its health."""
    await asyncio.to_thread(control.up, cluster, False)


async def leaders(s: Settings, topic: str) -> dict[int, tuple[int, int]]:
    """Partition -> (leader node, in-sync replicas) of ``topic``, from the brokers' metadata
    (asked again of another broker while one is down: the admin picks one at random)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            admin = make_admin(s)
            try:
                await admin.start()
                (described,) = await admin.describe_topics([topic])
                return {
                    p["partition"]: (p["leader"], len(p["isr"])) for p in described["partitions"]
                }
            except KafkaError:
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await admin.close()


async def busiest_leader(s: Settings, topic: str) -> int:
    """The node that leads most partitions of ``topic``."""
    counted = Counter(leader for leader, _ in (await leaders(s, topic)).values())
    return counted.most_common(1)[0][0]


def assigned(app: App) -> int:
    events = app.events("partitions assigned", generation=len(app.logs) - 1)
    return len(events[-1]["partitions"]) if events else 0


@contextlib.asynccontextmanager
async def cluster_flow(
    cluster: Cluster, name: str, worker_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Flow, list[App], list[App]]]:
    """A flow on topics, queue and group of its own (replicated as production declares), two
    workers and two bridges on them, the bridges sharing the partitions, requests ready.
    The lists may be changed by the drill (a worker replaced): what they hold at the end is
    stopped."""
    s = isolated_settings(cluster.client_settings(), f"cluster-{name}")
    await ensure_topics(s, brokers.REPLICATION, brokers.topic_configs(s))
    client = await RequestClient.connect(s)
    producer = make_producer(s)
    flow = Flow(s, client, producer)
    workers = [drill_app(s, "worker", f"worker-{i + 1}", worker_env) for i in range(PAIR)]
    bridges = [drill_app(s, "bridge", name=f"bridge-{i + 1}") for i in range(PAIR)]
    partitions = s.topics.partitions()[s.topics.state_answers]
    try:
        await producer.start()
        for app in (*workers, *bridges):
            app.start()
        async with asyncio.timeout(WAIT_S):
            while not (
                all(assigned(b) for b in bridges) and sum(map(assigned, bridges)) == partitions
            ):
                for app in bridges:
                    assert app.running, app.tail()
                await asyncio.sleep(0.2)
        await flow.prepare()
        yield flow, workers, bridges
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), timeout=30)
        for app in (*workers, *bridges):
            await app.stop()
            print(f"\n--- {app.name}: last lines of {app.logs[-1] if app.logs else '-'}")
            print(app.tail(15))


async def survivor_holds_all(bridge: App, partitions: int) -> None:
    await wait_logged(
        bridge,
        "partitions assigned",
        lambda es: bool(es) and len(es[-1]["partitions"]) == partitions,
    )


async def read_as(s: Settings, topic: str, group: str) -> str:
    """``read`` if the principal of ``s`` may read ``topic`` in ``group``, else the name of
    the error the brokers answered with (as a State's kit reads: in its own group)."""
    consumer = make_consumer(s, topic, group_id=group)
    try:
        async with asyncio.timeout(60):
            await consumer.start()
            await consumer.getmany(timeout_ms=3000)
        return "read"
    except (KafkaError, TimeoutError) as err:
        return type(err).__name__
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


# --- a broker down for longer than the clients' timeouts ------------------------------------

KAFKA_TROUBLE = (
    "fetching answers failed; polling again",
    "commit failed; answers will be redelivered",
    "writing dead-letter records failed; will retry",
)
"""The bridge's own lines when a Kafka call fails or times out (``tracefreeze/intake``)."""


def kafka_trouble(app: App, skip: int) -> list[str]:
    """What the app's current run logged about Kafka failing after its first ``skip`` lines:
    the Kafka client's warnings and errors (connections refused, heartbeats and sessions
    expired, coordinators lost) and the bridge's own failed fetches, commits and writes."""
    lines = app.lines(len(app.logs) - 1)[skip:]
    return [
        str(e.get("event"))
        for e in lines
        if (
            str(e.get("logger", "")).startswith("aiokafka")
            and e.get("level") in ("warning", "error", "critical")
        )
        or e.get("event") in KAFKA_TROUBLE
    ]


def logged(app: App) -> int:
    return len(app.lines(len(app.logs) - 1))


async def applied_ids(flow: Flow) -> set[str]:
    """The answers of the flow its requests applied so far (the asset's valuation history)."""
    found: set[str] = set()
    for ref in flow.refs:
        view = await flow.client.view(ref, STATE)
        found |= {c.event_id for c in view.ledger.entries[ASSET].history}
    return found


async def events_of(flow: Flow) -> tuple[Counter[str], Counter[str]]:
    """The flow's requests' records on the request-events topic: (records per event id,
    distinct event ids per type); asserts that every copy of an event id is the same event."""
    records = await read_topic(flow.s, flow.s.topics.request_events)
    per_id: Counter[str] = Counter()
    bodies: dict[str, bytes] = {}
    types: Counter[str] = Counter()
    for record in records:
        event = json.loads(record.value)
        if event["subject"] not in flow.refs:
            continue
        per_id[event["id"]] += 1
        assert bodies.setdefault(event["id"], record.value) == record.value, event["id"]
        if per_id[event["id"]] == 1:
            types[event["type"].rsplit(".", 2)[-2]] += 1
    return per_id, types


# --- a worker of another build ----------------------------------------------------------------

PACKAGES = ("tracefreeze", "workflows", "activities", "schemas")
BUILD_DEFAULT = 'build: str = Field(default="dev"'


@contextlib.contextmanager
def another_build(build: str) -> Iterator[Path]:
    """A copy of the code (every package a worker imports) whose own default build
    (``Settings.build``) is ``build``: the image a rolling deploy brings, whose identity comes
    from its code, not from a variable of the drill."""
    root = Path(tempfile.mkdtemp(prefix="tracefreeze-build-"))
    try:
        for package in PACKAGES:
            shutil.copytree(
                REPO_ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
            )
        config = root / "tracefreeze" / "config.py"
        text = config.read_text()
        assert BUILD_DEFAULT in text, "tracefreeze/config.py: Settings.build changed its default"
        config.write_text(text.replace(BUILD_DEFAULT, f'build: str = Field(default="{build}"'))
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def worker_of(s: Settings, code: Path, name: str) -> App:
    """``python -P -m tracefreeze worker`` from the copy ``code`` alone (``-P``: not the
    working directory's packages; ``PYTHONPATH`` first), with the flow's environment but no
    ``TRACEFREEZE_BUILD``: its build is its code's."""
    env = {k: v for k, v in app_env(s).items() if k != "TRACEFREEZE_BUILD"}
    env["PYTHONPATH"] = str(code)
    log = s.state_dir / "logs" / f"{s.task_queue}-{name}.log"
    return App(name, [sys.executable, "-P", "-m", "tracefreeze", "worker"], env, log)


async def task_builds(flow: Flow) -> dict[str, list[str]]:
    """Per request of the flow, the build of the worker that completed each workflow task,
    in history order (from the identity the server recorded: ``... tracefreeze/<build>``)."""
    builds: dict[str, list[str]] = {}
    for ref in flow.refs:
        handle = flow.client.client.get_workflow_handle(request_workflow_id(ref, STATE))
        history = await handle.fetch_history()
        builds[ref] = [
            e.workflow_task_completed_event_attributes.identity.rsplit("tracefreeze/", 1)[-1]
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        ]
    return builds
