"""Only an operator's replay is a replay: the bridge takes ``tf_replayed_from`` at its word only
under the Court's replay MAC, judges an authenticated replay by when Kafka first received the
answer, and the replay guard is bounded per State (pure: the gate with a fixed clock).

RS art. 93(1): each State's request is its own; a State that marks its own answers as
"replays" must not escape its answer budget or jump the parking of a stuck request, which
would hold the partition it shares with other States' answers.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.deadletter import HEADER_REPLAYED_FROM, DeadLetterReason
from tests.tracefreeze.gate_records import ms, nld_gate, signed_record
from tracefreeze.intake.deadletter import HEADER_TIMESTAMP, dead_letter_headers
from tracefreeze.intake.dlq import parse, replay_headers
from tracefreeze.intake.gate import AnswerGate
from tracefreeze.intake.replay_auth import (
    HEADER_REPLAY_MAC,
    HEADER_REPLAY_RECEIVED,
    KEY_ENV,
    KEY_FILE,
    check,
    replay_key,
)
from tracefreeze.intake.replay_auth import replay_headers as signed_headers
from tracefreeze.security.replay_guard import ReplayGuard
from tracefreeze.security.verify import Rejection

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
KEY = os.urandom(32)


@pytest.fixture
def private() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def gate(private: Ed25519PrivateKey, key: bytes | None = KEY) -> AnswerGate:
    return nld_gate(private, NOW, replay_key=key)


def as_replay(r: ConsumerRecord, first_received: datetime, key: bytes = KEY) -> ConsumerRecord:
    """The record as ``dlq replay`` brings it back now: new broker timestamp, MAC'd headers."""
    ours = signed_headers(key, "1:7", ms(first_received), "registry-officer-7", r.key, r.value)
    return dataclasses.replace(r, headers=[*r.headers, *ours], timestamp=ms(NOW), offset=99)


def test_a_bare_replay_header_is_not_a_replay(private: Ed25519PrivateKey) -> None:
    """H2: any producer can write ``tf_replayed_from``; without the MAC it counts for nothing."""
    forged = signed_record(private, NOW, NOW, [(HEADER_REPLAYED_FROM, b"0:1")])
    g = gate(private)
    mark = g.replay(forged)
    assert mark.claimed and not mark.authentic and "missing" in mark.problem
    assert not isinstance(g.check(forged), Rejection)  # taken, as a fresh answer


def test_an_operators_replay_verifies_and_any_change_breaks_it(private: Ed25519PrivateKey) -> None:
    first = NOW - timedelta(hours=1)
    genuine = as_replay(signed_record(private, first, first), first)
    g = gate(private)
    assert g.replay(genuine).authentic
    assert g.replay(genuine).received_ms == ms(first)
    # Another value, key, timestamp or operator under the same MAC: not a replay.
    tampered = [
        dataclasses.replace(genuine, value=genuine.value + b" "),
        dataclasses.replace(genuine, key=b"ICC-01/14-REQ-0043"),
        dataclasses.replace(
            genuine,
            headers=[(k, b"1" if k == HEADER_REPLAY_RECEIVED else v) for k, v in genuine.headers],
        ),
        dataclasses.replace(
            genuine,
            headers=[(k, b"x" if k == "tf_replayed_by" else v) for k, v in genuine.headers],
        ),
        dataclasses.replace(genuine, headers=[*genuine.headers, (HEADER_REPLAY_MAC, b"x")]),
    ]
    for bad in tampered:
        mark = check(KEY, bad.key, bad.value, bad.headers)
        assert mark.claimed and not mark.authentic, bad
    # A MAC under another key (a State guessing) or a bridge without the key: not a replay.
    assert not g.replay(
        as_replay(signed_record(private, first, first), first, key=os.urandom(32))
    ).authentic
    assert not gate(private, key=None).replay(genuine).authentic


def test_a_replay_is_judged_by_when_kafka_first_received_it(private: Ed25519PrivateKey) -> None:
    """M3: parked eight days ago (sent and received then, fresh), replayed now: taken."""
    eight_days_ago = NOW - timedelta(days=8)
    original = signed_record(private, eight_days_ago, eight_days_ago + timedelta(seconds=2))
    replayed = as_replay(original, eight_days_ago + timedelta(seconds=2))
    taken = gate(private).check(replayed)
    assert not isinstance(taken, Rejection), taken
    # The same bytes with a forged replay claim (or none) are judged by their own timestamp.
    forged = dataclasses.replace(
        original,
        timestamp=ms(NOW),
        offset=100,
        headers=[*original.headers, (HEADER_REPLAYED_FROM, b"1:7")],
    )
    late = gate(private).check(forged)
    assert isinstance(late, Rejection) and late.reason is DeadLetterReason.TOO_OLD


def test_a_replay_older_than_the_age_limit_when_first_received_is_still_too_old(
    private: Ed25519PrivateKey,
) -> None:
    """The original timestamp does not launder an answer that was stale when it arrived."""
    sent, first = NOW - timedelta(days=30), NOW - timedelta(days=20)
    late = gate(private).check(as_replay(signed_record(private, sent, first), first))
    assert isinstance(late, Rejection) and late.reason is DeadLetterReason.TOO_OLD


def test_the_dead_letter_keeps_the_first_timestamp_and_dlq_replay_signs_it(
    private: Ed25519PrivateKey,
) -> None:
    first = NOW - timedelta(days=9)
    original = signed_record(private, first, first)
    headers = dead_letter_headers(original, DeadLetterReason.STUCK, "why")
    assert (HEADER_TIMESTAMP, str(ms(first)).encode()) in headers
    dead_record = dataclasses.replace(original, headers=headers, timestamp=ms(NOW), offset=7)
    dead = parse(dead_record)
    assert dead.received_ms == ms(first)
    out = replay_headers(dead, "registry-officer-7", KEY)
    again = dataclasses.replace(original, headers=out, timestamp=ms(NOW), offset=50)
    mark = gate(private).replay(again)
    assert mark.authentic and mark.received_ms == ms(first)
    assert not isinstance(gate(private).check(again), Rejection)
    # A replay dead-lettered again keeps the first timestamp, not the replay's.
    twice = dead_letter_headers(again, DeadLetterReason.STUCK, "why", mark.received_ms)
    assert parse(dataclasses.replace(again, headers=twice)).received_ms == ms(first)


def test_the_replay_key_file_is_made_once_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert replay_key(tmp_path) is None
    made = replay_key(tmp_path, ensure=True)
    assert made is not None and len(made) == 32
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert replay_key(tmp_path, ensure=True) == made
    env_key = os.urandom(32)
    monkeypatch.setenv(KEY_ENV, base64.b64encode(env_key).decode())
    assert replay_key(tmp_path) == env_key


def test_one_states_flood_never_evicts_another_states_replay_guard_entries() -> None:
    """L1: the guard is bounded per State; BEL's ten thousand ids evict only BEL's own."""
    guard = ReplayGuard(max_entries=100, ttl=timedelta(days=21))
    guard.record("NLD", "nld-1", NOW, ("t", 0, 1))
    for i in range(10_000):
        guard.record("BEL", f"bel-{i}", NOW, ("t", 0, 2 + i))
    assert ("NLD", "nld-1") in guard
    assert guard.replayed("NLD", "nld-1", NOW, ("t", 3, 9))  # still caught
    assert ("BEL", "bel-0") not in guard and ("BEL", "bel-9999") in guard
    assert len(guard) == 101
    guard.forget("nld-1")
    assert ("NLD", "nld-1") not in guard
