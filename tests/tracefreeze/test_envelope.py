"""The CloudEvents envelope of State answers: made by every producer, checked by the gate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.answers import Acknowledgement, NoAssetsReport
from schemas.deadletter import DeadLetterReason
from tests.tracefreeze.gate_records import (
    REFERENCE,
    Headers,
    kafka_record,
    nld_acknowledgement,
    nld_signer,
)
from tracefreeze.intake.envelope import answer_headers, envelope_problem
from tracefreeze.intake.gate import AnswerGate
from tracefreeze.intake.routing import Verdict
from tracefreeze.security.canonical import HEADER_KEY_ID
from tracefreeze.security.signing import sign
from tracefreeze.security.verify import Rejection

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ack(event_id: str = "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c01") -> Acknowledgement:
    return nld_acknowledgement(NOW - timedelta(minutes=1), event_id=event_id)


def test_every_attribute_travels_as_a_header() -> None:
    answer = NoAssetsReport(
        event_id="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c07",
        request_reference=REFERENCE,
        state="DEU",
        sent_at=NOW,
    )
    headers = dict(answer_headers(answer))
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": b"0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c07",
        "ce_source": b"urn:state:DEU",
        "ce_type": b"int.icc.tracefreeze.answer.no_assets.v1",
        "ce_time": b"2026-03-01T12:00:00Z",
        "ce_subject": REFERENCE.encode(),
        "content-type": b"application/json",
    }
    assert envelope_problem(answer, REFERENCE.encode(), list(headers.items())) is None


def replace(name: str, value: bytes | None) -> Callable[[Headers], Headers]:
    """Set header ``name`` to ``value``, or drop it when ``value`` is None."""

    def edit(headers: Headers) -> Headers:
        kept = [(k, v) for k, v in headers if k != name]
        return kept if value is None else [*kept, (name, value)]

    return edit


BAD = {
    "no ce_id": (replace("ce_id", None), "missing CloudEvents header(s): ce_id"),
    "no content-type": (replace("content-type", None), "content-type"),
    "no headers at all": (lambda _: [], "ce_specversion, ce_id, ce_source, ce_type"),
    "ce_id twice": (
        lambda h: [*h, ("ce_id", b"0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c01")],
        "appears more than once",
    ),
    "empty ce_subject": (replace("ce_subject", b""), "header ce_subject is empty"),
    "specversion 0.3": (replace("ce_specversion", b"0.3"), "invalid CloudEvents headers"),
    "time not a time": (replace("ce_time", b"yesterday"), "invalid CloudEvents headers"),
    "time without zone": (replace("ce_time", b"2026-03-01T11:59:00"), "timezone aware"),
    "not UTF-8": (replace("ce_source", b"\xff\xfe"), "invalid CloudEvents headers"),
    "ce_id differs": (replace("ce_id", b"evt-other"), "ce_id 'evt-other' does not match"),
    "ce_type of another answer": (
        replace("ce_type", b"int.icc.tracefreeze.answer.denial.v1"),
        "does not name the body's answer_type 'acknowledgement'",
    ),
    "ce_type unversioned": (
        replace("ce_type", b"int.icc.tracefreeze.answer.acknowledgement"),
        "does not name the body's answer_type",
    ),
    "ce_type v2": (
        replace("ce_type", b"int.icc.tracefreeze.answer.acknowledgement.v2"),
        "unknown version 'v2' of 'acknowledgement'",
    ),
    "ce_type foreign": (replace("ce_type", b"com.example.ack.v1"), "does not name"),
    "ce_subject differs": (
        replace("ce_subject", b"ICC-01/14-REQ-9999"),
        "ce_subject 'ICC-01/14-REQ-9999' does not match the body's request_reference",
    ),
    "ce_source of another State": (
        replace("ce_source", b"urn:state:FRA"),
        "ce_source 'urn:state:FRA' does not match the body's state ('urn:state:NLD')",
    ),
    "content-type text": (replace("content-type", b"text/plain"), "is not application/json"),
    "ce_time re-dated": (
        replace("ce_time", b"2026-03-01T11:00:00Z"),
        "ce_time '2026-03-01T11:00:00+00:00' does not match the body's sent_at",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_envelope_is_named(case: str) -> None:
    edit, expected = BAD[case]
    answer = ack()
    problem = envelope_problem(answer, REFERENCE.encode(), edit(answer_headers(answer)))
    assert problem is not None and expected in problem, problem


def test_content_type_parameters_and_other_headers_are_fine() -> None:
    answer = ack()
    headers = replace("content-type", b"application/json; charset=utf-8")(answer_headers(answer))
    headers += [
        ("tf_key_id", b"nld-2026-1"),
        ("ce_traceparent", f"00-{'a' * 32}-{'b' * 16}-01".encode()),
    ]
    assert envelope_problem(answer, REFERENCE.encode(), headers) is None


def test_ce_time_is_the_same_instant_as_sent_at_in_any_offset() -> None:
    answer = ack()  # sent at 11:59 UTC
    same = replace("ce_time", b"2026-03-01T12:59:00+01:00")(answer_headers(answer))
    assert envelope_problem(answer, REFERENCE.encode(), same) is None


@pytest.mark.parametrize("key", [None, b"ICC-01/14-REQ-9999", b"\xff"])
def test_the_kafka_key_must_be_the_request_reference(key: bytes | None) -> None:
    answer = ack()
    problem = envelope_problem(answer, key, answer_headers(answer))
    assert problem is not None and "Kafka key" in problem and REFERENCE in problem


# --- through the gate ----------------------------------------------------------------------


@pytest.fixture
def signer() -> tuple[Ed25519PrivateKey, AnswerGate]:
    return nld_signer(NOW)


def test_the_gate_dead_letters_a_bad_envelope_and_takes_the_corrected_resend(
    signer: tuple[Ed25519PrivateKey, AnswerGate],
) -> None:
    private, gate = signer
    answer = ack()
    value, signature = sign(answer, private, "nld-2026-1")
    wrong = replace("ce_subject", b"ICC-01/14-REQ-9999")(answer_headers(answer)) + signature

    rejected = gate.check(kafka_record(value, wrong))
    assert isinstance(rejected, Rejection)
    assert rejected.reason is DeadLetterReason.ENVELOPE
    assert rejected.event_id == answer.event_id and rejected.key_id == "nld-2026-1"
    verdict = rejected.as_verdict()
    assert verdict == Verdict(DeadLetterReason.ENVELOPE, rejected.detail)
    assert "ce_subject" in verdict.detail and answer.event_id in verdict.detail

    # The same event id, properly enveloped at another offset, is not a replay.
    assert gate.check(kafka_record(value, answer_headers(answer) + signature, offset=1)) == answer


def test_the_signature_is_checked_before_the_envelope(
    signer: tuple[Ed25519PrivateKey, AnswerGate],
) -> None:
    _, gate = signer
    answer = ack()
    unsigned = gate.check(kafka_record(answer.model_dump_json().encode(), []))
    assert isinstance(unsigned, Rejection)
    assert unsigned.reason_code == "missing_signature"
    assert all(k != HEADER_KEY_ID for k, _ in answer_headers(answer))


NAMES = st.sampled_from(
    ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"]
) | st.text(max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(st.tuples(NAMES, st.none() | st.binary(max_size=40)), max_size=10),
    keep=st.booleans(),
    key=st.none() | st.binary(max_size=30),
)
def test_any_headers_give_a_verdict_never_an_error(
    edits: list[tuple[str, bytes | None]], keep: bool, key: bytes | None
) -> None:
    answer = ack()
    headers: list[tuple[str, bytes | None]] = [*answer_headers(answer)] if keep else []
    problem = envelope_problem(answer, key, headers + edits)
    assert problem is None or (isinstance(problem, str) and problem)
    if problem is None:
        assert key == REFERENCE.encode()
