"""The State kit: what a requested State's focal point needs to work with the Court's system.

- ``make_state_key``: an Ed25519 key pair; the private key stays with the State (mode 0600),
  the public key goes to the Registry, which adds it to the State key registry;
- ``read_channel``: the messages on the State's own outbound channel (its requests, the
  Court's decisions on them, its reminders; ``schemas/party.py``), read with the State's own
  Kafka principal, which the broker allows on that channel only;
- ``prepare_answer`` / ``send_answer(s)``: an answer checked against the answer contract,
  signed with the State's key (``tracefreeze/security/signing.py``, unchanged format) and sent
  to the
  answers topic as a CloudEvent (``tracefreeze/intake/envelope.py``) keyed by the request reference.

``tracefreeze state ...`` (``tracefreeze/cli/state.py``) is the command line over these; the
demo's State simulator (``tracefreeze/demo/simulator.py``) sends through ``send_answers`` too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from schemas.answers import STATE_ANSWER
from schemas.party import PartyMessage, PartyMessageType
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.envelope import answer_headers
from tracefreeze.intake.routing import Answer
from tracefreeze.kafka import make_producer, make_reader, start_with_timeout, stop_with_timeout
from tracefreeze.security.key_registry import StateKey
from tracefreeze.security.signing import keygen, load_private_key, sign
from tracefreeze.within import within

log = structlog.get_logger(__name__)

PUBLIC_SUFFIX = ".public.toml"
Headers = list[tuple[str, bytes]]


# --- keys ---------------------------------------------------------------------------------


def make_state_key(state: str, key_id: str, out_dir: Path) -> tuple[Path, Path, StateKey]:
    """A new key pair of ``state``: ``<out_dir>/<key_id>.pem`` (0600) and, for the Registry,
    ``<out_dir>/<key_id>.public.toml`` (one ``[[keys]]`` entry of the key registry)."""
    public = out_dir / f"{key_id}{PUBLIC_SUFFIX}"
    if public.exists():
        raise TracefreezeError(f"{public} exists; choose another key id")
    pem, entry = keygen(state, key_id, out_dir, public)
    return pem, public, entry


@dataclass(frozen=True)
class Signer:
    """A State's private key and the key id the Registry knows it by."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def from_file(cls, pem: Path, key_id: str | None = None) -> Signer:
        """The key in ``pem``; its key id is the file's name without ``.pem`` unless given."""
        return cls(load_private_key(pem), key_id or pem.name.removesuffix(".pem"))

    def sign(self, answer: Answer) -> tuple[bytes, Headers]:
        return sign(answer, self.private_key, self.key_id)


# --- answers ------------------------------------------------------------------------------


class InvalidAnswer(TracefreezeError):
    """The answer does not meet the contract; ``problems`` lists ``field: reason``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the answer is invalid:\n" + "\n".join(f"  {p}" for p in problems))


def prepare_answer(doc: Any, state: str) -> Answer:
    """``doc`` as an answer of ``state``: a fresh UUID ``event_id`` and ``sent_at`` now when
    absent, then the answer contract (``schemas/answers.py``); refused, field by field, when
    it does not validate or names another State."""
    if not isinstance(doc, dict):
        raise InvalidAnswer(["(document): an answer is a JSON object"])
    doc = {"event_id": str(uuid.uuid4()), "sent_at": datetime.now(UTC).isoformat()} | doc
    try:
        answer = STATE_ANSWER.validate_python(doc)
    except ValidationError as err:
        raise InvalidAnswer(
            [
                f"{'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}"
                for e in err.errors(include_url=False)
            ]
        ) from None
    if answer.state != state:
        raise InvalidAnswer([f"state: {answer.state} is not this State ({state})"])
    return answer


@dataclass(frozen=True)
class Sent:
    """What was sent: the answer and where Kafka put it."""

    answer: Answer
    key_id: str
    topic: str
    partition: int
    offset: int

    def summary(self) -> str:
        a = self.answer
        return (
            f"sent {a.answer_type} {a.event_id} for request {a.request_reference} "
            f"({a.state}), signed with key {self.key_id}, to {self.topic} "
            f"(partition {self.partition}, offset {self.offset})"
        )


async def send_answers(
    settings: Settings, signed: Sequence[tuple[Answer, bytes, Headers, str]]
) -> list[Sent]:
    """Send signed answers ``(answer, value, signature headers, key id)`` in order to the
    answers topic, each once the broker acknowledged the one before (acks=all)."""
    topic = settings.topics.state_answers
    producer = make_producer(settings, client_id="tracefreeze-state")
    await start_with_timeout(producer, settings.kafka_timeout_s)
    sent: list[Sent] = []
    try:
        for answer, value, signature, key_id in signed:
            send = producer.send_and_wait(
                topic,
                value=value,
                key=answer.request_reference.encode(),
                headers=answer_headers(answer) + signature,
            )
            meta = await within(settings.kafka_timeout_s, send)
            sent.append(Sent(answer, key_id, topic, meta.partition, meta.offset))
    finally:
        await stop_with_timeout(producer, settings.kafka_timeout_s)
    return sent


async def send_answer(settings: Settings, answer: Answer, signer: Signer) -> Sent:
    """Sign one checked answer (``prepare_answer``) with the State's key and send it."""
    value, signature = signer.sign(answer)
    (sent,) = await send_answers(settings, [(answer, value, signature, signer.key_id)])
    return sent


