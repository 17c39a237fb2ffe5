"""The answer flow of the fault drills, and its exact count.

- ``Flow``: a few requests (each acknowledged and with one frozen asset), then N signed
  asset-management answers spread across them, produced at a steady pace by an idempotent
  producer; a send that fails for good is sent again by the drill and counted.
- ``Flow.count``: for every request, the accepted answers (``answers_seen``) and the asset's
  valuation history, and the ``answer.accepted`` events on the request-events topic (deduped
  by event id, then counted per ``caused_by``): sent / applied / duplicated / lost.
- the bridge group's lag on a topic, read with an admin client.

The processes (worker, bridge, the stack's services) are in drill.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from schemas.answers import (
    AnswerBase,
    AssetManagementUpdate,
    ExecutionReport,
)
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus
from schemas.views import RequestView
from tests.builders import (
    acknowledgement,
    asset_management,
    court_request,
    execution_report,
    now,
    result,
    to,
)
from tests.faults.drill import WAIT_S
from tests.faults.topic_reads import group_offsets, partitions_of, read_topic, reason_codes, reasons
from tests.signed import signed_record
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.security.kafka_security import security_kwargs
from tracefreeze.topics import ensure_topics

STATE = "NLD"
ASSET = "a-account-1"
MANAGER = "Fault-drill Asset Management Office"
SETUP_ANSWERS = 2
"""Acknowledgement + execution report (the asset frozen) per request, before the flow."""

N_REQUESTS = 6
"""One request per state-answers partition, so that every partition (and bridge) has work."""
ANSWERS_PER_REQUEST = 40
"""240 answers per drill."""
RATE_PER_S = 30.0
"""Pace of the flow, all requests together: about 8 s of answers."""

PRODUCER_TIMEOUT_MS = 45_000
"""An idempotent send waits this long (retrying inside the producer) before failing for good."""


# --- requests and answers -----------------------------------------------------------------


def references(n: int, partitions: int) -> list[str]:
    """``n`` fresh references whose Kafka keys land on distinct partitions (default
    partitioner: murmur2 of the key), so the answers of the flow use ``n`` partitions."""
    assert n <= partitions
    refs: dict[int, str] = {}
    tag = uuid.uuid4().hex[:6].upper()
    i = 0
    while len(refs) < n:
        ref = f"ICC-FAULT-{tag}-{i:04d}"
        refs.setdefault((murmur2(ref.encode()) & 0x7FFFFFFF) % partitions, ref)
        i += 1
    return [refs[p] for p in sorted(refs)]


def freeze_report(ref: str, state: str = STATE) -> ExecutionReport:
    """The drill's asset identified and frozen (EUR 400,000), so it can be valued after."""
    frozen = result(
        ASSET,
        "identify",
        "freeze",
        value=("400000.00", "EUR"),
        registry_reference="REG-FAULT-DRILL",
        executing_authority="Public Prosecution Service",
    )
    return execution_report(to(ref, state), [frozen], final=False, sent_at=now())


def valuation(ref: str, i: int) -> AssetManagementUpdate:
    """The ``i``-th valuation of the drill's frozen asset: always a valid answer."""
    return asset_management(
        to(ref), ASSET, f"{400_000 + i}.25", asset_manager=MANAGER, sent_at=now()
    )


def make_producer(s: Settings) -> AIOKafkaProducer:
    """As a State's system should produce: idempotent, acks=all, retrying for a long time."""
    return AIOKafkaProducer(
        bootstrap_servers=s.kafka_bootstrap,
        client_id=f"{s.task_queue}-state",
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=PRODUCER_TIMEOUT_MS,
        retry_backoff_ms=250,
        linger_ms=5,
        **security_kwargs(s),
    )


