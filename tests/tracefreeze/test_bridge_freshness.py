"""An answer's age is judged by when Kafka received it, and the age limit is never shorter
than what the answers topic keeps (pure: the gate with a fixed clock, the deploy files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from schemas.deadletter import DeadLetterReason
from tests.tracefreeze.gate_records import nld_signer, signed_record
from tracefreeze.config import REPO_ROOT, Settings
from tracefreeze.intake.gate import AnswerGate
from tracefreeze.security.key_registry import KeyRegistry
from tracefreeze.security.verify import Rejection

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
TOPICS = REPO_ROOT / "deploy" / "k8s" / "base" / "kafka-topics.yaml"


@pytest.fixture
def signed() -> tuple[Ed25519PrivateKey, AnswerGate]:
    return nld_signer(NOW)


def test_an_answer_kafka_kept_while_the_bridge_was_down_is_taken(
    signed: tuple[Ed25519PrivateKey, AnswerGate],
) -> None:
    """Sent and received ten days ago, read now (the bridge was down): within retention, so
    it is taken (the old gate judged it by the bridge's clock and refused it as too_old)."""
    private, gate = signed
    ten_days_ago = NOW - timedelta(days=10)
    taken = gate.check(signed_record(private, ten_days_ago, ten_days_ago + timedelta(seconds=2)))
    assert not isinstance(taken, Rejection), taken


def test_an_answer_that_reached_kafka_long_after_it_was_sent_is_too_old(
    signed: tuple[Ed25519PrivateKey, AnswerGate],
) -> None:
    private, gate = signed
    sent, received = NOW - timedelta(days=10), NOW - timedelta(minutes=1)
    late = gate.check(signed_record(private, sent, received))
    assert isinstance(late, Rejection) and late.reason is DeadLetterReason.TOO_OLD
    assert "before Kafka received it" in late.detail
    # Its event id was forgotten: the same record elsewhere is judged again, not a replay.
    again = gate.check(signed_record(private, sent, received, offset=1))
    assert isinstance(again, Rejection) and again.reason is DeadLetterReason.TOO_OLD


def test_a_producer_timestamp_in_the_future_is_taken_as_now(
    signed: tuple[Ed25519PrivateKey, AnswerGate],
) -> None:
    private, gate = signed
    sent = NOW - timedelta(days=10)
    forged = gate.check(signed_record(private, sent, NOW + timedelta(days=365)))
    assert isinstance(forged, Rejection) and forged.reason is DeadLetterReason.TOO_OLD


def retention_days(topic: str) -> float:
    for doc in yaml.safe_load_all(TOPICS.read_text()):
        if doc and doc["spec"]["topicName"] == topic:
            return int(doc["spec"]["config"]["retention.ms"]) / 86_400_000
    raise AssertionError(f"{topic} not in {TOPICS}")


def test_the_age_limit_is_at_least_the_answers_topics_retention() -> None:
    s = Settings()
    kept = retention_days(s.topics.state_answers)
    assert s.answers_retention_days >= kept
    assert s.answer_max_age_days >= kept + s.answer_max_delivery_days
    assert AnswerGate(KeyRegistry(keys=[])).tolerance.max_age >= timedelta(days=kept)


def test_settings_refuse_an_age_limit_shorter_than_what_kafka_keeps() -> None:
    with pytest.raises(ValidationError, match="retention"):
        Settings(answer_max_age_days=7, answers_retention_days=14)
