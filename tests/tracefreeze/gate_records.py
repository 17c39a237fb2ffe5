"""What the pure tests of the intake's gate share: the Netherlands' signing key in a registry,
a gate with a fixed clock, and signed answers as the consumer hands them over (Kafka records
with the broker's timestamp), keyed by one request reference."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.answers import Acknowledgement
from tests.builders import acknowledgement, to
from tracefreeze.intake.envelope import answer_headers
from tracefreeze.intake.gate import AnswerGate
from tracefreeze.security.signing import KeyRegistry, StateKey, public_key_b64, sign

REFERENCE = "ICC-01/14-REQ-0042"
KEY_ID = "nld-2026-1"
TOPIC = "tracefreeze.state-answers"
Headers = list[tuple[str, bytes]]


def nld_gate(
    private: Ed25519PrivateKey, now: datetime, replay_key: bytes | None = None
) -> AnswerGate:
    """A gate that knows one key of the Netherlands (``private``'s) and whose clock says ``now``."""
    key = StateKey(
        key_id=KEY_ID,
        state="NLD",
        public_key=public_key_b64(private),
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return AnswerGate(KeyRegistry(keys=[key]), clock=lambda: now, replay_key=replay_key)


def nld_signer(now: datetime) -> tuple[Ed25519PrivateKey, AnswerGate]:
    """A fresh private key of the Netherlands and a gate that knows it, its clock at ``now``."""
    private = Ed25519PrivateKey.generate()
    return private, nld_gate(private, now)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def event_id(sent_at: datetime) -> str:
    """A UUID (v4 layout) fixed by ``sent_at``: the same answer gets the same id."""
    digest = hashlib.sha256(sent_at.isoformat().encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def nld_acknowledgement(sent_at: datetime, **fields: str) -> Acknowledgement:
    """The Netherlands acknowledges ``REFERENCE`` at ``sent_at`` (its event id fixed by it)."""
    fields = {"event_id": event_id(sent_at), "authority": "Centrale Autoriteit IRH", **fields}
    return acknowledgement(to(REFERENCE), sent_at=sent_at, **fields)


def kafka_record(
    value: bytes, headers: Headers, timestamp_ms: int = 0, offset: int = 0
) -> ConsumerRecord:
    """``value`` as the consumer reads it from the answers topic, keyed by ``REFERENCE``."""
    return ConsumerRecord(
        topic=TOPIC, partition=0, offset=offset, timestamp=timestamp_ms,
        timestamp_type=1 if timestamp_ms else 0, key=REFERENCE.encode(), value=value,
        checksum=None, serialized_key_size=len(REFERENCE), serialized_value_size=len(value),
        headers=headers,
    )  # fmt: skip


def signed_record(
    private: Ed25519PrivateKey,
    sent_at: datetime,
    received: datetime,
    extra: Headers | None = None,
    offset: int = 0,
) -> ConsumerRecord:
    """An acknowledgement sent at ``sent_at``, signed by ``private``, that Kafka received at
    ``received`` (the record's timestamp), with ``extra`` headers after the envelope's."""
    answer = nld_acknowledgement(sent_at)
    value, signature = sign(answer, private, KEY_ID)
    headers = answer_headers(answer) + signature + (extra or [])
    return kafka_record(value, headers, ms(received), offset)