# --- the State's channel ------------------------------------------------------------------


async def read_channel(settings: Settings, state: str) -> list[PartyMessage]:
    """Every message now on ``state``'s outbound channel, oldest first (no consumer group:
    nothing is committed, each call reads the channel from its beginning)."""
    topic = settings.topics.party_channel(state)
    consumer = make_reader(settings, client_id=f"state-{state.lower()}")
    await start_with_timeout(consumer, settings.kafka_timeout_s)
    try:
        # The broker describes only the topics this principal may see (its channel).
        cluster = await within(settings.kafka_timeout_s, consumer._client.fetch_all_metadata())
        numbers = cluster.partitions_for_topic(topic)
        if not numbers:
            raise TracefreezeError(f"no channel {topic} on {settings.kafka_bootstrap}")
        assigned = [TopicPartition(topic, n) for n in sorted(numbers)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        messages: list[PartyMessage] = []
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(*assigned, timeout_ms=1000)
            for records in batches.values():
                messages += [m for m in map(_message, records) if m is not None]
        return messages
    finally:
        await stop_with_timeout(consumer, settings.kafka_timeout_s)


def _message(record: ConsumerRecord) -> PartyMessage | None:
    """A record of the channel as a message; one that is not is skipped, with a warning."""
    try:
        return PartyMessage.model_validate_json(record.value or b"")
    except ValidationError as err:
        log.warning(
            "a record on the channel is not a party message; skipped",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            errors=err.error_count(),
        )
        return None


def describe(message: PartyMessage) -> str:
    """A plain summary of one message, for the focal point."""
    when = message.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = f"{when}  {message.subject}"
    if message.type is PartyMessageType.REQUEST and message.request is not None:
        r = message.request
        assets = ", ".join(a.asset_id for a in r.known_assets) or "none known"
        return (
            f"{head}  REQUEST to {r.requested_state}: {', '.join(m.value for m in r.measures)} "
            f"({r.legal_basis.value}; {r.urgency.value}, {r.confidentiality.value}); "
            f"case {r.case_number}; assets: {assets}"
        )
    if message.type is PartyMessageType.DECISION and message.decision is not None:
        d = message.decision
        assets = "; ".join(f"{a.asset_id} {a.status.value}" for a in d.assets)
        return f"{head}  DECISION {d.action}: request now {d.status.value}" + (
            f"; {assets}" if assets else ""
        )
    reminder = message.reminder
    assert reminder is not None  # the contract: one body, of the message's type
    due = f", due {reminder.deadline:%Y-%m-%d}" if reminder.deadline else ""
    what = reminder.step or reminder.kind
    return f"{head}  REMINDER {what} ({reminder.stage or 'request'}{due})"
