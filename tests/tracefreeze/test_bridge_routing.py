"""Decoding and routing a State's answer, without any service: bad bytes, oversize, wrong types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord

from schemas.answers import Acknowledgement, ExecutionReport, NoAssetsReport
from schemas.deadletter import (
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REASON,
    HEADER_REASON_CODE,
    HEADER_TOPIC,
    DeadLetterReason,
)
from tracefreeze.intake.deadletter import dead_letter_headers
from tracefreeze.intake.routing import (
    MAX_ANSWER_BYTES,
    Verdict,
    decode_answer,
    peek_event_id,
    route,
)
from workflows import catalog

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


@pytest.mark.parametrize(
    "value",
    [None, b"", b"not json at all", b"\xff\xfe\x00", b'{"answer_type": "acknowledgement"', b"{,}"],
)
def test_undecodable_bytes_are_malformed(value: bytes | None) -> None:
    verdict = decode_answer(value)
    assert isinstance(verdict, Verdict)
    assert verdict.reason is DeadLetterReason.MALFORMED
    assert verdict.detail


def test_oversize_is_refused_unread() -> None:
    body = example("acknowledgement.json")
    body["authority"] = "x" * 100
    value = json.dumps(body).encode() + b" " * MAX_ANSWER_BYTES
    verdict = decode_answer(value)
    assert isinstance(verdict, Verdict)
    assert verdict.reason is DeadLetterReason.OVERSIZE
    assert str(len(value)) in verdict.detail


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"answer_type": "confession"}, "answer_type"),
        ({"state": "Netherlands"}, "state"),
        ({"sent_at": "yesterday"}, "sent_at"),
        ({"sent_at": "2026-02-12T14:05:00"}, "sent_at"),  # no time zone
        ({"event_id": 42}, "event_id"),
        ({"request_reference": ["ICC-01/22-REQ-0007"]}, "request_reference"),
        ({"unexpected": True}, "unexpected"),
    ],
)
def test_wrong_types_are_invalid_with_a_summary(change: dict, where: str) -> None:
    body = example("acknowledgement.json") | change
    verdict = decode_answer(json.dumps(body).encode())
    assert isinstance(verdict, Verdict)
    assert verdict.reason is DeadLetterReason.INVALID
    assert where in verdict.detail
    assert "validation error" in verdict.detail


@pytest.mark.parametrize("value", [b"[]", b"42", b'"an answer"', b"null"])
def test_json_that_is_no_object_is_invalid(value: bytes) -> None:
    verdict = decode_answer(value)
    assert isinstance(verdict, Verdict)
    assert verdict.reason is DeadLetterReason.INVALID


def test_execution_report_with_an_asset_twice_is_invalid() -> None:
    body = example("execution-report.json")
    body["results"] = [body["results"][0], body["results"][0]]
    verdict = decode_answer(json.dumps(body).encode())
    assert isinstance(verdict, Verdict)
    assert "each asset may appear once" in verdict.detail


@pytest.mark.parametrize(
    ("name", "kind", "update"),
    [
        ("acknowledgement.json", Acknowledgement, "acknowledge"),
        ("execution-report.json", ExecutionReport, "report_execution"),
        ("no-assets.json", NoAssetsReport, "report_no_assets"),
    ],
)
def test_each_answer_routes_to_its_request_and_update(name: str, kind: type, update: str) -> None:
    answer = decode_answer((EXAMPLES / name).read_bytes())
    assert isinstance(answer, kind)
    r = route(answer)
    assert r.workflow_id == f"request/{answer.request_reference}/{answer.state}"
    assert r.update_name == update


def test_peek_event_id_is_best_effort() -> None:
    assert peek_event_id(b'{"event_id": "abc-12345678"}') == "abc-12345678"
    assert peek_event_id(b"garbage") is None
    assert peek_event_id(b'{"event_id": 7}') is None
    assert peek_event_id(None) is None


def test_dead_letter_headers_name_reason_and_origin_then_keep_the_originals() -> None:
    record = ConsumerRecord(
        topic="tracefreeze.state-answers",
        partition=4,
        offset=1234,
        timestamp=0,
        timestamp_type=0,
        key=b"ICC-01/22-REQ-0007",
        value=b"not json",
        checksum=None,
        serialized_key_size=18,
        serialized_value_size=8,
        headers=(("ce_id", b"e-1"),),
    )
    headers = dead_letter_headers(record, DeadLetterReason.MALFORMED, "not JSON")
    assert headers == [
        (HEADER_REASON_CODE, b"malformed"),
        (HEADER_REASON, b"not JSON"),
        (HEADER_TOPIC, b"tracefreeze.state-answers"),
        (HEADER_PARTITION, b"4"),
        (HEADER_OFFSET, b"1234"),
        ("ce_id", b"e-1"),
    ]


def test_every_answer_type_has_an_update_of_the_request_workflow() -> None:
    """Each kind of State answer in the contract reaches a workflow update
    (docs/legal-process.md, 'What a State may answer')."""
    import typing

    from schemas.answers import StateAnswer
    from tracefreeze.intake.routing import UPDATES

    union = typing.get_args(typing.get_args(StateAnswer)[0])
    kinds = {cls.model_fields["answer_type"].default for cls in union}
    assert kinds == set(UPDATES)
    assert set(UPDATES.values()) == {k.update for k in catalog.CATALOG if k.party == "state"}
