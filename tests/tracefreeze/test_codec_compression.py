"""Large payloads are compressed before they are encrypted (``tracefreeze/security/
compression.py``): a request's carry at every cap, with the largest ledger a request may hold,
fits Temporal's blob size limit, so the request can always hand over to a new run (a request
that cannot continue as new stalls, and its State's answers with it, RS 93(1)(k))."""

from __future__ import annotations

import os
import zlib

import pytest
from temporalio.api.common.v1 import Payload

from schemas.common import MAX_ASSETS
from tests.tracefreeze.codec_support import K1, plain
from tests.workflows.carry_caps import carry_at_caps
from tracefreeze.security import compression
from tracefreeze.security.codec import (
    MALFORMED,
    METADATA_COMPRESSION,
    NONCE_BYTES,
    NOT_DECRYPTABLE,
    CodecError,
    EncryptionCodec,
    data_converter,
)

TEMPORAL_BLOB_LIMIT = 2 * 1024 * 1024
"""The server's default ``limit.blobSize.error``: a payload above it is refused."""


def large(n: int = 40_000) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=b'{"asset": "account"}' * (n // 20))


async def test_a_large_payload_is_compressed_a_small_one_is_not() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    big, small = large(), plain()
    encoded = await codec.encode([big, small])
    assert encoded[0].metadata[METADATA_COMPRESSION] == compression.ZLIB
    assert len(encoded[0].data) < len(big.data) // 10
    assert METADATA_COMPRESSION not in encoded[1].metadata
    assert await codec.decode(encoded) == [big, small]


async def test_the_compression_flag_is_bound_to_the_ciphertext() -> None:
    """Dropped or added, the flag makes the payload fail to decrypt (associated data), and
    an unknown compression is malformed: nothing is unpacked that the codec did not pack."""
    codec = EncryptionCodec({"k1": K1}, "k1")
    packed, unpacked = await codec.encode([large(), plain()])
    del packed.metadata[METADATA_COMPRESSION]
    unpacked.metadata[METADATA_COMPRESSION] = compression.ZLIB
    for tampered in (packed, unpacked):
        with pytest.raises(CodecError) as err:
            await codec.decode([tampered])
        assert err.value.code == NOT_DECRYPTABLE
    odd = (await codec.encode([large()]))[0]
    odd.metadata[METADATA_COMPRESSION] = b"brotli"
    with pytest.raises(CodecError) as err:
        await codec.decode([odd])
    assert err.value.code == MALFORMED


async def test_unpacking_is_bounded() -> None:
    """A payload that would unpack beyond MAX_UNPACKED is malformed, even one the key
    sealed (a bomb written by a holder of the key)."""
    codec = EncryptionCodec({"k1": K1}, "k1")
    bomb = zlib.compress(b"\0" * (compression.MAX_UNPACKED + 1), 9)
    nonce = os.urandom(NONCE_BYTES)
    sealed = codec._ciphers["k1"].encrypt(nonce, bomb, codec.associated_data("k1", True))
    payload = Payload(
        metadata={
            "encoding": b"binary/encrypted",
            "encryption-key-id": b"k1",
            METADATA_COMPRESSION: compression.ZLIB,
        },
        data=nonce + sealed,
    )
    with pytest.raises(CodecError, match="beyond") as err:
        await codec.decode([payload])
    assert err.value.code == MALFORMED


async def test_a_carry_at_every_cap_with_the_most_assets_fits_temporals_limit() -> None:
    """The carry of a request holding MAX_ASSETS assets, every list at its cap, is over
    Temporal's 2 MiB limit as JSON; through the codec (as every worker writes it) it is far
    below, so the request hands over to a new run."""
    carry = carry_at_caps(MAX_ASSETS)
    converter = data_converter(EncryptionCodec({"k1": K1}, "k1"))
    (json_payload,) = converter.payload_converter.to_payloads([carry])
    assert converter.payload_codec is not None
    (sent,) = await converter.payload_codec.encode([json_payload])
    print(f"\ncarry at every cap, {MAX_ASSETS} assets: {len(json_payload.data):,} B as JSON, "
          f"{len(sent.data):,} B as sent")  # fmt: skip
    assert len(sent.data) < TEMPORAL_BLOB_LIMIT // 4
