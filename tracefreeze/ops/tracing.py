"""OpenTelemetry tracing: a State's answer on Kafka → bridge → update → activities → Kafka.

The trace context travels as the CloudEvents distributed-tracing extension: W3C
``traceparent`` (and ``tracestate``) as ``ce_traceparent`` headers in Kafka binary mode (a
bare ``traceparent`` header is read too). Inside Temporal it travels in the headers of
updates, workflows and activities through the SDK's ``TracingInterceptor``, set on every
client by ``tracefreeze/temporal.py`` (workers inherit it).

Span tree: the bridge's ``process <topic>`` span (child of the answer's traceparent) →
``StartWorkflowUpdate:<update>`` (client). In the workflow, the SDK parents its spans
(``HandleUpdate``, ``StartActivity``) on the trace that *started* the request and links
them to the update's span; the publishing activity's ``RunActivity`` span is the parent of
the ``ce_traceparent`` it writes on the event. A State that answers with the traceparent
of the event it answers keeps the whole life of a request in one trace.

Exporter: ``TRACEFREEZE_OTEL_EXPORTER`` = none (default) | console | otlp (the standard
``OTEL_EXPORTER_OTLP_*`` variables; needs ``opentelemetry-exporter-otlp-proto-http``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from temporalio.contrib.opentelemetry import TracingInterceptor

from tracefreeze.errors import TracefreezeError

TRACE_FIELDS = ("traceparent", "tracestate")
_propagator = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None


def configure_tracing(exporter: str) -> None:
    """The process's tracer provider, made once from the setting (unless one is in use)."""
    global _provider
    if _provider is not None or exporter == "none":
        return
    provider = TracerProvider(resource=Resource.create({"service.name": "tracefreeze"}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(exporter)))
    _provider = provider


def use_provider(provider: TracerProvider | None) -> None:
    """Use ``provider`` (e.g. one with an in-memory exporter, in tests); None resets."""
    global _provider
    _provider = provider


def flush() -> None:
    """Export what is buffered (before a process exits without finalizing)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)


def tracer() -> trace.Tracer:
    return (_provider or trace.get_tracer_provider()).get_tracer("tracefreeze")


def interceptor() -> TracingInterceptor:
    """The SDK's interceptor for a new client, with the current tracer."""
    return TracingInterceptor(tracer())


@contextlib.contextmanager
def consuming(topic: str, headers: Sequence[tuple[str, bytes]] | None) -> Iterator[trace.Span]:
    """The span of one consumed message, child of its ``ce_traceparent`` when it has one;
    its trace id is bound to the log lines within."""
    carrier: dict[str, str] = {}
    for name, value in headers or ():
        field = name.removeprefix("ce_")
        if field in TRACE_FIELDS and value and field not in carrier:
            carrier[field] = value.decode("ascii", "replace")
    parent = _propagator.extract(carrier)
    with tracer().start_as_current_span(
        f"process {topic}",
        context=parent,
        kind=trace.SpanKind.CONSUMER,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
    ) as span:
        ids = span.get_span_context()
        bound = {"trace_id": format(ids.trace_id, "032x")} if ids.is_valid else {}
        with structlog.contextvars.bound_contextvars(**bound):
            yield span


def cloudevent_trace_headers() -> list[tuple[str, bytes]]:
    """``ce_traceparent`` (and ``ce_tracestate``) of the current span; none without one."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return [(f"ce_{k}", v.encode()) for k, v in carrier.items() if k in TRACE_FIELDS]


def _exporter(kind: str) -> SpanExporter:
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as err:
            raise TracefreezeError(
                "TRACEFREEZE_OTEL_EXPORTER=otlp needs opentelemetry-exporter-otlp-proto-http"
            ) from err
        return OTLPSpanExporter()
    raise TracefreezeError(f"unknown OpenTelemetry exporter {kind!r}: none, console or otlp")
