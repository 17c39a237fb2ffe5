"""The CloudEvents envelope of a State's answer on Kafka (binary content mode).

A State's system sends each answer as one Kafka record: the value is the answer's JSON (the
signed body, ``tracefreeze/security/canonical.py``), the key is the request reference (so one
request's answers stay in order on one partition), and the CloudEvents attributes travel as
headers:

- ``ce_specversion``: ``1.0``;
- ``ce_id``: the answer's ``event_id``;
- ``ce_source``: ``urn:state:<ISO 3166-1 alpha-3>``, the answering State (``state``);
- ``ce_type``: ``int.icc.tracefreeze.answer.<answer_type>.v1`` (the version is part of it);
- ``ce_time``: RFC 3339, the answer's ``sent_at``;
- ``ce_subject``: the request reference (``request_reference``);
- ``content-type``: ``application/json``.

The bridge checks the envelope after the signature (``tracefreeze/intake/gate.py``): each header
present once and valid, and consistent with the signed body and the key. A mismatch is
dead-lettered as ``envelope``: ``ce_time`` must be the same instant as the signed ``sent_at``
(the header is not signed; a relay must not re-date an answer). Encoding and decoding use the
``cloudevents`` package's Kafka binding; the checks against the body are ours.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from schemas.answers import AnswerBase

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
TYPE_PREFIX = "int.icc.tracefreeze.answer."
VERSIONS = ("v1",)
"""The versions of ``ce_type`` this bridge understands, per answer type."""
SOURCE_PREFIX = "urn:state:"
REQUIRED = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "content-type",
)
Headers = list[tuple[str, bytes]]


def answer_type(name: str, version: str = VERSIONS[-1]) -> str:
    """The versioned ``ce_type`` of an answer type."""
    return f"{TYPE_PREFIX}{name}.{version}"


def answer_source(state: str) -> str:
    return f"{SOURCE_PREFIX}{state}"


def answer_headers(answer: AnswerBase) -> Headers:
    """The CloudEvents headers a State's system puts on ``answer`` (binary content mode)."""
    event = CloudEvent(
        {
            "specversion": SPECVERSION,
            "id": answer.event_id,
            "source": answer_source(answer.state),
            "type": answer_type(answer.answer_type),
            "time": answer.sent_at,
            "subject": answer.request_reference,
            "datacontenttype": CONTENT_TYPE,
        }
    )
    return list(to_binary(event, JSONFormat(), key_mapper=lambda _: None).headers.items())


def envelope_problem(
    answer: AnswerBase, key: bytes | None, headers: Sequence[tuple[str, bytes | None]] | None
) -> str | None:
    """What is wrong with the envelope of a verified ``answer``, or None if nothing is."""
    found: dict[str, bytes] = {}
    for name, raw in headers or ():
        if not isinstance(name, str):
            continue  # aiokafka gives str names; anything else is not an envelope header
        lowered = name.lower()
        if not (lowered.startswith("ce_") or lowered == "content-type"):
            continue
        if lowered in found:
            return f"header {name} appears more than once"
        if not isinstance(raw, bytes | bytearray) or not raw:
            return f"header {name} is empty"
        found[lowered] = bytes(raw)
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        return f"missing CloudEvents header(s): {', '.join(missing)}"
    try:
        event = from_binary(
            KafkaMessage(headers=found, key=None, value=b""), JSONFormat(), CloudEvent
        )
    except (BaseCloudEventException, ValueError, TypeError, OverflowError) as err:
        return f"invalid CloudEvents headers: {_clip(str(err) or type(err).__name__)}"
    return _mismatch(answer, key, event)


def _mismatch(answer: AnswerBase, key: bytes | None, event: BaseCloudEvent) -> str | None:
    kind = answer.answer_type
    ce_type = event.get_type()
    name, _, version = ce_type.removeprefix(TYPE_PREFIX).rpartition(".")
    if not ce_type.startswith(TYPE_PREFIX) or name != kind:
        return f"ce_type {_clip(ce_type)!r} does not name the body's answer_type {kind!r}"
    if version not in VERSIONS:
        return f"ce_type {_clip(ce_type)!r}: unknown version {_clip(version)!r} of {kind!r}"
    checks = (
        ("ce_id", event.get_id(), answer.event_id, "event_id"),
        ("ce_subject", event.get_subject(), answer.request_reference, "request_reference"),
        ("ce_source", event.get_source(), answer_source(answer.state), "state"),
    )
    for header, got, wanted, field in checks:
        if got != wanted:
            return f"{header} {_clip(str(got))!r} does not match the body's {field} ({wanted!r})"
    sent = event.get_time()
    if sent is None or sent != answer.sent_at:
        shown = sent.isoformat() if sent is not None else None
        return (
            f"ce_time {_clip(str(shown))!r} does not match the body's sent_at "
            f"({answer.sent_at.isoformat()!r})"
        )
    media = (event.get_datacontenttype() or "").split(";")[0].strip().lower()
    if media != CONTENT_TYPE:
        return f"content-type {_clip(media)!r} is not {CONTENT_TYPE}"
    if key != answer.request_reference.encode():
        shown = _clip(key.decode(errors="replace")) if key is not None else None
        return (
            f"Kafka key {shown!r} differs from the request reference {answer.request_reference!r}"
        )
    return None


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
