"""Traces on the real stack (worker and bridge in-process, spans in the SDK's in-memory
exporter): the request is transmitted with a ``ce_traceparent``; the State answers with that
traceparent; bridge, update and activity spans all belong to that one trace, and the event
announcing the accepted answer carries it on."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from aiokafka.structs import ConsumerRecord
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from schemas.events import RequestEvent, RequestEventType
from schemas.outbox import PUBLISH_OUTBOX
from tests.builders import acknowledgement, court_request, now, to
from tests.signed import signed_record
from tests.tracefreeze.e2e import isolated, read_until, worker_and_bridge
from tracefreeze.config import Settings
from tracefreeze.ops import tracing

pytestmark = pytest.mark.stack


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    try:
        yield exporter
    finally:
        tracing.use_provider(None)


def traceparent(record: ConsumerRecord) -> str:
    (value,) = [v.decode() for k, v in record.headers if k == "ce_traceparent"]
    return value


def events_of(ref: str, kind: RequestEventType) -> Callable[[list[ConsumerRecord]], bool]:
    def done(records: list[ConsumerRecord]) -> bool:
        return any(
            (e := RequestEvent.model_validate_json(r.value)).subject == ref and e.type is kind
            for r in records
        )

    return done


def event(records: list[ConsumerRecord], kind: RequestEventType) -> ConsumerRecord:
    return next(r for r in records if RequestEvent.model_validate_json(r.value).type is kind)


def named(spans: tuple[ReadableSpan, ...], name: str, trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name and s.context.trace_id == trace_id]


async def test_one_trace_from_transmission_through_answer_to_event(
    stack: Settings, spans: InMemorySpanExporter
) -> None:
    s = isolated(stack)
    async with worker_and_bridge(s) as r:
        producer, client = r.producer, r.client
        request = court_request()
        ref = request.reference
        await client.submit(request)
        events = s.topics.request_events
        sent = event(
            await read_until(s, events, events_of(ref, RequestEventType.TRANSMITTED)),
            RequestEventType.TRANSMITTED,
        )
        parent = traceparent(sent)  # the State answers within the trace it was sent
        answer = acknowledgement(to(ref), sent_at=now())
        value, headers = signed_record(answer, s.state_dir)
        await producer.send_and_wait(
            s.topics.state_answers,
            value=value,
            key=ref.encode(),
            headers=[*headers, ("ce_traceparent", parent.encode())],
        )
        accepted = event(
            await read_until(s, events, events_of(ref, RequestEventType.ANSWER_ACCEPTED)),
            RequestEventType.ANSWER_ACCEPTED,
        )

    _, trace_hex, parent_hex, _ = parent.split("-")
    trace_id = int(trace_hex, 16)
    finished = spans.get_finished_spans()
    assert traceparent(accepted).split("-")[1] == trace_hex

    (consumed,) = named(finished, f"process {s.topics.state_answers}", trace_id)
    assert consumed.parent is not None and consumed.parent.span_id == int(parent_hex, 16)
    (update,) = named(finished, "StartWorkflowUpdate:acknowledge", trace_id)
    assert update.parent is not None and update.parent.span_id == consumed.context.span_id
    (handled,) = named(finished, "HandleUpdate:acknowledge", trace_id)
    assert update.context.span_id in {link.context.span_id for link in handled.links}
    published = named(finished, f"RunActivity:{PUBLISH_OUTBOX}", trace_id)
    assert len(published) >= 2, [p.name for p in finished]  # transmission, then acceptance
    assert named(finished, "StartWorkflow:RequestWorkflow", trace_id)
