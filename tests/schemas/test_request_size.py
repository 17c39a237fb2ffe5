"""A request the schema admits can always be transmitted: its message to the State's channel
(RS 87(1)(a), 96(2)) fits one Kafka record as the producer measures it. The per-field limits
alone admit about 2 MB of JSON (1,000 assets with the longest descriptions), which the
producer refuses (1 MiB) on every try, so its first round would never complete; the request
is now bounded as a whole (``MAX_REQUEST_JSON_BYTES``) before it reaches a workflow, with an
error that says to split it by a supplementary request (RS 96(2)(f))."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from pydantic import ValidationError

from activities.party import party_messages
from activities.publish import EventPublisher
from schemas.common import MAX_ASSETS, MAX_PARTIES, MAX_REQUEST_JSON_BYTES
from schemas.events import RequestEventType
from schemas.request import CourtRequest
from tests.builders import court_request
from tests.events import request_event
from tracefreeze.kafka import MAX_REQUEST_BYTES


def _filled(description_chars: int, parties: int = MAX_PARTIES) -> dict[str, Any]:
    """The example request with every asset and party it may list, descriptions of
    ``description_chars`` (non-ASCII, so bytes and characters differ)."""
    data = court_request().model_dump(mode="json")
    asset, party = data["known_assets"][0], data["parties"][0]
    data["parties"] = [party] + [
        {**party, "party_id": f"p-{i:05d}", "name": "Ñ" * 300} for i in range(1, parties)
    ]
    data["known_assets"] = [
        {
            **asset,
            "asset_id": f"a-{i:05d}",
            "description": "é" * description_chars,
            "location": "l" * 100,
            "registry_reference": "r" * 34,
        }
        for i in range(MAX_ASSETS)
    ]
    return data


def _largest_admitted() -> CourtRequest:
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
    return CourtRequest.model_validate(_filled(low))


def test_every_field_at_its_limit_is_refused_with_the_way_out() -> None:
    with pytest.raises(ValidationError) as refused:
        CourtRequest.model_validate(_filled(1000))
    message = str(refused.value)
    assert f"over the limit of {MAX_REQUEST_JSON_BYTES:,}" in message
    assert "supplementary request" in message and "RS 96(2)(f)" in message


def test_the_largest_admitted_request_fits_its_transmission() -> None:
    request = _largest_admitted()
    size = len(request.model_dump_json().encode())
    assert MAX_REQUEST_JSON_BYTES - 4096 < size <= MAX_REQUEST_JSON_BYTES
    transmitted = request_event(request, RequestEventType.TRANSMITTED)
    [message] = party_messages(request, [transmitted], [])
    assert message.request is not None
    record = EventPublisher._record(message)
    sent = DefaultRecordBatchBuilder.estimate_size_in_bytes(
        record["key"], record["value"], record["headers"]
    )
    assert size < sent < MAX_REQUEST_BYTES
