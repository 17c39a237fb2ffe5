"""The publishing activity (one round of a request's outbox) against the real Kafka broker:
key, CloudEvents headers, body."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import structlog
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.publish import FOREIGN_TOPIC, EventPublisher
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import RequestEvent, RequestEventType
from schemas.ledger import RequestStatus
from schemas.outbox import PublishOutbox
from tracefreeze.config import Settings
from tracefreeze.kafka import (
    make_admin,
    make_consumer,
    make_producer,
    start_with_timeout,
    stop_with_timeout,
)
from workflows.request_outbox import PUBLISH_TIMEOUT

pytestmark = pytest.mark.stack


async def test_event_round_trips_through_kafka(stack: Settings) -> None:
    reference = f"ICC-01/22-REQ-T{uuid.uuid4().hex[:10].upper()}"
    event = RequestEvent(
        id=str(uuid.uuid4()),
        type=RequestEventType.TRANSMITTED,
        time=datetime.now(UTC),
        subject=reference,
        case_number="ICC-01/22",
        requested_state="NLD",
        status=RequestStatus.TRANSMITTED,
    )
    topic = stack.topics.request_events
    producer = make_producer(stack, client_id="test-publish")
    await start_with_timeout(producer, stack.kafka_timeout_s)
    try:
        publisher = EventPublisher(producer, timeout_s=stack.kafka_timeout_s)
        round_ = PublishOutbox(events_topic=topic, events=[event], escalations_topic=topic)
        await ActivityEnvironment().run(publisher.publish_outbox, round_)
    finally:
        await stop_with_timeout(producer, stack.kafka_timeout_s)

    consumer = make_consumer(stack, topic, group_id=f"test-publish-{uuid.uuid4().hex}")
    await start_with_timeout(consumer, stack.kafka_timeout_s)
    try:
        async with asyncio.timeout(30):
            async for record in consumer:
                if record.key == reference.encode():
                    break
    finally:
        await stop_with_timeout(consumer, stack.kafka_timeout_s)

    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == event.id.encode()
    assert headers["ce_source"] == event.source.encode()
    assert headers["ce_type"] == RequestEventType.TRANSMITTED.value.encode()
    assert headers["ce_subject"] == reference.encode()
    assert datetime.fromisoformat(headers["ce_time"].decode()) == event.time
    assert headers["content-type"] == b"application/json"
    assert RequestEvent.model_validate_json(record.value) == event


def test_a_round_gives_up_before_the_server_sends_it_again() -> None:
    """A publishing round waits ``kafka_timeout_s`` at most for the broker; the largest value
    the settings take stays below the round's limit on the server, so a round never runs on
    while the server has already handed the same events to another attempt."""
    bound = next(
        m.le for m in Settings.model_fields["kafka_timeout_s"].metadata if hasattr(m, "le")
    )
    assert bound < PUBLISH_TIMEOUT.total_seconds()
    with pytest.raises(ValidationError):
        Settings(kafka_timeout_s=PUBLISH_TIMEOUT.total_seconds())


async def test_a_round_naming_a_topic_not_the_courts_own_is_refused(stack: Settings) -> None:
    """The topics of a round come from its workflow's start input, which a client wrote: a
    request started with a State's channel as its events topic would have the worker send
    the Court's events there. The worker's publisher takes only its own topics;
    nothing is sent (the round is tried again with its back-off, so a worker whose topic
    settings are wrong holds its rounds, never fails its requests, RS 87(1)(a))."""
    own = frozenset({stack.topics.request_events, stack.topics.escalations})
    producer = make_producer(stack, client_id="test-publish-foreign")
    await start_with_timeout(producer, stack.kafka_timeout_s)
    try:
        publisher = EventPublisher(producer, timeout_s=stack.kafka_timeout_s, topics=own)
        foreign = "tracefreeze.party.nld.outbound"
        round_ = PublishOutbox(
            events_topic=foreign, events=[], escalations_topic=stack.topics.escalations
        )
        with pytest.raises(ApplicationError) as refused:
            await ActivityEnvironment().run(publisher.publish_outbox, round_)
        assert refused.value.type == FOREIGN_TOPIC and not refused.value.non_retryable
        assert foreign in str(refused.value)
        ours = round_.model_copy(update={"events_topic": stack.topics.request_events})
        assert await ActivityEnvironment().run(publisher.publish_outbox, ours) is not None
    finally:
        await stop_with_timeout(producer, stack.kafka_timeout_s)


async def test_a_round_failing_part_way_says_what_the_broker_took(stack: Settings) -> None:
    """The broker takes the round's event and refuses its escalation (too large for its
    topic): the round fails, to be sent again whole under the same ids, and its line names
    the event the broker already holds, with its offset, as an incomplete round, and the
    escalation refused, so no copy on a topic goes unaccounted for in the worker's log."""
    small = f"test-publish-small-{uuid.uuid4().hex[:8]}"
    admin = make_admin(stack)
    await start_with_timeout(admin, stack.kafka_timeout_s)
    try:
        topic = NewTopic(small, 1, 1, topic_configs={"max.message.bytes": "100"})
        await admin.create_topics([topic])
    finally:
        await stop_with_timeout(admin, stack.kafka_timeout_s)
    reference = f"ICC-01/22-REQ-T{uuid.uuid4().hex[:10].upper()}"
    now = datetime.now(UTC)
    event = RequestEvent(
        id=str(uuid.uuid4()),
        type=RequestEventType.TRANSMITTED,
        time=now,
        subject=reference,
        case_number="ICC-01/22",
        requested_state="NLD",
        status=RequestStatus.TRANSMITTED,
    )
    escalation = EscalationEvent(
        id=str(uuid.uuid4()),
        type="int.icc.tracefreeze.escalation.deadline_approaching.v1",
        time=now,
        subject=reference,
        case_number="ICC-01/22",
        requested_state="NLD",
        kind=EscalationKind.DEADLINE_APPROACHING,
        level=1,
    )
    round_ = PublishOutbox(
        events_topic=stack.topics.request_events,
        events=[event],
        escalations_topic=small,
        escalations=[escalation],
    )
    producer = make_producer(stack, client_id="test-publish-partial")
    await start_with_timeout(producer, stack.kafka_timeout_s)
    try:
        # Both topics known to the producer first: the round's time goes to sending alone.
        for topic_name in (small, stack.topics.request_events):
            async with asyncio.timeout(60):
                await producer.partitions_for(topic_name)
        publisher = EventPublisher(producer, timeout_s=stack.kafka_timeout_s)
        with structlog.testing.capture_logs() as logs, pytest.raises(KafkaError):
            await ActivityEnvironment().run(publisher.publish_outbox, round_)
    finally:
        await stop_with_timeout(producer, stack.kafka_timeout_s)
        await start_with_timeout(admin, stack.kafka_timeout_s)
        try:
            await admin.delete_topics([small])
        finally:
            await stop_with_timeout(admin, stack.kafka_timeout_s)

    said = {line["event"]: line for line in logs}
    taken = said["events published, round incomplete"]
    assert taken["event_ids"] == [event.id] and taken["topic"] == stack.topics.request_events
    assert len(taken["offsets"]) == 1 and taken["request_reference"] == reference
    assert said["event not published; Temporal will retry"]["event_id"] == escalation.id
    assert "events published" not in said
