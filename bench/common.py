"""What the benchmarks share: statistics, the State's signing key, the benchmark's answer
script (built with the tests' builders, tests/builders.py), a signed-answer producer, and Kafka
offsets."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import GroupCoordinatorNotAvailableError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from tests.builders import (
    acknowledgement,
    asset_management,
    execution_report,
    now,
    result,
    to,
)
from tracefreeze.config import Settings
from tracefreeze.demo.simulator import answer_headers
from tracefreeze.intake.routing import Answer
from tracefreeze.kafka import make_admin, make_producer, make_reader
from tracefreeze.security import key_registry, signing
from tracefreeze.temporal import access

ONCE = WorkflowIDReusePolicy.REJECT_DUPLICATE
"""Each benchmark's start takes an id never used: what the cluster's server asks of every
person's start (deploy/temporal-server), the benchmarks' clients acting as the officer."""

T = TypeVar("T")

STATE = "NLD"
ASSET_IDS = ("a-account-1", "a-apartment-1", "a-shares-1")
ASSET_MANAGER = "Asset Management Office (benchmark)"


# --- statistics -------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty sample."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median with min-max spread (and n) of repeated measurements."""
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def latency_stats(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p99/mean/max in milliseconds of one run's round trips."""
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
        "max_ms": max(ms) if ms else float("nan"),
        "n": len(ms),
    }


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline else float("nan")


