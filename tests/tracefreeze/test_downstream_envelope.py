"""The consumer kit's reading of one record, without a broker (tracefreeze/downstream): the
envelope checked against the body, fields of a newer ``.v1`` named and ignored, and the
worked example's table idempotent under redelivery."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from activities.publish import EventPublisher
from schemas.assets import AssetKind
from schemas.common import Confidentiality, Money
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import AssetEventData, RequestEvent, RequestEventType
from schemas.ledger import AssetStatus, RequestStatus
from tracefreeze.config import Topics
from tracefreeze.downstream import InMemorySeen, Received, Unreadable
from tracefreeze.downstream.assets import AssetTable
from tracefreeze.downstream.envelope import escalation_type, known_types, read

TOPICS = Topics()
REF = "ICC-01/14-REQ-0042"


def frozen(amount: str = "10.00", ex_parte: bool = False) -> RequestEvent:
    asset = AssetEventData(
        asset_id="a-account-1",
        kind=AssetKind.BANK_ACCOUNT,
        status=AssetStatus.FROZEN,
        value=Money(amount=Decimal(amount), currency="EUR"),
    )
    return RequestEvent(
        id=str(uuid.uuid4()),
        type=RequestEventType.ASSET_FROZEN,
        time=datetime(2026, 11, 30, tzinfo=UTC),
        subject=REF,
        case_number="ICC-01/14",
        requested_state="NLD",
        status=RequestStatus.IN_EXECUTION,
        confidentiality=Confidentiality.EX_PARTE if ex_parte else Confidentiality.CONFIDENTIAL,
        asset=None if ex_parte else asset,
    )


def parse(record: dict[str, Any], topic: str = TOPICS.request_events) -> Received | Unreadable:
    types = known_types(TOPICS)[topic]
    return read(topic, 0, 7, record["key"], record["value"], record["headers"], types)


def test_a_published_event_reads_whole() -> None:
    event = frozen()
    got = parse(EventPublisher._record(event))
    assert isinstance(got, Received)
    assert got.event == event and got.unknown_fields == ()
    assert str(got.position) == f"{TOPICS.request_events}[0]@7"


def test_a_record_without_headers_is_read_from_its_body() -> None:
    event = frozen()
    got = parse(EventPublisher._record(event) | {"headers": []})
    assert isinstance(got, Received) and got.event == event


def test_a_field_a_newer_v1_added_is_named_and_ignored() -> None:
    record = EventPublisher._record(frozen())
    record["value"] = json.dumps(json.loads(record["value"]) | {"later": 1}).encode()
    got = parse(record)
    assert isinstance(got, Received) and got.unknown_fields == ("later",)


def test_an_event_on_the_wrong_topic_is_an_unknown_type() -> None:
    got = parse(EventPublisher._record(frozen()), TOPICS.escalations)
    assert isinstance(got, Unreadable) and got.reason.startswith("unknown event type")


def test_header_disagreements_are_unreadable() -> None:
    record = EventPublisher._record(frozen())

    def with_header(name: str, value: bytes) -> dict[str, Any]:
        headers = [(k, value if k == name else v) for k, v in record["headers"]]
        return record | {"headers": headers}

    cases = {
        "ce_time": b"2026-11-30T00:00:01+00:00",
        "ce_type": b"int.icc.tracefreeze.asset.seized.v1",
        "ce_subject": b"ICC-01/14-REQ-0043",
        "content-type": b"text/plain",
    }
    for name, value in cases.items():
        got = parse(with_header(name, value))
        assert isinstance(got, Unreadable), name
        assert got.reason.startswith(name), got.reason
    twice = record | {"headers": [*record["headers"], ("ce_id", b"x")]}
    assert isinstance(got := parse(twice), Unreadable) and "more than once" in got.reason
    # The same instant written in another offset is the same time.
    same = parse(with_header("ce_time", b"2026-11-30T01:00:00+01:00"))
    assert isinstance(same, Received)


def test_an_escalation_whose_type_and_kind_disagree_is_unreadable() -> None:
    event = EscalationEvent(
        id=str(uuid.uuid4()),
        type=escalation_type(EscalationKind.STEP_REACHED),
        time=datetime(2026, 11, 30, tzinfo=UTC),
        subject=REF,
        case_number="ICC-01/14",
        requested_state="NLD",
        kind=EscalationKind.DEADLINE_APPROACHING,
        level=1,
    )
    got = parse(EventPublisher._record(event), TOPICS.escalations)
    assert isinstance(got, Unreadable) and "does not name the escalation's kind" in got.reason


def test_invalid_bodies_are_unreadable_with_a_reason() -> None:
    record = EventPublisher._record(frozen())
    body = json.loads(record["value"])
    for value, reason in (
        (b"", "empty value"),
        (b"[1]", "value is not a JSON object"),
        (json.dumps(body | {"id": "not-a-uuid"}).encode(), "int.icc.tracefreeze.asset.frozen"),
        (json.dumps({k: v for k, v in body.items() if k != "type"}).encode(), "no event type"),
    ):
        got = parse(record | {"value": value})
        assert isinstance(got, Unreadable) and got.reason.startswith(reason), got


async def test_the_seen_store_is_bounded_oldest_first() -> None:
    seen = InMemorySeen(capacity=2)
    for i in ("a", "b", "c"):
        await seen.add(i)
    assert [await seen.seen(i) for i in ("a", "b", "c")] == [False, True, True]
    assert len(seen) == 2


def test_the_asset_table_is_idempotent_and_shows_no_ex_parte_asset() -> None:
    table = AssetTable()
    event = frozen("398214.37")
    assert table.apply(event) is True
    assert table.apply(event) is False  # redelivered: nothing changes
    hidden = frozen(ex_parte=True)
    assert table.apply(hidden) is True
    assert table.apply(hidden) is False  # counted once, however often delivered
    [row] = table.rows()
    assert (row.currency, row.status, row.assets, row.value) == (
        "EUR",
        AssetStatus.FROZEN,
        1,
        Decimal("398214.37"),
    )
    text = table.render()
    assert "398,214.37" in text and "1 asset event(s) of ex parte requests" in text
