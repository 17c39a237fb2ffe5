"""Hostile input through Kafka: over a thousand bad messages, each dead-lettered with its reason.

A real ``tracefreeze bridge`` process (and worker) on the drills' own stack; six requests are
prepared (acknowledged, one asset frozen) and their views kept. Then a flood of malformed,
oversized (over ``MAX_ANSWER_BYTES``), wrongly typed, unsigned or badly signed, misaddressed,
replayed and stale messages is produced to the answers topic. Every one must land in the
dead-letter topic, at its own original partition and offset, with the expected reason code;
the bridge must stay up; its consumer group's lag must return to 0; and no request may change
(views equal, no ``answer.accepted`` event for any of them). A valid answer after the flood is
still applied.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiokafka.structs import RecordMetadata

from schemas.deadletter import HEADER_OFFSET, HEADER_PARTITION, HEADER_REASON
from tests.faults.drill import RESULTS, App, isolated
from tests.faults.flow import (
    ASSET,
    SETUP_ANSWERS,
    STATE,
    EventTally,
    Flow,
    valuation,
)
from tests.faults.running import running_flow
from tests.faults.topic_reads import group_lag, read_topic, reason_codes
from tests.signed import Headers, signed_bytes, signed_record
from tracefreeze.config import Settings
from tracefreeze.demo.simulator import answer_headers
from tracefreeze.intake.routing import MAX_ANSWER_BYTES
from tracefreeze.security.canonical import HEADER_KEY_ID, canonical_bytes

pytestmark = [pytest.mark.stack, pytest.mark.faults]

FLOOD_WAIT_S = 180.0


@dataclass(frozen=True)
class Bad:
    """One hostile message and the reason code it must be dead-lettered with."""

    reason: str
    key: bytes
    value: bytes | None
    headers: Headers
    event_id: str | None = None


@pytest.fixture
async def flood(fault_stack: Settings) -> AsyncIterator[tuple[Flow, App]]:
    s = isolated(fault_stack, "flood")
    async with running_flow(s) as (flow, _worker, bridge):
        yield flow, bridge


def _answer_json(ref: str, i: int) -> dict[str, Any]:
    return valuation(ref, i).model_dump(mode="json")


def _signed_json(body: dict[str, Any], s: Settings, state: str = STATE) -> tuple[bytes, Headers]:
    value = canonical_bytes(body)
    return value, signed_bytes(value, state, s.state_dir)


WRONG_TYPES: list[Callable[[dict[str, Any]], None]] = [
    lambda d: d["value"].update(amount="lots of money"),
    lambda d: d.update(answer_type="bribe"),
    lambda d: d.update(sent_at="yesterday"),
    lambda d: d.update(state=7),
    lambda d: d.update(asset_id=["a-account-1", "a-account-2"]),
    lambda d: d.pop("value"),
    lambda d: d.update(value="400000 EUR"),
    lambda d: d.update(kind=True),
    lambda d: d.update(request_reference=None),
    lambda d: d.update(event_id=""),
]
"""Signed, well-formed JSON objects that are not a valid answer: ``invalid``."""


def hostile(flow: Flow, setup: list[tuple[bytes, Headers]]) -> list[Bad]:
    """The flood: about 1,030 messages across every kind of bad input."""
    s, refs = flow.s, flow.refs
    out: list[Bad] = []

    def add(reason: str, n: int, make: Callable[[int, str], Bad | tuple[bytes | None, Headers]]):
        for i in range(n):
            ref = refs[i % len(refs)]
            made = make(i, ref)
            out.append(made if isinstance(made, Bad) else Bad(reason, ref.encode(), *made))

    # Malformed: signed bytes that are not a JSON object, and a message with no value at all.
    def raw(value: bytes) -> tuple[bytes, Headers]:
        return value, signed_bytes(value, STATE, s.state_dir)

    dup = b'{"event_id": "dup-%08d", "event_id": "again", "state": "NLD"}'
    deep = b'{"event_id": "deep-%08d", "x": ' + b"[" * 60_000 + b"]" * 60_000 + b"}"
    add("malformed", 100, lambda i, _: raw(b"not json {%d" % i))
    add("malformed", 50, lambda i, _: raw(b"[%d, 2, 3]" % i))
    add("malformed", 50, lambda i, _: (None, []))
    add("malformed", 50, lambda i, _: raw(b"\xff\xfe\x00%d" % i))
    add("malformed", 25, lambda i, _: raw(dup % i))
    add("malformed", 10, lambda i, _: raw(deep % i))

    # Oversize: over MAX_ANSWER_BYTES, unsigned padding or a validly signed huge answer.
    def oversize(i: int, ref: str) -> tuple[bytes, Headers]:
        if i % 2:
            return b"{" + b" " * (MAX_ANSWER_BYTES + i) + b"}", []
        body = _answer_json(ref, i) | {"asset_manager": "x" * (MAX_ANSWER_BYTES + i)}
        return _signed_json(body, s)

    add("oversize", 20, oversize)

    # Wrongly typed: signed JSON objects that fail validation.
    def wrong(i: int, ref: str) -> Bad:
        body = _answer_json(ref, 10_000 + i)
        WRONG_TYPES[i % len(WRONG_TYPES)](body)
        return Bad("invalid", ref.encode(), *_signed_json(body, s))

    add("invalid", 200, wrong)

    # Unsigned, badly signed, signed with a key nobody registered.
    def answer(ref: str, i: int, **sign: Any) -> tuple[bytes, Headers, str]:
        a = valuation(ref, 20_000 + i)
        value, headers = signed_record(a, s.state_dir, **sign)
        return value, headers, a.event_id

    def unsigned(i: int, ref: str) -> Bad:
        a = valuation(ref, 30_000 + i)
        value = canonical_bytes(a.model_dump(mode="json"))
        return Bad("missing_signature", ref.encode(), value, answer_headers(a), a.event_id)

    def bad_signature(i: int, ref: str) -> Bad:
        value, headers, event_id = answer(ref, i)
        forged = value.replace(b"Fault-drill", b"Forged-body")
        assert forged != value
        return Bad("bad_signature", ref.encode(), forged, headers, event_id)

    def unknown_key(i: int, ref: str) -> Bad:
        value, headers, event_id = answer(ref, 40_000 + i)
        headers = [
            (k, b"nld-flood-unknown-%d" % i if k == HEADER_KEY_ID else v) for k, v in headers
        ]
        return Bad("unknown_key", ref.encode(), value, headers, event_id)

    add("missing_signature", 150, unsigned)
    add("bad_signature", 75, bad_signature)
    add("unknown_key", 50, unknown_key)

    # Misaddressed: NLD's answer signed by France; Belgium answering a request to NLD.
    def misaddressed(i: int, ref: str) -> Bad:
        value, headers, event_id = answer(ref, 50_000 + i, as_state="FRA")
        return Bad("misaddressed", ref.encode(), value, headers, event_id)

    def other_state(i: int, ref: str) -> Bad:
        a = valuation(ref, 60_000 + i).model_copy(update={"state": "BEL"})
        return Bad("unknown_request", ref.encode(), *signed_record(a, s.state_dir), a.event_id)

    def other_key(i: int, ref: str) -> Bad:  # Kafka key of another request than the body's
        value, headers, event_id = answer(ref, 65_000 + i)
        other = refs[(refs.index(ref) + 1) % len(refs)]
        return Bad("envelope", other.encode(), value, headers, event_id)

    add("misaddressed", 150, misaddressed)
    add("unknown_request", 50, other_state)
    add("envelope", 30, other_key)

    # Replayed: the setup answers, already accepted, sent again (new offsets).
    for k in range(3):
        for value, headers in setup:
            out.append(Bad("replayed", refs[k].encode(), value, headers))

    # Stale and from the future, validly signed.
    def dated(reason: str, delta: timedelta) -> Callable[[int, str], Bad]:
        def make(i: int, ref: str) -> Bad:
            a = valuation(ref, 70_000 + i)
            a = a.model_copy(update={"sent_at": a.sent_at + delta})
            return Bad(reason, ref.encode(), *signed_record(a, s.state_dir), a.event_id)

        return make

    add("too_old", 20, dated("too_old", -timedelta(days=9)))
    add("from_future", 20, dated("from_future", timedelta(hours=2)))
    return out


async def test_flood_of_hostile_messages_is_dead_lettered(flood: tuple[Flow, App]) -> None:
    flow, bridge = flood
    s = flow.s
    started = time.monotonic()
    before = {ref: await flow.client.view(ref, STATE) for ref in flow.refs}
    setup = [
        (record.value, list(record.headers))
        for record in await read_topic(s, s.topics.state_answers)
    ]
    assert len(setup) == SETUP_ANSWERS * len(flow.refs)
    bad = hostile(flow, setup)
    assert len(bad) >= 1000

    sends = [
        await flow.producer.send(
            s.topics.state_answers, value=b.value, key=b.key, headers=b.headers
        )
        for b in bad
    ]
    metas: list[RecordMetadata] = await asyncio.gather(*sends)
    expected = {(m.partition, m.offset): b.reason for m, b in zip(metas, bad, strict=True)}
    produced = time.monotonic() - started

    async def dead_lettered() -> list[Any]:
        return await read_topic(s, s.topics.dead_letter)

    deadline = time.monotonic() + FLOOD_WAIT_S
    while True:  # bounded; on time out the assertions below say what is missing
        dead = await dead_lettered()
        lag = await group_lag(s, s.bridge_group_id, s.topics.state_answers)
        if (len(dead) >= len(bad) and lag == 0) or time.monotonic() > deadline:
            break
        assert bridge.running, bridge.tail()
        await asyncio.sleep(1.0)
    drained = time.monotonic() - started

    got = {
        (int(dict(r.headers)[HEADER_PARTITION]), int(dict(r.headers)[HEADER_OFFSET])): r
        for r in dead
    }
    assert lag == 0
    assert len(got) == len(dead) == len(bad), reason_codes(dead)  # each dead-lettered once
    wrong = {
        pos: (reason, dict(got[pos].headers).get(HEADER_REASON, b"").decode()[:200])
        for pos, reason in expected.items()
        if pos not in got or reason_codes([got[pos]]) != Counter([reason])
    }
    assert not wrong, wrong
    assert bridge.running

    after = {ref: await flow.client.view(ref, STATE) for ref in flow.refs}
    changed = [
        ref
        for ref in flow.refs
        if (after[ref].answers_seen, after[ref].status, after[ref].ledger, after[ref].timeline)
        != (before[ref].answers_seen, before[ref].status, before[ref].ledger, before[ref].timeline)
    ]
    flood_ids = {b.event_id for b in bad if b.event_id}
    async with EventTally(s) as tally:
        await tally.until(set(), 0)
    reached = len(changed) + len(flood_ids & tally.per_cause.keys())

    by_reason = reason_codes(dead)
    line = (
        f"flood: sent {len(bad)} / dead-lettered {len(dead)} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(by_reason.items()))}) / reached a workflow "
        f"{reached}; bridge up, group lag {lag}; produced in {produced:.1f}s, "
        f"drained in {drained:.1f}s (limit {MAX_ANSWER_BYTES} bytes)"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert by_reason == Counter(b.reason for b in bad)
    assert reached == 0, (changed, flood_ids & tally.per_cause.keys())

    # Still up and still applying: a valid answer after the flood reaches its request.
    last = valuation(flow.refs[0], 99_999)
    await flow.send(last)
    view = await flow.wait_view(
        flow.refs[0], lambda v: v.answers_seen == before[flow.refs[0]].answers_seen + 1
    )
    assert view.ledger.entries[ASSET].history[-1].event_id == last.event_id
