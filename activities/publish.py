"""Publishing request lifecycle events to Kafka.

Events are made in the workflow, with a deterministic id; this activity only carries them
to Kafka. A retried publish therefore sends the same event id, and consumers deduplicate
on it. The record is CloudEvents in binary mode: the event is the JSON body, its
attributes travel as ``ce_*`` headers, and the key is the request reference so that every
event of one request lands, in order, on one partition.

A round also goes to the requested State's own outbound channel (``channels``: State code ->
topic, one per party of the State directory, ``tracefreeze/topics.py``): the request, the
Court's decisions and the reminders addressed to it, in the State-facing contract
(``schemas/party.py``, ``activities/party.py``). The shared topics are the Court's own; an ex
parte escalation reaches them redacted. The signed originals of the Court's actions go to the
Court-internal topic the worker is given (``court_actions_topic``), for the record store only
(``schemas/court_record.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.party import party_messages, shared_escalation
from schemas.court_record import SignedCourtAction
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from schemas.organ_keys import OrganKeys
from schemas.outbox import PUBLISH_OUTBOX, PublishedRound, PublishOutbox
from schemas.party import PartyMessage
from tracefreeze.ops.metrics import ESCALATIONS
from tracefreeze.ops.tracing import cloudevent_trace_headers
from tracefreeze.within import within

log = structlog.get_logger(__name__)
FOREIGN_TOPIC = "ForeignTopic"

Event = RequestEvent | EscalationEvent | PartyMessage | SignedCourtAction


def cloudevent_headers(event: Event) -> list[tuple[str, bytes]]:
    """CloudEvents Kafka binary-mode headers of one event (``ce_traceparent`` is added by
    the activity: the trace context of the publishing, not part of the event)."""
    attributes = {
        "ce_specversion": event.specversion,
        "ce_id": event.id,
        "ce_source": event.source,
        "ce_type": str(event.type),
        "ce_time": event.time.isoformat(),
        "ce_subject": event.subject,
        "content-type": "application/json",
    }
    return [(name, value.encode()) for name, value in attributes.items()]


class EventPublisher:
    """Holds the Kafka producer; its ``publish_outbox`` method is the registered activity (run
    by the request workflow, one round of its outbox per call, and by the case workflow for its
    release proposals)."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        timeout_s: float,
        channels: Mapping[str, str] | None = None,
        court_actions_topic: str | None = None,
        organ_keys: Callable[[], OrganKeys] | None = None,
        topics: frozenset[str] = frozenset(),
    ) -> None:
        self._producer = producer
        self._timeout_s = timeout_s
        self._channels = dict(channels or {})
        """The outbound channel of each party of the State directory (State code -> topic)."""
        self._court_actions = court_actions_topic
        """The Court-internal topic of the signed originals of Court actions (the recorder's)."""
        self._organ_keys = organ_keys
        """Reads the worker's organ key registry, for a round that asks (``read_organ_keys``)."""
        self._topics = topics
        """The Court's own topics a round may name (the worker's settings'); empty: any."""

    @activity.defn(name=PUBLISH_OUTBOX)
    async def publish_outbox(self, p: PublishOutbox) -> PublishedRound:
        """Send a round of a request's outbox, in order, and wait until the broker acknowledged
        every event (acks=all). One failure fails the round: Temporal retries all of it with
        the same event ids, and consumers deduplicate on them. A round that asks for the organ
        key registry gets it read first (a local file: a retry reads it again)."""
        self._check_topics(p)
        keys = self._read_keys() if p.read_organ_keys else None
        conf = p.confidentiality_in_force
        if p.text_missing:  # never from the workflow; said, and the rest still goes out
            log.error("a round needing the request's text came without it", n_events=len(p.events))
        sends: list[tuple[str, Event]] = [(p.events_topic, e) for e in p.events]
        sends += [(p.escalations_topic, shared_escalation(e, conf)) for e in p.escalations]
        sends += self._party_sends(p)
        sends += self._signed_sends(p)
        await within(self._timeout_s, self._send_all(sends))
        for escalation in p.escalations:
            ESCALATIONS.labels(escalation.step or escalation.kind.value).inc()
        return PublishedRound(organ_keys=keys)

    def _check_topics(self, p: PublishOutbox) -> None:
        """A round names its topics from its workflow's start input, which a client wrote: one
        naming a topic other than the Court's own (a State's channel, where the Court's events
        would reach a State: RS 87(1)(a), a request goes to the State it is addressed to, by
        its channel) is not sent, said loudly, and tried again with the round's back-off: a
        forged start never publishes, and a worker whose topic settings are wrong holds its
        rounds until they are mended instead of failing every request it serves."""
        named = {p.events_topic, p.escalations_topic}
        if self._topics and not named <= self._topics:
            log.error("a round named topics not the Court's own", topics=sorted(named))
            raise ApplicationError(
                f"a publishing round named {', '.join(sorted(named - self._topics))}: "
                "not a topic of the Court's events",
                type=FOREIGN_TOPIC,
            )

    def _read_keys(self) -> OrganKeys:
        if self._organ_keys is None:  # a worker always has a reader; said, never guessed
            return OrganKeys(reason="this publisher was given no organ key registry to read")
        return self._organ_keys()

    def _signed_sends(self, p: PublishOutbox) -> list[tuple[str, Event]]:
        """The round's signed originals, to the Court-internal topic (never a shared one)."""
        topic = self._court_actions
        if topic is None:
            if p.signed:
                log.warning("no court-actions topic: signed originals not sent", n=len(p.signed))
            return []
        return [(topic, s) for s in p.signed]

    def _party_sends(self, p: PublishOutbox) -> list[tuple[str, Event]]:
        """The round's messages for the requested State, to its own channel only."""
        messages = party_messages(p.request, p.events, p.escalations, p.confidentiality_in_force)
        if not messages or not self._channels:
            return []
        state = messages[0].requested_state
        topic = self._channels.get(state)
        if topic is None:
            log.warning(
                "no outbound channel for this party (not in the State directory): its "
                "messages stay on the Court's topics only",
                state=state,
                request_reference=messages[0].subject,
                messages=len(messages),
            )
            return []
        return [(topic, m) for m in messages]

    async def _send_all(self, sends: list[tuple[str, Event]]) -> None:
        """Send in order and wait for every acknowledgement; any refusal fails the round,
        which Temporal sends again whole under the same ids. Said in one line per topic,
        partition and subject (``events published``: each event's id and offset), not one
        per event, which cost the worker more than sending did; a round that fails or is
        cut off by its timeout says what the broker had taken by then (``round incomplete``)
        and each event it refused."""
        queued: list[tuple[str, Event, asyncio.Future[RecordMetadata]]] = []
        try:
            # One after another on one idempotent producer: the broker keeps their order.
            for topic, event in sends:
                queued.append(
                    (topic, event, await self._producer.send(topic, **self._record(event)))
                )
            outcomes = await asyncio.gather(*(d for _, _, d in queued), return_exceptions=True)
            refused = [
                (e, o)
                for (_, e, _), o in zip(queued, outcomes, strict=True)
                if isinstance(o, BaseException)
            ]
            for event, err in refused:
                self._bound(event).warning(
                    "event not published; Temporal will retry", error=repr(err)
                )
            if refused:
                raise refused[0][1]
        finally:
            self._log_round(queued, sent=len(sends))

    def _log_round(
        self, queued: list[tuple[str, Event, asyncio.Future[RecordMetadata]]], sent: int
    ) -> None:
        """The lines of what the broker took: only acknowledgements already in (never waits,
        so a round cut off by its timeout ends at once)."""
        placed: dict[tuple[str, int, str], list[tuple[Event, int]]] = {}
        for topic, event, delivery in queued:
            if delivery.done() and not delivery.cancelled() and delivery.exception() is None:
                metadata = delivery.result()
                where = (topic, metadata.partition, event.subject)
                placed.setdefault(where, []).append((event, metadata.offset))
        whole = sum(map(len, placed.values())) == sent
        for (topic, partition, _), events in placed.items():
            self._round_context(events[0][0]).info(
                "events published" if whole else "events published, round incomplete",
                topic=topic,
                partition=partition,
                offsets=[offset for _, offset in events],
                event_ids=[event.id for event, _ in events],
                event_types=sorted({str(event.type) for event, _ in events}),
            )

    @staticmethod
    def _record(event: Event) -> dict[str, Any]:
        """Key = request reference (one partition per request), body = the event's JSON."""
        return {
            "value": event.model_dump_json().encode(),
            "key": event.subject.encode(),
            "headers": cloudevent_headers(event) + cloudevent_trace_headers(),
        }

    @staticmethod
    def _round_context(event: Event) -> Any:
        """The log context of a round's events of one subject (a request) and its activity."""
        info = activity.info()
        return log.bind(
            request_reference=event.subject,
            case_number=getattr(event, "case_number", None),
            state=event.requested_state,
            workflow_id=info.workflow_id,
            activity_id=info.activity_id,
            attempt=info.attempt,
        )

    def _bound(self, event: Event) -> Any:
        return self._round_context(event).bind(event_id=event.id, event_type=str(event.type))
