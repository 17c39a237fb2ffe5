"""Sealing the store's payload columns: the payload codec's AES-GCM, keys and rotation
(``tracefreeze/security/codec.py``), bound to ``NAMESPACE`` instead of a Temporal namespace.

Each sealed value is a serialized Temporal ``Payload``: metadata names the codec key, so a
value sealed before a rotation opens as long as its key stays listed in
``TRACEFREEZE_CODEC_KEYS`` (the rotation rule of the history holds for the store). The
associated data binds the value to the store: a sealed column copied into a history (or a
history payload into the store) does not open. Without codec keys the history is not
encrypted and neither is the store (the same decision, one place); with
``TRACEFREEZE_CODEC_REFUSE_PLAINTEXT`` set an unsealed value does not open.
"""

from __future__ import annotations

from temporalio.api.common.v1 import Payload

from tracefreeze.config import Settings
from tracefreeze.security.codec import CodecError, EncryptionCodec, codec_from_env

NAMESPACE = "tracefreeze-record-store"
ENCODING = b"binary/plain"


class Sealer:
    """Seals and opens column values with the codec (or passes them through without one)."""

    def __init__(self, codec: EncryptionCodec | None) -> None:
        self.codec = None if codec is None else codec.for_namespace(NAMESPACE)

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        return cls(codec_from_env(state_dir=settings.state_dir, namespace=NAMESPACE))

    @property
    def encrypting(self) -> bool:
        return self.codec is not None

    def seal(self, data: bytes) -> bytes:
        payload = Payload(metadata={"encoding": ENCODING}, data=data)
        if self.codec is not None:
            payload = self.codec.encode_sync([payload])[0]
        return payload.SerializeToString()

    def open(self, sealed: bytes) -> bytes:
        payload = Payload.FromString(sealed)
        if self.codec is not None:
            payload = self.codec.decode_sync([payload])[0]
        elif payload.metadata.get("encoding") != ENCODING:
            raise CodecError("a sealed value of the record store needs the codec keys")
        return bytes(payload.data)
