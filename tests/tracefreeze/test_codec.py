"""Encrypted history: the AES-GCM payload codec, its key rotation and the codec server."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from tracefreeze.codec import (
    METADATA_KEY_ID,
    CodecError,
    EncryptionCodec,
    codec_from_env,
    data_converter,
    is_encrypted,
)
from tracefreeze.codec_server import ALLOW_HEADERS, CodecServer, start_codec_server

SECRET = "Jan de Vries, villa at Duinweg 12, Wassenaar"
K1, K2 = os.urandom(32), os.urandom(32)


def plain(text: str = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps({"name": text}).encode())


async def test_round_trip() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    original = [plain(), plain("second"), Payload(metadata={"encoding": b"binary/null"})]
    encoded = await codec.encode(original)
    assert all(is_encrypted(p) for p in encoded)
    assert [p.metadata[METADATA_KEY_ID] for p in encoded] == [b"k1"] * 3
    assert await codec.decode(encoded) == original


async def test_ciphertext_has_no_plaintext() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    [encoded] = await codec.encode([plain()])
    raw = encoded.SerializeToString()
    for fragment in (SECRET, "Jan de Vries", "Duinweg", "json/plain"):
        assert fragment.encode() not in raw
    [again] = await codec.encode([plain()])
    assert again.data != encoded.data  # a fresh nonce every time


async def test_rotation_keeps_old_payloads_readable() -> None:
    old = EncryptionCodec({"k1": K1}, "k1")
    [by_k1] = await old.encode([plain()])
    rotated = EncryptionCodec({"k1": K1, "k2": K2}, "k2")
    [by_k2] = await rotated.encode([plain()])
    assert by_k2.metadata[METADATA_KEY_ID] == b"k2"
    assert await rotated.decode([by_k1, by_k2]) == [plain(), plain()]


async def test_unknown_key_id_is_a_clear_error() -> None:
    [by_k2] = await EncryptionCodec({"k2": K2}, "k2").encode([plain()])
    with pytest.raises(CodecError, match=r"'k2'.*holds: k1.*TRACEFREEZE_CODEC_KEYS"):
        await EncryptionCodec({"k1": K1}, "k1").decode([by_k2])


async def test_tampered_or_wrong_key_material_is_an_error() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    [encoded] = await codec.encode([plain()])
    tampered = Payload(metadata=encoded.metadata, data=encoded.data[:-1] + b"\x00")
    with pytest.raises(CodecError, match="does not decrypt"):
        await codec.decode([tampered])
    with pytest.raises(CodecError, match="does not decrypt"):
        await EncryptionCodec({"k1": K2}, "k1").decode([encoded])


async def test_unencrypted_payloads_pass_through() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    assert await codec.decode([plain()]) == [plain()]
    [encoded] = await codec.encode([plain()])
    assert await codec.encode([encoded]) == [encoded]  # never wrapped twice


async def test_data_converter_round_trips_through_the_codec() -> None:
    converter = data_converter(EncryptionCodec({"k1": K1}, "k1"))
    assert converter.payload_converter_class is pydantic_data_converter.payload_converter_class
    payloads = await converter.encode([{"name": SECRET}])
    assert SECRET.encode() not in payloads[0].SerializeToString()
    assert await converter.decode(payloads, [dict]) == [{"name": SECRET}]
    assert data_converter(None) is pydantic_data_converter


def test_codec_from_env() -> None:
    b1, b2 = base64.b64encode(K1).decode(), base64.urlsafe_b64encode(K2).decode().rstrip("=")
    assert codec_from_env({}) is None
    one = codec_from_env({"TRACEFREEZE_CODEC_KEYS": f"k1:{b1}"})
    assert one is not None and one.active_key_id == "k1"
    two = codec_from_env(
        {"TRACEFREEZE_CODEC_KEYS": f"k1:{b1}, k2:{b2}", "TRACEFREEZE_CODEC_ACTIVE_KEY": "k2"}
    )
    assert two is not None and two.key_ids == ("k1", "k2") and two.active_key_id == "k2"
    bad = [
        {"TRACEFREEZE_CODEC_KEYS": f"k1:{b1},k2:{b2}"},  # active key required
        {"TRACEFREEZE_CODEC_KEYS": f"k1:{b1}", "TRACEFREEZE_CODEC_ACTIVE_KEY": "k9"},
        {"TRACEFREEZE_CODEC_KEYS": "k1:not*base64"},
        {"TRACEFREEZE_CODEC_KEYS": "k1:" + base64.b64encode(b"short").decode()},
        {"TRACEFREEZE_CODEC_KEYS": f"{b1}"},
    ]
    for env in bad:
        with pytest.raises(CodecError) as err:
            codec_from_env(env)
        assert b1 not in str(err.value)  # key material never appears in an error


# --- the codec server, over real HTTP ------------------------------------------------------


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[CodecServer]:
    monkeypatch.setenv("TRACEFREEZE_CODEC_CORS_ORIGIN", "http://ui.example:8233")
    srv, thread = start_codec_server(EncryptionCodec({"k1": K1, "k2": K2}, "k2"), port=0)
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Straight to the local server, whatever proxy the environment names."""


def post(url: str, document: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Namespace": "default"},
    )
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def as_json(payload: Payload) -> dict:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


async def test_codec_server_decodes_for_the_ui(server: CodecServer) -> None:
    [by_k1] = await EncryptionCodec({"k1": K1}, "k1").encode([plain()])
    status, headers, body = post(server.url + "/decode", {"payloads": [as_json(by_k1)]})
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == "http://ui.example:8233"
    [decoded] = body["payloads"]
    assert base64.b64decode(decoded["metadata"]["encoding"]) == b"json/plain"
    assert json.loads(base64.b64decode(decoded["data"])) == {"name": SECRET}


async def test_codec_server_encodes(server: CodecServer) -> None:
    status, _, body = post(server.url + "/encode", {"payloads": [as_json(plain())]})
    assert status == 200, body
    [encoded] = body["payloads"]
    assert base64.b64decode(encoded["metadata"]["encryption-key-id"]) == b"k2"
    assert SECRET.encode() not in base64.b64decode(encoded["data"])
    status, _, body = post(server.url + "/decode", {"payloads": [encoded]})
    assert json.loads(base64.b64decode(body["payloads"][0]["data"])) == {"name": SECRET}


def test_codec_server_answers_the_cors_preflight(server: CodecServer) -> None:
    request = urllib.request.Request(
        server.url + "/decode",
        method="OPTIONS",
        headers={
            "Origin": "http://ui.example:8233",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    with OPENER.open(request, timeout=10) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "http://ui.example:8233"
        assert response.headers["Access-Control-Allow-Headers"] == ALLOW_HEADERS
        assert "POST" in response.headers["Access-Control-Allow-Methods"]


async def test_codec_server_errors_are_clear(server: CodecServer) -> None:
    foreign = EncryptionCodec({"k9": os.urandom(32)}, "k9")
    [by_k9] = await foreign.encode([plain()])
    status, headers, body = post(server.url + "/decode", {"payloads": [as_json(by_k9)]})
    assert status == 400 and "'k9'" in body["error"]
    assert headers["Access-Control-Allow-Origin"] == "http://ui.example:8233"
    status, _, body = post(server.url + "/decode", {"payloads": "nope"})
    assert status == 400
    status, _, _ = post(server.url + "/other", {"payloads": []})
    assert status == 404
