"""A request the schema admits can always be sent: every message that carries its text fits
one Kafka record as the producer measures it (1 MiB): its transmission to the State's channel
(RS 87(1)(a), 96(2)), and a consultation response that modifies it (RS 93(3), 97), both the
State's message of the decision and the signed original for the Court's record. The
per-field limits alone admit several megabytes of JSON (1,000 assets with the longest
descriptions come to about 2 MB), which the producer refuses on every try, so the request's
first round would never complete; the request is bounded as a whole
(``MAX_REQUEST_JSON_BYTES``) before it reaches a workflow, with an error that says to split
it by a supplementary request (RS 96(2)(f)). The text is random, not a repeated letter, so
nothing here rests on compression."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from pydantic import ValidationError

from activities.party import party_messages
from activities.publish import Event, EventPublisher
from schemas.common import MAX_ASSETS, MAX_PARTIES, MAX_REQUEST_JSON_BYTES, MAX_TEXT
from schemas.court import ConsultationResponse
from schemas.court_record import SignedCourtAction
from schemas.events import RequestEventType
from schemas.outbox import MODIFYING
from schemas.request import CourtRequest
from tests.builders import court_action, court_request
from tests.events import request_event
from tracefreeze.kafka import MAX_REQUEST_BYTES

_LETTERS = string.ascii_letters + string.digits + "éñ "


def _text(rnd: random.Random, chars: int) -> str:
    return "".join(rnd.choices(_LETTERS, k=chars))


def _filled(description_chars: int) -> dict[str, Any]:
    """The example request with every asset and party it may list, asset descriptions of
    ``description_chars`` random characters (some of two bytes)."""
    rnd = random.Random(description_chars)
    data = court_request().model_dump(mode="json")
    asset, party = data["known_assets"][0], data["parties"][0]
    data["parties"] = [party] + [
        {**party, "party_id": f"p-{i:05d}", "name": _text(rnd, 300)} for i in range(1, MAX_PARTIES)
    ]
    data["known_assets"] = [
        {
            **asset,
            "asset_id": f"a-{i:05d}",
            "description": _text(rnd, description_chars),
            "location": _text(rnd, 100),
            "registry_reference": _text(rnd, 34),
        }
        for i in range(MAX_ASSETS)
    ]
    return data


def _largest_admitted() -> dict[str, Any]:
    """The most assets and parties, with the longest descriptions that keep the request
    within its bound (found by halving)."""
    low, high = 1, 1000
    while low < high:
        mid = (low + high + 1) // 2
        try:
            CourtRequest.model_validate(_filled(mid))
            low = mid
        except ValidationError:
            high = mid - 1
    return _filled(low)


def _record_bytes(event: Event) -> int:
    """The record's size as the producer checks it against ``max_request_size``."""
    record = EventPublisher._record(event)
    return DefaultRecordBatchBuilder.estimate_size_in_bytes(
        record["key"], record["value"], record["headers"]
    )


def test_every_field_at_its_limit_is_refused_with_the_way_out() -> None:
    with pytest.raises(ValidationError) as refused:
        CourtRequest.model_validate(_filled(1000))
    message = str(refused.value)
    assert f"over the limit of {MAX_REQUEST_JSON_BYTES:,}" in message
    assert "supplementary request" in message and "RS 96(2)(f)" in message


def test_every_message_carrying_the_largest_admitted_request_fits_one_record() -> None:
    data = _largest_admitted()
    request = CourtRequest.model_validate(data)
    size = len(request.model_dump_json().encode())
    assert MAX_REQUEST_JSON_BYTES - 4096 < size <= MAX_REQUEST_JSON_BYTES

    transmitted = request_event(request, RequestEventType.TRANSMITTED)
    [transmission] = party_messages(request, [transmitted], [])
    assert transmission.request is not None
    assert size < _record_bytes(transmission) < MAX_REQUEST_BYTES

    response = court_action(
        ConsultationResponse,
        resolution="request_modified",
        modified_request=data,
        information=_text(random.Random(0), MAX_TEXT),
    )
    decided = request_event(request, RequestEventType.COURT_ACTION, action=MODIFYING)
    [decision] = party_messages(request, [decided], [])
    assert decision.decision is not None and decision.decision.request is not None
    assert size < _record_bytes(decision) < MAX_REQUEST_BYTES
    signed = SignedCourtAction(
        id=decided.id,
        time=datetime(2026, 3, 1, tzinfo=UTC),
        subject=request.reference,
        requested_state=request.requested_state,
        action=response,
    )
    assert size < _record_bytes(signed) < MAX_REQUEST_BYTES