class EventTally:
    """``answer.accepted`` events on the request-events topic: deduped by event id (events are
    at least once), then counted per ``caused_by``."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.ids: set[str] = set()
        self.per_cause: Counter[str] = Counter()
        self.applied_at: dict[str, datetime] = {}
        """Per answer: the ``time`` of its first ``answer.accepted`` event (workflow time)."""
        self.order: list[str] = []
        """Answers in the order their first ``answer.accepted`` event was read (one request's
        events share a partition, so for one request this is the order it took them)."""
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap, enable_auto_commit=False, **security_kwargs(s)
        )

    async def __aenter__(self) -> EventTally:
        topic = self.s.topics.request_events
        await self.consumer.start()
        tps = partitions_of(self.s, topic)
        self.consumer.assign(tps)
        await self.consumer.seek_to_beginning(*tps)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def poll(self) -> None:
        for batch in (await self.consumer.getmany(timeout_ms=300)).values():
            for record in batch:
                event = json.loads(record.value)
                if event["type"] != RequestEventType.ANSWER_ACCEPTED or event["id"] in self.ids:
                    continue
                self.ids.add(event["id"])
                if event["caused_by"] not in self.per_cause:
                    self.order.append(event["caused_by"])
                self.per_cause[event["caused_by"]] += 1
                self.applied_at.setdefault(
                    event["caused_by"], datetime.fromisoformat(event["time"])
                )

    async def until(self, wanted: set[str], timeout_s: float) -> None:
        """Read until every id in ``wanted`` caused an event, or ``timeout_s`` passed."""
        deadline = time.monotonic() + timeout_s
        while not wanted <= self.per_cause.keys() and time.monotonic() < deadline:
            with contextlib.suppress(KafkaError):
                await self.poll()
        with contextlib.suppress(KafkaError):  # and a little more, for late duplicates
            for _ in range(3):
                await self.poll()


@dataclass
class Count:
    sent: int
    applied: int
    duplicated: int
    lost: int
    resent: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    per_request: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Per request: sent, accepted (answers_seen beyond the setup), valuation history growth."""
    dead_letter_reasons: list[str] = field(default_factory=list)
    """Each dead letter's code and detail, shown when a drill's assertion fails."""

    def line(self, drill: str, wall_s: float, extra: str = "") -> str:
        dead = ", ".join(f"{k} {v}" for k, v in sorted(self.dead_letters.items())) or "none"
        return (
            f"{drill}: sent {self.sent} / applied {self.applied} / duplicated {self.duplicated} "
            f"/ lost {self.lost} (resent by the producer side {self.resent}; dead-lettered: "
            f"{dead}{'; ' + extra if extra else ''}) in {wall_s:.1f}s"
        )


