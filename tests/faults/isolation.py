"""The isolation drills' harness: a worker and a bridge (with /metrics on a free port) of one
drill's own on the fault stack, with NLD's requests acknowledged and their asset frozen, and
the reads the drills share (partitions, metrics, the bridge's log, topics, dead letters).

A State's request is its own (RS art. 93(1), 96(1); Rule 176(2)): whatever one State sends,
and whatever becomes of one request, another State's answers are still applied.
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

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import murmur2
from aiokafka.structs import ConsumerRecord

from schemas.views import RequestView
from tests.faults.drill import App, isolated
from tests.faults.flow import (
    Flow,
)
from tests.faults.running import running_flow
from tests.faults.topic_reads import read_topic, until
from tracefreeze.config import Settings
from tracefreeze.security.kafka_security import security_kwargs
from tracefreeze.stack.ports import free_ports

BEL = "BEL"
BUDGET_S = 20.0
"""The bridge's retry budget in this drill (production: ``bridge_retry_budget_s``)."""
UPDATE_TIMEOUT_S = 4.0
"""How long one update attempt waits (``kafka_timeout_s``)."""
NLD_ANSWERS = 100
THROTTLE = {"bridge_state_rate": 10.0, "bridge_state_burst": 10, "bridge_throttle_wait_s": 2.0}
"""A small per-State answer budget: 10 at once, then 10 a second; a partition waits 2 s at
most per chunk its lane takes for it. The burst is small next to BEL's flood (120): the
bridge before issue 11's H3 fix waited up to 2 s per batch of 10, batch after batch (11 s),
holding the partition for NLD's answers on it, and parked nothing."""
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

    async def counted(
        self, name: str, labels: str, expected: float, timeout_s: float = 30
    ) -> float:
        """The bridge's sample ``name{labels}`` once it reached ``expected`` (or the last one
        read at ``timeout_s``). The bridge counts an answer parked once the broker acknowledged
        its dead letter, which may be after a reader of the topic already sees it: a count read
        at once can be short by the last batch's acknowledgement under load."""

        async def reached() -> bool:
            return metric(self.metrics(), name, labels) >= expected

        await until(reached, timeout_s)
        return metric(self.metrics(), name, labels)

    def ready(self) -> int:
        url = f"http://127.0.0.1:{self.health_port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as err:
            return err.code


@contextlib.asynccontextmanager
async def isolation_drill(fault_stack: Settings, name: str) -> AsyncIterator[Isolation]:
    """Worker and bridge (with /metrics on a free port) for the drill ``name``; NLD's six
    requests acknowledged with their asset frozen."""
    started = time.monotonic()
    s = isolated(fault_stack, name.removeprefix("test_")[:24]).model_copy(
        update={
            "kafka_timeout_s": UPDATE_TIMEOUT_S,
            "bridge_retry_budget_s": BUDGET_S,
            **SETTINGS.get(name, {}),
        }
    )
    [port] = free_ports(1)
    async with running_flow(s, port) as (flow, worker, bridge):
        yield Isolation(s, flow, worker, bridge, port, started)


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


async def delete_topic(s: Settings, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap, **security_kwargs(s))
    await admin.start()
    try:
        await admin.delete_topics([topic], timeout_ms=30_000)
        async with asyncio.timeout(60):
            while topic in await admin.list_topics():  # noqa: ASYNC110 (polls the broker)
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def list_topics(s: Settings) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap, **security_kwargs(s))
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
