"""End to end on the real stack: confidential content is stored encrypted in Temporal.

A request naming a distinctive person and asset goes through the worker (in process, with
the stack's payload codec) and the bridge; the State's signed execution report puts the asset
in the ledger. Read back raw, with a client that has no codec, neither string appears in the
history, the description or a search attribute; a client with the codec reads the request
normally, and the codec server (real HTTP) decodes a payload of that history.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.history.v1 import History
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client

from schemas.ledger import AssetStatus
from schemas.request import CourtRequest
from tests.builders import acknowledgement, example, execution_report, now, result
from tests.signed import signed_record
from tests.tracefreeze.e2e import Running, wait_view
from tracefreeze.security.codec import EncryptionCodec, codec_from_env, is_encrypted
from tracefreeze.security.codec_auth import TokenAuth
from tracefreeze.security.codec_server import start_codec_server

pytestmark = pytest.mark.stack

ASSET = "a-account-1"


def confidential_request() -> tuple[CourtRequest, str, str]:
    """The example request with a distinctive suspect's name and asset description."""
    tag = uuid.uuid4().hex[:8]
    name = f"Quirinella Zandvoort-Oosterbeek {tag}"
    description = f"Numbered account at Banque Fictive du Lac, sub-ledger {tag}-TEAL"
    doc = example("court-request")
    doc["reference"] = f"ICC-ENC-{tag.upper()}"
    doc["parties"][0]["name"] = name
    doc["known_assets"][0]["description"] = description
    assert doc["known_assets"][0]["asset_id"] == ASSET
    return CourtRequest.model_validate(doc), name, description


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every ``Payload`` anywhere inside a protobuf message."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            items: Any = value.values()
        elif isinstance(value, Message):
            items = [value]
        else:  # repeated
            items = value
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item)


CODEC_TOKEN = "e2e-" + uuid.uuid4().hex
"""The bearer token the codec server is configured with (an auth proxy's, say)."""


def post_json(url: str, document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    req = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Namespace": "default",
            "Origin": "http://localhost:8233",  # the UI's origin: the server's CORS default
            "Authorization": f"Bearer {CODEC_TOKEN}",
        },
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read()), dict(response.headers)


async def test_history_holds_no_plaintext_of_names_or_assets(running: Running) -> None:
    r, s = running, running.settings
    codec = codec_from_env(state_dir=s.state_dir)
    assert isinstance(codec, EncryptionCodec), "the stack's up makes <state dir>/keys/codec-keys"
    request, name, description = confidential_request()
    secrets = [name.encode(), description.encode()]
    workflow_id = await r.client.submit(request)

    frozen = result(
        ASSET,
        "identify",
        "freeze",
        value=("398214.37", "EUR"),
        registry_reference="REG-ENC-1",
        executing_authority="Public Prosecution Service",
    )
    report = execution_report(request, [frozen], sent_at=now())
    for answer in (acknowledgement(request, sent_at=now()), report):
        value, headers = signed_record(answer, s.state_dir)
        await r.producer.send_and_wait(
            s.topics.state_answers, value=value, key=request.reference.encode(), headers=headers
        )
    view = await wait_view(
        r.client, request.reference, lambda v: v.ledger.entries[ASSET].status is AssetStatus.FROZEN
    )
    # With the codec: the request reads normally.
    assert view.ledger.entries[ASSET].asset.description == description
    assert view.answers_seen == 2

    # Without the codec: the raw history, description and search attributes.
    raw = await Client.connect(s.temporal_address, namespace=s.temporal_namespace)
    history = await raw.get_workflow_handle(workflow_id).fetch_history()
    history_bytes = History(events=history.events).SerializeToString()
    history_json = history.to_json().encode()
    described = await raw.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=s.temporal_namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    described_bytes = described.SerializeToString()
    described_json = json_format.MessageToJson(described).encode()
    print(
        f"\nraw history: {len(history.events)} events, {len(history_bytes)} bytes; "
        f"describe: {len(described_bytes)} bytes"
    )
    for secret in secrets:
        for blob in (history_bytes, history_json, described_bytes, described_json):
            assert secret not in blob
            assert base64.b64encode(secret) not in blob
    attributes = (await raw.get_workflow_handle(workflow_id).describe()).typed_search_attributes
    assert len(attributes) > 0
    for pair in attributes:
        shown = json.dumps(pair.value, default=str)
        assert not any(secret.decode() in shown for secret in secrets), pair.key.name

    # The test would see plaintext: decrypted, the same payloads hold both strings.
    payloads = list(payloads_in(History(events=history.events)))
    encrypted = [p for p in payloads if is_encrypted(p)]
    print(f"payloads: {len(payloads)}, encrypted: {len(encrypted)}")
    assert encrypted
    plain = b"".join(p.data for p in codec.decode_sync(encrypted))
    assert all(secret in plain for secret in secrets)

    # The codec server decodes a payload of that history over real HTTP.
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert is_encrypted(started)
    tokens = s.state_dir / "codec-tokens"
    tokens.write_text(CODEC_TOKEN + "\n", encoding="utf-8")
    server, thread = start_codec_server(codec, auth=TokenAuth(tokens))
    try:
        document = json_format.MessageToDict(Payloads(payloads=[started]))
        answer, response_headers = await asyncio.to_thread(
            post_json, f"{server.url}/decode", document
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    decoded = json_format.ParseDict(answer, Payloads()).payloads[0]
    assert not is_encrypted(decoded)
    assert name.encode() in decoded.data and description.encode() in decoded.data
    assert "Access-Control-Allow-Origin" in response_headers
