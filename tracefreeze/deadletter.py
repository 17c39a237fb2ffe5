"""Writing a State's answer that reached no request to ``tracefreeze.dead-letter``.

The record keeps the original bytes and key untouched; the dead-letter reason and the
original topic, partition and offset travel in ``tf_*`` headers, followed by the original
headers. The write is acknowledged by the broker (idempotent producer, acks=all) before the
bridge commits the answer's offset, so no answer is ever lost between the two topics.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import ConsumerRecord, RecordMetadata

from schemas.deadletter import (
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REASON,
    HEADER_REASON_CODE,
    HEADER_TOPIC,
    DeadLetterReason,
)

MAX_HEADER_REASON_BYTES = 4000
HEADER_VALUE_OMITTED = "tf_value_omitted"
"""Set (to the original size) only when the original bytes plus headers exceed the limit."""


def dead_letter_headers(
    record: ConsumerRecord, reason: DeadLetterReason, detail: str
) -> list[tuple[str, bytes]]:
    """The ``tf_*`` headers for one original record, then the record's own headers."""
    ours = [
        (HEADER_REASON_CODE, reason.value.encode()),
        (HEADER_REASON, detail.encode()[:MAX_HEADER_REASON_BYTES]),
        (HEADER_TOPIC, record.topic.encode()),
        (HEADER_PARTITION, str(record.partition).encode()),
        (HEADER_OFFSET, str(record.offset).encode()),
    ]
    return ours + [(k, v) for k, v in (record.headers or ())]


class DeadLetters:
    """The dead-letter topic, written through an idempotent producer, one ack per record."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, timeout_s: float) -> None:
        self.producer = producer
        self.topic = topic
        self.timeout_s = timeout_s

    async def write(
        self, record: ConsumerRecord, reason: DeadLetterReason, detail: str
    ) -> RecordMetadata:
        """Send and wait for the broker's ack; raises (TimeoutError, KafkaError) otherwise.

        Should the original bytes with our headers exceed the producer's request limit (an
        OVERSIZE answer at the broker's own limit), the record keeps key and headers but not
        the value; the original stays readable at its topic, partition and offset.
        """
        headers = dead_letter_headers(record, reason, detail)
        try:
            return await self._send(record.key, record.value, headers)
        except MessageSizeTooLargeError:
            size = str(len(record.value or b"")).encode()
            return await self._send(record.key, None, [(HEADER_VALUE_OMITTED, size), *headers])

    async def _send(
        self, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> RecordMetadata:
        return await asyncio.wait_for(
            self.producer.send_and_wait(self.topic, value=value, key=key, headers=headers),
            timeout=self.timeout_s,
        )