class Flow:
    """The drill's requests and the answers it sends them."""

    def __init__(self, s: Settings, client: RequestClient, producer: AIOKafkaProducer) -> None:
        self.s, self.client, self.producer = s, client, producer
        self.refs = references(N_REQUESTS, s.topics.partitions()[s.topics.state_answers])
        self.base_history: dict[str, int] = {}
        self.answers = {
            ref: [valuation(ref, i) for i in range(ANSWERS_PER_REQUEST)] for ref in self.refs
        }
        self.sent_ids: set[str] = set()
        self.positions: dict[str, tuple[int, int]] = {}
        """Event id -> (partition, offset) of its acknowledged copy on the answers topic."""
        self.acked_at: dict[str, datetime] = {}
        """Event id -> when the broker acknowledged it (this process's clock)."""
        self.resent = 0
        self.produced = 0

    @property
    def total(self) -> int:
        return sum(len(a) for a in self.answers.values())

    async def send(self, answer: AnswerBase) -> None:
        """Send until the broker acknowledged it; a send that failed for good is sent again
        (same bytes, same event id) and counted."""
        value, headers = signed_record(answer, self.s.state_dir)
        attempt = 0
        while True:
            try:
                meta = await self.producer.send_and_wait(
                    self.s.topics.state_answers,
                    value=value,
                    key=answer.request_reference.encode(),
                    headers=headers,
                )
                self.positions[answer.event_id] = (meta.partition, meta.offset)
                self.acked_at[answer.event_id] = datetime.now(UTC)
                return
            except KafkaError:
                attempt += 1
                if attempt > 20:
                    raise
                self.resent += 1
                await asyncio.sleep(1.0)

    async def prepare_topics(self) -> None:
        await ensure_topics(self.s)

    async def prepare(self) -> None:
        """Submit the requests; acknowledge each and freeze its asset through Kafka."""
        for ref in self.refs:
            await self.client.submit(court_request(reference=ref))
        for ref in self.refs:
            await self.send(acknowledgement(to(ref), sent_at=now()))
            await self.send(freeze_report(ref))
        for ref in self.refs:
            view = await self.wait_view(
                ref,
                lambda v: (
                    v.answers_seen == SETUP_ANSWERS
                    and v.ledger.entries[ASSET].status is AssetStatus.FROZEN
                ),
            )
            self.base_history[ref] = len(view.ledger.entries[ASSET].history)

    async def wait_view(
        self,
        ref: str,
        ok: Callable[[RequestView], bool],
        timeout_s: float = WAIT_S,
        state: str = STATE,
    ) -> RequestView:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                view = await self.client.view(ref, state)
            except Exception:
                if time.monotonic() > deadline:
                    raise
            else:
                if ok(view) or time.monotonic() > deadline:
                    return view
            await asyncio.sleep(0.2)

    async def produce(self, rate_per_s: float = RATE_PER_S, part: slice = slice(None)) -> None:
        """Every answer of the flow (or each request's ``part`` of its answers), round robin
        over the requests, at ``rate_per_s``."""
        n = len(self.refs)

        async def one_request(k: int, answers: list[AssetManagementUpdate]) -> None:
            started = time.monotonic()
            for i, answer in enumerate(answers):
                due = started + (i * n + k) / rate_per_s
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                self.sent_ids.add(answer.event_id)
                await self.send(answer)
                self.produced += 1

        await asyncio.gather(
            *(one_request(k, self.answers[ref][part]) for k, ref in enumerate(self.refs))
        )

    async def until_produced(self, fraction: float) -> None:
        """Until that fraction of the flow was acknowledged by the broker."""
        async with asyncio.timeout(WAIT_S):
            while True:
                if self.produced >= fraction * self.total:
                    return
                await asyncio.sleep(0.05)

    async def accepted(self) -> int:
        """Answers of the flow the requests accepted so far, together."""
        views = [await self.client.view(ref, STATE) for ref in self.refs]
        return sum(v.answers_seen - SETUP_ANSWERS for v in views)

    async def until_accepted(self, count: int) -> None:
        """Until the requests together accepted at least ``count`` answers of the flow."""
        async with asyncio.timeout(WAIT_S):
            while True:
                with contextlib.suppress(Exception):
                    if await self.accepted() >= count:
                        return
                await asyncio.sleep(0.1)

    async def accepted_not_committed(self) -> set[str]:
        """Answers of the flow the requests applied whose offsets the bridge's consumer group
        has not committed: the answers a bridge will be handed again."""
        topic = self.s.topics.state_answers
        committed = {
            tp.partition: n
            for tp, n in (await group_offsets(self.s, self.s.bridge_group_id, topic)).items()
        }
        applied = set()
        for ref in self.refs:
            view = await self.client.view(ref, STATE)
            applied |= {c.event_id for c in view.ledger.entries[ASSET].history}
        return {
            i
            for i in applied & self.positions.keys()
            if self.positions[i][1] >= committed[self.positions[i][0]]
        }

    async def count(self) -> Count:
        """Wait (bounded) for every answer to be applied and announced, then count exactly."""
        for ref in self.refs:
            want = SETUP_ANSWERS + len(self.answers[ref])
            await self.wait_view(ref, lambda v, want=want: v.answers_seen >= want)
        views = {ref: await self.client.view(ref, STATE) for ref in self.refs}
        async with EventTally(self.s) as tally:
            await tally.until(self.sent_ids, WAIT_S)
        applied = duplicated = lost = 0
        per_request: dict[str, tuple[int, int, int]] = {}
        for ref in self.refs:
            view = views[ref]
            history = view.ledger.entries[ASSET].history
            in_history = Counter(c.event_id for c in history)
            for answer in self.answers[ref]:
                times = max(in_history[answer.event_id], tally.per_cause[answer.event_id])
                once = in_history[answer.event_id] >= 1 and tally.per_cause[answer.event_id] >= 1
                applied += once
                lost += not once
                duplicated += max(0, times - 1)
            per_request[ref] = (
                len(self.answers[ref]),
                view.answers_seen - SETUP_ANSWERS,
                len(history) - self.base_history[ref],
            )
        dead = await read_topic(self.s, self.s.topics.dead_letter)
        return Count(
            sent=self.total,
            applied=applied,
            duplicated=duplicated,
            lost=lost,
            resent=self.resent,
            dead_letters=reason_codes(dead),
            per_request=per_request,
            dead_letter_reasons=reasons(dead),
        )


def check_exact(count: Count) -> None:
    """0 lost, 0 applied twice, and every request's own counts exact."""
    assert count.applied == count.sent, count
    assert count.lost == 0 and count.duplicated == 0, count
    for ref, (sent, accepted, history) in count.per_request.items():
        assert accepted == sent == history, (ref, sent, accepted, history)
