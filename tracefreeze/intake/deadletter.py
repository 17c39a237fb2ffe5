"""Writing a State's answer that reached no request to ``tracefreeze.dead-letter``.

The record keeps the original bytes and key untouched; the dead-letter reason and the
original topic, partition and offset travel in ``tf_*`` headers, followed by the original
headers. The write is acknowledged by the broker (idempotent producer, acks=all) before the
bridge commits the answer's offset, so no answer is ever lost between the two topics.

A fetched batch's dead letters are sent together (``write_many``): every record is handed to
the producer in order, then every acknowledgement is awaited, so that a flood of garbage on
one partition costs one round trip per producer batch rather than one per record (the
idempotent producer keeps their order). The caller commits only once all were acknowledged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

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
from tracefreeze.within import within

MAX_HEADER_REASON_BYTES = 4000
HEADER_TIMESTAMP = "tf_original_timestamp"
"""The original record's broker timestamp (ms since the epoch; for an authenticated replay,
the first record's), so that a replay is judged by when the answer first reached Kafka."""
HEADER_VALUE_OMITTED = "tf_value_omitted"
"""Set (to the original size) only when the original bytes plus headers exceed the limit."""


def dead_letter_headers(
    record: ConsumerRecord,
    reason: DeadLetterReason,
    detail: str,
    received_ms: int | None = None,
) -> list[tuple[str, bytes]]:
    """The ``tf_*`` headers for one original record, then the record's own headers.
    ``received_ms`` overrides the record's timestamp (an authenticated replay's original)."""
    ours = [
        (HEADER_REASON_CODE, reason.value.encode()),
        (HEADER_REASON, detail.encode()[:MAX_HEADER_REASON_BYTES]),
        (HEADER_TOPIC, record.topic.encode()),
        (HEADER_PARTITION, str(record.partition).encode()),
        (HEADER_OFFSET, str(record.offset).encode()),
    ]
    stamp = received_ms if received_ms is not None else record.timestamp
    if stamp is not None and stamp > 0:
        ours.append((HEADER_TIMESTAMP, str(stamp).encode()))
    return ours + [(k, v) for k, v in (record.headers or ())]


@dataclass(frozen=True)
class Letter:
    """One dead letter to write: the original record, why, and (for an authenticated
    replay) the original broker timestamp."""

    record: ConsumerRecord
    reason: DeadLetterReason
    detail: str
    received_ms: int | None = None


class DeadLetters:
    """The dead-letter topic, written through an idempotent producer."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, timeout_s: float) -> None:
        self.producer = producer
        self.topic = topic
        self.timeout_s = timeout_s

    async def write_many(self, letters: list[Letter]) -> list[RecordMetadata | BaseException]:
        """Send every letter in order without waiting, then await every acknowledgement,
        all within the timeout: each letter's metadata, or the error that letter got (the
        caller retries those). Raises TimeoutError (then any of them may be written: write
        them all again; a duplicate dead letter is harmless, a lost one is not)."""
        async with asyncio.timeout(self.timeout_s):
            futures = [await self._enqueue(letter) for letter in letters]
            results = list(await asyncio.gather(*futures, return_exceptions=True))
            for i, result in enumerate(results):  # the broker's own size limit
                if isinstance(result, MessageSizeTooLargeError):
                    results[i] = await (await self._enqueue(letters[i], omit=True))
            return results

    async def _enqueue(self, letter: Letter, omit: bool = False) -> asyncio.Future[RecordMetadata]:
        record = letter.record
        headers = dead_letter_headers(record, letter.reason, letter.detail, letter.received_ms)
        if not omit:
            try:
                return await self.producer.send(
                    self.topic, value=record.value, key=record.key, headers=headers
                )
            except MessageSizeTooLargeError:
                pass
        size = str(len(record.value or b"")).encode()
        return await self.producer.send(
            self.topic, value=None, key=record.key, headers=[(HEADER_VALUE_OMITTED, size), *headers]
        )

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
        send = self.producer.send_and_wait(self.topic, value=value, key=key, headers=headers)
        return await within(self.timeout_s, send)