async def bounded(n: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most ``n`` in flight; results in order."""
    sem = asyncio.Semaphore(n)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


# --- the State's signing key ------------------------------------------------------------


@dataclass(frozen=True)
class StateSigner:
    """A State's private key and key id, as registered in the bridge's key registry."""

    key: Ed25519PrivateKey
    key_id: str
    registry: Path

    def sign(self, answer: Answer) -> tuple[bytes, list[tuple[str, bytes]]]:
        value, headers = signing.sign(answer, self.key, self.key_id)
        return value, headers + answer_headers(answer)


def state_signer(state_dir: Path, state: str = STATE) -> StateSigner:
    """The demo key of ``state`` in ``state_dir``, made the way the product makes it.

    Uses ``tracefreeze.demo.keys.ensure_demo_keys`` when the product has it (keys at
    ``<state_dir>/keys/<STATE>.pem``), else ``tracefreeze.security.signing.keygen``; the registry is
    the one the bridge reads (``<state_dir>/keys/state-keys.toml``).
    """
    keys_dir = state_dir / "keys"
    registry_file = keys_dir / "state-keys.toml"
    from tracefreeze.demo import keys as demo_keys

    if hasattr(demo_keys, "ensure_demo_keys"):
        demo_keys.ensure_demo_keys(state_dir)
        if hasattr(demo_keys, "demo_signer"):
            key, key_id = demo_keys.demo_signer(state_dir, state)
            return StateSigner(key, key_id, registry_file)
    if not registry_file.exists() or not key_registry.load_registry(registry_file).for_state(state):
        signing.keygen(state, f"{state.lower()}-bench-1", keys_dir, registry_file)
    registry = key_registry.load_registry(registry_file)
    for entry in registry.for_state(state):
        for pem in (keys_dir / f"{entry.key_id}.pem", keys_dir / f"{state}.pem"):
            if not pem.exists():
                continue
            key = signing.load_private_key(pem)
            if signing.public_key_b64(key) == entry.public_key:
                return StateSigner(key, entry.key_id, registry_file)
    raise RuntimeError(f"no private key of {state} under {keys_dir} matches {registry_file}")


# --- requests and answers ---------------------------------------------------------------


def freeze_report(reference: str) -> Answer:
    """An execution report freezing the three known assets: they can be managed after."""
    results = [
        result(
            asset_id,
            "identify",
            "trace",
            "freeze",
            value=("100000.00", "EUR"),
            executing_authority="Public Prosecution Service",
        )
        for asset_id in ASSET_IDS
    ]
    return execution_report(to(reference, STATE), results, final=False, sent_at=now())


def management(reference: str, n: int) -> Answer:
    """An asset-management update (valuation) of a frozen asset: always a valid update."""
    return asset_management(
        to(reference, STATE),
        ASSET_IDS[n % len(ASSET_IDS)],
        f"{100000 + n}.50",
        asset_manager=ASSET_MANAGER,
        sent_at=now(),
    )


def fresh_acknowledgement(reference: str) -> Answer:
    """The State acknowledges, now (the intake refuses an answer sent too long ago)."""
    return acknowledgement(to(reference, STATE), sent_at=now())


def answer_script(reference: str, count: int, fresh: bool) -> list[Answer]:
    """``count`` valid answers for one request: acknowledgement and freeze first if fresh."""
    head = [fresh_acknowledgement(reference), freeze_report(reference)] if fresh else []
    return (head + [management(reference, i) for i in range(count)])[:count]


async def bare_client(settings: Settings) -> Client:
    """A plain Temporal client for a bare-engine baseline: the stack's address, namespace and
    credentials, the SDK's default data converter, none of the product's client."""
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, **access(settings)
    )


async def producer(settings: Settings, client_id: str = "bench-state") -> AIOKafkaProducer:
    """The State system's producer: the product's producer settings (idempotent, acks=all)."""
    p = make_producer(settings, client_id=client_id)
    await p.start()
    return p


async def send_signed(
    p: AIOKafkaProducer, settings: Settings, signer: StateSigner, answer: Answer, wait: bool
) -> Any:
    value, headers = signer.sign(answer)
    send = p.send_and_wait if wait else p.send
    return await send(
        settings.topics.state_answers,
        value=value,
        key=answer.request_reference.encode(),
        headers=headers,
    )


async def send_and_wait_taken(
    settings: Settings, signer: StateSigner, answers: list[Answer], timeout_s: float
) -> tuple[float, float | None]:
    """Produce ``answers`` signed and pipelined, then wait until the bridge's group has
    committed them all: (epoch seconds the first was sent, when all were committed or None)."""
    prod = await producer(settings)
    t0 = time.time()
    try:
        futures = [await send_signed(prod, settings, signer, a, wait=False) for a in answers]
        for f in futures:
            await f
    finally:
        await prod.stop()
    target = await end_offsets(settings, settings.topics.state_answers)
    done, _ = await wait_committed(settings, settings.topics.state_answers, target, timeout_s)
    return t0, done


# --- Kafka offsets ----------------------------------------------------------------------


async def partitions(settings: Settings, topic: str) -> list[TopicPartition]:
    """The partitions of a topic, from the broker's metadata."""
    admin = make_admin(settings, client_id="bench-admin")
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    ids = [p.get("partition", p.get("partition_index")) for p in described["partitions"]]
    if not ids:
        raise RuntimeError(f"topic {topic} has no partitions")
    return [TopicPartition(topic, i) for i in sorted(ids)]


async def end_offsets(settings: Settings, topic: str) -> dict[TopicPartition, int]:
    tps = await partitions(settings, topic)
    consumer = make_reader(settings, client_id="bench-offsets")
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def stamped_after_due(
    settings: Settings,
    since: dict[TopicPartition, int],
    header: str,
    expected: int,
    timeout_s: float,
) -> list[tuple[float, float]]:
    """The deadline each record on ``since``'s partitions from those offsets on carries in its
    ``header`` (epoch seconds; records without it are passed over) and how late after it the
    record was stamped on Kafka, until ``expected`` of them are read or ``timeout_s`` passed."""
    consumer = make_reader(settings, client_id="bench-timestamps")
    await consumer.start()
    found: list[tuple[float, float]] = []
    try:
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout_s
        while len(found) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            for records in batches.values():
                for r in records:
                    due = dict(r.headers or ()).get(header)
                    if due is not None:
                        found.append((float(due), r.timestamp / 1000 - float(due)))
    finally:
        await consumer.stop()
    return found


class GroupLag:
    """Committed offsets of a consumer group, read with one admin client."""

    def __init__(self, settings: Settings, group_id: str) -> None:
        self.group_id = group_id
        self.admin = make_admin(settings, client_id="bench-lag")

    async def __aenter__(self) -> GroupLag:
        await self.admin.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.close()

    async def committed(self, topic: str) -> dict[TopicPartition, int] | None:
        """The group's committed offsets; None (unknown, ask again) while the broker has no
        coordinator for it yet (a fresh broker makes its offsets topic on the first ask)."""
        try:
            offsets = await self.admin.list_consumer_group_offsets(self.group_id)
        except GroupCoordinatorNotAvailableError:
            return None
        return {tp: om.offset for tp, om in offsets.items() if tp.topic == topic and om.offset >= 0}


async def wait_committed(
    settings: Settings,
    topic: str,
    target: dict[TopicPartition, int],
    timeout_s: float,
    poll_s: float = 0.25,
    on_progress: Callable[[int, float], None] | None = None,
) -> tuple[float | None, list[tuple[float, int]]]:
    """Wait until the bridge's group committed ``target``; (time done, progress samples)."""
    progress: list[tuple[float, int]] = []
    async with GroupLag(settings, settings.bridge_group_id) as lag:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            committed = await lag.committed(topic)
            if committed is None:
                await asyncio.sleep(poll_s)
                continue
            remaining = sum(max(0, end - committed.get(tp, 0)) for tp, end in target.items())
            now = time.time()
            progress.append((now, remaining))
            if on_progress:
                on_progress(remaining, now)
            if remaining == 0:
                return now, progress
            await asyncio.sleep(poll_s)
    return None, progress


async def count_topic(settings: Settings, topic: str) -> int:
    """Number of records on a topic (sum of end offsets; nothing is compacted here)."""
    return sum((await end_offsets(settings, topic)).values())


def log_time(log: Path, needle: str) -> float | None:
    """Epoch seconds of the first JSON log line whose event is ``needle``."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if needle not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == needle and "timestamp" in entry:
            return datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
    return None
