"""Encrypted history: the AES-GCM payload codec, its key rotation, its namespace binding and
its refusal of plaintext once migrated (the codec server: test_codec_server.py)."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from tests.tracefreeze.codec_support import K1, K2, SECRET, plain
from tracefreeze.security.codec import (
    METADATA_KEY_ID,
    NOT_DECRYPTABLE,
    PLAINTEXT_REFUSED,
    CodecError,
    EncryptionCodec,
    codec_from_env,
    data_converter,
    is_encrypted,
)
from workflows.outcome import REFUSED, Rejection


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


async def test_payload_moved_to_another_namespace_does_not_decrypt() -> None:
    """The namespace is AES-GCM associated data: a confidential request's payload (RS 87(3))
    copied into another namespace's history, or shown under another X-Namespace, stays
    sealed (issue 11, section 6)."""
    court = EncryptionCodec({"k1": K1}, "k1", namespace="tracefreeze")
    [sealed] = await court.encode([plain()])
    assert await court.decode([sealed]) == [plain()]
    for elsewhere in (court.for_namespace("sandbox"), EncryptionCodec({"k1": K1}, "k1")):
        with pytest.raises(CodecError, match="another namespace") as err:
            await elsewhere.decode([sealed])
        assert err.value.code == NOT_DECRYPTABLE
    assert await court.for_namespace("sandbox").for_namespace("tracefreeze").decode([sealed]) == [
        plain()
    ]


async def test_plaintext_is_refused_once_migrated() -> None:
    """After migration (TRACEFREEZE_CODEC_REFUSE_PLAINTEXT), an unencrypted payload, e.g. an
    update argument written by a client without the codec, is an error, not content."""
    strict = EncryptionCodec({"k1": K1}, "k1", refuse_plaintext=True)
    with pytest.raises(CodecError, match=r"not encrypted.*REFUSE_PLAINTEXT") as e:
        await strict.decode([plain()])
    assert e.value.code == PLAINTEXT_REFUSED
    [sealed] = await strict.encode([plain()])
    assert await strict.decode([sealed]) == [plain()]
    assert strict.for_namespace("other").refuse_plaintext
    b1 = base64.b64encode(K1).decode()
    env = {"TRACEFREEZE_CODEC_KEYS": f"k1:{b1}", "TRACEFREEZE_TEMPORAL_NAMESPACE": "tf"}
    lenient = codec_from_env(env)
    assert lenient is not None and not lenient.refuse_plaintext and lenient.namespace == "tf"
    assert await lenient.decode([plain()]) == [plain()]
    from_env = codec_from_env({**env, "TRACEFREEZE_CODEC_REFUSE_PLAINTEXT": "true"})
    assert from_env is not None and from_env.refuse_plaintext
    with pytest.raises(CodecError, match="true or false"):
        codec_from_env({**env, "TRACEFREEZE_CODEC_REFUSE_PLAINTEXT": "maybe"})


async def test_a_rejection_shows_only_its_public_reason_and_is_encrypted_whole() -> None:
    """The UI's "Send an Update" dialog shows a failure's clear message: a rejection shows its
    content-free public reason there; its whole reason, stack and causes are encrypted like
    any failure (a reason may quote an ex parte reference or a value), and decrypt whole."""
    converter = data_converter(EncryptionCodec({"k1": K1}, "k1"), encode_failures=True)
    public, generic, failed = Failure(), Failure(), Failure()
    transition = "withdrawal is not allowed while the request is closed"
    try:
        raise Rejection(transition, public_reason=transition)
    except Rejection as err:
        await converter.encode_failure(err, public)
    try:
        try:
            raise ApplicationError(f"the cause quotes {SECRET}")
        except ApplicationError:
            raise Rejection(f"the asset of {SECRET} is not in the ledger")  # noqa: B904
    except Rejection as err:
        await converter.encode_failure(err, generic)
    try:
        raise ApplicationError(f"could not apply: {SECRET}", type="AnswerNotApplied")
    except ApplicationError as err:
        await converter.encode_failure(err, failed)
    assert public.message == transition
    assert public.application_failure_info.type == "AnswerRejected"
    assert generic.message == REFUSED and generic.HasField("cause")
    assert failed.message == "Encoded failure"
    for failure in (public, generic, generic.cause, failed):
        assert is_encrypted(failure.encoded_attributes) and failure.stack_trace == ""
        assert SECRET not in str(failure)
    decoded = await converter.decode_failure(generic)
    assert f"the asset of {SECRET}" in str(decoded) and SECRET in str(decoded.__cause__)
