"""What `tracefreeze dlq replay` selects and what it sends back (no stack needed)."""

from __future__ import annotations

import pytest
from aiokafka.structs import ConsumerRecord

from schemas.deadletter import DeadLetterReason
from tracefreeze.cli.dlq import list_consumer
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.deadletter import HEADER_VALUE_OMITTED, dead_letter_headers
from tracefreeze.intake.dlq import (
    DEFAULT_REASONS,
    HEADER_REPLAYED_BY,
    HEADER_REPLAYED_FROM,
    Selection,
    parse,
    replay_headers,
)

ORIGINAL = [("ce_id", b"e-1"), ("tf_signature", b"sig"), ("tf_key_id", b"nld-1")]


def record(topic: str, offset: int, headers: list[tuple[str, bytes]], value: bytes | None = b"{}"):
    return ConsumerRecord(
        topic=topic,
        partition=1,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"ICC-1",
        value=value,
        checksum=None,
        serialized_key_size=5,
        serialized_value_size=len(value or b""),
        headers=tuple(headers),
    )


def dead(reason: DeadLetterReason, value: bytes | None = b"{}", extra=()):
    original = record("tracefreeze.state-answers", 7, ORIGINAL)
    headers = [*extra, *dead_letter_headers(original, reason, "why")]
    return parse(record("tracefreeze.dead-letter", 42, headers, value))


def test_replayed_record_keeps_the_original_headers_and_names_its_dead_letter() -> None:
    d = dead(DeadLetterReason.UNKNOWN_REQUEST)
    assert (d.reason_code, d.topic, d.original_partition, d.original_offset) == (
        "unknown_request",
        "tracefreeze.state-answers",
        1,
        7,
    )
    assert replay_headers(d) == [*ORIGINAL, (HEADER_REPLAYED_FROM, b"1:42")]


def test_default_selection_is_what_a_fix_can_cure() -> None:
    default = Selection.of()
    curable = {"unknown_request", "request_stopped", "rejected", "stuck", "throttled"}
    assert default.reasons == DEFAULT_REASONS == curable
    assert default.skip_reason(dead(DeadLetterReason.REJECTED)) is None
    # A request stopped outside the Court's process takes its answers once restored.
    assert default.skip_reason(dead(DeadLetterReason.REQUEST_STOPPED)) is None
    for reason in (DeadLetterReason.MALFORMED, DeadLetterReason.REQUEST_CLOSED):
        assert default.skip_reason(dead(reason)) == reason.value
    assert (
        Selection.of(["request_closed"]).skip_reason(dead(DeadLetterReason.REQUEST_CLOSED)) is None
    )


@pytest.mark.parametrize(
    "reason", ["malformed", "invalid", "oversize", "bad_signature", "replayed"]
)
def test_reasons_a_fix_cannot_cure_need_force(reason: str) -> None:
    with pytest.raises(TracefreezeError, match="--force"):
        Selection.of([reason])
    assert Selection.of([reason], force=True).reasons == {reason}


def test_unknown_reason_and_omitted_value_are_refused() -> None:
    with pytest.raises(TracefreezeError, match="unknown reason"):
        Selection.of(["nonsense"])
    omitted = dead(DeadLetterReason.UNKNOWN_REQUEST, None, [(HEADER_VALUE_OMITTED, b"2000000")])
    assert Selection.of().skip_reason(omitted) == "value_omitted"


def test_selection_by_event_id_takes_only_the_answers_named() -> None:
    by_id = Selection.of(event_ids=["e-1"])
    assert dead(DeadLetterReason.STUCK).event_id == "e-1"  # the answer's ce_id
    assert by_id.skip_reason(dead(DeadLetterReason.STUCK)) is None
    assert Selection.of(event_ids=["e-2"]).skip_reason(dead(DeadLetterReason.STUCK)) == (
        "other_event_id"
    )
    # Naming an event id never lifts the reason rules.
    assert by_id.skip_reason(dead(DeadLetterReason.MALFORMED)) == "malformed"


def test_a_replay_goes_to_the_answers_topic_only_and_names_its_operator() -> None:
    d = dead(DeadLetterReason.STUCK)
    assert Selection.of().skip_reason(d, "tracefreeze.state-answers") is None
    assert Selection.of().skip_reason(d, "other.answers") == "not_from_answers_topic"
    assert replay_headers(d, "registry-officer-7")[-2:] == [
        (HEADER_REPLAYED_FROM, b"1:42"),
        (HEADER_REPLAYED_BY, b"registry-officer-7"),
    ]
    # A header pretending to come from an earlier replay is ours, stripped, never kept.
    forged = dead(DeadLetterReason.STUCK, extra=[(HEADER_REPLAYED_BY, b"someone-else")])
    assert (HEADER_REPLAYED_BY, b"someone-else") not in forged.headers


async def test_dlq_list_connects_with_the_security_settings_like_every_client() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="registry-operator",
        kafka_sasl_password="pw",
    )
    client = list_consumer(settings)._client
    assert client._security_protocol == "SASL_PLAINTEXT"
    assert client._sasl_mechanism == "SCRAM-SHA-512"
    assert client._sasl_plain_username == "registry-operator"
